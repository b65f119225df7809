/** What check prints. */
import type { CheckReport } from '../../app/check.js';
import { jsonText, type Output } from '../shared.js';
import { errorCount, printIssues, summary } from './issues.js';

export function printCheck(io: Output, report: CheckReport, json: boolean): void {
  const errors = errorCount(report.issues);
  if (json)
    io.out(jsonText({ ok: errors === 0, errors, warnings: report.issues.length - errors, ...report }));
  else {
    printIssues(io, report.issues);
    for (const s of report.stores) io.err(`store "${s.store}" (${s.label}): ${s.tables} tables checked\n`);
    io.err(`check: ${summary(report.issues)}${errors ? '' : ' — the data map matches the databases'}\n`);
  }
}
