/** The data map against the register and the live databases. */
import { type Cli, withEngine } from '../shared.js';

const formatting = () => import('../format/check.js');

export function registerCheckCommand({ program, io, setExit }: Cli): void {
  program
    .command('check')
    .description('compare the data map with the register and with every live database it names')
    .option('--json', 'print the issues as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { printCheck } = await formatting();
      const { check } = await import('../../app/check.js');
      const report = await withEngine(program, (engine, ctx) => check(engine, {}, ctx), {
        progress: opts.json !== true,
      });
      const errors = report.issues.filter((i) => i.severity === 'error').length;
      printCheck(io, report, opts.json === true);
      setExit(errors ? 1 : 0);
    });
}
