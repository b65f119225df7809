/** Retention enforced: sweep. */
import { type Cli, jsonText, numeric, today, withEngine } from '../shared.js';

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
    .option(
      '--batch-size <n>',
      'rows examined per batch (1 to 1,000,000; default 20,000, 100,000 on PostgreSQL)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { at: string; dryRun?: boolean; batchSize?: string; json?: boolean }) => {
      const { formatSweep } = await formatting();
      const { sweep } = await import('../../app/sweep.js');
      const report = await withEngine(
        program,
        (engine, ctx) =>
          sweep(
            engine,
            {
              at: opts.at,
              ...(opts.batchSize === undefined ? {} : { batchSize: numeric(opts.batchSize) as number }),
              ...(opts.dryRun ? { dryRun: true } : {}),
            },
            ctx,
          ),
        { progress: !opts.json },
      );
      io.out(opts.json ? jsonText(report) : formatSweep(report));
      setExit(report.skipped.length ? 1 : 0);
    });
}
