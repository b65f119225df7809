/** The suppression list: suppression add, check, filter. */

import type { SuppressionAddInput } from '../../app/suppression.js';
import { type Cli, jsonText, withEngine } from '../shared.js';

const formatting = () => import('../format/suppression.js');

export function registerSuppressionCommands({ program, io, setExit }: Cli): void {
  const suppression = program
    .command('suppression')
    .description('the suppression list: the keyed hashes of the addresses never to be contacted again');
  suppression
    .command('add')
    .description('put an address on the suppression list (once; an entry already there is renewed)')
    .requiredOption('--email <address>', 'the address (compared trimmed and lower-cased)')
    .option('--reason <reason>', 'unsubscribe, objection or erasure', 'objection')
    .option('--store <store>', 'the store whose list (when several stores of the data map declare one)')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; reason: string; store?: string; json?: boolean }) => {
      const { formatSuppressionAdded } = await formatting();
      const { addSuppression } = await import('../../app/suppression.js');
      const added = await withEngine(program, (engine, ctx) =>
        addSuppression(
          engine,
          {
            email: opts.email,
            reason: opts.reason as SuppressionAddInput['reason'],
            ...(opts.store ? { store: opts.store } : {}),
          },
          ctx,
        ),
      );
      io.out(opts.json ? jsonText(added) : formatSuppressionAdded(added));
      setExit(0);
    });
  suppression
    .command('check')
    .description('whether an address is on the suppression list (exit 0 listed, 1 not listed)')
    .requiredOption('--email <address>', 'the address (compared trimmed and lower-cased)')
    .option('--store <store>', 'the store whose list (when several stores of the data map declare one)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 when the address is listed, 1 when it is not. An error exits 1 too (2 for a\nwrong call) and says so on stderr, with nothing on stdout: a script tells them apart by\nstdout ("listed", "not listed") or --json. The address is never printed.\n',
    )
    .action(async (opts: { email: string; store?: string; json?: boolean }) => {
      const { formatSuppressionChecked } = await formatting();
      const { checkSuppression } = await import('../../app/suppression.js');
      const checked = await withEngine(program, (engine, ctx) =>
        checkSuppression(engine, { email: opts.email, ...(opts.store ? { store: opts.store } : {}) }, ctx),
      );
      io.out(opts.json ? jsonText(checked) : formatSuppressionChecked(checked));
      setExit(checked.listed ? 0 : 1);
    });
  suppression
    .command('filter')
    .description(
      'write a mailing list without its suppressed addresses: each row kept byte for byte, rows without a readable address left out',
    )
    .argument('<file>', 'the mailing list: a CSV file with a header row (, ; or tab between cells)')
    .requiredOption('--out <file>', 'where the rows kept are written (never over an existing file)')
    .option('--column <name>', 'the address column, by its name in the header', 'email')
    .option('--store <store>', 'the store whose list (when several stores of the data map declare one)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { out: string; column: string; store?: string; json?: boolean }) => {
      const { formatMailingFiltered } = await formatting();
      const { filterMailing } = await import('../../app/suppression.js');
      const filtered = await withEngine(
        program,
        (engine, ctx) =>
          filterMailing(
            engine,
            { file, out: opts.out, column: opts.column, ...(opts.store ? { store: opts.store } : {}) },
            ctx,
          ),
        { progress: !opts.json },
      );
      io.out(opts.json ? jsonText(filtered) : formatMailingFiltered(filtered));
      setExit(0);
    });
}
