/**
 * The service's scheduled runs (`sweep:2026-11-27`), one row per run key: a run is claimed by
 * inserting its key (of two processes, one inserts it), beats while it works, and ends done or
 * failed with its summary and its audit entry in one transaction. A claim whose holder stopped
 * beating for the lease, or whose process is gone on this host, is taken over with a conditional
 * update on the holder and attempts read: of two processes taking it over, one wins.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditEntry } from '../../core/audit/audit-chain.js';
import { RegistreError } from '../../core/errors.js';
import { deadOnThisHost } from './locks.js';
import { now, type ScheduledRunsTable, type StateDb } from './schema.js';
import type { Transaction } from './transaction.js';

export type ScheduledRunStatus = 'claimed' | 'running' | 'done' | 'failed';

export interface ScheduledRunRow {
  readonly key: string;
  readonly job: string;
  readonly day: string;
  readonly status: ScheduledRunStatus;
  /** `HOST pid N #RANDOM`: the process (and the call) that holds or held the run. */
  readonly holder: string;
  /** How many times it was claimed: more than 1 when a process took over a dead one's run. */
  readonly attempts: number;
  readonly claimedAt: string;
  readonly heartbeatAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly summary: Record<string, unknown> | null;
}

/** A claim held by this process: beat it while working, then finish it. */
export interface HeldRun {
  readonly row: ScheduledRunRow;
  /** Marks the run as running (its work has started). */
  started(): Promise<void>;
  /** Shows the claim is alive; E_LOCK_LOST when another process took it over meanwhile. */
  beat(): Promise<void>;
  /** Gives the claim up unfinished (stopped): another process takes it over at once. */
  release(): Promise<void>;
  /**
   * Ends the run with its summary, and `entry` (its audit entry) in the same transaction; without
   * `entry`, the run ends unlogged (a log that refuses appends). E_LOCK_LOST when it was taken over.
   */
  finish(
    status: 'done' | 'failed',
    summary: Record<string, unknown>,
    entry?: { kind: string; data: Record<string, unknown> },
  ): Promise<AuditEntry | null>;
}

export type RunClaim =
  | { readonly kind: 'claimed'; readonly run: HeldRun }
  /** Finished (done or failed) by whoever ran it: nothing to do. */
  | { readonly kind: 'finished'; readonly row: ScheduledRunRow }
  /** Held by a live claim of another process (or call). */
  | { readonly kind: 'busy'; readonly row: ScheduledRunRow };

function rowOf(r: ScheduledRunsTable): ScheduledRunRow {
  let summary: Record<string, unknown> | null = null;
  try {
    summary = r.summary === null ? null : (JSON.parse(String(r.summary)) as Record<string, unknown>);
  } catch {
    summary = null;
  }
  return {
    key: String(r.run_key),
    job: String(r.job),
    day: String(r.day),
    status: String(r.status) as ScheduledRunStatus,
    holder: String(r.holder),
    attempts: Number(r.attempts),
    claimedAt: String(r.claimed_at),
    heartbeatAt: String(r.heartbeat_at),
    startedAt: r.started_at === null ? null : String(r.started_at),
    finishedAt: r.finished_at === null ? null : String(r.finished_at),
    summary,
  };
}

/** Whether a claim still holds: not finished, beaten within the lease, its process not gone. */
export function claimAlive(row: ScheduledRunRow, leaseMs: number, at = Date.now()): boolean {
  return (
    (row.status === 'claimed' || row.status === 'running') &&
    at - Date.parse(row.heartbeatAt) < leaseMs &&
    !deadOnThisHost(row.holder)
  );
}

export class ScheduledRuns {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
  ) {}

  async get(key: string): Promise<ScheduledRunRow | undefined> {
    const r = await this.db
      .selectFrom('scheduled_runs')
      .selectAll()
      .where('run_key', '=', key)
      .executeTakeFirst();
    return r ? rowOf(r) : undefined;
  }

  /** Claims the run `key` for this process, or says who has it (finished, or alive elsewhere). */
  async claim(key: string, job: string, day: string, leaseMs: number): Promise<RunClaim> {
    const holder = `${hostname()} pid ${process.pid} #${randomBytes(4).toString('hex')}`;
    const at = now();
    try {
      await this.db
        .insertInto('scheduled_runs')
        .values({
          run_key: key,
          job,
          day,
          status: 'claimed',
          holder,
          attempts: 1,
          claimed_at: at,
          heartbeat_at: at,
          started_at: null,
          finished_at: null,
          summary: null,
        })
        .execute();
      return { kind: 'claimed', run: this.held(key, holder) };
    } catch (cause) {
      const existing = await this.get(key);
      if (!existing) throw cause;
      if (existing.status === 'done' || existing.status === 'failed')
        return { kind: 'finished', row: existing };
      if (claimAlive(existing, leaseMs)) return { kind: 'busy', row: existing };
      // Its holder died: taken over, on the condition that nobody else took it first.
      const result = await this.db
        .updateTable('scheduled_runs')
        .set({ holder, attempts: existing.attempts + 1, status: 'claimed', claimed_at: at, heartbeat_at: at })
        .where('run_key', '=', key)
        .where('holder', '=', existing.holder)
        .where('attempts', '=', existing.attempts)
        .where('status', 'in', ['claimed', 'running'])
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1)
        return { kind: 'claimed', run: this.held(key, holder, existing) };
      const after = await this.get(key);
      if (!after) throw cause;
      return after.status === 'done' || after.status === 'failed'
        ? { kind: 'finished', row: after }
        : { kind: 'busy', row: after };
    }
  }

  private held(key: string, holder: string, before?: ScheduledRunRow): HeldRun {
    const lost = () =>
      new RegistreError(
        'E_LOCK_LOST',
        `the scheduled run ${key} was taken over by another process after missed heartbeats; this one stops here`,
      );
    const mine = () =>
      this.db.updateTable('scheduled_runs').where('run_key', '=', key).where('holder', '=', holder);
    const at = now();
    const row: ScheduledRunRow = {
      key,
      job: before?.job ?? key.split(':')[0] ?? '',
      day: before?.day ?? key.split(':')[1] ?? '',
      status: 'claimed',
      holder,
      attempts: (before?.attempts ?? 0) + 1,
      claimedAt: at,
      heartbeatAt: at,
      startedAt: null,
      finishedAt: null,
      summary: null,
    };
    return {
      row,
      started: async () => {
        const t = now();
        const r = await mine().set({ status: 'running', started_at: t, heartbeat_at: t }).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw lost();
      },
      beat: async () => {
        const r = await mine().set({ heartbeat_at: now() }).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw lost();
      },
      release: async () => {
        await mine()
          .set({ status: 'claimed', heartbeat_at: new Date(0).toISOString() })
          .execute();
      },
      finish: async (status, summary, entry) => {
        const values = { status, finished_at: now(), summary: JSON.stringify(summary) };
        if (!entry) {
          const r = await mine().set(values).executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) throw lost();
          return null;
        }
        return this.transaction(['audit_log'], async (tx) => {
          const r = await tx.db
            .updateTable('scheduled_runs')
            .set(values)
            .where('run_key', '=', key)
            .where('holder', '=', holder)
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) throw lost();
          return tx.audit(entry.kind, entry.data);
        });
      },
    };
  }

  /** The runs, newest day first (of one job, when given); the last `limit` of them. */
  async list(options: { job?: string; limit?: number } = {}): Promise<ScheduledRunRow[]> {
    let query = this.db
      .selectFrom('scheduled_runs')
      .selectAll()
      .orderBy('day', 'desc')
      .orderBy('job')
      .orderBy('run_key');
    if (options.job !== undefined) query = query.where('job', '=', options.job);
    if (options.limit !== undefined) query = query.limit(options.limit);
    return (await query.execute()).map(rowOf);
  }
}
