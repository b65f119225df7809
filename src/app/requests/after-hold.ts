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
  statusesOf,
} from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import type { ErasureRow, StateStore } from '../../adapters/state/state-store.js';
import { archiveHolds } from '../explain.js';
import { archiveFilesDir, foldersOf, type Project } from '../project.js';
import type { CommitGuard } from './guard.js';
import { ruleOf } from './person.js';
import { prover } from './proof.js';

export interface AfterHold {
  /** Records erased now that their hold has ended. */
  readonly erased: readonly {
    request: number;
    table: string;
    id: string;
    action: string;
    archived?: boolean;
  }[];
  /**
   * Records left: not proven still the person's (the key now holds another record, its parent
   * chain leads to another person, or a record it belongs to is gone). Remembered on the erasure
   * as `unproven` and shown by the request: what could not be proven erased.
   */
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
  options: { dryRun?: boolean; actor: string; retryUnproven?: boolean },
): Promise<AfterHold> {
  const erasures = await state.erasures();
  // A record left once as not proven is reported once by the sweep; erasure replay (after a
  // restore, which may bring it back) looks at it again.
  const waiting = erasures.flatMap((erasure) =>
    erasure.records
      .map((r, index) => ({ erasure, r, index }))
      .filter(({ r }) => r.action === 'keep' && r.then && (options.retryUnproven || !r.unproven)),
  );
  const erased: { request: number; table: string; id: string; action: string; archived?: boolean }[] = [];
  const skipped: { request: number; table: string; id: string; why: string }[] = [];
  if (waiting.length === 0) return { erased, skipped };
  const proof = prover(project.register, project.datamap, [...state.keyRing().keyed.values()], erasures);
  const done: typeof waiting = [];
  const left: ((typeof waiting)[number] & { why: string })[] = [];
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
        const not = await proof.stillTheirs({ conn, archive, store }, table, row, w.r, w.erasure.person);
        if (not !== null) {
          skipped.push({ request: w.erasure.requestId, table: table.name, id: w.r.key, why: not });
          left.push({ ...w, why: not });
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
  if (options.dryRun || done.length + left.length === 0) return { erased, skipped };
  // Remembered as erased (a restore then replays them), or as not proven, shown by the request, logged.
  const byErasure = new Map<number, { erasure: ErasureRow; records: Remembered[] }>();
  const entryOf = (erasure: ErasureRow) => {
    const entry = byErasure.get(erasure.id) ?? { erasure, records: [...erasure.records] };
    byErasure.set(erasure.id, entry);
    return entry;
  };
  for (const w of done) {
    const { unproven: _was, ...r } = w.r;
    entryOf(w.erasure).records[w.index] = {
      ...r,
      action: w.r.archived ? 'delete' : (w.r.then as string),
      erasedOn: at,
    };
  }
  for (const w of left) {
    if (w.r.unproven?.why === w.why) continue;
    entryOf(w.erasure).records[w.index] = { ...w.r, unproven: { on: at, why: w.why } };
  }
  for (const { erasure, records } of byErasure.values()) {
    await state.updateErasure(erasure.id, records);
    const request = await state.request(erasure.requestId);
    const now = done.filter((w) => w.erasure.id === erasure.id);
    const notNow = left.filter((w) => w.erasure.id === erasure.id);
    const match = (w: { r: Remembered }, k: Record<string, unknown>) =>
      w.r.table === k.table && w.r.key === k.id;
    if (request?.outcome) {
      const outcome = request.outcome as { kept?: Record<string, unknown>[] };
      await state.updateRequest(request.id, {
        outcome: {
          ...outcome,
          kept: (outcome.kept ?? []).map((k) => {
            if (now.some((w) => match(w, k))) {
              const { unproven: _was, ...rest } = k;
              return { ...rest, erasedOn: at };
            }
            const l = notNow.find((w) => match(w, k));
            return l ? { ...k, unproven: { on: at, why: l.why } } : k;
          }),
        },
      });
    }
    await state.audit('erasure.after-hold', {
      request: erasure.requestId,
      person: erasure.person,
      at,
      counts: { erased: now.length, ...(notNow.length ? { unproven: notNow.length } : {}) },
      keys: state.digest(now.map((w) => `${w.r.table}:${w.r.key}`).join(',')),
      ...(notNow.length
        ? { unproven: state.digest(notNow.map((w) => `${w.r.table}:${w.r.key}`).join(',')) }
        : {}),
      actor: options.actor,
    });
  }
  return { erased, skipped };
}
