/**
 * The SQL of people's requests: a person's rows in a store and in the archive, and the set-based
 * changes an erasure, a rectification or an objection makes to them (one statement per table and
 * action, one transaction per store, files removed once the change is committed).
 */
import { join } from 'node:path';
import { columnOf, isPersonal, tableOfRecord } from '../../core/datamap/columns.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import { findRecord } from '../../core/register/register-model.js';
import type { RetentionRule } from '../../core/register/register-schema.js';
import { fileInside, removeFile } from '../files/record-files.js';
import type { PendingFile, StateStore } from '../state/state-store.js';
import type { Connection } from './connect.js';
import { inKeys } from './dialect.js';
import { sql } from './kysely.js';
import { verdictQuery } from './plan.js';
import { loadRows } from './records.js';
import type { RetentionSqlContext } from './retention-sql.js';
import {
  addToSuppressionList,
  anonymisation,
  archiveTableName,
  deleteByKeys,
  selectByKeys,
} from './sweep.js';

type Row = Record<string, unknown>;

/** The rows of `keys` in a table, by key (one statement per 1,000 keys). */
export async function rowsByKey(
  conn: Connection,
  table: TableMap,
  keys: readonly string[],
): Promise<Map<string, Row>> {
  const rows = await selectByKeys(conn.db, conn.dialect, table, keys);
  return new Map(rows.map((r) => [String(r[table.primaryKey]), r]));
}

/** Archived rows of a table by their record key (the archive keeps only the archive's columns). */
export async function archivedRows(
  archive: Connection,
  store: StoreMap,
  table: TableMap,
  keys: readonly string[],
): Promise<Map<string, Row>> {
  if (keys.length === 0) return new Map();
  const rows = (await archive.db
    .selectFrom(archiveTableName(store, table))
    .selectAll()
    .where(inKeys(archive.dialect, sql.ref('record_key'), keys))
    .execute()) as Row[];
  return new Map(rows.map((r) => [String(r.record_key), r]));
}

/** The personal columns of a row (as the data map declares them), never another column. */
export function personalData(table: TableMap, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, spec] of Object.entries(table.columns)) {
    const c = columnOf(spec);
    if ((c.category !== undefined || c.identity !== undefined) && column in row)
      out[column] = value(row[column]);
  }
  return out;
}

/** The other columns (dates, versions, sources): what proves a consent, never personal data. */
export function otherData(table: TableMap, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, spec] of Object.entries(table.columns)) {
    if (spec === 'key') continue;
    const c = columnOf(spec);
    if (c.category === undefined && c.identity === undefined && column in row)
      out[column] = value(row[column]);
  }
  return out;
}

function value(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return v;
}

/**
 * The controller a processor record is held for: the row its rule returns data to (a
 * distributor), or, for a record that follows another, that one's controller.
 */
export async function controllerOf(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
  row: Row,
  depth = 0,
): Promise<{ id: string; name: string } | null> {
  if (depth > 4 || !table.record) return null;
  const record = findRecord(ctx.register, table.record);
  for (const rule of ctx.register.retention) {
    if (rule.record !== table.record) continue;
    const relation = rule.returnTo?.relation ?? rule.follows;
    if (!relation) continue;
    const target = record?.relations?.[relation]?.to;
    const binding = table.relations?.[relation];
    const bound = target ? tableOfRecord(ctx.datamap, target) : undefined;
    if (!binding || !bound) continue;
    const [parent] = await loadRows(conn, bound.table.name, binding.remote, row[binding.local]);
    if (!parent) continue;
    if (rule.returnTo) {
      const name = ['name', 'company', 'legal_name'].find((c) => typeof parent[c] === 'string');
      const id = String(parent[bound.table.primaryKey]);
      return { id, name: name ? String(parent[name]) : id };
    }
    return controllerOf(conn, ctx, bound.table, parent, depth + 1);
  }
  return null;
}

export interface StoreChange {
  readonly table: TableMap;
  readonly action: 'delete' | 'anonymise';
  readonly keys: readonly string[];
  /** The rule whose anonymisation applies (anonymise). */
  readonly rule?: RetentionRule;
}

/**
 * Applies a request's changes to one store in one transaction: anonymisations, deletions, and
 * the addresses put on the suppression list; the files of deleted rows are removed after the
 * commit (listed as pending before it: a crash leaves them for the next sweep to finish).
 */
export async function applyChanges(
  conn: Connection,
  store: StoreMap,
  changes: readonly StoreChange[],
  options: {
    readonly state: StateStore;
    readonly folders: Readonly<Record<string, string>>;
    readonly suppress?: {
      readonly hashes: readonly string[];
      readonly at: string;
      readonly reason: string;
      /** The same people's hashes under previous keys (see addToSuppressionList). */
      readonly previous?: ReadonlyMap<string, string>;
    };
  },
): Promise<void> {
  const pending: Omit<PendingFile, 'id'>[] = [];
  for (const change of changes) {
    if (change.action !== 'delete') continue;
    const fileColumns = Object.entries(change.table.columns).flatMap(([column, spec]) => {
      const folder = columnOf(spec).file;
      return folder ? [{ column, folder }] : [];
    });
    if (fileColumns.length === 0) continue;
    for (const row of await selectByKeys(conn.db, conn.dialect, change.table, change.keys))
      for (const f of fileColumns) {
        const path = row[f.column];
        if (typeof path !== 'string' || path === '') continue;
        const root = options.folders[f.folder];
        if (!root)
          throw new RegistreError(
            'E_UNKNOWN_FOLDER',
            `file folder "${f.folder}" is not in the configuration's "files"`,
          );
        pending.push({
          run: 0,
          store: store.id,
          table: change.table.name,
          key: String(row[change.table.primaryKey]),
          folder: f.folder,
          path: fileInside(root, path, f.folder),
          target: null,
        });
      }
  }
  const ids = await options.state.addPendingFiles(pending);
  try {
    await conn.db.transaction().execute(async (trx) => {
      for (const change of changes) {
        if (change.keys.length === 0) continue;
        if (change.action === 'anonymise' && change.rule) {
          const set = anonymisation(conn.dialect, change.table, change.rule);
          if (Object.keys(set).length)
            await trx
              .updateTable(change.table.name)
              .set(set)
              .where(inKeys(conn.dialect, sql.ref(change.table.primaryKey), change.keys))
              .execute();
        } else if (change.action === 'delete')
          await deleteByKeys(trx, conn.dialect, change.table.name, change.table.primaryKey, change.keys);
      }
      if (options.suppress && store.suppressionList)
        await addToSuppressionList(trx, conn.dialect, store, options.suppress.hashes, {
          at: options.suppress.at,
          reason: options.suppress.reason,
          ...(options.suppress.previous ? { previous: options.suppress.previous } : {}),
        });
    });
  } catch (error) {
    await options.state.clearPendingFiles(ids);
    throw error;
  }
  for (const p of pending) removeFile(p.path);
  await options.state.clearPendingFiles(ids);
}

/** Deletes archived records (and their archived files) by record key. */
export async function deleteArchived(
  archive: Connection,
  store: StoreMap,
  table: TableMap,
  keys: readonly string[],
  archiveFilesDir: string,
): Promise<void> {
  if (keys.length === 0) return;
  const name = archiveTableName(store, table);
  const rows = await archivedRows(archive, store, table, keys);
  await archive.db
    .deleteFrom(name)
    .where(inKeys(archive.dialect, sql.ref('record_key'), keys))
    .execute();
  for (const row of rows.values())
    for (const [column, spec] of Object.entries(table.columns)) {
      const folder = columnOf(spec).file;
      const path = row[column];
      if (folder && typeof path === 'string' && path !== '')
        removeFile(fileInside(join(archiveFilesDir, store.id, folder), path, folder));
    }
}

/** One set-based change of a rectification: the same corrected columns on some rows of a table. */
export interface RectifyUpdate {
  readonly table: TableMap;
  readonly keys: readonly string[];
  readonly set: Readonly<Record<string, unknown>>;
}

/**
 * Writes corrected values to the rows of `keys` (column → value): one UPDATE per table and set of
 * columns, in one transaction of the store. Inside that transaction, just before the UPDATEs, the
 * holds in force are read again (`heldKeys`: the state store's holds and restrictions, and the
 * holds the data places, through the sweep's own verdict): a record held or restricted since the
 * decision is left out of the UPDATE's WHERE and returned, never written.
 */
export async function rectifyRows(
  conn: Connection,
  updates: readonly RectifyUpdate[],
  recheck?: {
    readonly ctx: RetentionSqlContext;
    readonly at: string;
    readonly heldKeys: (tables: readonly string[]) => Promise<ReadonlyMap<string, readonly string[]>>;
  },
): Promise<{ table: string; key: string }[]> {
  const skipped: { table: string; key: string }[] = [];
  await conn.db.transaction().execute(async (trx) => {
    const live = updates.filter((u) => u.keys.length && Object.keys(u.set).length);
    const excluded = new Map<string, Set<string>>();
    if (recheck && live.length) {
      const tables = [...new Set(live.map((u) => u.table))];
      const manual = await recheck.heldKeys(tables.map((t) => t.name));
      const inTrx: Connection = { ...conn, db: trx };
      for (const table of tables) {
        const keys = [...new Set(live.filter((u) => u.table === table).flatMap((u) => u.keys))];
        const out = new Set((manual.get(table.name) ?? []).map(String));
        const statuses = await statusesOf(inTrx, recheck.ctx, table, recheck.at, keys, manual);
        for (const [key, status] of statuses) if (status === 'held' || status === 'restricted') out.add(key);
        excluded.set(table.name, out);
      }
    }
    for (const u of live) {
      const out = excluded.get(u.table.name);
      const keys = out ? u.keys.filter((k) => !out.has(k)) : u.keys;
      for (const k of u.keys) if (out?.has(k)) skipped.push({ table: u.table.name, key: k });
      if (keys.length)
        await trx
          .updateTable(u.table.name)
          .set(u.set)
          .where(inKeys(conn.dialect, sql.ref(u.table.primaryKey), keys))
          .execute();
    }
  });
  return skipped;
}

/**
 * The columns a record's fingerprint covers: its key, its relations and its personal columns
 * (as the data map declares them), less `changed` (what an anonymisation rewrites): what proves a
 * row found again under a remembered key is still the same person's record.
 */
export function fingerprintColumns(table: TableMap, changed: Iterable<string> = []): string[] {
  const skip = new Set(changed);
  const relations = new Set(Object.values(table.relations ?? {}).map((r) => r.local));
  return Object.entries(table.columns)
    .filter(
      ([column, spec]) =>
        column === table.primaryKey || spec === 'key' || relations.has(column) || isPersonal(spec),
    )
    .map(([column]) => column)
    .filter((column) => !skip.has(column))
    .sort();
}

/** The columns an anonymisation by `rule` rewrites in `table`. */
export function anonymisedColumns(
  conn: Connection,
  table: TableMap,
  rule: RetentionRule | undefined,
): string[] {
  return rule ? Object.keys(anonymisation(conn.dialect, table, rule)) : [];
}

/** A keyed hash of a row over `columns` (`mac`: HMAC with one key of the ring). */
export function fingerprintOf(
  mac: (text: string) => string,
  table: TableMap,
  row: Row,
  columns: readonly string[],
): string {
  const values = columns.map((c) => [c, row[c] === undefined ? null : value(row[c])]);
  return mac(`registre record\u0000${table.name}\u0000${JSON.stringify(values)}`);
}

/** The address of a row's e-mail identity column (not hashed), or null. */
export function identityOf(table: TableMap, row: Row): string | null {
  const identity = Object.entries(table.columns).find(([, spec]) => {
    const c = columnOf(spec);
    return c.identity === 'email' && !c.hashed;
  })?.[0];
  const address = identity ? row[identity] : null;
  return typeof address === 'string' ? address : null;
}

/** For erasure replay: the rows of `keys` of a table that are back (a restored copy), by key. */
export async function restoredRows(
  conn: Connection,
  table: TableMap,
  keys: readonly string[],
): Promise<Map<string, Row>> {
  return rowsByKey(conn, table, keys);
}

/** Each record's status on `at` (the sweep's own verdict query), for the keys given. */
export async function statusesOf(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
  at: string,
  keys: readonly string[],
  heldByTable: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 1000) {
    const part = keys.slice(i, i + 1000);
    const { rows } = await sql<{ k: unknown; status: string }>`SELECT k, status FROM (${verdictQuery(
      ctx,
      table,
      at,
      {
        where: inKeys(conn.dialect, sql.ref(`t.${table.primaryKey}`), part),
        heldByTable,
      },
    )}) s`.execute(conn.db);
    for (const r of rows) statuses.set(String(r.k), r.status);
  }
  return statuses;
}
