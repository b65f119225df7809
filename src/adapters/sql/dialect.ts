/** What differs between the dialects, in one place: quoting, placeholders, column types. */
import { CompiledQuery, type Kysely } from 'kysely';
import type { ShopColumnType } from '../../core/demo/shop-model.js';
import type { Dialect } from './connect.js';

export function quote(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/** The column type each dialect stores a reference-shop column as. */
export function columnType(dialect: Dialect, type: ShopColumnType): string {
  switch (type) {
    case 'id':
    case 'ref':
    case 'integer':
      return 'integer';
    case 'boolean':
      return dialect === 'sqlite' ? 'integer' : 'boolean';
    case 'timestamp':
      return dialect === 'sqlite' ? 'text' : dialect === 'postgres' ? 'timestamptz' : 'datetime';
    case 'string':
      return dialect === 'mysql' ? 'varchar(255)' : 'text';
    case 'text':
      return 'text';
  }
}

/** The most rows one multi-row INSERT of `columns` columns may carry (parameter limits). */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.min(500, Math.floor(30_000 / columns)));
}

/** A plain multi-row INSERT: `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)`. */
export function multiRowInsert(
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  rows: number,
): string {
  const cols = columns.map((c) => quote(dialect, c)).join(', ');
  let n = 0;
  const tuple = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
  const tuples = Array.from({ length: rows }, tuple).join(', ');
  return `INSERT INTO ${quote(dialect, table)} (${cols}) VALUES ${tuples}`;
}

/** Inserts rows (arrays in column order) in batches of multi-row INSERTs, within the caller's transaction. */
export async function insertRows(
  // biome-ignore lint/suspicious/noExplicitAny: any table
  db: Kysely<any>,
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  const size = rowsPerInsert(columns.length);
  const full = rows.length >= size ? multiRowInsert(dialect, table, columns, size) : '';
  for (let start = 0; start < rows.length; start += size) {
    const end = Math.min(start + size, rows.length);
    const params: unknown[] = new Array((end - start) * columns.length);
    let p = 0;
    for (let r = start; r < end; r++) for (const value of rows[r] as readonly unknown[]) params[p++] = value;
    const text = end - start === size ? full : multiRowInsert(dialect, table, columns, end - start);
    await db.executeQuery(CompiledQuery.raw(text, params));
  }
}
