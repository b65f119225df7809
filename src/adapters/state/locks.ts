/**
 * Named locks with heartbeats: the sweep's (`sweep:STORES`), a request run's (`request:ID`, and
 * `request:replay`), a rectification's (`change:request:ID`). A holder that stops beating for
 * its kind's time, or whose process is gone on this host, is taken for dead.
 */
import { hostname } from 'node:os';
import { RegistreError } from '../../core/errors.js';
import type { LockInfo } from '../../core/retention/results.js';
import { type LocksTable, now, type StateDb } from './schema.js';

export type { LockInfo } from '../../core/retention/results.js';

/** A sweep, a rectification: a heartbeat every few seconds, dead after a minute of silence. */
export const SWEEP_STALE_AFTER_MS = 60_000;
/** A request run and an erasure replay: dead after ten minutes (one store commit may take long). */
export const REQUEST_STALE_AFTER_MS = 10 * 60_000;

/** How long the holder of lock `name` may stay silent before it is taken for dead: by its kind. */
export function staleAfter(name: string): number {
  return name.startsWith('request:') ? REQUEST_STALE_AFTER_MS : SWEEP_STALE_AFTER_MS;
}

export interface HeldLock {
  holder: string;
  release: () => Promise<void>;
  beat: (holdsSeen?: number) => Promise<void>;
}

function lockOf(r: LocksTable): LockInfo {
  const holder = String(r.holder);
  const heartbeatAt = String(r.heartbeat_at);
  return {
    name: String(r.name),
    holder,
    acquiredAt: String(r.acquired_at),
    heartbeatAt,
    holdsSeen: r.holds_seen === null || r.holds_seen === undefined ? null : Number(r.holds_seen),
    alive: !deadOnThisHost(holder) && Date.now() - Date.parse(heartbeatAt) < staleAfter(String(r.name)),
  };
}

export class Locks {
  constructor(private readonly db: StateDb) {}

  /**
   * Takes the named lock, or says who holds it. A lock whose holder stopped sending heartbeats
   * (killed) for `staleAfterMs`, or whose process is gone on this host, is taken over.
   */
  async take(name: string, staleAfterMs = staleAfter(name), what = 'sweep'): Promise<HeldLock> {
    const holder = `${hostname()} pid ${process.pid}`;
    const at = now();
    const existing = await this.db
      .selectFrom('locks')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing) {
      const age = Date.now() - Date.parse(String(existing.heartbeat_at));
      if (age < staleAfterMs && !deadOnThisHost(String(existing.holder)))
        throw new RegistreError(
          'E_LOCK_HELD',
          `another ${what} is running (${existing.holder}, since ${existing.acquired_at}); registre status shows it`,
        );
      await this.db
        .deleteFrom('locks')
        .where('name', '=', name)
        .where('holder', '=', String(existing.holder))
        .execute();
    }
    try {
      await this.db
        .insertInto('locks')
        .values({ name, holder, acquired_at: at, heartbeat_at: at, holds_seen: 0 })
        .execute();
    } catch (cause) {
      throw new RegistreError('E_LOCK_HELD', `another ${what} took the lock at the same moment`, { cause });
    }
    return {
      holder,
      beat: async (holdsSeen?: number) => {
        const result = await this.db
          .updateTable('locks')
          .set({ heartbeat_at: now(), ...(holdsSeen === undefined ? {} : { holds_seen: holdsSeen }) })
          .where('name', '=', name)
          .where('holder', '=', holder)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0)
          throw new RegistreError(
            'E_LOCK_LOST',
            'the sweep lost its lock (another process took it over after missed heartbeats); it stops here',
          );
      },
      release: async () => {
        await this.db.deleteFrom('locks').where('name', '=', name).where('holder', '=', holder).execute();
      },
    };
  }

  /** Every lock held, each alive or dead by the time of its own kind (`staleAfter`). */
  async list(): Promise<LockInfo[]> {
    return (await this.db.selectFrom('locks').selectAll().execute()).map(lockOf);
  }

  /**
   * Waits until every running sweep has read holds up to `holdId` before committing a batch, so
   * that no batch committed after this returns touches the held records. A sweep that stops
   * sending heartbeats (killed) is not waited for. A request run (lock `request:ID`) registers
   * the same way, and so does a rectification (lock `change:ID`): it re-reads the holds before each store commit and confirms them after.
   */
  async waitForSweeps(
    holdId: number,
    options: { staleAfterMs?: number; timeoutMs?: number } = {},
  ): Promise<void> {
    const staleAfterMs = options.staleAfterMs ?? SWEEP_STALE_AFTER_MS;
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    for (;;) {
      const running = (await this.list()).filter(
        (l) =>
          (l.name.startsWith('sweep:') || l.name.startsWith('request:') || l.name.startsWith('change:')) &&
          (l.holdsSeen ?? 0) < holdId &&
          Date.now() - Date.parse(l.heartbeatAt) < staleAfterMs &&
          !deadOnThisHost(l.holder),
      );
      if (running.length === 0) return;
      if (Date.now() > deadline)
        throw new RegistreError(
          'E_SWEEP_BUSY',
          `hold ${holdId} is recorded, but the sweep running (${running[0]?.holder}) has not confirmed it yet; it will not touch the records of a hold it has read — run registre status`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Whether `holder` (`HOST pid N`, maybe followed by more) names a process of this host that is gone. */
export function deadOnThisHost(holder: string): boolean {
  return holder.startsWith(`${hostname()} pid `) && !alive(Number(/ pid (\d+)/.exec(holder)?.[1]));
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
