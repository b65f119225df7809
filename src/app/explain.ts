/** `registre explain`: one record, or every record of one person, with the reasons for its fate. */

import { readHmacKeyIfAvailable, readPreviousKeys } from '../adapters/files/config-paths.js';
import type { Connection } from '../adapters/sql/connect.js';
import { explainRecord, findPerson } from '../adapters/sql/explain.js';
import { listTables } from '../adapters/sql/introspect.js';
import { heldArchivedKeys } from '../adapters/sql/plan.js';
import { loadRows } from '../adapters/sql/records.js';
import type { RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import { archiveTableName } from '../adapters/sql/sweep.js';
import type { ErasureRow, HoldRow, StateStore } from '../adapters/state/state-store.js';
import { gatedRules } from '../core/consent/gate.js';
import type { StoreMap, TableMap } from '../core/datamap/datamap-schema.js';
import { RegistreError } from '../core/errors.js';
import { personHash } from '../core/identity.js';
import type { Register } from '../core/register/register-load.js';
import { LAST_DATE, parseDateInput } from '../core/retention/calendar.js';
import type { Explanation } from '../core/retention/results.js';
import { type HoldReason, heldStatus } from '../core/retention/retention.js';
import { consentLossOf } from './consent-gate.js';
import type { Context, Engine } from './engine.js';
import type { ExplainInput } from './explain-input.js';
import type { Project } from './project.js';

export type { ExplainInput } from './explain-input.js';

/**
 * The input as the command line gives it, recognised without zod: explain is the command a
 * person's search runs, and a warm `registre explain` loads neither the YAML parser nor zod (see
 * parse-cache.ts). Anything else goes through the schema, which says what is wrong. A property
 * test holds that this never accepts what the schema refuses.
 */
export function plainExplainInput(input: unknown): input is ExplainInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const i = input as Record<string, unknown>;
  if (Object.keys(i).some((k) => !['at', 'table', 'id', 'email'].includes(k))) return false;
  if (Object.values(i).some((v) => typeof v !== 'string')) return false;
  const at = i.at as string | undefined;
  if (at === undefined || parseDateInput(at) !== at || at >= LAST_DATE) return false;
  return i.email !== undefined
    ? i.table === undefined && i.id === undefined
    : i.table !== undefined && i.id !== undefined;
}

/** Why a record kept by an erasure is still here: the request and the ground it was kept on. */
export interface KeptBy {
  readonly request: number;
  readonly on: string;
  /** The ground (a legal obligation, 17(3)(e) a hold, 18 a restriction, another purpose). */
  readonly basis: string;
}

/** A record that is no longer the person's or no longer there, and what removed it. */
export interface GoneRecord {
  readonly store: string;
  readonly table: string;
  readonly id: string;
  readonly action: 'delete' | 'anonymise';
  readonly archived: boolean;
  /** An erasure (its request and day), or the sweep runs that deleted records of the table. */
  readonly by:
    | { readonly kind: 'erasure'; readonly request: number; readonly on: string }
    | {
        readonly kind: 'sweep';
        readonly runs: readonly { run: number; on: string; rule: string; count: number }[];
      };
}

export interface ExplainResult {
  readonly records: readonly (Explanation & { readonly keptBy?: KeptBy })[];
  readonly gone: readonly GoneRecord[];
}

/** explain's answer as records only (a record or person with nothing left is an error). */
export async function explain(
  engine: Engine,
  input: ExplainInput,
  ctx: Context,
): Promise<(Explanation & { readonly keptBy?: KeptBy })[]> {
  const { records, gone } = await explainAll(engine, input, ctx);
  const first = gone[0];
  if (records.length === 0 && first) throw new RegistreError('E_GONE', goneText(first));
  return [...records];
}

/** A gone record in one line (no personal data: a table, a key, a request, a run). */
export function goneText(g: GoneRecord): string {
  const what = `${g.store}.${g.table} ${g.id}${g.archived ? ' (archive)' : ''}`;
  if (g.by.kind === 'erasure')
    return `${what} was ${g.action === 'delete' ? 'deleted' : 'anonymised'} on ${g.by.on} by the erasure of request ${g.by.request} (art. 17); registre request show ${g.by.request} tells more`;
  return `${what} was deleted by the sweep, in ${sweepRunsText(g)} (it was due); registre audit export lists each batch`;
}

function sweepRunsText(g: GoneRecord): string {
  if (g.by.kind !== 'sweep') return '';
  return g.by.runs
    .slice(-3)
    .map((r) => `run ${r.run} on ${r.on} (rule ${r.rule}, ${r.count} record(s))`)
    .join(', ');
}

/**
 * One record, or every record of one person: the live ones, the archived ones (from the archive
 * store), those an erasure kept (with why), and those gone (erased, or deleted by a sweep) with
 * what removed them.
 */
export async function explainAll(engine: Engine, input: ExplainInput, _ctx: Context): Promise<ExplainResult> {
  const options = plainExplainInput(input)
    ? input
    : (await import('./input.js')).parseInput((await import('./explain-input.js')).ExplainInput, input);
  const { at } = options;
  const project = await engine.project({ cached: true });
  const state = await engine.state('read');
  const holds: HoldRow[] = await state.holds({ at });
  const erasures: ErasureRow[] = await state.erasures();
  const manual = manualHolds(holds);
  const manualOf = (store: string) => byRecordKey(project, store, manual);
  const keptBy = keptByErasure(erasures);
  const withKept = (e: Explanation, store: string) => {
    const kept = keptBy(store, e.table, e.id, e.store === 'archive');
    return kept ? { ...e, keptBy: kept } : e;
  };
  const results: (Explanation & { keptBy?: KeptBy })[] = [];
  // A consent-based rule's record: whether its subject lost the consent, from the ledger.
  const lossOf = async (conn: Connection, store: StoreMap, table: TableMap, id: string) => {
    if (!gatedRules(project.register, store).some((g) => g.table.name === table.name)) return undefined;
    const [row] = await loadRows(conn, table.name, table.primaryKey, id);
    return row ? consentLossOf(project, state, store, table, row, at) : undefined;
  };
  const withStore = async <T>(
    store: Project['datamap']['stores'][number],
    f: (conn: Connection, ctx: RetentionSqlContext) => Promise<T>,
  ): Promise<T> => {
    const { conn, ctx } = await engine.retention(store);
    return f(conn, ctx);
  };
  {
    if (options.table !== undefined && options.id !== undefined) {
      const [storeId, tableName] = options.table.includes('.')
        ? options.table.split('.')
        : [undefined, options.table];
      const candidates = project.datamap.stores.flatMap((store) =>
        store.tables
          .filter((t) => t.name === tableName && (storeId === undefined || store.id === storeId))
          .map((table) => ({ store, table })),
      );
      const found = candidates[0];
      if (!found) {
        const known = project.datamap.stores.flatMap((s) => s.tables.map((t) => t.name)).join(', ');
        throw new RegistreError(
          'E_UNKNOWN_TABLE',
          `no table "${options.table}" in the data map (tables: ${known})`,
        );
      }
      const id = options.id;
      const { store, table } = found;
      const archive = await engine.archive({ create: false });
      return await withStore(store, async (conn, ctx) => {
        const [live] = table.record ? await loadRows(conn, table.name, table.primaryKey, id) : [];
        if (live || !table.record)
          return {
            records: [
              withKept(
                await explainRecord(
                  conn,
                  ctx,
                  store,
                  table,
                  id,
                  at,
                  manualOf(store.id),
                  await lossOf(conn, store, table, id),
                ),
                store.id,
              ),
            ],
            gone: [],
          };
        // Not live: in the archive store (its account was archived), or gone, and why.
        const archived = archive ? await archivedRow(archive, archiveTableName(store, table), id) : undefined;
        if (archived) {
          const dataHeld = await archiveHolds(conn, ctx, table);
          return {
            records: [
              withKept(
                archivedExplanation(project.register, table, id, archived, at, [
                  ...manual(store.id, table.name, id),
                  ...dataHeld(id),
                ]),
                store.id,
              ),
            ],
            gone: [],
          };
        }
        const erased = goneByErasure(erasures, store.id, table.name, id);
        if (erased) return { records: [], gone: [erased] };
        const swept = await goneBySweep(state, store.id, table.name, id);
        if (swept?.exact) return { records: [], gone: [swept.gone] };
        const runs = swept ? sweepRunsText(swept.gone) : '';
        throw new RegistreError(
          'E_RECORD_NOT_FOUND',
          `table "${table.name}" has no record with ${table.primaryKey} = ${id}, and no erasure removed one${
            runs
              ? `; the sweep deleted due records of ${table.name} in ${runs}: if it existed, it was one of them (registre audit export lists each batch)`
              : ', nor any sweep'
          }`,
        );
      });
    }
    const key = readHmacKeyIfAvailable(project.loaded);
    const archive = await engine.archive({ create: false });
    {
      for (const store of project.datamap.stores) {
        await withStore(store, async (conn, ctx) => {
          for (const record of await findPerson(conn, ctx, store, options.email as string, key, archive)) {
            if (record.archived) {
              const dataHeld = await archiveHolds(conn, ctx, record.table);
              results.push(
                withKept(
                  archivedExplanation(project.register, record.table, record.id, record.archived, at, [
                    ...manual(store.id, record.table.name, record.id),
                    ...dataHeld(record.id),
                  ]),
                  store.id,
                ),
              );
              continue;
            }
            if (record.table.record)
              results.push(
                withKept(
                  await explainRecord(
                    conn,
                    ctx,
                    store,
                    record.table,
                    record.id,
                    at,
                    manualOf(store.id),
                    await lossOf(conn, store, record.table, record.id),
                  ),
                  store.id,
                ),
              );
          }
        });
      }
      // What the person's erasures kept (found no more by the address: the account is gone) and
      // what they removed.
      const gone: GoneRecord[] = [];
      const hashes = personHashes(project, options.email as string, key);
      const shown = new Set(results.map((r) => `${r.store === 'archive' ? 'a' : 'l'}:${r.table}:${r.id}`));
      for (const erasure of erasures.filter((e) => hashes.has(e.person))) {
        for (const r of erasure.records) {
          const store = project.datamap.stores.find((s) => s.id === r.store);
          const table = store?.tables.find((t) => t.name === r.table);
          if (!store || !table) continue;
          if (r.action === 'delete' || r.action === 'anonymise' || r.erasedOn) {
            gone.push({
              store: r.store,
              table: r.table,
              id: r.key,
              action: r.action === 'anonymise' || r.then === 'anonymise' ? 'anonymise' : 'delete',
              archived: r.archived === true,
              by: { kind: 'erasure', request: erasure.requestId, on: r.erasedOn ?? erasure.at },
            });
            continue;
          }
          if (r.action !== 'keep' || shown.has(`${r.archived ? 'a' : 'l'}:${r.table}:${r.key}`)) continue;
          const explained = await withStore(store, async (conn, ctx) => {
            if (r.archived) {
              const row = archive
                ? await archivedRow(archive, archiveTableName(store, table), r.key)
                : undefined;
              if (!row) return undefined;
              const dataHeld = await archiveHolds(conn, ctx, table);
              return archivedExplanation(project.register, table, r.key, row, at, [
                ...manual(store.id, table.name, r.key),
                ...dataHeld(r.key),
              ]);
            }
            if (!table.record) return undefined;
            const [live] = await loadRows(conn, table.name, table.primaryKey, r.key);
            return live
              ? explainRecord(
                  conn,
                  ctx,
                  store,
                  table,
                  r.key,
                  at,
                  manualOf(store.id),
                  await lossOf(conn, store, table, r.key),
                )
              : undefined;
          });
          if (!explained) continue;
          shown.add(`${r.archived ? 'a' : 'l'}:${r.table}:${r.key}`);
          results.push({
            ...explained,
            keptBy: { request: erasure.requestId, on: erasure.at, basis: r.basis ?? 'kept' },
          });
        }
      }
      if (results.length === 0 && gone.length === 0)
        throw new RegistreError(
          'E_PERSON_NOT_FOUND',
          'no record of this person in the stores of the data map',
        );
      return { records: results, gone };
    }
  }
}

/** The archive store's row of a record (its rule, deadline and day archived), if there is one. */
async function archivedRow(
  archive: Connection,
  name: string,
  id: string,
): Promise<{ rule: string; deadline: string; archivedAt: string } | undefined> {
  if (!(await listTables(archive)).some((t) => t.name === name)) return undefined;
  const row = await archive.db
    .selectFrom(name)
    .select(['rule', 'deadline', 'archived_at'])
    .where('record_key', '=', id)
    .executeTakeFirst();
  return row
    ? { rule: String(row.rule), deadline: String(row.deadline), archivedAt: String(row.archived_at) }
    : undefined;
}

/** The person's keyed hash under every key of the ring (an erasure before a rotation used the old one). */
function personHashes(project: Project, email: string, key: Buffer | undefined): Set<string> {
  let previous: Buffer[] = [];
  try {
    previous = readPreviousKeys(project.loaded);
  } catch {
    // A key of before that cannot be read: its erasures are not found by the address.
  }
  return new Set([...(key ? [key] : []), ...previous].map((k) => personHash(k, email)));
}

/** The erasure that kept a record (the latest), by store, table, key and where it is. */
function keptByErasure(erasures: readonly ErasureRow[]) {
  const kept = new Map<string, KeptBy>();
  for (const e of erasures)
    for (const r of e.records)
      if (r.action === 'keep' && !r.erasedOn)
        kept.set(`${r.store}.${r.table}:${r.key}:${r.archived ? 'a' : 'l'}`, {
          request: e.requestId,
          on: e.at,
          basis: r.basis ?? 'kept',
        });
  return (store: string, table: string, id: string, archived: boolean) =>
    kept.get(`${store}.${table}:${id}:${archived ? 'a' : 'l'}`);
}

/** The latest erasure that removed a record (deleted it, or erased it once its hold ended). */
function goneByErasure(
  erasures: readonly ErasureRow[],
  store: string,
  table: string,
  id: string,
): GoneRecord | undefined {
  let found: GoneRecord | undefined;
  for (const e of erasures)
    for (const r of e.records)
      if (
        r.store === store &&
        r.table === table &&
        r.key === id &&
        (r.action === 'delete' || (r.action === 'keep' && r.erasedOn && r.then === 'delete'))
      )
        found = {
          store,
          table,
          id,
          action: 'delete',
          archived: r.archived === true,
          by: { kind: 'erasure', request: e.requestId, on: r.erasedOn ?? e.at },
        };
  return found;
}

/**
 * A record no erasure removed: the sweep runs that deleted records of its table. The log keeps
 * each batch's keys as one keyed hash: `exact` when a batch held that key alone (then it is
 * known), else the runs that may have.
 */
async function goneBySweep(
  state: StateStore,
  store: string,
  table: string,
  id: string,
): Promise<{ gone: GoneRecord; exact: boolean } | undefined> {
  const entries = await state.auditEntries(['sweep.start', 'sweep.batch']);
  // The date a run swept as of (its --at), which its batch entries do not repeat.
  const runDates = new Map(
    entries.filter((e) => e.kind === 'sweep.start').map((e) => [Number(e.data.run), String(e.data.at)]),
  );
  const batches = entries.filter(
    (e) =>
      e.kind === 'sweep.batch' &&
      e.data.store === store &&
      e.data.table === table &&
      (e.data.action === 'delete' || e.data.action === 'archive-delete'),
  );
  if (batches.length === 0) return undefined;
  // Only under a key this process holds (digestMatches says yes to a key it cannot check).
  const ring = state.keyRing();
  const exact = batches.filter(
    (e) =>
      typeof e.data.keys === 'string' &&
      (e.keyId === undefined ? true : ring.keyed.has(e.keyId)) &&
      state.digestMatches(id, e.data.keys, e.keyId),
  );
  const runs = new Map<string, { run: number; on: string; rule: string; count: number }>();
  for (const e of exact.length ? exact : batches) {
    const k = `${String(e.data.run)}:${String(e.data.rule)}`;
    const r = runs.get(k) ?? {
      run: Number(e.data.run),
      on: runDates.get(Number(e.data.run)) ?? e.at.slice(0, 10),
      rule: String(e.data.rule),
      count: 0,
    };
    r.count += Number(e.data.count ?? 0);
    runs.set(k, r);
  }
  const archived = exact.some((e) => e.data.action === 'archive-delete');
  return {
    gone: { store, table, id, action: 'delete', archived, by: { kind: 'sweep', runs: [...runs.values()] } },
    exact: exact.length > 0,
  };
}

export type { Explanation } from '../core/retention/results.js';

/** The manual holds and restrictions of a state store's rows, as the evaluator reads them. */
export function manualHolds(holds: readonly HoldRow[]) {
  return (store: string, table: string, id: string): HoldReason[] =>
    holds
      .filter((h) => h.store === store && h.table === table && h.key === id)
      .map((h) => ({
        hold: `${h.kind === 'restriction' ? 'restriction' : 'manual'}-${h.caseId}`,
        reason: h.reason,
        ...(h.until ? { until: h.until } : {}),
        ...(h.kind === 'restriction' ? { restriction: true } : {}),
      }));
}

/** The same, for the evaluator, which names a record `record:key` (a manual hold names a table). */
export function byRecordKey(
  project: Project,
  store: string,
  manual: ReturnType<typeof manualHolds>,
): (recordKey: string) => HoldReason[] {
  return (recordKey) => {
    const split = recordKey.indexOf(':');
    const record = recordKey.slice(0, split);
    const table = project.datamap.stores
      .find((s) => s.id === store)
      ?.tables.find((t) => t.record === record)?.name;
    return table ? manual(store, table, recordKey.slice(split + 1)) : [];
  };
}

/**
 * The data-driven holds on the archived records of a table: a live record's hold reaches an
 * archived one only by its key (an open dispute on an order of an archived account).
 */
export async function archiveHolds(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
): Promise<(id: string) => HoldReason[]> {
  const held = await heldArchivedKeys(conn, ctx, table);
  const reason = {
    hold: 'data-driven',
    reason: 'held by a hold on a live record (an open dispute on one of its orders)',
  };
  return (id) => (held === 'all' || held.has(id) ? [reason] : []);
}

/** A record found in the archive store: the rule and deadline it was archived with, its holds. */
export function archivedExplanation(
  register: Register,
  table: TableMap,
  id: string,
  archived: { readonly rule: string; readonly deadline: string; readonly archivedAt: string },
  at: string,
  holds: readonly HoldReason[],
): Explanation {
  return {
    store: 'archive',
    table: table.name,
    id,
    status: holds.length ? heldStatus(holds) : archived.deadline <= at ? 'due' : 'archive',
    deadline: archived.deadline,
    archiveFrom: archived.archivedAt.slice(0, 10),
    action: 'delete',
    rule: archived.rule,
    processor: false,
    purposes: register.retention
      .filter((r) => r.id === archived.rule)
      .flatMap((r) =>
        r.purposes.map((purpose) => ({
          purpose,
          rule: r.id,
          anchor: null,
          anchorDate: null,
          deadline: archived.deadline,
        })),
      ),
    holds,
  };
}
