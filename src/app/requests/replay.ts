/** Erasure replay after a backup is restored. */

import { z } from 'zod';
import type { Connection } from '../../adapters/sql/connect.js';
import { normaliseEmail } from '../../adapters/sql/explain.js';
import {
  applyChanges,
  archivedRows,
  deleteArchived,
  identityOf,
  restoredRows,
  type StoreChange,
  statusesOf,
} from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import { addToSuppressionList } from '../../adapters/sql/sweep.js';
import type { ErasureRow } from '../../adapters/state/state-store.js';
import { hmacHex, keyIdOf } from '../../core/audit/keys.js';
import type { TableMap } from '../../core/datamap/datamap-schema.js';
import { archiveFilesDir, type Context, type Engine, foldersOf } from '../engine.js';
import { archiveHolds } from '../explain.js';
import { parseInput } from '../input.js';

import { type AfterHold, eraseAfterHolds } from './after-hold.js';
import { commitGuard } from './guard.js';
import { ruleOf, withPersonStores } from './person.js';
import { prover } from './proof.js';
import { requireKey } from './shared.js';
// ---------------------------------------------------------------------------------------------
// Erasure replay

export interface ReplayResult {
  readonly erasures: number;
  /** Records found again (restored) and erased again. */
  readonly redone: readonly {
    request: number;
    table: string;
    id: string;
    action: string;
    archived?: boolean;
  }[];
  /** Records found again but left: held now, or the key now belongs to someone else. */
  readonly skipped: readonly { request: number; table: string; id: string; why: string }[];
  readonly suppressed: number;
  /** Records an erasure kept for a hold that has ended since: erased now. */
  readonly afterHold?: AfterHold['erased'];
  /** Records an erasure kept for a hold that has ended, left: not proven the person's any more. */
  readonly afterHoldSkipped?: AfterHold['skipped'];
  /**
   * Erasures whose person's hash was made with a previous key and whose address did not come
   * back: their hash cannot be made under the key in force, and no old-key hash is put back.
   */
  readonly notRekeyed?: number;
}

/**
 * After a database backup is restored, re-applies every past erasure: the records each one
 * removed (kept by key in the state store) that are back, live or in the archive store, each
 * proven still the same record (its fingerprint, or the person's keyed hash where the table holds
 * the address, under any key of the ring) and not held, set-based per table. The suppression
 * list gets each person's hash under the key in force.
 */
export const ReplayInput = z.strictObject({
  /** Show what would be erased again; change nothing. */
  dryRun: z.boolean().default(false),
});
export type ReplayInput = z.input<typeof ReplayInput>;

export async function replayErasures(
  engine: Engine,
  input: ReplayInput,
  context: Context,
): Promise<ReplayResult> {
  const options = parseInput(ReplayInput, input);
  const at = engine.today();
  const { actor, onProgress, signal } = context;
  const project = await engine.project();
  const key = requireKey(project);
  const state = await engine.state(options.dryRun ? 'read' : 'write');
  // Registered like a request run: hold add and a restriction wait for its commits.
  const lock = options.dryRun ? null : await state.lock('request:replay', 10 * 60_000, 'erasure replay');
  const timer = lock
    ? setInterval(() => {
        lock.beat().catch(() => {});
      }, 5000)
    : null;
  timer?.unref();
  const guard = commitGuard(state, lock);
  try {
    const erasures = await state.erasures();
    const ring = [...state.keyRing().keyed.values()];
    const proof = prover(project.register, project.datamap, ring, erasures);
    const current = (text: string) => hmacHex(key, text);
    const redone: { request: number; table: string; id: string; action: string; archived?: boolean }[] = [];
    const skipped: { request: number; table: string; id: string; why: string }[] = [];
    // Each erasure's person under the key in force: from an address found again, or its own hash
    // when it was made with that key.
    const rekeyed = new Map<number, string>();
    const currentId = keyIdOf(key);
    for (const e of erasures) if (e.keyId === currentId) rekeyed.set(e.id, e.person);
    // And under the keys of before a rotation, for a restored suppression list listing it under one.
    const older = [...state.keyRing().keyed].filter(([id]) => id !== currentId).map(([, hash]) => hash);
    const previousOf = new Map<number, Map<string, string>>();
    let suppressed = 0;
    let afterHold: AfterHold['erased'] = [];
    let afterHoldSkipped: AfterHold['skipped'] = [];
    await withPersonStores(engine, !options.dryRun, async (conns, archive) => {
      let storesDone = 0;
      for (const store of project.datamap.stores) {
        onProgress?.({
          phase: 'replay',
          done: storesDone++,
          total: project.datamap.stores.length,
          detail: store.id,
        });
        signal?.throwIfAborted();
        const conn = conns.get(store.id) as Connection;
        const ctx = await retentionContext(conn, project.register, project.datamap);
        // Every erased key of every erasure, by table: one look-up per table, whatever their number.
        const wanted = new Map<string, { table: TableMap; records: Wanted[] }>();
        for (const erasure of erasures)
          for (const r of erasure.records) {
            if (r.store !== store.id || (r.action !== 'delete' && r.action !== 'anonymise')) continue;
            const table = store.tables.find((t) => t.name === r.table);
            if (!table) continue;
            const name = `${r.archived ? 'archive:' : ''}${table.name}`;
            const entry = wanted.get(name) ?? { table, records: [] };
            entry.records.push({ erasure, r });
            wanted.set(name, entry);
          }
        const { kinds, seen } = options.dryRun
          ? { kinds: new Map<string, string>(), seen: 0 }
          : await guard.held(store.id, at);
        const changes: StoreChange[] = [];
        const archived = new Map<string, { table: TableMap; keys: string[] }>();
        for (const [name, { table, records }] of wanted) {
          const inArchive = name.startsWith('archive:');
          const keys = [...new Set(records.map((w) => w.r.key))];
          const back = inArchive
            ? archive
              ? await archivedRows(archive, store, table, keys)
              : new Map<string, Record<string, unknown>>()
            : await restoredRows(conn, table, keys);
          if (back.size === 0) continue;
          const heldNow = await state.heldKeys(store.id, [table.name], at);
          const verdicts = inArchive
            ? new Map<string, string>()
            : await statusesOf(conn, ctx, table, at, [...back.keys()], heldNow.byTable);
          const dataHeld = inArchive ? await archiveHolds(conn, ctx, table) : () => [];
          const byAction = new Map<string, string[]>();
          for (const { erasure, r } of records) {
            const row = back.get(r.key);
            if (!row) continue;
            const why = { request: erasure.requestId, table: table.name, id: r.key };
            // Proven still the person's (its fingerprint, then its identity or parent chain): a key
            // handed out again after the restore is someone else's record.
            const not = await proof.stillTheirs({ conn, archive, store }, table, row, r, erasure.person);
            if (not !== null) {
              skipped.push({ ...why, why: not });
              continue;
            }
            const address = identityOf(table, row);
            if (address !== null) {
              const normalised = normaliseEmail(address);
              const hash = current(normalised);
              rekeyed.set(erasure.id, hash);
              previousOf.set(erasure.id, new Map(older.map((h) => [h(normalised), hash])));
            }
            const status = kinds.has(`${table.name}:${r.key}`)
              ? kinds.get(`${table.name}:${r.key}`) === 'restriction'
                ? 'restricted'
                : 'held'
              : inArchive
                ? dataHeld(r.key).length
                  ? 'held'
                  : 'archived'
                : verdicts.get(r.key);
            if (status === 'held' || status === 'restricted') {
              skipped.push({ ...why, why: status });
              continue;
            }
            // Anonymised already (the restored copy was made after, or a sweep did it): nothing to redo.
            if (r.action === 'anonymise' && status === 'anonymised') continue;
            redone.push({
              ...why,
              action: inArchive ? 'delete' : r.action,
              ...(inArchive ? { archived: true } : {}),
            });
            if (inArchive) {
              const entry = archived.get(table.name) ?? { table, keys: [] };
              entry.keys.push(r.key);
              archived.set(table.name, entry);
              continue;
            }
            const signature = `${r.action}|${r.rule ?? ''}`;
            const list = byAction.get(signature) ?? [];
            list.push(r.key);
            byAction.set(signature, list);
          }
          for (const [signature, list] of byAction) {
            const [action, ruleId] = signature.split('|') as ['delete' | 'anonymise', string];
            const rule = ruleOf(project.register, ruleId || null);
            changes.push({ table, action, keys: [...new Set(list)], ...(rule ? { rule } : {}) });
          }
        }
        if (options.dryRun) continue;
        if (changes.length) await applyChanges(conn, store, changes, { state, folders: foldersOf(project) });
        if (archive)
          for (const { table, keys } of archived.values())
            await deleteArchived(archive, store, table, [...new Set(keys)], archiveFilesDir(project));
        await guard.confirm(seen);
      }
      // Records kept for a hold that has ended: erased now, with the erasure's decision.
      const after = await eraseAfterHolds(project, state, conns, archive, at, guard, {
        ...(options.dryRun ? { dryRun: true } : {}),
        actor,
        // A restore may have brought back a record left before as not proven: looked at again.
        retryUnproven: true,
      });
      afterHold = after.erased;
      afterHoldSkipped = after.skipped;
      if (options.dryRun) return;
      // The suppression list of the restored copy: each person's keyed hash under the key in force.
      for (const store of project.datamap.stores) {
        if (!store.suppressionList) continue;
        const conn = conns.get(store.id) as Connection;
        await conn.db.transaction().execute(async (trx) => {
          for (const erasure of erasures) {
            const hash = rekeyed.get(erasure.id);
            if (hash === undefined) continue;
            const added = await addToSuppressionList(trx, conn.dialect, store, [hash], {
              at: erasure.at,
              reason: 'erasure',
              previous: previousOf.get(erasure.id) ?? new Map(),
            });
            suppressed += added.length;
          }
        });
      }
    });
    const notRekeyed = erasures.filter((e) => !rekeyed.has(e.id)).length;
    if (!options.dryRun)
      await state.audit('erasure.replay', {
        erasures: erasures.length,
        redone: redone.length,
        skipped: skipped.length,
        ...(afterHold.length ? { afterHold: afterHold.length } : {}),
        ...(afterHoldSkipped.length ? { afterHoldSkipped: afterHoldSkipped.length } : {}),
        keys: state.digest(redone.map((r) => `${r.archived ? 'archive:' : ''}${r.table}:${r.id}`).join(',')),
        actor,
      });
    return {
      erasures: erasures.length,
      redone,
      skipped,
      suppressed,
      ...(afterHold.length ? { afterHold } : {}),
      ...(afterHoldSkipped.length ? { afterHoldSkipped } : {}),
      ...(notRekeyed ? { notRekeyed } : {}),
    };
  } finally {
    if (timer) clearInterval(timer);
    await lock?.release().catch(() => {});
  }
}

type Wanted = { erasure: ErasureRow; r: ErasureRow['records'][number] };
