/** Reads a store's live schema: tables, columns and indexes (the dialect-specific part). */

import type {
  InvalidValues,
  LiveForeignKey,
  LiveSchema,
  LiveTable,
} from '../../core/datamap/schema-check.js';
import type { Connection } from './connect.js';
import { amountOf, dateOf } from './dialect.js';
import { sql, type TableMetadata } from './kysely.js';

interface IndexRow {
  tbl: string;
  idx: string;
  col: string;
  pos: number | string;
}

async function indexRows(conn: Connection): Promise<IndexRow[]> {
  if (conn.dialect === 'sqlite') {
    const { rows } = await sql<IndexRow>`
      SELECT m.name AS tbl, il.name AS idx, ii.name AS col, ii.seqno AS pos
      FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
      WHERE m.type = 'table'`.execute(conn.db);
    // A rowid primary key (INTEGER PRIMARY KEY) is indexed though no index lists it.
    const pk = await sql<IndexRow>`
      SELECT m.name AS tbl, 'primary key' AS idx, p.name AS col, p.pk AS pos
      FROM sqlite_master m, pragma_table_info(m.name) p
      WHERE m.type = 'table' AND p.pk > 0`.execute(conn.db);
    return [...rows, ...pk.rows];
  }
  if (conn.dialect === 'postgres') {
    const { rows } = await sql<IndexRow>`
      SELECT t.relname AS tbl, i.relname AS idx, a.attname AS col, array_position(ix.indkey::int2[], a.attnum) AS pos
      FROM pg_index ix
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(ix.indkey)
      WHERE n.nspname = current_schema()`.execute(conn.db);
    return rows;
  }
  const { rows } = await sql<IndexRow>`
    SELECT table_name AS tbl, index_name AS idx, column_name AS col, seq_in_index AS pos
    FROM information_schema.statistics WHERE table_schema = database()`.execute(conn.db);
  return rows;
}

/**
 * The tables of the schema the connection works in (PostgreSQL: its search_path, not every schema).
 * On PostgreSQL the catalogue is read for that schema only: Kysely's introspection reads every
 * schema and looks each table up again by name, which fails when another schema's table is
 * dropped meanwhile (another application's migration, a test of another file).
 */
export async function listTables(conn: Connection): Promise<TableMetadata[]> {
  if (conn.dialect !== 'postgres') return (await conn.db.introspection.getTables()).filter((t) => !t.isView);
  const { rows } = await sql<{
    tbl: string;
    schema: string;
    col: string;
    type: string;
    type_schema: string;
    not_null: boolean;
    has_default: boolean;
    identity: boolean;
  }>`
    SELECT c.relname AS tbl, ns.nspname AS schema, a.attname AS col, typ.typname AS type,
      tns.nspname AS type_schema, a.attnotnull AS not_null, a.atthasdef AS has_default,
      (a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', FALSE)) AS identity
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
    JOIN pg_catalog.pg_type typ ON typ.oid = a.atttypid
    JOIN pg_catalog.pg_namespace tns ON tns.oid = typ.typnamespace
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum`.execute(conn.db);
  const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
  for (const r of rows) {
    let table = tables.get(r.tbl);
    if (!table) {
      table = { name: r.tbl, schema: r.schema, isView: false, columns: [] };
      tables.set(r.tbl, table);
    }
    table.columns.push({
      name: r.col,
      dataType: r.type,
      dataTypeSchema: r.type_schema,
      isNullable: !r.not_null,
      hasDefaultValue: r.has_default,
      isAutoIncrementing: r.identity,
    });
  }
  return [...tables.values()];
}

/** The key of a column in the set dateColumns gives. */
export const columnKey = (table: string, column: string): string => `${table}\u0000${column}`;

/**
 * The columns of the schema the connection works in whose type is a native date or time
 * (columnKey): their values are read as dates without parsing text (nativeDateOf). Read afresh
 * by each operation, so that a column whose type changed is not read as it was. SQLite has none.
 */
export async function dateColumns(conn: Connection): Promise<ReadonlySet<string>> {
  if (conn.dialect === 'sqlite') return new Set();
  const { rows } =
    conn.dialect === 'postgres'
      ? await sql<{ tbl: string; col: string }>`
          SELECT c.relname AS tbl, a.attname AS col
          FROM pg_catalog.pg_attribute a
          JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
          WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)`.execute(
          conn.db,
        )
      : await sql<{ tbl: string; col: string }>`
          SELECT table_name AS tbl, column_name AS col FROM information_schema.columns
          WHERE table_schema = database() AND data_type IN ('datetime', 'timestamp', 'date')`.execute(
          conn.db,
        );
  return new Set(rows.map((r) => columnKey(r.tbl, r.col)));
}

/** The names of the tables of the schema the connection works in: one cheap catalogue query. */
export async function tableNames(conn: Connection): Promise<string[]> {
  const query =
    conn.dialect === 'sqlite'
      ? sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
      : conn.dialect === 'postgres'
        ? sql<{
            name: string;
          }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
        : sql<{
            name: string;
          }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = database() AND table_type = 'BASE TABLE'`;
  return (await query.execute(conn.db)).rows.map((r) => String(r.name));
}

/** The foreign keys of the schema the connection works in (single-column ones, as relations are). */
export async function foreignKeys(conn: Connection): Promise<LiveForeignKey[]> {
  type Row = { tbl: string; col: string; ref: string; refcol: string; on_delete: string };
  let rows: Row[];
  if (conn.dialect === 'sqlite') {
    rows = (
      await sql<Row>`
        SELECT m.name AS tbl, f."from" AS col, f."table" AS ref, f."to" AS refcol, f.on_delete AS on_delete
        FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`.execute(conn.db)
    ).rows;
  } else if (conn.dialect === 'postgres') {
    rows = (
      await sql<Row>`
        SELECT cl.relname AS tbl, a.attname AS col, rc.relname AS ref, ra.attname AS refcol,
          CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
            WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete
        FROM pg_constraint c
        JOIN pg_class cl ON cl.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = cl.relnamespace
        JOIN pg_class rc ON rc.oid = c.confrelid
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND n.nspname = current_schema()`.execute(conn.db)
    ).rows;
  } else {
    rows = (
      await sql<Row>`
        SELECT k.TABLE_NAME AS tbl, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref,
          k.REFERENCED_COLUMN_NAME AS refcol, r.DELETE_RULE AS on_delete
        FROM information_schema.KEY_COLUMN_USAGE k
        JOIN information_schema.REFERENTIAL_CONSTRAINTS r
          ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
        WHERE k.TABLE_SCHEMA = database() AND k.REFERENCED_TABLE_NAME IS NOT NULL`.execute(conn.db)
    ).rows;
  }
  return rows.map((r) => ({
    table: String(r.tbl),
    column: String(r.col),
    refTable: String(r.ref),
    refColumn: String(r.refcol),
    onDelete: String(r.on_delete ?? 'NO ACTION').toUpperCase(),
  }));
}

/** Index definitions by table (SQLite and PostgreSQL; MySQL reports none), normalised. */
async function indexDefinitions(conn: Connection): Promise<Map<string, string[]> | null> {
  let rows: { tbl: string; def: string }[];
  if (conn.dialect === 'sqlite')
    rows = (
      await sql<{ tbl: string; def: string }>`
        SELECT tbl_name AS tbl, sql AS def FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`.execute(
        conn.db,
      )
    ).rows;
  else if (conn.dialect === 'postgres')
    rows = (
      await sql<{ tbl: string; def: string }>`
        SELECT tablename AS tbl, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema()`.execute(
        conn.db,
      )
    ).rows;
  else return null;
  const byTable = new Map<string, string[]>();
  for (const r of rows)
    byTable.set(r.tbl, [
      ...(byTable.get(r.tbl) ?? []),
      String(r.def)
        .toLowerCase()
        .replace(/["`\s]/g, ''),
    ]);
  return byTable;
}

export async function introspect(conn: Connection): Promise<LiveSchema> {
  const tables = await listTables(conn);
  const definitions = await indexDefinitions(conn);
  const indexes = new Map<string, Map<string, { col: string; pos: number }[]>>();
  for (const row of await indexRows(conn)) {
    const byIndex = indexes.get(row.tbl) ?? new Map<string, { col: string; pos: number }[]>();
    const cols = byIndex.get(row.idx) ?? [];
    cols.push({ col: row.col, pos: Number(row.pos) });
    byIndex.set(row.idx, cols);
    indexes.set(row.tbl, byIndex);
  }
  const live: LiveTable[] = tables.map((t) => {
    const byIndex = [...(indexes.get(t.name)?.values() ?? [])].map((cols) =>
      cols.sort((a, b) => a.pos - b.pos).map((c) => c.col),
    );
    return {
      name: t.name,
      columns: t.columns.map((c) => ({ name: c.name, dataType: c.dataType, nullable: c.isNullable })),
      indexes: byIndex,
      ...(definitions ? { indexDefinitions: definitions.get(t.name) ?? [] } : {}),
    };
  });
  return { tables: live, foreignKeys: await foreignKeys(conn) };
}

/** Counts, in one set-based query, the values of each column that are there but invalid. */
export async function invalidValues(
  conn: Connection,
  table: string,
  primaryKey: string,
  columns: readonly { column: string; kind: 'date' | 'amount' }[],
): Promise<Map<string, InvalidValues>> {
  const found = new Map<string, InvalidValues>();
  if (columns.length === 0) return found;
  const parts = columns.flatMap(({ column, kind }, i) => {
    const value = sql.ref(`t.${column}`);
    const parsed = kind === 'date' ? dateOf(conn.dialect, value) : amountOf(conn.dialect, value);
    const bad = sql`(${value} IS NOT NULL AND ${parsed} IS NULL)`;
    return [
      sql`SUM(CASE WHEN ${bad} THEN 1 ELSE 0 END) AS ${sql.id(`n${i}`)}`,
      sql`MIN(CASE WHEN ${bad} THEN ${sql.ref(`t.${primaryKey}`)} END) AS ${sql.id(`k${i}`)}`,
    ];
  });
  const { rows } = await sql<
    Record<string, unknown>
  >`SELECT ${sql.join(parts)} FROM ${sql.table(table)} AS t`.execute(conn.db);
  const row = rows[0] ?? {};
  columns.forEach(({ column, kind }, i) => {
    const key = row[`k${i}`];
    found.set(`${table}.${column}`, {
      kind,
      count: Number(row[`n${i}`] ?? 0),
      firstKey: key === null || key === undefined ? null : String(key),
    });
  });
  return found;
}
