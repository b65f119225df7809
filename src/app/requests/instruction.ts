/** An erasure's forwarded records, executed on their controller's instruction. */
import type { Connection } from '../../adapters/sql/connect.js';
import { applyChanges, rowsByKey, type StoreChange, statusesOf } from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import type { StoreMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import { type Engine, foldersOf } from '../engine.js';
import { field } from '../input.js';
import type { Project } from '../project.js';

import { type CommitGuard, commitGuard } from './guard.js';
import { withPersonStores } from './person.js';
import { prover } from './proof.js';
import type { Forwarded, RunResult } from './shared.js';
/**
 * Executes, on a controller's instruction, the erasure of the records a done erasure forwarded to
 * it: only those, only what is still there, never a held one; logged with the controller.
 */
export async function runOnInstruction(
  engine: Engine,
  project: Project,
  state: StateStore,
  row: RequestRow,
  controllerId: string,
  at: string,
  dryRun: boolean,
  actor: string,
  guard: CommitGuard = commitGuard(state, null),
): Promise<RunResult> {
  if (row.type !== 'erasure')
    throw new RegistreError(
      'E_USAGE',
      `${field('onBehalfOf')}: only an erasure is executed on a controller's instruction`,
      { path: ['onBehalfOf'] },
    );
  const outcome = (row.outcome ?? {}) as { forwarded?: Forwarded[]; instructed?: Record<string, unknown>[] };
  if (row.status !== 'done')
    throw new RegistreError(
      'E_REQUEST_STATE',
      `request ${row.id} is ${row.status}: run the erasure first; what it holds for a controller is forwarded, then executed on that controller's instruction`,
    );
  const mine = (outcome.forwarded ?? []).filter((f) => f.controllerId === controllerId);
  if (mine.length === 0) {
    const named = [...new Set((outcome.forwarded ?? []).map((f) => `${f.controller} (${f.controllerId})`))];
    throw new RegistreError(
      'E_NOT_FORWARDED',
      `request ${row.id} forwarded nothing to controller ${controllerId}${named.length ? `; it forwarded to ${named.join(', ')}` : ''}`,
    );
  }
  const erased: { table: string; id: string; action: 'delete' }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  const skipped: { table: string; id: string; why: string }[] = [];
  // What the erasure remembered of each forwarded record: its fingerprint (the row as it was).
  const erasures = await state.erasures();
  const remembered = new Map(
    erasures
      .filter((e) => e.requestId === row.id)
      .flatMap((e) => e.records.filter((r) => r.action === 'forward'))
      .map((r) => [`${r.store}.${r.table}:${r.key}`, r]),
  );
  const proof = prover(project.register, project.datamap, [...state.keyRing().keyed.values()], erasures);
  await withPersonStores(engine, false, async (conns, archive) => {
    const planned: { conn: Connection; store: StoreMap; changes: StoreChange[] }[] = [];
    for (const store of project.datamap.stores) {
      const conn = conns.get(store.id) as Connection;
      const ctx = await retentionContext(conn, project.register, project.datamap);
      const changes: StoreChange[] = [];
      for (const table of store.tables) {
        const wanted = mine.filter((f) => f.store === store.id && f.table === table.name).map((f) => f.id);
        if (wanted.length === 0 || !table.record) continue;
        // A key is acted on only while it is still the record forwarded, proven the person's (its
        // fingerprint, then its identity or parent chain): after a restore, the same id can be
        // another person's.
        const rows = await rowsByKey(conn, table, wanted);
        const keys: string[] = [];
        for (const k of wanted) {
          const found = rows.get(k);
          if (!found) continue;
          const r = remembered.get(`${store.id}.${table.name}:${k}`);
          const not = await proof.stillTheirs({ conn, archive, store }, table, found, r ?? {}, row.person);
          if (not === null) keys.push(k);
          else skipped.push({ table: table.name, id: k, why: not });
        }
        const held = await state.heldKeys(store.id, [table.name], at);
        const statuses = await statusesOf(conn, ctx, table, at, keys, held.byTable);
        const go = keys.filter(
          (k) => statuses.has(k) && statuses.get(k) !== 'held' && statuses.get(k) !== 'restricted',
        );
        for (const k of keys)
          if (statuses.get(k) === 'held' || statuses.get(k) === 'restricted')
            kept.push({
              table: table.name,
              id: k,
              basis: statuses.get(k) === 'held' ? '17(3)(e)' : '18',
              until: null,
            });
        for (const k of go) erased.push({ table: table.name, id: k, action: 'delete' });
        if (go.length) changes.push({ table, action: 'delete', keys: go });
      }
      if (changes.length) planned.push({ conn, store, changes });
    }
    if (dryRun) return;
    // The holds in force right before each commit: one added since wins.
    const commits: { conn: Connection; store: StoreMap; changes: StoreChange[]; seen: number }[] = [];
    for (const p of planned) {
      const { kinds, seen } = await guard.held(p.store.id, at);
      const changes = p.changes.map((c) => ({
        ...c,
        keys: c.keys.filter((k) => {
          const kind = kinds.get(`${c.table.name}:${k}`);
          if (!kind) return true;
          const i = erased.findIndex((e) => e.table === c.table.name && e.id === k);
          if (i >= 0) erased.splice(i, 1);
          kept.push({
            table: c.table.name,
            id: k,
            basis: kind === 'restriction' ? '18' : '17(3)(e)',
            until: null,
          });
          return false;
        }),
      }));
      commits.push({ ...p, changes, seen });
    }
    // Remembered first, as an erasure is: a run killed midway is replayed whole after a restore.
    if (erased.length)
      await state.addErasure({
        requestId: row.id,
        person: row.person,
        at,
        records: erased.map((e) => {
          const f = mine.find((m) => m.table === e.table && m.id === e.id) as Forwarded;
          const r = remembered.get(`${f.store}.${e.table}:${e.id}`);
          return {
            store: f.store,
            table: e.table,
            key: e.id,
            action: 'delete',
            ...(r?.fp && r.cols ? { fp: r.fp, cols: r.cols } : {}),
          };
        }),
      });
    for (const p of commits) {
      await applyChanges(p.conn, p.store, p.changes, { state, folders: foldersOf(project) });
      await guard.confirm(p.seen);
    }
  });
  if (!dryRun) {
    await state.updateRequest(row.id, {
      outcome: {
        ...outcome,
        instructed: [
          ...(outcome.instructed ?? []),
          { controller: controllerId, at, erased: erased.length, kept: kept.length, skipped: skipped.length },
        ],
      },
    });
    await state.audit('request.instructed', {
      request: row.id,
      person: row.person,
      controller: controllerId,
      at,
      counts: { erased: erased.length, kept: kept.length, skipped: skipped.length },
      keys: state.digest(erased.map((e) => `${e.table}:${e.id}`).join(',')),
      actor,
    });
  }
  return {
    request: row.id,
    type: 'erasure',
    at,
    dryRun,
    found: mine.length,
    erased,
    kept,
    forwarded: [],
    ...(skipped.length ? { skipped } : {}),
  };
}
