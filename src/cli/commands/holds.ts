/** Manual legal holds: hold add, list, release. */
import { type Cli, jsonText, withEngine } from '../shared.js';

const formatting = () => import('../format/holds.js');

export function registerHoldCommands({ program, io, setExit }: Cli): void {
  const hold = program
    .command('hold')
    .description('manual legal holds: nothing held is deleted, anonymised or archived');
  hold
    .command('add')
    .description('hold one record, or every record of a person (one hold, released as one)')
    .option('--table <table>', 'the table')
    .option('--id <id>', 'the primary key')
    .option('--email <address>', 'every record of this person')
    .requiredOption('--reason <text>', 'why (a case reference, not a name)')
    .option('--until <date>', 'the hold ends on this date (YYYY-MM-DD)')
    .action(async (opts: { table?: string; id?: string; email?: string; reason: string; until?: string }) => {
      const { formatHoldAdded } = await formatting();
      const { addHold } = await import('../../app/holds.js');
      const held = await withEngine(program, (engine, ctx) => addHold(engine, opts, ctx));
      io.out(formatHoldAdded(held));
      setExit(0);
    });
  hold
    .command('list')
    .description('the holds in force, each with the records it holds')
    .option('--all', 'released ones too')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const { formatHolds } = await formatting();
      const { listHolds } = await import('../../app/holds.js');
      const holds = await withEngine(program, (engine, ctx) =>
        listHolds(engine, { all: opts.all === true }, ctx),
      );
      io.out(opts.json ? jsonText(holds) : formatHolds(holds));
      setExit(0);
    });
  hold
    .command('release')
    .description('end a hold: every record it holds is open to its rules again')
    .argument('<id>', 'the hold, as hold list shows it')
    .action(async (id: string) => {
      const { formatHoldReleased } = await formatting();
      const { parseHoldId, releaseHold } = await import('../../app/holds.js');
      const held = await withEngine(program, (engine, ctx) =>
        releaseHold(engine, { id: parseHoldId(id) }, ctx),
      );
      io.out(formatHoldReleased(held));
      setExit(0);
    });
}
