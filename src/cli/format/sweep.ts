/** What sweep prints. */
import type { SweepReport } from '../../app/sweep.js';

export function formatSweep(report: SweepReport): string {
  const head = `${report.dryRun ? 'dry run: would apply' : `sweep run ${report.run}: applied`} on ${report.at}: ${report.total} records`;
  const skipped = report.skipped.map((s) => `  skipped ${s.table} ${s.key} (rule ${s.rule}): ${s.reason}`);
  const recovered =
    report.recovered.finished || report.recovered.dropped
      ? [
          `  finished the file work of an interrupted run: ${report.recovered.finished} file(s) done, ${report.recovered.dropped} left with their record`,
        ]
      : [];
  return `${[
    head,
    ...report.lines
      .filter((l) => l.count > 0)
      .map((l) => `  ${l.rule.padEnd(24)} ${l.table.padEnd(24)} ${l.action.padEnd(14)} ${l.count}`),
    ...recovered,
    ...(skipped.length ? [`${skipped.length} record(s) skipped, left as they are:`, ...skipped] : []),
    ...(report.afterHold
      ? [`  erased ${report.afterHold} record(s) an erasure kept for a hold that has ended`]
      : []),
    ...afterHoldLeft(report.afterHoldSkipped ?? []),
  ].join('\n')}\n`;
}

/** Records kept for a hold that has ended, left: the key is not proven the person's any more. */
export function afterHoldLeft(
  left: readonly { request: number; table: string; id: string; why: string }[],
): string[] {
  return left.map(
    (s) => `  left ${s.table} ${s.id} of erasure request ${s.request} (not that person's any more): ${s.why}`,
  );
}
