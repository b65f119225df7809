/** The intermediate archive, read with a reason (after key in --help, so apart from audit). */
import { type Cli, jsonText } from '../shared.js';

export function registerArchiveCommand({ program, io, setExit }: Cli): void {
  program
    .command('archive')
    .description('read the intermediate archive (every read is written to the audit log)')
    .requiredOption('--table <table>', 'the table')
    .option('--id <id>', 'one record')
    .requiredOption('--reason <text>', 'why the archive is consulted')
    .action(async (opts: { table: string; id?: string; reason: string }) => {
      const { runArchiveRead } = await import('../../app/audit.js');
      const rows = await runArchiveRead(program.opts().config, opts.table, opts.id, opts.reason);
      io.out(jsonText(rows));
      setExit(0);
    });
}
