/** Validation issues: expected failures are data, each with a stable code and a position. */
export type Severity = 'error' | 'warning';
export type IssuePath = readonly (string | number)[];

export interface Issue {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly path: IssuePath;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

export function formatIssue(issue: Issue): string {
  const where = issue.file ? `${issue.file}${issue.line ? `:${issue.line}:${issue.column ?? 1}` : ''} ` : '';
  return `${where}${issue.code} ${issue.message}`;
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** Thrown by the assert* functions; carries every issue found. */
export class RegisterError extends Error {
  override readonly name = 'RegisterError';
  constructor(
    readonly issues: readonly Issue[],
    options?: { cause?: unknown },
  ) {
    super(
      issues
        .filter((i) => i.severity === 'error')
        .map(formatIssue)
        .join('\n') || 'invalid register',
      options,
    );
  }
}

/** Reports issues about items read from files, placed where `locate` says each item was read. */
export type Reporter = (code: string, item: object, subpath: (string | number)[], message: string) => void;

export function issueCollector(
  locate: (
    item: object,
    ...subpath: (string | number)[]
  ) => { file?: string; path: IssuePath; line?: number; column?: number },
): { issues: Issue[]; error: Reporter; warn: Reporter } {
  const issues: Issue[] = [];
  const report =
    (severity: Severity) => (code: string, item: object, subpath: (string | number)[], message: string) => {
      issues.push({ severity, code, message, ...locate(item, ...subpath) });
    };
  return { issues, error: report('error'), warn: report('warning') };
}
