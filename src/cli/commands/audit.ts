/** The audit log (audit verify, accept-head, export) and the engine's state (status). */
import { writeFileSync } from 'node:fs';
import { type Cli, jsonText, withEngine } from '../shared.js';

const formatting = () => import('../format/audit.js');

export function registerAuditCommands({ program, io, setExit }: Cli): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check the hash chain: any edited, deleted, inserted or reordered entry is reported')
    .action(async () => {
      const { printAuditVerification } = await formatting();
      const { verifyAudit } = await import('../../app/audit.js');
      const verification = await withEngine(program, (engine, ctx) => verifyAudit(engine, {}, ctx));
      printAuditVerification(io, verification);
      setExit(verification.problems.length ? 1 : 0);
    });
  audit
    .command('accept-head')
    .description(
      'after investigating a log that is not whole up to its checkpoint: record it as it is now, and let writes go on',
    )
    .requiredOption('--reason <text>', 'what was found, and why the log as it is now is the truth')
    .action(async (opts: { reason: string }) => {
      const { printHeadAccepted } = await formatting();
      const { acceptHead } = await import('../../app/audit.js');
      const accepted = await withEngine(program, (engine, ctx) =>
        acceptHead(engine, { reason: opts.reason }, ctx),
      );
      printHeadAccepted(io, accepted);
      setExit(0);
    });
  audit
    .command('export')
    .description('the audit log as JSON lines, for an auditor')
    .option('--out <file>', 'write to a file')
    .action(async (opts: { out?: string }) => {
      const { exportAudit } = await import('../../app/audit.js');
      const text = await withEngine(program, (engine, ctx) => exportAudit(engine, {}, ctx));
      if (opts.out) writeFileSync(opts.out, text);
      else io.out(text);
      setExit(0);
    });

  program
    .command('status')
    .description('the sweep lock, the last sweeps, the holds in force')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { formatStatus } = await formatting();
      const { status: statusOf } = await import('../../app/audit.js');
      const status = await withEngine(program, (engine, ctx) => statusOf(engine, {}, ctx));
      io.out(opts.json ? jsonText(status) : formatStatus(status));
      setExit(0);
    });
}
