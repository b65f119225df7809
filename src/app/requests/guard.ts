/**
 * The hold protocol of a request run: like a sweep, a run registers itself (its lock row, with a
 * heartbeat and the last hold it read), re-reads the holds in force right before each store
 * commit, leaves out what they cover, and confirms the holds it read once the commit is done:
 * `hold add` and a restriction wait for that confirmation, so nothing a request commits after
 * they return touches what they cover.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateStore } from '../../adapters/state/state-store.js';

/** Written as the last hold read by a run that commits nothing more (nobody waits for it). */
export const NO_MORE_COMMITS = 2_147_483_647;

export interface CommitGuard {
  /** The records of a store under a hold or a restriction in force on `at`, read now: `table:key` → kind. */
  held(store: string, at: string): Promise<{ kinds: Map<string, 'hold' | 'restriction'>; seen: number }>;
  /** After a commit: every hold up to `seen` is honoured from now on. */
  confirm(seen: number): Promise<void>;
}

/** The guard of a run holding `lock` (none: a dry run, which commits nothing). */
export function commitGuard(
  state: StateStore,
  lock: { beat: (holdsSeen?: number) => Promise<void> } | null,
): CommitGuard {
  return {
    async held(store, at) {
      await testPause('request-before-commit');
      const seen = await state.maxHoldId();
      const kinds = new Map<string, 'hold' | 'restriction'>();
      for (const h of await state.holds({ at }))
        if (h.store === store && h.id <= seen) {
          const k = `${h.table}:${h.key}`;
          if (kinds.get(k) !== 'restriction') kinds.set(k, h.kind);
        }
      return { kinds, seen };
    },
    async confirm(seen) {
      await lock?.beat(seen);
    },
  };
}

/**
 * A test hook: with REGISTRE_TEST_PAUSE_AT=`point` and REGISTRE_TEST_PAUSE_DIR=DIR, the process
 * writes DIR/`point`.paused and waits until DIR/`point`.go exists (two-process tests of the
 * protocol). Without both variables, nothing.
 */
export async function testPause(point: string): Promise<void> {
  const dir = process.env.REGISTRE_TEST_PAUSE_DIR;
  if (process.env.REGISTRE_TEST_PAUSE_AT !== point || !dir) return;
  writeFileSync(join(dir, `${point}.paused`), String(process.pid));
  const deadline = Date.now() + 120_000;
  while (!existsSync(join(dir, `${point}.go`)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
}
