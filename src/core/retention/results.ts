/**
 * What the retention use cases answer (plan, forecast, explain, sweep, holds, status): plain
 * types, declared here so that the application and its edges (the CLI, the API) depend on no
 * adapter's rows. The adapters produce them.
 */
import type { HoldReason } from './retention.js';
import type { RecordStatus } from './statuses.js';

export interface PlanLine {
  readonly rule: string;
  readonly table: string;
  readonly active: number;
  readonly archive: number;
  readonly due: number;
  readonly held: number;
  /** Records under a restriction of processing (art. 18): kept as they are, like held ones. */
  readonly restricted: number;
  /** Rows kept for statistics after their personal columns were anonymised: done. */
  readonly anonymised: number;
  /** Records a value of which (a date, a duration) is invalid: never due until it is corrected. */
  readonly invalid: number;
  /**
   * A consent-based rule: of its records, those whose subject's consent was refused, withdrawn or
   * expired on the day (due at once, unless held), by the consent ledger. Absent when none lost it.
   */
  readonly noConsent?: number;
}

export interface ForecastLine {
  readonly rule: string;
  readonly table: string;
  /** `YYYY-MM` → how many records reach their deadline in that month (holds aside). */
  readonly months: Readonly<Record<string, number>>;
}

export interface ListedRecord {
  readonly key: string;
  readonly status: string;
  readonly deadline: string | null;
}

export interface ExplainedPurpose {
  readonly purpose: string;
  readonly rule: string;
  readonly anchor: string | null;
  readonly anchorDate: string | null;
  readonly deadline: string | null;
  /** `no consent`: the subject's consent ended (the ledger's event that decided it), so did the rule. */
  readonly reason?: 'no consent';
  readonly consent?: { readonly ended: string; readonly event: number; readonly state: string };
}

export interface Explanation {
  readonly store: string;
  readonly table: string;
  readonly id: string;
  readonly status: RecordStatus;
  readonly deadline: string | null;
  readonly archiveFrom: string | null;
  readonly action: 'delete' | 'anonymise' | null;
  readonly rule: string | null;
  /** True for data processed on behalf of a controller (handled on its instructions). */
  readonly processor: boolean;
  readonly purposes: readonly ExplainedPurpose[];
  readonly holds: readonly HoldReason[];
}

export type SweepAction = 'delete' | 'anonymise' | 'archive' | 'archive-delete';

export interface SweepLine {
  readonly rule: string;
  readonly table: string;
  readonly action: SweepAction;
  count: number;
}

/** A record the sweep could not process: left as it is, named, and the sweep went on. */
export interface SweepSkip {
  readonly store: string;
  readonly table: string;
  readonly key: string;
  readonly rule: string;
  readonly code: string;
  readonly reason: string;
}

/**
 * Where a sweep's time went, in milliseconds: per table, choosing the records (the verdict
 * queries, `rule` and `action` null); per rule and action, changing them (`write`: statements,
 * files, archive) and logging them (`audit`).
 */
export interface SweepTiming {
  readonly table: string;
  readonly rule: string | null;
  readonly action: SweepAction | null;
  select: number;
  write: number;
  audit: number;
}

/**
 * A hold as people see it: one case (a reason, an end) over one record or every record of a
 * person; `id` is its number (1, 2, 3 in the order they were added), `records[].hold` its rows' ids.
 */
export interface HoldCase {
  readonly id: number;
  readonly reason: string;
  readonly until: string | null;
  readonly actor: string | null;
  readonly person: string | null;
  readonly createdAt: string;
  readonly releasedAt: string | null;
  readonly records: readonly {
    readonly hold: number;
    readonly store: string;
    readonly table: string;
    readonly key: string;
  }[];
}

export interface LockInfo {
  name: string;
  holder: string;
  acquiredAt: string;
  heartbeatAt: string;
  holdsSeen: number | null;
  alive: boolean;
}

export interface SweepRun {
  id: number;
  at: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  summary: Record<string, unknown> | null;
}
