/** Creates the reference shop's schema in a store and fills it from the generator. */

import type { ShopChunk } from '../../core/demo/generate-shop.js';
import { SHOP_TABLES } from '../../core/demo/shop-model.js';
import { RegistreError } from '../../core/errors.js';
import type { Connection } from './connect.js';
import { columnType, insertRows, normalisedIndexSql } from './dialect.js';
import { listTables } from './introspect.js';
import { sql } from './kysely.js';

export interface CreateShopOptions {
  /** Drop the reference shop's tables first if they exist (never any other table). */
  readonly replace?: boolean;
}

export async function createShopSchema(conn: Connection, options: CreateShopOptions = {}): Promise<void> {
  const existing = new Set((await listTables(conn)).map((t) => t.name));
  const clash = SHOP_TABLES.filter((t) => existing.has(t.name)).map((t) => t.name);
  if (clash.length > 0 && !options.replace)
    throw new RegistreError(
      'E_DEMO_EXISTS',
      `store "${conn.store}" (${conn.label}) already has the reference shop's tables (${clash.slice(0, 3).join(', ')}…): pass --replace to drop and regenerate them`,
    );
  for (const name of clash) await conn.db.schema.dropTable(name).execute();
  for (const table of SHOP_TABLES) {
    let create = conn.db.schema.createTable(table.name);
    for (const column of table.columns) {
      create = create.addColumn(column.name, sql.raw(columnType(conn.dialect, column.type)), (c) => {
        let def = column.type === 'id' ? c.primaryKey() : c;
        if (!column.nullable && column.type !== 'id') def = def.notNull();
        return def;
      });
    }
    await create.execute();
  }
}

/** The indexes of the reference shop: built after the load, which is much faster than row by row. */
export async function createShopIndexes(conn: Connection): Promise<void> {
  for (const table of SHOP_TABLES) {
    for (const column of table.indexes) {
      await conn.db.schema.createIndex(`${table.name}_${column}_idx`).on(table.name).column(column).execute();
    }
    // A person is found by the normalised address (lower(trim(email))): an expression index
    // serves it where the dialect has them (MariaDB has none).
    for (const column of table.columns.map((c) => c.name).filter((c) => /(^|_)email$/.test(c)))
      if (conn.dialect !== 'mysql')
        await sql.raw(normalisedIndexSql(conn.dialect, table.name, column)).execute(conn.db);
  }
  // Fresh statistics after a bulk load, as its owner would gather them: without them PostgreSQL
  // takes `customer_id = ?` for unselective and reads `max(placed_at)` backwards through the
  // whole date index for every customer. (SQLite's statistics would be a table of its own that
  // the data map does not declare: left to the shop's owner.)
  // The shop's own tables only: a bare ANALYZE would go through every schema of the database.
  if (conn.dialect !== 'sqlite')
    for (const table of SHOP_TABLES)
      await sql`${sql.raw(conn.dialect === 'mysql' ? 'ANALYZE TABLE' : 'ANALYZE')} ${sql.table(table.name)}`.execute(
        conn.db,
      );
}

/** Writes the generated chunks, one transaction per chunk; booleans become true/false where the dialect has them. */
export async function writeShop(
  conn: Connection,
  chunks: Iterable<ShopChunk>,
  onChunk?: (chunk: ShopChunk, rowsWritten: number) => void,
): Promise<number> {
  let written = 0;
  const booleans = new Map(
    SHOP_TABLES.map((t) => [t.name, t.columns.flatMap((c, i) => (c.type === 'boolean' ? [i] : []))]),
  );
  for (const chunk of chunks) {
    await conn.db.transaction().execute(async (trx) => {
      for (const table of SHOP_TABLES) {
        const rows = chunk.rows.get(table.name);
        if (!rows?.length) continue;
        const bools = booleans.get(table.name) ?? [];
        if (conn.dialect === 'postgres' && bools.length)
          for (const row of rows) for (const i of bools) row[i] = row[i] === null ? null : row[i] === 1;
        await insertRows(
          trx,
          conn.dialect,
          table.name,
          table.columns.map((c) => c.name),
          rows,
        );
        written += rows.length;
      }
    });
    onChunk?.(chunk, written);
  }
  return written;
}
