/** The sweep runs: started, finished, and those a killed sweep left running (shown as died). */

import type { SweepRun } from '../../core/retention/results.js';
import type { Locks } from './locks.js';
import { now, type StateDb, type SweepRunsTable } from './schema.js';
import type { Transaction } from './transaction.js';

export type { SweepRun } from '../../core/retention/results.js';

/** `live`: whether a sweep holds its lock alive; a run still marked running without one was killed. */
function runOf(r: SweepRunsTable, live: boolean): SweepRun {
  let summary: Record<string, unknown> | null = null;
  try {
    summary = r.summary === null ? null : (JSON.parse(String(r.summary)) as Record<string, unknown>);
  } catch {
    summary = null;
  }
  const status = String(r.status) === 'running' && !live ? 'died' : String(r.status);
  return {
    id: Number(r.id),
    at: String(r.at_date),
    startedAt: String(r.started_at),
    finishedAt: r.finished_at === null ? null : String(r.finished_at),
    status,
    summary,
  };
}

export class Runs {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
    private readonly locks: Locks,
  ) {}

  async start(at: string): Promise<number> {
    return this.transaction(['sweep_runs'], async (tx) => {
      const id = await tx.nextId('sweep_runs');
      await tx.db
        .insertInto('sweep_runs')
        .values({ id, at_date: at, started_at: now(), finished_at: null, status: 'running', summary: null })
        .execute();
      return id;
    });
  }

  async finish(id: number, status: 'done' | 'failed', summary: unknown): Promise<void> {
    await this.db
      .updateTable('sweep_runs')
      .set({ finished_at: now(), status, summary: JSON.stringify(summary) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * The runs, newest first: the last `limit` ones, every one (`limit` undefined), or those never
   * finished (`unfinished`: running, or died).
   */
  async list(options: { limit?: number; unfinished?: boolean } = {}): Promise<SweepRun[]> {
    let query = this.db.selectFrom('sweep_runs').selectAll().orderBy('id', 'desc');
    if (options.unfinished) query = query.where('status', '=', 'running');
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = await query.execute();
    const live = (await this.locks.list()).some((l) => l.name.startsWith('sweep:') && l.alive);
    return rows.map((r) => runOf(r, live));
  }
}
