import type { Kysely } from '../../sql/kysely.js';

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
  const tables = await db.introspection.getTables();
  const found = tables.find((t) => t.name === table && (schema === undefined || t.schema === schema));
  if (found?.columns.some((c) => c.name === column)) return;
  await db.schema.alterTable(table).addColumn(column, type).execute();
}
