/** A register's or a data map's issues, as validate, docs and check print them. */
import { formatIssue, type Issue } from '../../core/issues.js';
import type { Output } from '../shared.js';

export const errorCount = (issues: readonly Issue[]) => issues.filter((i) => i.severity === 'error').length;

export function summary(issues: readonly Issue[]): string {
  const errors = errorCount(issues);
  const warnings = issues.length - errors;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

export function printIssues(io: Output, issues: readonly Issue[]): void {
  for (const issue of issues) io.out(`${formatIssue(issue)}\n`);
}
