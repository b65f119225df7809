/** Retention enforced: sweep. */
import { RegistreError } from '../../core/errors.js';
import { type Cli, jsonText, today } from '../shared.js';

const formatting = () => import('../format/sweep.js');

export function registerSweepCommand({ program, io, setExit }: Cli): void {
  program
    .command('sweep')
    .description('apply what plan reports as due (delete, anonymise) and move what enters its archive phase')
    .option(
      '--at <date>',
      'the date (YYYY-MM-DD); a date after today only with --dry-run (a sweep never deletes early)',
      today(),
    )
    .option('--dry-run', 'count what would be done, change nothing')
    .option('--batch-size <n>', 'rows examined per batch (1 to 1,000,000; default 20,000)')
    .option('--json', 'print JSON')
    .action(async (opts: { at: string; dryRun?: boolean; batchSize?: string; json?: boolean }) => {
      const { formatSweep } = await formatting();
      const given = opts.batchSize;
      const batchSize = given === undefined ? undefined : Number(given);
      if (given !== undefined && (!/^\d+$/.test(given) || Number(given) < 1 || Number(given) > 1_000_000))
        throw new RegistreError(
          'E_USAGE',
          `--batch-size must be a whole number from 1 to 1,000,000 (got ${opts.batchSize})`,
        );
      const { runSweep } = await import('../../app/sweep.js');
      const report = await runSweep(program.opts().config, {
        at: opts.at,
        ...(batchSize === undefined ? {} : { batchSize }),
        ...(opts.dryRun ? { dryRun: true } : {}),
        progress: process.stderr.isTTY === true && !opts.json,
      });
      io.out(opts.json ? jsonText(report) : formatSweep(report));
      setExit(report.skipped.length ? 1 : 0);
    });
}
