/**
 * Reading a store's suppression list: the entries of some hashes, every hash (for filtering a
 * mailing list), and how many entries there are. Writing is `putOnSuppressionList` (sweep.ts),
 * shared with the sweep and people's requests.
 */
import type { StoreMap } from '../../core/datamap/datamap-schema.js';
import { toCalendarDate } from '../../core/retention/calendar.js';
import type { Connection, Dialect } from './connect.js';
import { dateOf, inKeys } from './dialect.js';
import { sql } from './kysely.js';

type SuppressionList = NonNullable<StoreMap['suppressionList']>;

/** A stored timestamp's UTC day as text (a driver would read a date as a local midnight). */
const dayOf = (dialect: Dialect, column: string) =>
  sql`CAST(${dateOf(dialect, sql.ref(column))} AS ${dialect === 'mysql' ? sql`CHAR` : sql`TEXT`})`;

/** One entry of the list. */
export interface SuppressionEntry {
  readonly hash: string;
  /** The day it was added or last renewed, when the list has a timestamp column. */
  readonly addedAt?: string;
  readonly reason?: string;
}

const entryOf = (list: SuppressionList, row: Record<string, unknown>): SuppressionEntry => {
  const addedAt = list.timestamp ? toCalendarDate(row.t) : null;
  return {
    hash: String(row.h),
    ...(addedAt ? { addedAt } : {}),
    ...(list.reason && row.r !== null && row.r !== undefined ? { reason: String(row.r) } : {}),
  };
};

function columns(dialect: Dialect, list: SuppressionList) {
  return [
    sql.ref(list.column).as('h'),
    ...(list.timestamp ? [dayOf(dialect, list.timestamp).as('t')] : []),
    ...(list.reason ? [sql.ref(list.reason).as('r')] : []),
  ];
}

/** The entries whose hash is one of `hashes` (a few: one person under each key of the ring). */
export async function suppressionEntries(
  conn: Connection,
  list: SuppressionList,
  hashes: readonly string[],
): Promise<SuppressionEntry[]> {
  if (hashes.length === 0) return [];
  const rows = await conn.db
    .selectFrom(list.table)
    .select(columns(conn.dialect, list))
    .where(inKeys(conn.dialect, sql.ref(list.column), hashes))
    .execute();
  return (rows as Record<string, unknown>[]).map((r) => entryOf(list, r));
}

/**
 * Every hash on the list, read a page at a time in the order of the hash (the column's index
 * serves it), so that no statement returns the whole list at once.
 */
export async function suppressedHashes(conn: Connection, list: SuppressionList, page = 50_000) {
  const hashes = new Set<string>();
  let after: string | undefined;
  for (;;) {
    let query = conn.db
      .selectFrom(list.table)
      .select(sql.ref(list.column).as('h'))
      .where(sql.ref(list.column), 'is not', null);
    if (after !== undefined) query = query.where(sql.ref(list.column), '>', after);
    const rows = (await query.orderBy(sql.ref(list.column)).limit(page).execute()) as { h: unknown }[];
    for (const r of rows) hashes.add(String(r.h));
    if (rows.length < page) return hashes;
    after = String(rows[rows.length - 1]?.h);
  }
}

/** How many entries the list has, and the day of the newest (when it has a timestamp column). */
export async function suppressionSummary(
  conn: Connection,
  store: StoreMap,
): Promise<{ entries: number; newest: string | null } | null> {
  const list = store.suppressionList;
  if (!list) return null;
  const row = (await conn.db
    .selectFrom(list.table)
    .select([
      sql<number>`COUNT(*)`.as('n'),
      ...(list.timestamp ? [sql`MAX(${dayOf(conn.dialect, list.timestamp)})`.as('t')] : []),
    ])
    .executeTakeFirst()) as { n: unknown; t?: unknown } | undefined;
  return {
    entries: Number(row?.n ?? 0),
    newest: list.timestamp ? toCalendarDate(row?.t) : null,
  };
}
