import { type Kysely, sql } from '../../sql/kysely.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was, not as it is
export type MigrationDb = Kysely<any>;

/**
 * Adds a column unless it is there: a migration that stopped halfway can be run again.
 * `schema`: on PostgreSQL, the store's own schema (another one of the server may hold a store).
 */
export async function addColumnOnce(
  db: MigrationDb,
  schema: string | undefined,
  table: string,
  column: string,
  type: 'text' | 'integer' | 'varchar(16)' | 'varchar(64)',
): Promise<void> {
  if (schema !== undefined) {
    // PostgreSQL: the store's own schema in the catalogue. Kysely's introspection reads every
    // schema of the server and fails (3F000) when another one is dropped meanwhile (see listTables).
    const { rows } = await sql<{ n: number }>`
      SELECT 1 AS n FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
      WHERE ns.nspname = ${schema} AND c.relname = ${table} AND a.attname = ${column} AND NOT a.attisdropped`.execute(
      db,
    );
    if (rows.length > 0) return;
  } else {
    const tables = await db.introspection.getTables();
    if (tables.find((t) => t.name === table)?.columns.some((c) => c.name === column)) return;
  }
  await db.schema.alterTable(table).addColumn(column, type).execute();
}
