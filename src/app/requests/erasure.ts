/** Erasure (art. 17): each record's decision, then one set-based change per table and store. */
import type { Connection } from '../../adapters/sql/connect.js';
import {
  anonymisedColumns,
  applyChanges,
  deleteArchived,
  fingerprintColumns,
  fingerprintOf,
  type StoreChange,
} from '../../adapters/sql/person.js';
import type { ErasureRow, RequestRow, StateStore } from '../../adapters/state/state-store.js';
import type { TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import type { Register } from '../../core/register/register-load.js';
import { type ErasureDecision, erasureDecision } from '../../core/requests/requests.js';
import { safeMessage } from '../../core/safe-message.js';

import { archiveFilesDir, foldersOf, type Project } from '../project.js';

import { type CommitGuard, commitGuard } from './guard.js';
import { basesOf, type PersonItem, ruleOf } from './person.js';
import type { Forwarded, RunResult } from './shared.js';
import { rekeying } from './shared.js';
// -- erasure

export function legalObligation(register: Register, item: PersonItem): boolean {
  return basesOf(register, item).some((p) => p.legalBasis === 'legal-obligation');
}

export function decide(register: Register, item: PersonItem): ErasureDecision {
  const e = item.explanation;
  return erasureDecision({
    processor: e.processor,
    restricted: item.restricted,
    held: e.holds.length > 0,
    legalObligation: legalObligation(register, item),
    due: e.status === 'due',
    deadline: e.deadline,
    action: item.archived ? 'delete' : e.action,
  });
}

/** What an erasure remembers of one record (replay, instructions, records kept for a hold). */
type Remembered = ErasureRow['records'][number];

/** The fingerprint of an item's row: its key, relations and personal columns, less what `anonymise` rewrites. */
function fingerprint(
  state: StateStore,
  conn: Connection | undefined,
  item: PersonItem,
  rule: ReturnType<typeof ruleOf>,
): { fp: string; cols: string[] } {
  const changed = conn && rule ? anonymisedColumns(conn, item.table, rule) : [];
  const cols = fingerprintColumns(item.table, changed).filter((c) => c in item.row);
  return { fp: fingerprintOf(state.hash, item.table, item.row, cols), cols };
}

export async function erase(
  project: Project,
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  archive: Connection | undefined,
  at: string,
  dryRun: boolean,
  guard: CommitGuard = commitGuard(state, null),
): Promise<Pick<RunResult, 'erased' | 'kept' | 'forwarded' | 'suppressed'>> {
  const erased: {
    table: string;
    id: string;
    action: 'delete' | 'anonymise';
    archived?: boolean;
    store: string;
    rule?: string;
  }[] = [];
  const kept: NonNullable<RunResult['kept']>[number][] = [];
  const forwarded: Forwarded[] = [];
  const remembered: Remembered[] = [];
  for (const item of items) {
    const d = decide(project.register, item);
    const conn = conns.get(item.store.id);
    if (d.kind === 'forward') {
      forwarded.push({
        controller: item.controller?.name ?? 'unknown controller',
        controllerId: item.controller?.id ?? null,
        store: item.store.id,
        table: item.table.name,
        id: item.id,
      });
      // Its fingerprint: executed on the controller's instruction only while the key is still its record.
      if (!item.archived)
        remembered.push({
          store: item.store.id,
          table: item.table.name,
          key: item.id,
          action: 'forward',
          ...(item.controller?.id ? { controllerId: item.controller.id } : {}),
          ...fingerprint(state, conn, item, undefined),
        });
      continue;
    }
    if (d.kind === 'keep') {
      // Kept for a hold or a restriction: what the erasure does once it ends, remembered with it.
      const then =
        d.basis === '18' || d.basis === '17(3)(e)'
          ? decide(project.register, {
              ...item,
              restricted: false,
              explanation: { ...item.explanation, holds: [] },
            })
          : null;
      const after = then && then.kind !== 'keep' && then.kind !== 'forward' ? then.kind : undefined;
      const afterRule = after === 'anonymise' ? (item.explanation.rule ?? undefined) : undefined;
      kept.push({
        table: item.table.name,
        id: item.id,
        basis: d.basis,
        until: d.until,
        ...(after ? { afterHold: after } : {}),
      });
      remembered.push({
        store: item.store.id,
        table: item.table.name,
        key: item.id,
        action: 'keep',
        basis: d.basis,
        ...(item.archived ? { archived: true } : {}),
        ...(after ? { then: after } : {}),
        ...(afterRule ? { rule: afterRule } : {}),
        ...fingerprint(state, conn, item, ruleOf(project.register, afterRule ?? null)),
      });
      continue;
    }
    const rule = d.kind === 'anonymise' ? ruleOf(project.register, item.explanation.rule) : undefined;
    erased.push({
      store: item.store.id,
      table: item.table.name,
      id: item.id,
      action: d.kind,
      ...(item.archived ? { archived: true } : {}),
      ...(d.kind === 'anonymise' && item.explanation.rule ? { rule: item.explanation.rule } : {}),
    });
    remembered.push({
      store: item.store.id,
      table: item.table.name,
      key: item.id,
      action: d.kind,
      ...(item.archived ? { archived: true } : {}),
      ...(d.kind === 'anonymise' && item.explanation.rule ? { rule: item.explanation.rule } : {}),
      ...fingerprint(state, conn, item, rule),
    });
  }
  if (!dryRun) {
    // What is erased is remembered first: a run killed midway is replayed whole after a restore.
    const erasureId = remembered.length
      ? await state.addErasure({ requestId: row.id, person: row.person, at, records: remembered })
      : null;
    for (const store of project.datamap.stores) {
      const conn = conns.get(store.id) as Connection;
      // The holds in force right now: a hold or a restriction added since the decision wins.
      const { kinds, seen } = await guard.held(store.id, at);
      let moved = false;
      for (let i = erased.length - 1; i >= 0; i--) {
        const e = erased[i] as (typeof erased)[number];
        const kind = e.store === store.id ? kinds.get(`${e.table}:${e.id}`) : undefined;
        if (!kind) continue;
        erased.splice(i, 1);
        const basis = kind === 'restriction' ? '18' : '17(3)(e)';
        kept.push({ table: e.table, id: e.id, basis, until: null, afterHold: e.action });
        const r = remembered.find(
          (m) => m.store === e.store && m.table === e.table && m.key === e.id && m.action === e.action,
        ) as Remembered;
        remembered[remembered.indexOf(r)] = { ...r, action: 'keep', basis, then: e.action };
        moved = true;
      }
      if (moved && erasureId !== null) await state.updateErasure(erasureId, remembered);
      const changes: StoreChange[] = [];
      const archivedKeys = new Map<string, string[]>();
      for (const e of erased) {
        if (e.store !== store.id) continue;
        const table = store.tables.find((t) => t.name === e.table) as TableMap;
        if (e.archived) {
          archivedKeys.set(e.table, [...(archivedKeys.get(e.table) ?? []), e.id]);
          continue;
        }
        const rule = ruleOf(project.register, e.rule ?? null);
        let change = changes.find((c) => c.table === table && c.action === e.action && c.rule === rule);
        if (!change) {
          change = { table, action: e.action, keys: [], ...(rule ? { rule } : {}) };
          changes.push(change);
        }
        (change.keys as string[]).push(e.id);
      }
      try {
        await applyChanges(conn, store, changes, {
          state,
          folders: foldersOf(project),
          ...(store.suppressionList
            ? { suppress: { hashes: [row.person], at, reason: 'erasure', previous: rekeying(project, row) } }
            : {}),
        });
      } catch (error) {
        if (error instanceof RegistreError) throw error;
        throw new RegistreError(
          'E_STORE_FAILED',
          `store "${store.id}" (${conn.label}) failed during the erasure: ${safeMessage(error)}; its changes were rolled back (one transaction), what the stores before it committed stays; the request stays running (its intent is logged): complete it with registre request run ${row.id} once the cause is fixed`,
          { cause: error },
        );
      }
      if (archive)
        for (const [name, keys] of archivedKeys)
          await deleteArchived(
            archive,
            store,
            store.tables.find((t) => t.name === name) as TableMap,
            keys,
            archiveFilesDir(project),
          );
      await guard.confirm(seen);
    }
  }
  return {
    erased: erased.map(({ store: _s, rule: _r, ...e }) => e),
    kept,
    forwarded,
    suppressed: project.datamap.stores.some((s) => s.suppressionList),
  };
}
