/** The intermediate archive, read with a reason (after key in --help, so apart from audit). */
import { type Cli, jsonText, withEngine } from '../shared.js';

export function registerArchiveCommand({ program, io, setExit }: Cli): void {
  program
    .command('archive')
    .description('read the intermediate archive (every read is written to the audit log)')
    .requiredOption('--table <table>', 'the table')
    .option('--id <id>', 'one record')
    .requiredOption('--reason <text>', 'why the archive is consulted')
    .action(async (opts: { table: string; id?: string; reason: string }) => {
      const { readArchive } = await import('../../app/audit.js');
      const rows = await withEngine(program, (engine, ctx) => readArchive(engine, opts, ctx));
      io.out(jsonText(rows));
      setExit(0);
    });
}
