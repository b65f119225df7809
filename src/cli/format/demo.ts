/** What demo prints. */
import type { DemoReport } from '../../app/demo.js';
import type { Output } from '../shared.js';

export function printDemo(io: Output, report: DemoReport): void {
  const rate = report.seconds > 0 ? Math.round(report.rows / report.seconds) : report.rows;
  io.err(
    `${report.rows} rows and ${report.files} files written in ${report.seconds.toFixed(1)} s (${rate} rows/s) to ${report.store}\n`,
  );
  if (report.env)
    io.err(
      `the store's URL holds a password: the configuration reads it from the environment; set ${report.env} to it\n`,
    );
  io.err(`configuration: ${report.config}\nnext: registre check --config ${report.config}\n`);
}
