/** An erasure's forwarded records, executed on their controller's instruction. */
import type { Connection } from '../../adapters/sql/connect.js';
import { applyChanges, type StoreChange, statusesOf } from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import type { StoreMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import { foldersOf, type Project } from '../project.js';

import { withPersonStores } from './person.js';
import type { Forwarded, RunResult } from './shared.js';
/**
 * Executes, on a controller's instruction, the erasure of the records a done erasure forwarded to
 * it: only those, only what is still there, never a held one; logged with the controller.
 */
export async function runOnInstruction(
  project: Project,
  state: StateStore,
  row: RequestRow,
  controllerId: string,
  at: string,
  dryRun: boolean,
  actor: string,
): Promise<RunResult> {
  if (row.type !== 'erasure')
    throw new RegistreError(
      'E_USAGE',
      "--on-behalf-of: only an erasure is executed on a controller's instruction",
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
      'E_NOT_FOUND',
      `request ${row.id} forwarded nothing to controller ${controllerId}${named.length ? `; it forwarded to ${named.join(', ')}` : ''}`,
    );
  }
  const erased: { table: string; id: string; action: 'delete' }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  await withPersonStores(project, false, async (conns) => {
    const planned: { conn: Connection; store: StoreMap; changes: StoreChange[] }[] = [];
    for (const store of project.datamap.stores) {
      const conn = conns.get(store.id) as Connection;
      const ctx = await retentionContext(conn, project.register, project.datamap);
      const changes: StoreChange[] = [];
      for (const table of store.tables) {
        const keys = mine.filter((f) => f.store === store.id && f.table === table.name).map((f) => f.id);
        if (keys.length === 0 || !table.record) continue;
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
    // Remembered first, as an erasure is: a run killed midway is replayed whole after a restore.
    if (erased.length)
      await state.addErasure({
        requestId: row.id,
        person: row.person,
        at,
        records: erased.map((e) => ({
          store: mine.find((f) => f.table === e.table && f.id === e.id)?.store as string,
          table: e.table,
          key: e.id,
          action: 'delete',
        })),
      });
    for (const p of planned)
      await applyChanges(p.conn, p.store, p.changes, { state, folders: foldersOf(project) });
  });
  if (!dryRun) {
    await state.updateRequest(row.id, {
      outcome: {
        ...outcome,
        instructed: [
          ...(outcome.instructed ?? []),
          { controller: controllerId, at, erased: erased.length, kept: kept.length },
        ],
      },
    });
    await state.audit('request.instructed', {
      request: row.id,
      person: row.person,
      controller: controllerId,
      at,
      counts: { erased: erased.length, kept: kept.length },
      keys: state.digest(erased.map((e) => `${e.table}:${e.id}`).join(',')),
      actor,
    });
  }
  return { request: row.id, type: 'erasure', at, dryRun, found: mine.length, erased, kept, forwarded: [] };
}
