/**
 * What an erasure kept because of a hold or a restriction (art. 17(3)(e), 18) is erased once that
 * ends, with the erasure's own decision (delete, or anonymise by its rule): by the sweep after its
 * rules, and by `erasure replay`. Only a record still the person's (its fingerprint) is touched;
 * the holds are read right before the commit, as every request does.
 */
import type { Connection } from '../../adapters/sql/connect.js';
import {
  applyChanges,
  archivedRows,
  deleteArchived,
  rowsByKey,
  type StoreChange,
  sameRecord,
  statusesOf,
} from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import type { ErasureRow, StateStore } from '../../adapters/state/state-store.js';
import { archiveHolds } from '../explain.js';
import { archiveFilesDir, foldersOf, type Project } from '../project.js';
import type { CommitGuard } from './guard.js';
import { ruleOf } from './person.js';

export interface AfterHold {
  /** Records erased now that their hold has ended. */
  readonly erased: readonly {
    request: number;
    table: string;
    id: string;
    action: string;
    archived?: boolean;
  }[];
  /** Records left: the key now holds another record. */
  readonly skipped: readonly { request: number; table: string; id: string; why: string }[];
}

type Remembered = ErasureRow['records'][number];

export async function eraseAfterHolds(
  project: Project,
  state: StateStore,
  conns: ReadonlyMap<string, Connection>,
  archive: Connection | undefined | null,
  at: string,
  guard: CommitGuard,
  options: { dryRun?: boolean; actor: string },
): Promise<AfterHold> {
  const erasures = await state.erasures();
  const waiting = erasures.flatMap((erasure) =>
    erasure.records
      .map((r, index) => ({ erasure, r, index }))
      .filter(({ r }) => r.action === 'keep' && r.then),
  );
  const erased: { request: number; table: string; id: string; action: string; archived?: boolean }[] = [];
  const skipped: { request: number; table: string; id: string; why: string }[] = [];
  if (waiting.length === 0) return { erased, skipped };
  const ring = [...state.keyRing().keyed.values()];
  const done: typeof waiting = [];
  for (const store of project.datamap.stores) {
    const mine = waiting.filter((w) => w.r.store === store.id);
    if (mine.length === 0) continue;
    const conn = conns.get(store.id) as Connection;
    const ctx = await retentionContext(conn, project.register, project.datamap);
    const { kinds, seen } = options.dryRun ? { kinds: new Map(), seen: 0 } : await guard.held(store.id, at);
    const changes: StoreChange[] = [];
    const archived = new Map<string, string[]>();
    for (const table of store.tables) {
      const ofTable = mine.filter((w) => w.r.table === table.name && !kinds.has(`${table.name}:${w.r.key}`));
      if (ofTable.length === 0) continue;
      const live = ofTable.filter((w) => !w.r.archived);
      const arch = ofTable.filter((w) => w.r.archived);
      const liveRows = await rowsByKey(conn, table, [...new Set(live.map((w) => w.r.key))]);
      // Still held by the data (an open dispute), or restricted: the sweep's own verdict says.
      const statuses = await statusesOf(conn, ctx, table, at, [...liveRows.keys()], new Map());
      const archRows =
        archive && arch.length
          ? await archivedRows(archive, store, table, [...new Set(arch.map((w) => w.r.key))])
          : new Map<string, Record<string, unknown>>();
      const dataHeld = arch.length ? await archiveHolds(conn, ctx, table) : () => [];
      const byAction = new Map<string, string[]>();
      for (const w of ofTable) {
        const row = w.r.archived ? archRows.get(w.r.key) : liveRows.get(w.r.key);
        if (!row) continue;
        if (w.r.archived ? dataHeld(w.r.key).length > 0 : statuses.get(w.r.key) === 'held') continue;
        if (!sameRecord(ring, table, row, w.r, w.erasure.person)) {
          skipped.push({
            request: w.erasure.requestId,
            table: table.name,
            id: w.r.key,
            why: 'the key now holds another record',
          });
          continue;
        }
        const action = w.r.archived ? 'delete' : (w.r.then as 'delete' | 'anonymise');
        erased.push({
          request: w.erasure.requestId,
          table: table.name,
          id: w.r.key,
          action,
          ...(w.r.archived ? { archived: true } : {}),
        });
        done.push(w);
        if (w.r.archived) {
          archived.set(table.name, [...(archived.get(table.name) ?? []), w.r.key]);
          continue;
        }
        const signature = `${action}|${w.r.rule ?? ''}`;
        byAction.set(signature, [...(byAction.get(signature) ?? []), w.r.key]);
      }
      for (const [signature, keys] of byAction) {
        const [action, ruleId] = signature.split('|') as ['delete' | 'anonymise', string];
        const rule = ruleOf(project.register, ruleId || null);
        changes.push({ table, action, keys: [...new Set(keys)], ...(rule ? { rule } : {}) });
      }
    }
    if (options.dryRun) continue;
    await applyChanges(conn, store, changes, { state, folders: foldersOf(project) });
    if (archive)
      for (const [name, keys] of archived)
        await deleteArchived(
          archive,
          store,
          store.tables.find((t) => t.name === name) as (typeof store.tables)[number],
          keys,
          archiveFilesDir(project),
        );
    await guard.confirm(seen);
  }
  if (options.dryRun || done.length === 0) return { erased, skipped };
  // Remembered as erased (a restore then replays them), shown by the request, logged.
  const byErasure = new Map<number, { erasure: ErasureRow; records: Remembered[] }>();
  for (const w of done) {
    const entry = byErasure.get(w.erasure.id) ?? { erasure: w.erasure, records: [...w.erasure.records] };
    entry.records[w.index] = {
      ...w.r,
      action: w.r.archived ? 'delete' : (w.r.then as string),
      erasedOn: at,
    };
    byErasure.set(w.erasure.id, entry);
  }
  for (const { erasure, records } of byErasure.values()) {
    await state.updateErasure(erasure.id, records);
    const request = await state.request(erasure.requestId);
    const now = done.filter((w) => w.erasure.id === erasure.id);
    if (request?.outcome) {
      const outcome = request.outcome as { kept?: Record<string, unknown>[] };
      await state.updateRequest(request.id, {
        outcome: {
          ...outcome,
          kept: (outcome.kept ?? []).map((k) =>
            now.some((w) => w.r.table === k.table && w.r.key === k.id) ? { ...k, erasedOn: at } : k,
          ),
        },
      });
    }
    await state.audit('erasure.after-hold', {
      request: erasure.requestId,
      person: erasure.person,
      at,
      counts: { erased: now.length },
      keys: state.digest(now.map((w) => `${w.r.table}:${w.r.key}`).join(',')),
      actor: options.actor,
    });
  }
  return { erased, skipped };
}
