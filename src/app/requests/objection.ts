/** Objection (art. 21). */
import type { Connection } from '../../adapters/sql/connect.js';
import { applyChanges, type StoreChange } from '../../adapters/sql/person.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { foldersOf, type Project } from '../project.js';

import { type CommitGuard, commitGuard } from './guard.js';
import { basesOf, type PersonItem } from './person.js';
import { purposeOf, type RunOptions, type RunResult, rekeying } from './shared.js';
// -- objection

export async function object(
  project: Project,
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  at: string,
  dryRun: boolean,
  options: RunOptions,
  guard: CommitGuard = commitGuard(state, null),
): Promise<Pick<RunResult, 'erased' | 'kept' | 'suppressed' | 'objection'>> {
  const purposeId = (row.details as { purpose?: string }).purpose as string;
  const found = purposeOf(project.register, purposeId);
  const marketing = found?.purpose.tags?.includes('direct-marketing') === true;
  const listed = marketing && project.datamap.stores.some((s) => s.suppressionList);
  // The objection is recorded whatever is found (the request's entry in the audit log; for
  // direct marketing, the suppression list too): nothing to delete is no reason to forget it.
  const objection = { purpose: purposeId, suppressionList: listed };
  // Art. 21(1): the controller may go on with compelling legitimate grounds, recorded; never for marketing (21(3)).
  if (!marketing && options.grounds !== undefined)
    return { erased: [], kept: [], objection: { ...objection, grounds: true } };
  const erased: { table: string; id: string; action: 'delete' | 'anonymise' }[] = [];
  const kept: { table: string; id: string; basis: string; until: string | null }[] = [];
  const changes = new Map<string, StoreChange[]>();
  for (const item of items) {
    if (item.archived || item.explanation.processor) continue;
    const bases = basesOf(project.register, item);
    if (!bases.some((b) => b.purpose === purposeId)) continue;
    const others = bases.filter((b) => b.purpose !== purposeId);
    // What serves only the purpose objected to (and purposes that exist only for it) goes.
    const onlyThat = marketing
      ? others.every((b) => b.legalBasis === 'consent' || b.legalBasis === 'legitimate-interest')
      : others.length === 0;
    if (item.restricted || item.explanation.holds.length) {
      kept.push({
        table: item.table.name,
        id: item.id,
        basis: item.restricted ? '18' : '17(3)(e)',
        until: null,
      });
      continue;
    }
    if (!onlyThat) {
      kept.push({
        table: item.table.name,
        id: item.id,
        basis: `other purposes: ${others.map((o) => o.purpose).join(', ')}`,
        until: item.explanation.deadline,
      });
      continue;
    }
    erased.push({ table: item.table.name, id: item.id, action: 'delete' });
    const list = changes.get(item.store.id) ?? [];
    let change = list.find((c) => c.table === item.table);
    if (!change) {
      change = { table: item.table, action: 'delete', keys: [] };
      list.push(change);
    }
    (change.keys as string[]).push(item.id);
    changes.set(item.store.id, list);
  }
  if (!dryRun)
    for (const store of project.datamap.stores) {
      // The holds in force right now: a hold or a restriction added since the decision wins.
      const { kinds, seen } = await guard.held(store.id, at);
      const list = (changes.get(store.id) ?? []).map((c) => {
        const keys = c.keys.filter((k) => {
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
        });
        return { ...c, keys };
      });
      await applyChanges(conns.get(store.id) as Connection, store, list, {
        state,
        folders: foldersOf(project),
        ...(marketing && store.suppressionList
          ? { suppress: { hashes: [row.person], at, reason: 'objection', previous: rekeying(project, row) } }
          : {}),
      });
      await guard.confirm(seen);
    }
  return { erased, kept, suppressed: listed, objection };
}
