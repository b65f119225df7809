/**
 * `sweep`: applies what `plan` reports as due (delete, anonymise), and moves what enters its
 * archive phase into the archive store. Set-based and batched: keyset pagination over the
 * primary key, each batch one transaction, each batch one audit entry (and an intent before it,
 * so that a sweep killed between the two is told by the log). Nothing held is touched.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { columnOfField } from '../../core/datamap-load.js';
import { columnOf, type StoreMap, type TableMap } from '../../core/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import type { RetentionRule } from '../../core/register-schema.js';
import type { HoldRow, StateStore } from '../state/state-store.js';
import type { Connection } from './connect.js';
import { anonymiseColumnSql, quote } from './dialect.js';
import { normaliseEmail } from './explain.js';
import { listTables } from './introspect.js';
import { verdictQuery } from './plan.js';
import { conditionSql, type RetentionSqlContext } from './retention-sql.js';

export type SweepAction = 'delete' | 'anonymise' | 'archive' | 'archive-delete';

export interface SweepLine {
  readonly rule: string;
  readonly table: string;
  readonly action: SweepAction;
  count: number;
}

export interface SweepOptions {
  readonly at: string;
  readonly dryRun: boolean;
  readonly batchSize: number;
  readonly runId: number;
  readonly hashes: { readonly register: string; readonly datamap: string };
  readonly hmacKey?: Buffer;
  /** Absolute folders file columns are relative to, by name. */
  readonly folders: Readonly<Record<string, string>>;
  /** Where return packages for controllers are written. */
  readonly returnsDir: string;
  readonly manualHolds: readonly HoldRow[];
  readonly archive: Connection | null;
  readonly onBatch?: (line: SweepLine, count: number) => void | Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: tables are the data map's
type Db = Kysely<any>;

export function keysDigest(keys: readonly unknown[]): string {
  return createHash('sha256').update(keys.map(String).join(',')).digest('hex');
}

function manualHeldKeys(options: SweepOptions, store: StoreMap, table: TableMap): string[] {
  return options.manualHolds
    .filter(
      (h) => h.store === store.id && h.table === table.name && (h.until === null || h.until >= options.at),
    )
    .map((h) => h.key);
}

function archiveTableName(store: StoreMap, table: TableMap): string {
  return `${store.id}__${table.name}`;
}

/** Deletes the files a record names; a path outside its folder is refused, a missing file is fine. */
function removeFiles(
  folders: Readonly<Record<string, string>>,
  folder: string,
  paths: readonly unknown[],
): void {
  const root = folders[folder];
  if (!root)
    throw new RegistreError(
      'E_UNKNOWN_FOLDER',
      `file folder "${folder}" is not in the configuration's "files"`,
    );
  for (const p of paths) {
    if (typeof p !== 'string' || p === '') continue;
    const full = resolve(root, p);
    if (!full.startsWith(resolve(root) + sep))
      throw new RegistreError('E_FILE_PATH', `a file path leaves its folder "${folder}"; not removed`);
    try {
      unlinkSync(full);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function csvOf(rows: readonly Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) => {
    const text = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return `${[columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n')}\n`;
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
  store: StoreMap,
  table: TableMap,
  rule: RetentionRule,
  keys: readonly unknown[],
  options: SweepOptions,
): Promise<void> {
  const field = rule.suppress as string;
  const list = store.suppressionList;
  if (!list)
    throw new RegistreError(
      'E_NO_SUPPRESSION_LIST',
      `rule "${rule.id}" puts deleted addresses on the suppression list, but store "${store.id}" declares none (suppressionList in the data map)`,
    );
  if (!options.hmacKey)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      `rule "${rule.id}" needs the HMAC key (hmacKey in the configuration) to fill the suppression list`,
    );
  const column = columnOfField(table, field) ?? field;
  const rows = await trx
    .selectFrom(table.name)
    .select(sql.ref(column).as('v'))
    .where(sql.ref(table.primaryKey), 'in', keys)
    .execute();
  const key = options.hmacKey;
  const hashes = [
    ...new Set(
      rows
        .map((r) => (r as { v: unknown }).v)
        .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
        .map((v) => createHmac('sha256', key).update(normaliseEmail(v)).digest('hex')),
    ),
  ];
  if (hashes.length === 0) return;
  const existing = new Set(
    (
      await trx
        .selectFrom(list.table)
        .select(sql.ref(list.column).as('h'))
        .where(sql.ref(list.column), 'in', hashes)
        .execute()
    ).map((r) => String((r as { h: unknown }).h)),
  );
  const missing = hashes.filter((h) => !existing.has(h));
  if (missing.length === 0) return;
  const listTable = store.tables.find((t) => t.name === list.table);
  const ids = listTable ? await nextIds(trx, list.table, listTable.primaryKey, missing.length) : [];
  // The sweep's date, not the clock: the same sweep gives the same rows, however often it is run.
  const stamp = `${options.at} 00:00:00`;
  await trx
    .insertInto(list.table)
    .values(
      missing.map((h, i) => ({
        ...(listTable ? { [listTable.primaryKey]: ids[i] } : {}),
        [list.column]: h,
        ...(list.timestamp ? { [list.timestamp]: stamp } : {}),
        ...(list.values ?? {}),
      })),
    )
    .execute();
}

/** Writes the return package of processor data for each controller that chose "return". */
async function writeReturnPackages(
  trx: Db,
  ctx: RetentionSqlContext,
  table: TableMap,
  rule: RetentionRule,
  keys: readonly unknown[],
  options: SweepOptions,
): Promise<void> {
  const ret = rule.returnTo;
  if (!ret) return;
  const binding = table.relations?.[ret.relation];
  if (!binding) return;
  const condition = Object.fromEntries(
    Object.entries(ret.when ?? {}).map(([k, v]) => [`${ret.relation}.${k}`, v]),
  );
  const rows = (
    await sql<
      Record<string, unknown>
    >`SELECT t.* FROM ${sql.table(table.name)} AS t WHERE ${sql.ref(`t.${table.primaryKey}`)} IN (${sql.join(keys.map((k) => sql`${k}`))}) AND ${conditionSql(ctx, rule.record, 't', condition)}`.execute(
      trx,
    )
  ).rows;
  const byController = new Map<string, Record<string, unknown>[]>();
  for (const row of rows) {
    const controller = String(row[binding.local]);
    byController.set(controller, [...(byController.get(controller) ?? []), row]);
  }
  const target =
    ctx.register.records.find((r) => r.id === rule.record)?.relations?.[ret.relation]?.to ?? ret.relation;
  for (const [controller, list] of byController) {
    const base = join(options.returnsDir, `${target}-${controller}`, `${table.name}-${String(keys[0])}`);
    mkdirSync(dirname(base), { recursive: true });
    const formats = ret.formats ?? ['json', 'csv'];
    if (formats.includes('json')) writeFileSync(`${base}.json`, `${JSON.stringify(list, null, 2)}\n`);
    if (formats.includes('csv')) writeFileSync(`${base}.csv`, csvOf(list));
  }
}

async function ensureArchiveTable(
  archive: Connection,
  name: string,
  fields: readonly string[],
): Promise<void> {
  const existing = new Set((await listTables(archive)).map((t) => t.name));
  if (existing.has(name)) {
    const columns = new Set(
      (await listTables(archive)).find((t) => t.name === name)?.columns.map((c) => c.name),
    );
    for (const f of fields)
      if (!columns.has(f)) await archive.db.schema.alterTable(name).addColumn(f, 'text').execute();
    return;
  }
  let create = archive.db.schema
    .createTable(name)
    .addColumn('record_key', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('rule', 'varchar(128)', (c) => c.notNull())
    .addColumn('archived_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('deadline', 'varchar(10)', (c) => c.notNull());
  for (const f of fields) create = create.addColumn(f, 'text');
  await create.execute();
}

function insertIgnore(archive: Connection, table: string, rows: readonly Record<string, unknown>[]) {
  const columns = Object.keys(rows[0] ?? {});
  const values = sql.join(rows.map((r) => sql`(${sql.join(columns.map((c) => sql`${r[c] ?? null}`))})`));
  const cols = sql.raw(columns.map((c) => quote(archive.dialect, c)).join(', '));
  if (archive.dialect === 'mysql')
    return sql`INSERT IGNORE INTO ${sql.table(table)} (${cols}) VALUES ${values}`.execute(archive.db);
  return sql`INSERT INTO ${sql.table(table)} (${cols}) VALUES ${values} ON CONFLICT (record_key) DO NOTHING`.execute(
    archive.db,
  );
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

export async function sweepStore(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  state: StateStore,
  options: SweepOptions,
): Promise<SweepLine[]> {
  const lines: SweepLine[] = [];
  const lineOf = (rule: string, table: string, action: SweepAction) => {
    let line = lines.find((l) => l.rule === rule && l.table === table && l.action === action);
    if (!line) {
      line = { rule, table, action, count: 0 };
      lines.push(line);
    }
    return line;
  };
  for (const table of followersFirst(ctx, store)) {
    if (
      !table.record ||
      !ctx.register.retention.some((r) => r.record === table.record && r.todo === undefined)
    )
      continue;
    const heldKeys = manualHeldKeys(options, store, table);
    // Keyset over the table's own key: each batch looks at the next `batchSize` rows only, so the
    // sweep reads every row once, whatever share of them is due.
    let last: unknown = null;
    for (let more = true; more; ) {
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
      const conditions = [
        ...(last !== null ? [sql`${pk} > ${last}`] : []),
        ...(upper !== null ? [sql`${pk} <= ${upper}`] : []),
      ];
      const where = conditions.length ? sql.join(conditions, sql` AND `) : undefined;
      last = upper;
      const { rows } = await sql<{
        k: unknown;
        rule_index: number | string;
        status: string;
        deadline: string | null;
      }>`
        SELECT k, rule_index, status, deadline FROM (${verdictQuery(ctx, table, options.at, { ...(where ? { where } : {}), heldKeys })}) s
        WHERE status IN ('due', 'archive') ORDER BY k`.execute(conn.db);
      if (rows.length === 0) continue;
      const groups = new Map<string, { rule: RetentionRule; action: SweepAction; rows: typeof rows }>();
      for (const row of rows) {
        const rule = ctx.register.retention[Number(row.rule_index)] as RetentionRule;
        const action: SweepAction =
          row.status === 'archive'
            ? 'archive'
            : rule.then === undefined || rule.then === 'delete'
              ? 'delete'
              : 'anonymise';
        if (action === 'archive' && (!rule.archive || !options.archive)) continue;
        const id = `${rule.id}:${action}`;
        const group = groups.get(id) ?? { rule, action, rows: [] };
        group.rows.push(row);
        groups.set(id, group);
      }
      for (const { rule, action, rows: groupRows } of groups.values()) {
        const keys = groupRows.map((r) => r.k);
        const line = lineOf(rule.id, table.name, action);
        if (options.dryRun) {
          line.count += keys.length;
          continue;
        }
        const digest = keysDigest(keys);
        const entry = {
          run: options.runId,
          store: store.id,
          table: table.name,
          rule: rule.id,
          action,
          count: keys.length,
          keys: digest,
          register: options.hashes.register,
          datamap: options.hashes.datamap,
        };
        await state.audit('sweep.intent', entry);
        if (action === 'archive') {
          const archive = options.archive as Connection;
          const fields = rule.archive?.fields ?? [];
          const columns = fields.map((f) => columnOfField(table, f) ?? f);
          const name = archiveTableName(store, table);
          await ensureArchiveTable(archive, name, columns);
          const data = (await conn.db
            .selectFrom(table.name)
            .selectAll()
            .where(sql.ref(table.primaryKey), 'in', keys)
            .execute()) as Record<string, unknown>[];
          const deadlines = new Map(groupRows.map((r) => [String(r.k), r.deadline]));
          const stamp = new Date().toISOString();
          if (data.length)
            await insertIgnore(
              archive,
              name,
              data.map((row) => ({
                record_key: String(row[table.primaryKey]),
                rule: rule.id,
                archived_at: stamp,
                deadline: deadlines.get(String(row[table.primaryKey])) ?? '9999-12-31',
                ...Object.fromEntries(columns.map((c) => [c, text(row[c])])),
              })),
            );
          await conn.db.deleteFrom(table.name).where(sql.ref(table.primaryKey), 'in', keys).execute();
        } else {
          await conn.db.transaction().execute(async (trx) => {
            if (action === 'anonymise') {
              const fields =
                rule.then !== undefined && rule.then !== 'delete'
                  ? rule.then.anonymise.map((f) => (typeof f === 'string' ? f : f.field))
                  : [];
              const set = Object.fromEntries(
                fields.map((f) => {
                  const column = columnOfField(table, f) ?? f;
                  const spec = table.columns[column];
                  return [
                    column,
                    anonymiseColumnSql(
                      conn.dialect,
                      sql.ref(column),
                      spec === undefined ? undefined : columnOf(spec).anonymise,
                    ),
                  ];
                }),
              );
              await trx
                .updateTable(table.name)
                .set(set)
                .where(sql.ref(table.primaryKey), 'in', keys)
                .execute();
              return;
            }
            if (rule.suppress) await suppress(trx, store, table, rule, keys, options);
            await writeReturnPackages(trx, ctx, table, rule, keys, options);
            for (const [column, spec] of Object.entries(table.columns)) {
              const folder = columnOf(spec).file;
              if (!folder) continue;
              const paths = (
                await trx
                  .selectFrom(table.name)
                  .select(sql.ref(column).as('p'))
                  .where(sql.ref(table.primaryKey), 'in', keys)
                  .execute()
              ).map((r) => (r as { p: unknown }).p);
              removeFiles(options.folders, folder, paths);
            }
            await trx.deleteFrom(table.name).where(sql.ref(table.primaryKey), 'in', keys).execute();
          });
        }
        await state.audit('sweep.batch', entry);
        line.count += keys.length;
        await options.onBatch?.(line, keys.length);
      }
    }
    if (options.archive) await sweepArchive(store, table, state, options, lineOf);
  }
  return lines;
}

/** Deletes archived records whose archive deadline has come (manual holds aside). */
async function sweepArchive(
  store: StoreMap,
  table: TableMap,
  state: StateStore,
  options: SweepOptions,
  lineOf: (rule: string, table: string, action: SweepAction) => SweepLine,
): Promise<void> {
  const archive = options.archive as Connection;
  const name = archiveTableName(store, table);
  if (!(await listTables(archive)).some((t) => t.name === name)) return;
  const held = manualHeldKeys(options, store, table);
  let last: string | null = null;
  for (;;) {
    let query = archive.db
      .selectFrom(name)
      .select(['record_key', 'rule'])
      .where('deadline', '<=', options.at)
      .orderBy('record_key')
      .limit(options.batchSize);
    if (held.length) query = query.where('record_key', 'not in', held);
    if (last !== null) query = query.where('record_key', '>', last);
    const rows = (await query.execute()) as { record_key: string; rule: string }[];
    if (rows.length === 0) return;
    last = rows[rows.length - 1]?.record_key ?? null;
    const keys = rows.map((r) => r.record_key);
    const line = lineOf(rows[0]?.rule ?? '', table.name, 'archive-delete');
    if (options.dryRun) {
      line.count += keys.length;
      continue;
    }
    const entry = {
      run: options.runId,
      store: store.id,
      table: table.name,
      rule: line.rule,
      action: 'archive-delete',
      count: keys.length,
      keys: keysDigest(keys),
      register: options.hashes.register,
      datamap: options.hashes.datamap,
    };
    await state.audit('sweep.intent', entry);
    await archive.db.deleteFrom(name).where('record_key', 'in', keys).execute();
    await state.audit('sweep.batch', entry);
    line.count += keys.length;
    await options.onBatch?.(line, keys.length);
  }
}
