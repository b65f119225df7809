/** Erasure (art. 17): each record's decision, then one set-based change per table and store. */
import type { Connection } from '../../adapters/sql/connect.js';
import { applyChanges, deleteArchived, type StoreChange } from '../../adapters/sql/person.js';
import type { ErasureRow, RequestRow, StateStore } from '../../adapters/state/state-store.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import type { Register } from '../../core/register/register-load.js';
import { type ErasureDecision, erasureDecision } from '../../core/requests/requests.js';
import { safeMessage } from '../../core/safe-message.js';

import { archiveFilesDir, foldersOf, type Project } from '../project.js';

import { basesOf, type PersonItem, ruleOf } from './person.js';
import type { Forwarded, RunResult } from './shared.js';
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

export async function erase(
  project: Project,
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  archive: Connection | undefined,
  at: string,
  dryRun: boolean,
): Promise<Pick<RunResult, 'erased' | 'kept' | 'forwarded' | 'suppressed'>> {
  const erased: {
    table: string;
    id: string;
    action: 'delete' | 'anonymise';
    archived?: boolean;
    store: string;
    rule?: string;
  }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  const forwarded: Forwarded[] = [];
  const changes = new Map<string, StoreChange[]>();
  const keptKeys: { store: string; table: string; key: string; action: string }[] = [];
  const archivedKeys = new Map<string, { store: StoreMap; table: TableMap; keys: string[] }>();
  for (const item of items) {
    const d = decide(project.register, item);
    if (d.kind === 'forward') {
      forwarded.push({
        controller: item.controller?.name ?? 'unknown controller',
        controllerId: item.controller?.id ?? null,
        store: item.store.id,
        table: item.table.name,
        id: item.id,
      });
      continue;
    }
    if (d.kind === 'keep') {
      kept.push({ table: item.table.name, id: item.id, basis: d.basis, until: d.until });
      if (!item.archived)
        keptKeys.push({ store: item.store.id, table: item.table.name, key: item.id, action: 'keep' });
      continue;
    }
    erased.push({
      store: item.store.id,
      table: item.table.name,
      id: item.id,
      action: d.kind,
      ...(item.archived ? { archived: true } : {}),
      ...(d.kind === 'anonymise' && item.explanation.rule ? { rule: item.explanation.rule } : {}),
    });
    if (item.archived) {
      const k = `${item.store.id}.${item.table.name}`;
      const entry = archivedKeys.get(k) ?? { store: item.store, table: item.table, keys: [] };
      entry.keys.push(item.id);
      archivedKeys.set(k, entry);
      continue;
    }
    const list = changes.get(item.store.id) ?? [];
    const rule = ruleOf(project.register, item.explanation.rule);
    let change = list.find((c) => c.table === item.table && c.action === d.kind && c.rule === rule);
    if (!change) {
      change = { table: item.table, action: d.kind, keys: [], ...(rule ? { rule } : {}) };
      list.push(change);
    }
    (change.keys as string[]).push(item.id);
    changes.set(item.store.id, list);
  }
  if (!dryRun) {
    // What is erased is remembered first: a run killed midway is replayed whole after a restore.
    if (erased.length || keptKeys.length)
      await state.addErasure({
        requestId: row.id,
        person: row.person,
        at,
        records: erased
          .map((e): ErasureRow['records'][number] => ({
            store: e.store,
            table: e.table,
            key: e.id,
            action: e.action,
            ...(e.archived ? { archived: true } : {}),
            ...(e.rule ? { rule: e.rule } : {}),
          }))
          .concat(keptKeys),
      });
    for (const store of project.datamap.stores) {
      const conn = conns.get(store.id) as Connection;
      try {
        await applyChanges(conn, store, changes.get(store.id) ?? [], {
          state,
          folders: foldersOf(project),
          ...(store.suppressionList ? { suppress: { hashes: [row.person], at, reason: 'erasure' } } : {}),
        });
      } catch (error) {
        if (error instanceof RegistreError) throw error;
        throw new RegistreError(
          'E_STORE_FAILED',
          `store "${store.id}" (${conn.label}) failed during the erasure: ${safeMessage(error)}; its changes were rolled back (one transaction), the request stays verified: run it again`,
          { cause: error },
        );
      }
    }
    if (archive)
      for (const { store, table, keys } of archivedKeys.values())
        await deleteArchived(archive, store, table, keys, archiveFilesDir(project));
  }
  return {
    erased: erased.map(({ store: _s, rule: _r, ...e }) => e),
    kept,
    forwarded,
    suppressed: project.datamap.stores.some((s) => s.suppressionList),
  };
}
