/**
 * `sweep`: applies what `plan` reports as due (delete, anonymise), and moves what enters its
 * archive phase into the archive store. Set-based and batched: keyset pagination over the
 * primary key, each group of a batch one transaction, with an intent entry before it and a batch
 * entry after it in the audit log. Manual holds are read again for every batch, so a hold added
 * while the sweep runs is honoured by every batch committed after `hold add` returns. Files go
 * only after their record's deletion has committed (tracked in the state store meanwhile); a row
 * that cannot be processed is skipped, named in the report and the log, and the sweep goes on.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson } from '../../core/audit/audit-chain.js';
import { recordsCsv } from '../../core/csv.js';
import { columnOf, columnOfField } from '../../core/datamap/columns.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import { personHash } from '../../core/identity.js';
import { suppressionOf } from '../../core/register/register-model.js';
import type { RetentionRule } from '../../core/register/register-schema.js';
import { toCalendarDate } from '../../core/retention/calendar.js';
import type { SweepAction, SweepLine, SweepSkip, SweepTiming } from '../../core/retention/results.js';
import { fileInside, moveFile, removeFile } from '../files/record-files.js';
import type { PendingFile, StateStore } from '../state/state-store.js';
import type { Connection, Dialect } from './connect.js';
import { anonymiseColumnSql, inKeys, MAX_BOUND_KEYS, quote, rowsPerInsert } from './dialect.js';
import { listTables } from './introspect.js';
import { type Kysely, type RawBuilder, sql } from './kysely.js';
import {
  heldArchivedKeys,
  statusPredicate,
  statusQuery,
  statusWithoutDeadlines,
  verdictQuery,
} from './plan.js';
import { conditionSql, followedTables, type RetentionSqlContext } from './retention-sql.js';

export type { SweepAction, SweepLine, SweepSkip, SweepTiming } from '../../core/retention/results.js';

export interface SweepOptions {
  readonly at: string;
  readonly dryRun: boolean;
  readonly batchSize: number;
  readonly runId: number;
  readonly hashes: { readonly register: string; readonly datamap: string };
  readonly hmacKey?: Buffer;
  /** The keys of before a rotation: suppression-list entries made with them are found and re-keyed. */
  readonly previousKeys?: readonly Buffer[];
  /** Absolute folders file columns are relative to, by name. */
  readonly folders: Readonly<Record<string, string>>;
  /** Where return packages for controllers are written. */
  readonly returnsDir: string;
  /** Where the files of archived records are moved. */
  readonly archiveFilesDir: string;
  readonly archive: Connection | null;
  readonly onBatch?: (line: SweepLine, count: number) => void | Promise<void>;
  /** After each batch: the highest hold id it read (the lock's heartbeat carries it). */
  readonly afterBatch?: (holdsSeen: number) => Promise<void>;
  readonly onSkip?: (skip: SweepSkip) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: tables are the data map's
type Db = Kysely<any>;
type Row = Record<string, unknown>;

/** Statements take at most this many keys, whatever the batch size. */
const KEYS_PER_STATEMENT = MAX_BOUND_KEYS;

/**
 * Keys one statement takes: MySQL binds each key as a parameter (lists of at most
 * MAX_BOUND_KEYS); SQLite and PostgreSQL bind them all as one value (a JSON text, an array), so a
 * batch's keys go in one statement, not in one round trip per thousand.
 */
function keysPerStatement(dialect: Dialect): number {
  return dialect === 'mysql' ? KEYS_PER_STATEMENT : 100_000;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function selectByKeys(
  db: Db,
  dialect: Dialect,
  table: TableMap,
  keys: readonly unknown[],
  columns?: readonly string[],
) {
  const rows: Row[] = [];
  for (const part of chunks(keys, keysPerStatement(dialect))) {
    const query = db.selectFrom(table.name).where(inKeys(dialect, sql.ref(table.primaryKey), part));
    rows.push(
      ...((columns
        ? await query.select(columns.map((c) => sql.ref(c).as(c))).execute()
        : await query.selectAll().execute()) as Row[]),
    );
  }
  return rows;
}

export async function deleteByKeys(
  db: Db,
  dialect: Dialect,
  table: string,
  key: string,
  keys: readonly unknown[],
): Promise<void> {
  for (const part of chunks(keys, keysPerStatement(dialect)))
    await db
      .deleteFrom(table)
      .where(inKeys(dialect, sql.ref(key), part))
      .execute();
}

export function archiveTableName(store: StoreMap, table: TableMap): string {
  return `${store.id}__${table.name}`;
}

async function nextIds(db: Db, table: string, key: string, count: number): Promise<number[]> {
  const row = await db
    .selectFrom(table)
    .select(sql<number>`MAX(${sql.ref(key)})`.as('m'))
    .executeTakeFirst();
  const start = Number(row?.m ?? 0) + 1;
  return Array.from({ length: count }, (_, i) => start + i);
}

/** Adds the keyed hashes of the deleted addresses to the store's suppression list (once each). */
async function suppress(
  trx: Db,
  dialect: Dialect,
  store: StoreMap,
  table: TableMap,
  rule: RetentionRule,
  keys: readonly unknown[],
  options: SweepOptions,
): Promise<void> {
  const suppression = suppressionOf(rule);
  if (!suppression) return;
  const list = store.suppressionList;
  if (!list)
    throw new RegistreError(
      'E_NO_SUPPRESSION_LIST',
      `rule "${rule.id}" puts deleted addresses on the suppression list, but store "${store.id}" declares none (suppressionList in the data map)`,
    );
  const key = options.hmacKey;
  if (!key)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      `rule "${rule.id}" needs the HMAC key (hmacKey in the configuration) to fill the suppression list`,
    );
  const column = columnOfField(table, suppression.field) ?? suppression.field;
  const previousKeys = options.previousKeys ?? [];
  const asked = (suppression.when ?? []).map((f) => columnOfField(table, f) ?? f);
  const rows = await selectByKeys(trx, dialect, table, keys, [...new Set([column, ...asked])]);
  // Only the people who asked (rule 13): a record whose period simply ran out is not listed.
  const listed = suppression.when
    ? rows.filter((r) =>
        asked.some((c) => {
          const date = toCalendarDate(r[c]);
          return date !== null && date <= options.at;
        }),
      )
    : rows;
  const addresses = listed
    .map((r) => r[column])
    .filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  // Each address under the previous keys too: one listed before a rotation is re-keyed, not listed twice.
  const previous = new Map<string, string>();
  if (previousKeys.length)
    for (const address of addresses) {
      const current = personHash(key, address);
      for (const old of previousKeys) previous.set(personHash(old, address), current);
    }
  await addToSuppressionList(
    trx,
    dialect,
    store,
    addresses.map((v) => personHash(key, v)),
    { at: options.at, reason: 'unsubscribe', previous },
  );
}

/** How hashes go on a suppression list. */
export interface SuppressionOptions {
  /** The date of the entries added or renewed (YYYY-MM-DD). */
  readonly at: string;
  /** What goes in the list's reason column, when the data map names one. */
  readonly reason: string;
  /**
   * The same people's hashes under the previous keys (hash under a previous key → hash under the
   * key in force): an entry found under a previous key is re-keyed, not listed a second time.
   */
  readonly previous?: ReadonlyMap<string, string>;
}

/** What putting hashes on a suppression list did (hashes under the key in force). */
export interface SuppressionWrite {
  /** New entries. */
  readonly added: string[];
  /** Entries found under a previous key, rewritten to the key in force (date and reason kept, then renewed). */
  readonly rekeyed: string[];
  /** Entries already there (re-keyed ones included): dated `at` if they were older. */
  readonly listed: string[];
}

/**
 * Puts keyed hashes (of normalised addresses) on the store's suppression list, once each, dated
 * `at` (an older entry of the same hash is renewed); `reason` goes in the list's reason column
 * when the data map names one. Returns the hashes added.
 */
export async function addToSuppressionList(
  trx: Db,
  dialect: Dialect,
  store: StoreMap,
  hashList: readonly string[],
  options: SuppressionOptions,
): Promise<string[]> {
  return (await putOnSuppressionList(trx, dialect, store, hashList, options)).added;
}

/**
 * addToSuppressionList, saying what it did. Each hash is looked up under the key in force and,
 * through `options.previous`, under every previous key: an entry of a previous key takes the
 * hash of the key in force (its date and reason kept; a second entry of the same person, under
 * another key, is removed), so that a person is listed once whatever the key they were listed with.
 */
export async function putOnSuppressionList(
  trx: Db,
  dialect: Dialect,
  store: StoreMap,
  hashList: readonly string[],
  options: SuppressionOptions,
): Promise<SuppressionWrite> {
  const list = store.suppressionList;
  if (!list)
    throw new RegistreError(
      'E_NO_SUPPRESSION_LIST',
      `store "${store.id}" declares no suppression list (suppressionList in the data map)`,
    );
  const hashes = [...new Set(hashList)];
  if (hashes.length === 0) return { added: [], rekeyed: [], listed: [] };
  const wanted = new Set(hashes);
  const previous = [...(options.previous ?? new Map<string, string>())].filter(
    ([old, current]) => wanted.has(current) && !wanted.has(old),
  );
  const found = new Set<string>();
  for (const part of chunks([...hashes, ...previous.map(([old]) => old)], keysPerStatement(dialect)))
    for (const r of await trx
      .selectFrom(list.table)
      .select(sql.ref(list.column).as('h'))
      .where(inKeys(dialect, sql.ref(list.column), part))
      .execute())
      found.add(String((r as { h: unknown }).h));
  const existing = new Set(hashes.filter((h) => found.has(h)));
  // Entries of a previous key: re-keyed, or removed when the person is listed under the key in force.
  const rekey: [string, string][] = [];
  const duplicates: string[] = [];
  for (const [old, current] of previous) {
    if (!found.has(old)) continue;
    if (existing.has(current)) duplicates.push(old);
    else {
      rekey.push([old, current]);
      existing.add(current);
    }
  }
  for (const part of chunks(rekey, 300))
    await trx
      .updateTable(list.table)
      .set({
        [list.column]: sql`CASE ${sql.ref(list.column)} ${sql.join(
          part.map(([old, current]) => sql`WHEN ${old} THEN ${current}`),
          sql` `,
        )} END`,
      })
      .where(
        inKeys(
          dialect,
          sql.ref(list.column),
          part.map(([old]) => old),
        ),
      )
      .execute();
  for (const part of chunks(duplicates, keysPerStatement(dialect)))
    await trx
      .deleteFrom(list.table)
      .where(inKeys(dialect, sql.ref(list.column), part))
      .execute();
  // The sweep's date, not the clock: the same sweep gives the same rows, however often it is run.
  const stamp = `${options.at} 00:00:00`;
  // An address already listed gets its entry dated today: an older one would expire under the
  // list's own rule, in this very sweep perhaps, and nothing would put it back (rule 13).
  const timestamp = list.timestamp;
  if (timestamp && existing.size > 0)
    for (const part of chunks([...existing], keysPerStatement(dialect)))
      await trx
        .updateTable(list.table)
        .set({ [timestamp]: stamp })
        .where(inKeys(dialect, sql.ref(list.column), part))
        .where(sql.ref(timestamp), '<', stamp)
        .execute();
  const listed = [...existing];
  const rekeyed = rekey.map(([, current]) => current);
  const missing = hashes.filter((h) => !existing.has(h));
  if (missing.length === 0) return { added: [], rekeyed, listed };
  const listTable = store.tables.find((t) => t.name === list.table);
  const ids = listTable ? await nextIds(trx, list.table, listTable.primaryKey, missing.length) : [];
  for (const part of chunks(
    missing.map((h, i) => ({ h, id: ids[i] })),
    500,
  ))
    await trx
      .insertInto(list.table)
      .values(
        part.map(({ h, id }) => ({
          ...(listTable ? { [listTable.primaryKey]: id } : {}),
          [list.column]: h,
          ...(list.timestamp ? { [list.timestamp]: stamp } : {}),
          ...(list.values ?? {}),
          ...(list.reason ? { [list.reason]: options.reason } : {}),
        })),
      )
      .execute();
  return { added: missing, rekeyed, listed };
}

/** The assignments that anonymise a record as its rule says (column → SQL). */
export function anonymisation(dialect: Dialect, table: TableMap, rule: RetentionRule) {
  const fields =
    rule.then !== undefined && rule.then !== 'delete'
      ? rule.then.anonymise.map((f) => (typeof f === 'string' ? f : f.field))
      : [];
  return Object.fromEntries(
    fields.map((f) => {
      const column = columnOfField(table, f) ?? f;
      const spec = table.columns[column];
      return [
        column,
        anonymiseColumnSql(
          dialect,
          sql.ref(column),
          spec === undefined ? undefined : columnOf(spec).anonymise,
        ),
      ];
    }),
  );
}

/** A file written for its owner only. */
function writePrivate(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Writes the return packages of processor data (for each controller that chose "return") as
 * pending files: they become final only once the deletion has committed, so that each record is
 * returned exactly once, however the sweep is interrupted.
 */
async function prepareReturnPackages(
  db: Db,
  ctx: RetentionSqlContext,
  store: StoreMap,
  table: TableMap,
  rule: RetentionRule,
  keys: readonly unknown[],
  options: SweepOptions,
): Promise<Omit<PendingFile, 'id'>[]> {
  const ret = rule.returnTo;
  if (!ret) return [];
  const binding = table.relations?.[ret.relation];
  if (!binding) return [];
  const condition = Object.fromEntries(
    Object.entries(ret.when ?? {}).map(([k, v]) => [`${ret.relation}.${k}`, v]),
  );
  const rows: Row[] = [];
  for (const part of chunks(keys, keysPerStatement(ctx.dialect)))
    rows.push(
      ...(
        await sql<Row>`SELECT t.* FROM ${sql.table(table.name)} AS t WHERE ${inKeys(ctx.dialect, sql.ref(`t.${table.primaryKey}`), part)} AND ${conditionSql(ctx, rule.record, 't', condition)}`.execute(
          db,
        )
      ).rows,
    );
  const byController = new Map<string, Row[]>();
  for (const row of rows) {
    const controller = String(row[binding.local]);
    const list = byController.get(controller);
    if (list) list.push(row);
    else byController.set(controller, [row]);
  }
  const target =
    ctx.register.records.find((r) => r.id === rule.record)?.relations?.[ret.relation]?.to ?? ret.relation;
  const pending: Omit<PendingFile, 'id'>[] = [];
  for (const [controller, list] of byController) {
    const first = String(list[0]?.[table.primaryKey]);
    const base = join(options.returnsDir, `${target}-${controller}`, `${table.name}-${first}`);
    const formats = ret.formats ?? ['json', 'csv'];
    const files: [string, string][] = [];
    if (formats.includes('json')) files.push([`${base}.json`, `${JSON.stringify(list, null, 2)}\n`]);
    if (formats.includes('csv')) files.push([`${base}.csv`, recordsCsv(list)]);
    for (const [path, text] of files) {
      writePrivate(`${path}.pending`, text);
      pending.push({
        run: options.runId,
        store: store.id,
        table: table.name,
        key: first,
        folder: '@returns',
        path: `${path}.pending`,
        target: path,
      });
    }
  }
  return pending;
}

const ARCHIVE_META = ['record_key', 'row_hash', 'rule', 'archived_at', 'deadline'] as const;

/**
 * The archive store's tables, read once per sweep of a store and again only after the sweep
 * created or changed one (each table and each archive batch read the catalogue before).
 */
interface ArchiveCatalogue {
  tables(): Promise<Awaited<ReturnType<typeof listTables>>>;
  changed(): void;
}

function archiveCatalogue(archive: Connection): ArchiveCatalogue {
  let read: ReturnType<typeof listTables> | undefined;
  return {
    tables: () => {
      read ??= listTables(archive);
      return read;
    },
    changed: () => {
      read = undefined;
    },
  };
}

/**
 * The archive table of a live table: one row per archived version of a record, keyed by the
 * record's key and a keyed hash of its content, so that a key reused by a new record after the
 * old one was archived keeps both, and archiving the same row twice (a rerun) keeps one.
 */
async function ensureArchiveTable(
  archive: Connection,
  catalogue: ArchiveCatalogue,
  name: string,
  fields: readonly string[],
  digest: (value: string) => string,
): Promise<void> {
  const existing = (await catalogue.tables()).find((t) => t.name === name);
  const has = (column: string) => existing?.columns.some((c) => c.name === column) ?? false;
  if (has('row_hash') && fields.every(has)) return;
  // Created or changed below: the next reader reads the catalogue again.
  catalogue.changed();
  if (existing && !has('row_hash')) {
    // An archive of before row_hash (keyed by record_key alone): rebuilt in the new shape.
    const old = `${name}__old`;
    await archive.db.schema.alterTable(name).renameTo(old).execute();
    const columns = existing.columns.map((c) => c.name).filter((c) => !ARCHIVE_META.includes(c as never));
    await createArchiveTable(archive, name, [...new Set([...columns, ...fields])]);
    const rows = (await archive.db.selectFrom(old).selectAll().execute()) as Row[];
    await insertArchiveRows(
      archive,
      name,
      rows.map((r) => ({ ...r, row_hash: digest(canonicalJson(r)) })),
    );
    await archive.db.schema.dropTable(old).execute();
    return;
  }
  if (existing) {
    const columns = new Set(existing.columns.map((c) => c.name));
    for (const f of fields)
      if (!columns.has(f)) await archive.db.schema.alterTable(name).addColumn(f, 'text').execute();
    return;
  }
  await createArchiveTable(archive, name, fields);
}

async function createArchiveTable(archive: Connection, name: string, fields: readonly string[]) {
  let create = archive.db.schema
    .createTable(name)
    .ifNotExists()
    .addColumn('record_key', 'varchar(128)', (c) => c.notNull())
    .addColumn('row_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('rule', 'varchar(128)', (c) => c.notNull())
    .addColumn('archived_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('deadline', 'varchar(10)', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${name}_pk`, ['record_key', 'row_hash']);
  for (const f of fields) create = create.addColumn(f, 'text');
  await create.execute();
}

/** Inserts archive rows, skipping those already there (chunked by the dialect's parameter limit). */
async function insertArchiveRows(archive: Connection, table: string, rows: readonly Row[]): Promise<void> {
  const columns = Object.keys(rows[0] ?? {});
  if (columns.length === 0) return;
  const cols = sql.raw(columns.map((c) => quote(archive.dialect, c)).join(', '));
  if (archive.dialect === 'postgres') {
    // Every archive column is text: one array per column, one statement per batch, whatever its
    // length (a VALUES list of 500 rows a statement made 45 round trips of 23,000 customers).
    for (const part of chunks(rows, 50_000)) {
      const arrays = columns.map((c) => sql`${part.map((r) => text(r[c]))}::text[]`);
      await sql`INSERT INTO ${sql.table(table)} (${cols}) SELECT * FROM unnest(${sql.join(arrays)}) ON CONFLICT (record_key, row_hash) DO NOTHING`.execute(
        archive.db,
      );
    }
    return;
  }
  for (const part of chunks(rows, rowsPerInsert(columns.length))) {
    const values = sql.join(part.map((r) => sql`(${sql.join(columns.map((c) => sql`${r[c] ?? null}`))})`));
    if (archive.dialect === 'mysql')
      await sql`INSERT IGNORE INTO ${sql.table(table)} (${cols}) VALUES ${values}`.execute(archive.db);
    else
      await sql`INSERT INTO ${sql.table(table)} (${cols}) VALUES ${values} ON CONFLICT (record_key, row_hash) DO NOTHING`.execute(
        archive.db,
      );
  }
}

async function deleteArchiveRows(
  archive: Connection,
  table: string,
  rows: readonly { record_key: string; row_hash: string }[],
): Promise<void> {
  for (const part of chunks(rows, 400))
    await archive.db
      .deleteFrom(table)
      .where((eb) =>
        eb.or(
          part.map((r) => eb.and([eb('record_key', '=', r.record_key), eb('row_hash', '=', r.row_hash)])),
        ),
      )
      .execute();
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * The tables in an order where a record that ends with another (`follows`) is swept before it:
 * a supplier dispute goes in the same run as its order, not orphaned after it.
 */
function followersFirst(ctx: RetentionSqlContext, store: StoreMap): TableMap[] {
  const followed = (table: TableMap): string[] =>
    ctx.register.retention
      .filter((r) => r.record === table.record && r.follows !== undefined)
      .map(
        (r) =>
          ctx.register.records.find((x) => x.id === table.record)?.relations?.[r.follows as string]?.to ?? '',
      );
  const ordered: TableMap[] = [];
  const visit = (table: TableMap, seen: Set<TableMap>) => {
    if (ordered.includes(table) || seen.has(table)) return;
    seen.add(table);
    for (const other of store.tables)
      if (table.record !== undefined && followed(other).includes(table.record)) visit(other, seen);
    ordered.push(table);
  };
  for (const table of store.tables) visit(table, new Set());
  return ordered;
}

export interface StoreSweep {
  readonly lines: SweepLine[];
  readonly skipped: SweepSkip[];
  readonly timings: SweepTiming[];
}

/**
 * Whether a failure comes from a row (a constraint, a trigger, a value the column refuses), so
 * that the rows can be tried one by one, rather than from the store (a connection lost, a
 * server shut down), which stops the sweep. SQLSTATE classes 22 (data), 23 (integrity), P0 and
 * 45 (raised by a trigger); SQLite's constraint codes.
 */
function rowLevel(error: unknown): boolean {
  if (error instanceof RegistreError) return false;
  const e = error as { code?: unknown; sqlState?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH') return true;
  const state = typeof e.sqlState === 'string' ? e.sqlState : /^[0-9A-Z]{5}$/.test(code) ? code : '';
  return /^(22|23|P0|45)/.test(state);
}

/** A short, value-free description of why a row failed (database messages can quote values). */
function failureCode(error: unknown): string {
  if (error instanceof RegistreError) return error.code;
  const e = error as { code?: unknown; errno?: unknown };
  return typeof e.code === 'string'
    ? e.code
    : typeof e.errno === 'number'
      ? `errno ${e.errno}`
      : 'E_ROW_FAILED';
}

export async function sweepStore(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  state: StateStore,
  options: SweepOptions,
): Promise<StoreSweep> {
  const lines: SweepLine[] = [];
  const skipped: SweepSkip[] = [];
  const timings: SweepTiming[] = [];
  const timing = (table: string, rule: string | null, action: SweepAction | null) => {
    let t = timings.find((x) => x.table === table && x.rule === rule && x.action === action);
    if (!t) {
      t = { table, rule, action, select: 0, write: 0, audit: 0 };
      timings.push(t);
    }
    return t;
  };
  const lineOf = (rule: string, table: string, action: SweepAction) => {
    let line = lines.find((l) => l.rule === rule && l.table === table && l.action === action);
    if (!line) {
      line = { rule, table, action, count: 0 };
      lines.push(line);
    }
    return line;
  };
  const skip = async (table: TableMap, rule: RetentionRule, key: unknown, code: string, reason: string) => {
    const s: SweepSkip = {
      store: store.id,
      table: table.name,
      key: String(key),
      rule: rule.id,
      code,
      reason,
    };
    skipped.push(s);
    options.onSkip?.(s);
    if (!options.dryRun)
      await state.audit('sweep.skipped', {
        run: options.runId,
        store: store.id,
        table: table.name,
        key: String(key),
        rule: rule.id,
        code,
      });
  };
  if (conn.dialect === 'sqlite' && !options.dryRun) {
    // A sweep rewrites the same index pages batch after batch (an index on a random column puts
    // each batch's rows on pages all over it): a page cache that holds them (64 MiB, bounded
    // whatever the shop's size) and a checkpoint every 20,000 pages (80 MiB of log) instead of
    // every 1,000 write them far fewer times. This connection only; durability is unchanged.
    await sql`PRAGMA cache_size = -65536`.execute(conn.db);
    await sql`PRAGMA wal_autocheckpoint = 20000`.execute(conn.db);
  }
  const returning = await returningStatements(conn);
  const catalogue = options.archive ? archiveCatalogue(options.archive) : null;
  const inPlaceRefused = new Set<string>();
  /** PostgreSQL tables whose keys are not all numbers: their changes return them sorted by the database. */
  const sortedInSql = new Set<string>();
  /** An audit entry of a group's change (its keys' digest given when already computed). */
  const entryOf = (
    table: TableMap,
    rule: RetentionRule,
    action: SweepAction,
    part: readonly unknown[],
    digest?: string,
  ) => ({
    run: options.runId,
    store: store.id,
    table: table.name,
    rule: rule.id,
    action,
    count: part.length,
    keys: digest ?? state.digest(part.map(String).join(',')),
    register: options.hashes.register,
    datamap: options.hashes.datamap,
  });
  /**
   * One batch changed where its rows are (changedInPlace): per rule, one DELETE or UPDATE whose
   * condition is the row being due, its keys returned in key order; the intent is written before
   * the commit and the batch entry after it, as on the usual path. False when the database refused
   * a row: nothing of that rule's statement stays, and the batch goes the usual way (each row alone).
   */
  const changeInPlace = async (
    table: TableMap,
    rules: readonly InPlaceRule[],
    range: { after: unknown; upTo: unknown },
    heldByTable: ReadonlyMap<string, readonly string[]>,
  ): Promise<boolean> => {
    const alias = inPlaceAlias(conn, table);
    const key = sql.ref(`${alias}.${table.primaryKey}`);
    const where = keyRange(key, range.after, range.upTo);
    for (const { rule, index, action } of rules) {
      const predicate = statusPredicate(
        ctx,
        table,
        options.at,
        { ...(where ? { where } : {}), heldByTable, sweepOnly: true },
        index,
        alias,
      );
      if (!predicate) return false;
      const clock = timing(table.name, rule.id, action);
      const started = performance.now();
      const set = () =>
        sql.join(
          Object.entries(anonymisation(conn.dialect, table, rule)).map(([c, v]) => sql`${sql.id(c)} = ${v}`),
        );
      // PostgreSQL sorts the keys itself only for a table whose keys are not all numbers: numbers
      // are sorted here (a sort of a large batch's keys spilled to disk under a small work_mem).
      const sortHere = !sortedInSql.has(table.name);
      const change =
        conn.dialect !== 'postgres'
          ? sql`DELETE FROM ${sql.table(table.name)} WHERE ${predicate} RETURNING ${key} AS k`
          : action === 'delete'
            ? sortHere
              ? sql`DELETE FROM ${sql.table(table.name)} AS t WHERE ${predicate} RETURNING ${key} AS k`
              : sql`WITH changed AS (DELETE FROM ${sql.table(table.name)} AS t WHERE ${predicate} RETURNING ${key} AS k) SELECT k FROM changed ORDER BY k`
            : sortHere
              ? sql`UPDATE ${sql.table(table.name)} AS t SET ${set()} WHERE ${predicate} RETURNING ${key} AS k`
              : sql`WITH changed AS (UPDATE ${sql.table(table.name)} AS t SET ${set()} WHERE ${predicate} RETURNING ${key} AS k) SELECT k FROM changed ORDER BY k`;
      let keys: unknown[] = [];
      let intended: ReturnType<typeof entryOf> | undefined;
      let audit = 0;
      try {
        await conn.db.transaction().execute(async (trx) => {
          keys = (await sql<{ k: unknown }>`${change}`.execute(trx)).rows.map((r) => r.k);
          if (keys.length === 0) return;
          if (conn.dialect !== 'postgres' || sortHere) {
            // Keys in the order ORDER BY gives them, for the audit's digest: numbers only (MySQL
            // orders text by its collation); any other key undoes the statement, for the usual path
            // (PostgreSQL: for the same statement with the keys sorted by the database).
            if (!keys.every((k) => typeof k === 'number'))
              throw conn.dialect === 'postgres' ? new SortInSql() : new NotInPlace();
            (keys as number[]).sort((a, b) => a - b);
          }
          const intentStarted = performance.now();
          intended = entryOf(table, rule, action, keys);
          await state.audit('sweep.intent', intended);
          audit += performance.now() - intentStarted;
        });
      } catch (error) {
        if (error instanceof SortInSql) {
          sortedInSql.add(table.name);
          return changeInPlace(table, rules, range, heldByTable);
        }
        // Keys that are not numbers, or a DELETE MySQL refuses for reading its own table (errno
        // 1093): the table goes the usual way from here on.
        if (error instanceof NotInPlace || (error as { errno?: unknown }).errno === 1093) {
          inPlaceRefused.add(table.name);
          return false;
        }
        if (!rowLevel(error)) throw error;
        return false;
      }
      const batchStarted = performance.now();
      clock.write += batchStarted - started - audit;
      if (!intended) continue;
      await state.audit('sweep.batch', entryOf(table, rule, action, keys, intended.keys));
      clock.audit += audit + performance.now() - batchStarted;
      const line = lineOf(rule.id, table.name, action);
      line.count += keys.length;
      await options.onBatch?.(line, keys.length);
    }
    return true;
  };
  for (const table of followersFirst(ctx, store)) {
    if (
      !table.record ||
      !ctx.register.retention.some((r) => r.record === table.record && r.todo === undefined)
    )
      continue;
    const fileColumns = Object.entries(table.columns).flatMap(([column, spec]) => {
      const folder = columnOf(spec).file;
      return folder ? [{ column, folder }] : [];
    });
    // Keyset over the table's own key: each batch looks at the next `batchSize` rows only, so the
    // sweep reads every row once, whatever share of them is due.
    let last: unknown = null;
    const selection = timing(table.name, null, null);
    // Each record's rule and status against cut-offs when its rules allow it (decided once for the
    // table), else the full verdict.
    const withoutDeadlines = statusWithoutDeadlines(ctx.register, table.record);
    const verdicts = (
      where: RawBuilder<unknown> | undefined,
      heldByTable: ReadonlyMap<string, readonly string[]>,
    ) => {
      const chosen = { ...(where ? { where } : {}), heldByTable, sweepOnly: true };
      return (
        (withoutDeadlines ? statusQuery(ctx, table, options.at, chosen) : null) ??
        verdictQuery(ctx, table, options.at, chosen)
      );
    };
    const inPlace = changedInPlace(conn, ctx, table, fileColumns, options, returning);
    for (let more = true; more; ) {
      const started = performance.now();
      const pk = sql.ref(`t.${table.primaryKey}`);
      const boundary = await conn.db
        .selectFrom(`${table.name} as t`)
        .select(sql.ref(`t.${table.primaryKey}`).as('k'))
        .$if(last !== null, (q) => q.where(pk, '>', last))
        .orderBy(sql.ref(`t.${table.primaryKey}`))
        .limit(1)
        .offset(options.batchSize - 1)
        .executeTakeFirst();
      const upper = boundary ? (boundary as { k: unknown }).k : null;
      more = upper !== null;
      const where = keyRange(pk, last, upper);
      const after = last;
      last = upper;
      // The holds in force now: a hold added from here on waits for this batch's heartbeat.
      const held = await state.heldKeys(
        store.id,
        [table.name, ...followedTables(ctx, table.record)],
        options.at,
      );
      if (inPlace && !inPlaceRefused.has(table.name)) {
        selection.select += performance.now() - started;
        if (await changeInPlace(table, inPlace, { after, upTo: upper }, held.byTable)) {
          await options.afterBatch?.(held.seen);
          continue;
        }
      }
      const { rows } = await sql<{
        k: unknown;
        rule_index: number | string;
        status: string;
        deadline: string | null;
      }>`
        SELECT k, rule_index, status, CASE WHEN status = 'archive' THEN deadline END AS deadline FROM (${verdicts(where, held.byTable)}) s
        WHERE status IN ('due', 'archive') ORDER BY k`.execute(conn.db);
      selection.select += performance.now() - started;
      // By rule and action; the group of each (rule, status) pair is looked up once, not once per row.
      const groups = new Map<string, { rule: RetentionRule; action: SweepAction; rows: typeof rows }>();
      const groupOf = new Map<
        string,
        { rule: RetentionRule; action: SweepAction; rows: typeof rows } | null
      >();
      for (const row of rows) {
        const pair = `${row.rule_index}\u0000${row.status}`;
        let group = groupOf.get(pair);
        if (group === undefined) {
          const rule = ctx.register.retention[Number(row.rule_index)] as RetentionRule;
          const action: SweepAction =
            row.status === 'archive'
              ? 'archive'
              : rule.then === undefined || rule.then === 'delete'
                ? 'delete'
                : 'anonymise';
          // A dry run counts what would enter the archive even before the archive store exists.
          const skipped = action === 'archive' && (!rule.archive || (!options.archive && !options.dryRun));
          const id = `${rule.id}:${action}`;
          group = skipped ? null : (groups.get(id) ?? { rule, action, rows: [] });
          if (group) groups.set(id, group);
          groupOf.set(pair, group);
        }
        group?.rows.push(row);
      }
      for (const { rule, action, rows: groupRows } of groups.values()) {
        const line = lineOf(rule.id, table.name, action);
        const clock = timing(table.name, rule.id, action);
        const groupStarted = performance.now();
        let keys = groupRows.map((r) => r.k);
        // Files first: a record whose file path leaves its folder is skipped, not half-applied.
        const files = new Map<string, { folder: string; column: string; full: string; path: string }[]>();
        const anonymised = anonymisedColumns(table, rule);
        const touched = fileColumns.filter((f) => action !== 'anonymise' || anonymised.has(f.column));
        if (touched.length) {
          const bad = new Set<string>();
          for (const row of await selectByKeys(conn.db, conn.dialect, table, keys, [
            table.primaryKey,
            ...touched.map((f) => f.column),
          ])) {
            const k = String(row[table.primaryKey]);
            for (const f of touched) {
              const value = row[f.column];
              if (typeof value !== 'string' || value === '') continue;
              const root = options.folders[f.folder];
              try {
                if (!root)
                  throw new RegistreError(
                    'E_UNKNOWN_FOLDER',
                    `file folder "${f.folder}" is not in the configuration's "files"`,
                  );
                const full = fileInside(root, value, f.folder);
                files.set(k, [
                  ...(files.get(k) ?? []),
                  { folder: f.folder, column: f.column, full, path: value },
                ]);
              } catch (error) {
                if (!bad.has(k)) await skip(table, rule, k, failureCode(error), (error as Error).message);
                bad.add(k);
              }
            }
          }
          keys = keys.filter((k) => !bad.has(String(k)));
        }
        if (keys.length === 0) continue;
        if (options.dryRun) {
          line.count += keys.length;
          continue;
        }
        // The archive keeps each record's deadline; nothing else needs it.
        const deadlines = new Map(
          action === 'archive' ? groupRows.map((r) => [String(r.k), r.deadline] as const) : [],
        );
        const apply = (part: readonly unknown[]) =>
          applyGroup(
            conn,
            ctx,
            store,
            table,
            rule,
            action,
            part,
            files,
            deadlines,
            state,
            options,
            catalogue,
          );
        const entry = (part: readonly unknown[], digest?: string) =>
          entryOf(table, rule, action, part, digest);
        const intentStarted = performance.now();
        const intended = entry(keys);
        await state.audit('sweep.intent', intended);
        const writeStarted = performance.now();
        clock.audit += writeStarted - intentStarted;
        clock.write += intentStarted - groupStarted;
        let applied: unknown[] = keys;
        try {
          await apply(keys);
        } catch (error) {
          if (!rowLevel(error)) throw error;
          // Some row refused (a constraint, a trigger, a value). Each one alone, then.
          applied = [];
          for (const k of keys) {
            try {
              await apply([k]);
              applied.push(k);
            } catch (rowError) {
              if (!rowLevel(rowError)) throw rowError;
              await skip(
                table,
                rule,
                k,
                failureCode(rowError),
                `the database refused to ${action} it (${failureCode(rowError)})`,
              );
            }
          }
        }
        const batchStarted = performance.now();
        clock.write += batchStarted - writeStarted;
        // Every key applied (the usual case): the intent's digest of the same keys.
        await state.audit('sweep.batch', entry(applied, applied === keys ? intended.keys : undefined));
        clock.audit += performance.now() - batchStarted;
        line.count += applied.length;
        if (applied.length) await options.onBatch?.(line, applied.length);
      }
      await options.afterBatch?.(held.seen);
    }
    if (options.archive && catalogue)
      await sweepArchive(conn, ctx, store, table, state, options, lineOf, timing, catalogue);
  }
  return { lines, skipped, timings };
}

/** A batch's keys: after the last one of the batch before (null: from the start), up to its own last (null: to the end). */
function keyRange(key: RawBuilder<unknown>, after: unknown, upTo: unknown): RawBuilder<unknown> | undefined {
  const bounds = [
    ...(after !== null ? [sql`${key} > ${after}`] : []),
    ...(upTo !== null ? [sql`${key} <= ${upTo}`] : []),
  ];
  return bounds.length ? sql.join(bounds, sql` AND `) : undefined;
}

/** The name a row goes by in a change in place: MariaDB's DELETE cannot alias its table. */
function inPlaceAlias(conn: Connection, table: TableMap): string {
  return conn.dialect === 'postgres' ? 't' : table.name;
}

/** Thrown inside an in-place change to undo it: the batch then goes the usual way. */
class NotInPlace extends Error {}

/** Thrown inside an in-place change on PostgreSQL to undo it: the same change again, its keys sorted by the database. */
class SortInSql extends Error {}

/**
 * Which changes a store's statements can return the keys of: PostgreSQL's DELETE and UPDATE;
 * MariaDB's DELETE (from 10.0.5; its UPDATE cannot); MySQL neither; SQLite could, but there the
 * keys cost nothing to bring back and a change in place measured no faster.
 */
async function returningStatements(conn: Connection): Promise<{ delete: boolean; update: boolean }> {
  if (conn.dialect === 'postgres') return { delete: true, update: true };
  if (conn.dialect !== 'mysql') return { delete: false, update: false };
  const { rows } = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(conn.db);
  const m = /^(\d+)\.(\d+)\.(\d+).*MariaDB/i.exec(rows[0]?.v ?? '');
  const mariadb = m !== null && Number(m[1]) * 1e6 + Number(m[2]) * 1e3 + Number(m[3]) >= 10_000_005;
  return { delete: mariadb, update: false };
}

interface InPlaceRule {
  readonly rule: RetentionRule;
  readonly index: number;
  readonly action: 'delete' | 'anonymise';
}

/**
 * The rules of a table whose due rows a sweep deletes or anonymises where they are, by one
 * statement per rule and batch that returns their keys, instead of reading the keys first and
 * sending them back (PostgreSQL: that round trip was most of a sweep's time). Null (the usual
 * path) unless nothing must be read before the change: a dry run, a rule with an archive phase
 * (its rows are copied), a suppression list (its addresses are hashed), a return to the
 * controller (its rows are packaged) or files (checked, then removed); and the status query must
 * be writable on the table's own rows (statusPredicate).
 */
function changedInPlace(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
  fileColumns: readonly { column: string }[],
  options: SweepOptions,
  returning: { delete: boolean; update: boolean },
): InPlaceRule[] | null {
  if (!returning.delete || options.dryRun || !table.record) return null;
  const alias = inPlaceAlias(conn, table);
  if (!statusWithoutDeadlines(ctx.register, table.record)) return null;
  const rules: InPlaceRule[] = [];
  for (const [index, rule] of ctx.register.retention.entries()) {
    if (rule.record !== table.record || rule.todo !== undefined) continue;
    if (rule.archive) return null;
    if (rule.then === undefined || rule.then === 'delete') {
      if (rule.suppress || rule.returnTo || fileColumns.length) return null;
      rules.push({ rule, index, action: 'delete' });
    } else {
      const anonymised = anonymisedColumns(table, rule);
      if (!returning.update || fileColumns.some((f) => anonymised.has(f.column))) return null;
      rules.push({ rule, index, action: 'anonymise' });
    }
    if (!statusPredicate(ctx, table, options.at, { heldByTable: new Map(), sweepOnly: true }, index, alias))
      return null;
  }
  return rules.length ? rules : null;
}

/** The columns a rule's anonymisation changes. */
function anonymisedColumns(table: TableMap, rule: RetentionRule): Set<string> {
  return new Set(
    rule.then !== undefined && rule.then !== 'delete'
      ? rule.then.anonymise.map((f) => {
          const field = typeof f === 'string' ? f : f.field;
          return columnOfField(table, field) ?? field;
        })
      : [],
  );
}

/**
 * One group's change in one transaction of the live store: rows of records not yet committed
 * keep their files (the pending list in the state store says what to finish after a crash).
 */
async function applyGroup(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  table: TableMap,
  rule: RetentionRule,
  action: SweepAction,
  keys: readonly unknown[],
  files: ReadonlyMap<string, readonly { folder: string; column: string; full: string; path: string }[]>,
  deadlines: ReadonlyMap<string, string | null>,
  state: StateStore,
  options: SweepOptions,
  catalogue: ArchiveCatalogue | null,
): Promise<void> {
  const archiveColumns =
    action === 'archive' ? (rule.archive?.fields ?? []).map((f) => columnOfField(table, f) ?? f) : [];
  const pending: Omit<PendingFile, 'id'>[] = [];
  for (const k of keys)
    for (const f of files.get(String(k)) ?? []) {
      const moved = archiveColumns.includes(f.column);
      pending.push({
        run: options.runId,
        store: store.id,
        table: table.name,
        key: String(k),
        folder: f.folder,
        path: f.full,
        target: moved ? join(options.archiveFilesDir, store.id, f.folder, f.path) : null,
      });
    }
  let archived: { record_key: string; row_hash: string }[] = [];
  const archive = options.archive;
  const archiveName = archiveTableName(store, table);
  if (action === 'delete')
    for (const file of await prepareReturnPackages(conn.db, ctx, store, table, rule, keys, options))
      pending.push(file);
  const pendingIds = await state.addPendingFiles(pending);
  try {
    if (action === 'archive' && archive) {
      await ensureArchiveTable(
        archive,
        catalogue ?? archiveCatalogue(archive),
        archiveName,
        archiveColumns,
        (v) => state.digest(v),
      );
      const data = await selectByKeys(conn.db, conn.dialect, table, keys);
      const stamp = new Date().toISOString();
      const rows = data.map((row) => ({
        record_key: String(row[table.primaryKey]),
        row_hash: state.digest(
          canonicalJson(Object.fromEntries(Object.entries(row).map(([c, v]) => [c, text(v)]))),
        ),
        rule: rule.id,
        archived_at: stamp,
        deadline: deadlines.get(String(row[table.primaryKey])) ?? '9999-12-31',
        ...Object.fromEntries(archiveColumns.map((c) => [c, text(row[c])])),
      }));
      archived = rows.map((r) => ({ record_key: r.record_key, row_hash: r.row_hash }));
      await insertArchiveRows(archive, archiveName, rows);
    }
    await conn.db.transaction().execute(async (trx) => {
      if (action === 'anonymise') {
        const set = anonymisation(conn.dialect, table, rule);
        for (const part of chunks(keys, keysPerStatement(conn.dialect)))
          await trx
            .updateTable(table.name)
            .set(set)
            .where(inKeys(conn.dialect, sql.ref(table.primaryKey), part))
            .execute();
        return;
      }
      if (action === 'delete' && rule.suppress)
        await suppress(trx, conn.dialect, store, table, rule, keys, options);
      await deleteByKeys(trx, conn.dialect, table.name, table.primaryKey, keys);
    });
  } catch (error) {
    // Nothing committed in the live store: the archive keeps no copy, no file moves, no package.
    if (archive && archived.length) await deleteArchiveRows(archive, archiveName, archived).catch(() => {});
    for (const p of pending) if (p.folder === '@returns') removeFile(p.path);
    await state.clearPendingFiles(pendingIds);
    throw error;
  }
  finishFiles(pending);
  await state.clearPendingFiles(pendingIds);
}

/** What a committed change leaves to do on disk: remove, move, or make a return package final. */
function finishFiles(pending: readonly Omit<PendingFile, 'id'>[]): void {
  for (const p of pending) {
    if (p.target === null) removeFile(p.path);
    else if (p.folder === '@returns') {
      try {
        renameSync(p.path, p.target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    } else moveFile(p.path, p.target);
  }
}

/**
 * After a crash: finishes the file work of the changes that committed (their record is gone) and
 * forgets that of those that did not (their record is still there, with its file).
 */
export async function finishPendingFiles(
  state: StateStore,
  stores: ReadonlyMap<string, { conn: Connection; map: StoreMap }>,
): Promise<{ finished: number; dropped: number }> {
  let finished = 0;
  let dropped = 0;
  const done: number[] = [];
  for (const p of await state.pendingFiles()) {
    const store = stores.get(p.store);
    const table = store?.map.tables.find((t) => t.name === p.table);
    if (!store || !table) continue;
    const still = await store.conn.db
      .selectFrom(table.name)
      .select(sql.ref(table.primaryKey).as('k'))
      .where(sql.ref(table.primaryKey), '=', p.key)
      .executeTakeFirst();
    if (still) {
      if (p.folder === '@returns') removeFile(p.path);
      dropped++;
    } else {
      finishFiles([p]);
      finished++;
    }
    done.push(p.id);
  }
  await state.clearPendingFiles(done);
  return { finished, dropped };
}

/** Deletes archived records whose archive deadline has come (manual holds aside). */
async function sweepArchive(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  table: TableMap,
  state: StateStore,
  options: SweepOptions,
  lineOf: (rule: string, table: string, action: SweepAction) => SweepLine,
  timing: (table: string, rule: string | null, action: SweepAction | null) => SweepTiming,
  catalogue: ArchiveCatalogue,
): Promise<void> {
  const archive = options.archive as Connection;
  const name = archiveTableName(store, table);
  const existing = (await catalogue.tables()).find((t) => t.name === name);
  if (!existing) return;
  if (!existing.columns.some((c) => c.name === 'row_hash') && !options.dryRun)
    await ensureArchiveTable(archive, catalogue, name, [], (v) => state.digest(v));
  const fileColumns = Object.entries(table.columns).flatMap(([column, spec]) => {
    const folder = columnOf(spec).file;
    return folder && existing.columns.some((c) => c.name === column) ? [{ column, folder }] : [];
  });
  let last: string | null = null;
  const selection = timing(table.name, null, null);
  for (;;) {
    const started = performance.now();
    const held = await state.heldKeys(store.id, [table.name], options.at);
    const heldKeys = held.byTable.get(table.name) ?? [];
    let query = archive.db
      .selectFrom(name)
      .select(['record_key', 'row_hash', 'rule', ...fileColumns.map((f) => f.column)])
      .where('deadline', '<=', options.at)
      .orderBy('record_key')
      .limit(options.batchSize);
    if (heldKeys.length)
      query = query.where(sql<boolean>`NOT ${inKeys(archive.dialect, sql.ref('record_key'), heldKeys)}`);
    if (last !== null) query = query.where('record_key', '>', last);
    const fetched = (await query.execute()) as (Row & {
      record_key: string;
      row_hash: string;
      rule: string;
    })[];
    if (fetched.length === 0) {
      await options.afterBatch?.(held.seen);
      return;
    }
    last = fetched[fetched.length - 1]?.record_key ?? null;
    // An archived record a live one holds (an open dispute on its account's order) stays.
    const dataHeld = await heldArchivedKeys(conn, ctx, table);
    const rows = fetched.filter((r) => dataHeld !== 'all' && !dataHeld.has(String(r.record_key)));
    selection.select += performance.now() - started;
    if (rows.length === 0) continue;
    const line = lineOf(rows[0]?.rule ?? '', table.name, 'archive-delete');
    const clock = timing(table.name, line.rule, 'archive-delete');
    if (options.dryRun) {
      line.count += rows.length;
      continue;
    }
    const entry = {
      run: options.runId,
      store: store.id,
      table: table.name,
      rule: line.rule,
      action: 'archive-delete',
      count: rows.length,
      keys: state.digest(rows.map((r) => r.record_key).join(',')),
      register: options.hashes.register,
      datamap: options.hashes.datamap,
    };
    const intentStarted = performance.now();
    await state.audit('sweep.intent', entry);
    const writeStarted = performance.now();
    await deleteArchiveRows(archive, name, rows);
    for (const row of rows)
      for (const f of fileColumns) {
        const value = row[f.column];
        if (typeof value === 'string' && value !== '')
          removeFile(fileInside(join(options.archiveFilesDir, store.id, f.folder), value, f.folder));
      }
    const batchStarted = performance.now();
    await state.audit('sweep.batch', entry);
    clock.audit += writeStarted - intentStarted + (performance.now() - batchStarted);
    clock.write += batchStarted - writeStarted;
    line.count += rows.length;
    await options.onBatch?.(line, rows.length);
    await options.afterBatch?.(held.seen);
  }
}
