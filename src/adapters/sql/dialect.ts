/** What differs between the dialects, in one place: quoting, placeholders, column types. */

import type { Anonymisation } from '../../core/datamap/datamap-schema.js';
import type { ShopColumnType } from '../../core/demo/shop-model.js';
import { IDENTITY_TRIM } from '../../core/identity.js';
import { addDuration, MAX_AMOUNT } from '../../core/retention/calendar.js';
import type { Dialect } from './connect.js';
import { CompiledQuery, type Kysely, type RawBuilder, sql } from './kysely.js';

export function quote(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/**
 * An identity column as a search compares it: stripped of `IDENTITY_TRIM` at both ends, ASCII
 * letters lower-cased (SQLite's `lower()`, PostgreSQL's under the "C" collation: the same on every
 * database whatever its locale), compared byte for byte (MariaDB: a binary collation, never
 * `_general_ci`, which takes `jerome` for `jérôme`). Its candidates are `identitySpellings`, and
 * what it finds is checked against `normaliseEmail` in TypeScript: the two agree exactly.
 * SQLite and PostgreSQL index this expression; MariaDB has no expression indexes.
 */
export function identitySql(dialect: Dialect, column: string): string {
  const ref = quote(dialect, column);
  if (dialect === 'sqlite') return `lower(trim(${ref}, char(${IDENTITY_TRIM.join(', ')})))`;
  const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, '0');
  if (dialect === 'postgres')
    return `lower(btrim(${ref}, E'${IDENTITY_TRIM.map((cp) => `\\u${hex(cp)}`).join('')}') COLLATE "C")`;
  const set = `[${IDENTITY_TRIM.map((cp) => `\\\\x{${hex(cp)}}`).join('')}]`;
  return `CONVERT(LOWER(REGEXP_REPLACE(${ref}, '^${set}+|${set}+$', '')) USING utf8mb4) COLLATE utf8mb4_bin`;
}

/** The index that serves a search by normalised identity (`identitySql`). */
export function normalisedIndexSql(dialect: Dialect, table: string, column: string): string {
  const name = quote(dialect, `${table}_${column}_norm_idx`);
  return `CREATE INDEX ${name} ON ${quote(dialect, table)} (${identitySql(dialect, column)})`;
}

/**
 * Whether an index definition (as `introspect` gives it: lower-cased, without quotes and white
 * space) serves `identitySql` of `column`. PostgreSQL prints its own form of the expression.
 */
export function servesIdentitySearch(dialect: Dialect, definition: string, column: string): boolean {
  if (dialect === 'postgres')
    return definition.includes(`lower((btrim(${column},`) && definition.includes('collatec))');
  return definition.includes(
    identitySql(dialect, column)
      .toLowerCase()
      .replace(/["`\s]/g, ''),
  );
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

// ---- Dates, as retention SQL needs them: every function gives the calendar date (UTC) and clamps
// month arithmetic to the month's end, exactly as src/core/retention/calendar.ts does.

// biome-ignore lint/suspicious/noExplicitAny: a SQL fragment of any type
type Expr = RawBuilder<any>;

/** Far in the future: "no deadline" in a comparison, so that never-due records sort last. */
export const NEVER = '9999-12-31';

/** The time part a stored date may have, as a POSIX regular expression (see core/calendar.ts). */
const TIME_RE =
  '([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?';
const DATE_RE = `^[0-9]{4}-[0-9]{2}-[0-9]{2}${TIME_RE}$`;

/**
 * The UTC calendar date of a stored timestamp (SQLite text, PostgreSQL timestamptz or text,
 * MySQL DATETIME or text), or NULL when the value is not a valid date by the one definition of
 * core/calendar.ts: a number, a Julian day, `2026-02-30` or an e-mail address never becomes a
 * date, and never raises an error either.
 */
export function dateOf(dialect: Dialect, value: Expr): Expr {
  if (dialect === 'sqlite') {
    const v = value;
    const rest = sql`substr(${v}, 12)`;
    const zone = sql`CASE WHEN ${rest} GLOB '*Z' THEN substr(${rest}, 1, length(${rest}) - 1)
      WHEN ${rest} GLOB '*[+-][0-2][0-9]:[0-5][0-9]' AND substr(${rest}, length(${rest}) - 4, 2) <= '23' THEN substr(${rest}, 1, length(${rest}) - 6)
      ELSE ${rest} END`;
    const time = sql`(substr(${zone}, 1, 2) <= '23' AND (${zone} GLOB '[0-2][0-9]:[0-5][0-9]' OR ${zone} GLOB '[0-2][0-9]:[0-5][0-9]:[0-5][0-9]'
      OR (${zone} GLOB '[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9]*' AND substr(${zone}, 10) NOT GLOB '*[^0-9]*')))`;
    // The usual forms first, cheaply: 'YYYY-MM-DD HH:MM:SS' (the only valid form of 19 characters
    // with a space or T at the 11th) and 'YYYY-MM-DD'; date() equal to the date part proves both
    // the form and the day (it turns 2026-02-30 into 2026-03-02). Then the general form.
    return sql`CASE WHEN length(${v}) = 19 AND substr(${v}, 11, 1) IN (' ', 'T') THEN
        CASE WHEN date(${v}) = substr(${v}, 1, 10) AND substr(${v}, 12, 2) <= '23' AND substr(${v}, 1, 4) <> '0000'
          THEN substr(${v}, 1, 10) END
      WHEN length(${v}) = 10 THEN
        CASE WHEN date(${v}) = ${v} AND substr(${v}, 1, 4) <> '0000' THEN ${v} END
      WHEN typeof(${v}) = 'text'
      AND substr(${v}, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND substr(${v}, 1, 4) <> '0000'
      AND date(substr(${v}, 1, 10)) = substr(${v}, 1, 10)
      AND (length(${v}) = 10 OR (substr(${v}, 11, 1) IN (' ', 'T') AND ${time}))
      THEN date(${v}) END`;
  }
  if (dialect === 'postgres') {
    const t = sql`(${value})::text`;
    const year = sql`substr(${t}, 1, 4)::int`;
    const month = sql`substr(${t}, 6, 2)::int`;
    const day = sql`substr(${t}, 9, 2)::int`;
    const lastDay = sql`extract(day from (make_date(${year}, ${month}, 1) + interval '1 month - 1 day'))`;
    // Nested CASEs: PostgreSQL does not promise the order of AND, and a cast of bad text raises.
    const text = sql`CASE WHEN ${t} ~ ${DATE_RE} AND substr(${t}, 1, 4) <> '0000' THEN
        CASE WHEN ${month} BETWEEN 1 AND 12 THEN CASE WHEN ${day} BETWEEN 1 AND ${lastDay}
          THEN (${t}::timestamptz AT TIME ZONE 'UTC')::date END END END`;
    const typed = sql`((${value})::timestamptz AT TIME ZONE 'UTC')::date`;
    const date = sql`(CASE WHEN pg_typeof(${value}) IN ('text'::regtype, 'character varying'::regtype) THEN ${text} ELSE ${typed} END)`;
    return withinYears(date);
  }
  return sql`(CASE WHEN CAST(CAST(${value} AS CHAR) AS BINARY) REGEXP ${DATE_RE.replace('(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?', '(Z)?')}
    AND DATE_FORMAT(DATE(SUBSTR(CAST(${value} AS CHAR), 1, 10)), '%Y-%m-%d') = SUBSTR(CAST(${value} AS CHAR), 1, 10)
    AND SUBSTR(CAST(${value} AS CHAR), 1, 4) <> '0000'
    AND SUBSTR(CAST(${value} AS CHAR), 6, 2) BETWEEN '01' AND '12' AND SUBSTR(CAST(${value} AS CHAR), 9, 2) >= '01'
    THEN DATE(${value}) END)`;
}

/**
 * The UTC calendar date of a value of a native date or time column (PostgreSQL timestamptz,
 * timestamp or date; MySQL DATETIME, TIMESTAMP or DATE), exactly as dateOf gives it, without
 * reading it as text: a range check in PostgreSQL (infinity and the years past 9999 or before 1
 * give NULL), and in MySQL an addition of nothing, which gives NULL for the zero dates and the
 * invalid ones (2020-02-30, 2020-00-10, year 0) a lax sql_mode lets a DATETIME hold. SQLite has
 * no such column: dateOf there.
 */
export function nativeDateOf(dialect: Dialect, value: Expr): Expr {
  if (dialect === 'postgres') {
    const t = sql`(${value})::timestamptz`;
    return sql`(CASE WHEN ${t} >= '0001-01-01 00:00:00+00'::timestamptz AND ${t} < '10000-01-01 00:00:00+00'::timestamptz
      THEN (${t} AT TIME ZONE 'UTC')::date END)`;
  }
  if (dialect === 'mysql') return sql`DATE(DATE_ADD(${value}, INTERVAL 0 DAY))`;
  return dateOf(dialect, value);
}

/**
 * Whether a native date or time value is a valid date (nativeDateOf gives one), without computing
 * it: PostgreSQL's range check alone (no time zone conversion), MySQL's addition of nothing.
 */
export function nativeValid(dialect: Dialect, value: Expr): Expr {
  if (dialect === 'postgres') {
    const t = sql`(${value})::timestamptz`;
    return sql`(${t} >= '0001-01-01 00:00:00+00'::timestamptz AND ${t} < '10000-01-01 00:00:00+00'::timestamptz)`;
  }
  if (dialect === 'mysql') return sql`(DATE_ADD(${value}, INTERVAL 0 DAY) IS NOT NULL)`;
  return sql`(${dateOf(dialect, value)} IS NOT NULL)`;
}

/**
 * `nativeDateOf(value) <= date` for a valid native value, compared as the column stores it (its
 * UTC date is on or before `date` when it is before the next day's midnight, UTC): no conversion
 * per row. Null and invalid values must be told apart by the caller (nativeValid): an invalid
 * one may compare either way. `date` is before 9999-12-31.
 */
export function nativeAtMost(dialect: Dialect, value: Expr, date: string): Expr {
  const day = addDuration(date, { amount: 1, unit: 'days' });
  if (day === null) throw new Error(`nativeAtMost: no day after ${date}`);
  if (dialect === 'postgres') return sql`(${value})::timestamptz < ${`${day} 00:00:00+00`}::timestamptz`;
  if (dialect === 'mysql') return sql`${value} < ${`${day} 00:00:00`}`;
  return sql`${dateOf(dialect, value)} <= ${date}`;
}

/**
 * A duration amount read from the data (a controller's retention_months) as a whole number from
 * 0 to MAX_AMOUNT, or NULL, exactly as core/calendar.ts's toAmount reads it.
 */
export function amountOf(dialect: Dialect, value: Expr): Expr {
  const max = sql.lit(MAX_AMOUNT);
  if (dialect === 'sqlite') {
    const dot = sql`instr(${value}, '.')`;
    const whole = sql`CASE WHEN ${dot} > 0 THEN substr(${value}, 1, ${dot} - 1) ELSE ${value} END`;
    return sql`CASE WHEN typeof(${value}) IN ('integer', 'real') THEN
        CASE WHEN ${value} >= 0 AND ${value} <= ${max} AND ${value} = CAST(${value} AS INTEGER) THEN CAST(${value} AS INTEGER) END
      WHEN typeof(${value}) = 'text' AND ${whole} <> '' AND ${whole} NOT GLOB '*[^0-9]*' AND length(${whole}) <= 6
        AND (${dot} = 0 OR (${dot} < length(${value}) AND substr(${value}, ${dot} + 1) NOT GLOB '*[^0]*'))
        AND CAST(${whole} AS INTEGER) <= ${max} THEN CAST(${whole} AS INTEGER) END`;
  }
  if (dialect === 'postgres') {
    const t = sql`(${value})::text`;
    return sql`(CASE WHEN pg_typeof(${value}) IN ('text'::regtype, 'character varying'::regtype) THEN
        CASE WHEN ${t} ~ '^[0-9]{1,6}([.]0+)?$' THEN CASE WHEN ${t}::numeric <= ${max} THEN ${t}::numeric::int END END
      WHEN pg_typeof(${value}) IN ('boolean'::regtype) THEN NULL
      ELSE CASE WHEN (${value})::numeric >= 0 AND (${value})::numeric <= ${max} AND (${value})::numeric = floor((${value})::numeric) THEN (${value})::numeric::int END END)`;
  }
  return sql`(CASE WHEN CAST(${value} AS CHAR) REGEXP '^[0-9]{1,6}([.]0+)?$' AND ${value} <= ${max} THEN CAST(${value} AS UNSIGNED) END)`;
}

/** A NULL of date type (PostgreSQL will not guess the type of a bare NULL). */
export function nullDate(dialect: Dialect): Expr {
  return dialect === 'postgres' ? sql`CAST(NULL AS date)` : sql`NULL`;
}

export function dateLiteral(dialect: Dialect, date: string): Expr {
  if (dialect === 'sqlite') return sql`${date}`;
  if (dialect === 'postgres') return sql`${date}::date`;
  return sql`DATE(${date})`;
}

/** A date as `YYYY-MM-DD` text in a result row. */
export function dateText(dialect: Dialect, value: Expr): Expr {
  if (dialect === 'sqlite') return value;
  if (dialect === 'postgres') return sql`to_char(${value}, 'YYYY-MM-DD')`;
  return sql`DATE_FORMAT(${value}, '%Y-%m-%d')`;
}

/**
 * date + a constant number of months, clamped to the end of the month: as addMonths, and in
 * SQLite with one date() call for a day of the month up to the 28th (nothing to clamp there),
 * the general form only for the 29th to the 31st.
 */
export function addConstantMonths(dialect: Dialect, date: Expr, months: number): Expr {
  const general = addMonths(dialect, date, sql.lit(months));
  if (dialect !== 'sqlite') return general;
  return sql`CASE WHEN substr(${date}, 9, 2) <= '28' THEN date(${date}, ${`+${months} months`}) ELSE ${general} END`;
}

/** date + months (a non-negative number or integer expression; NULL gives NULL), clamped to the end of the month. */
export function addMonths(dialect: Dialect, date: Expr, months: Expr): Expr {
  if (dialect === 'postgres')
    return beforeTheEnd(sql`(${date} + make_interval(months => (${months})::int))::date`);
  if (dialect === 'mysql') return sql`DATE_ADD(${date}, INTERVAL (${months}) MONTH)`;
  // SQLite's '+N months' overflows into the next month (2025-01-31 + 1 month = 2025-03-03): go to
  // the first of the target month, add the day back, and keep the earlier of that and the month's end.
  // Amounts are never negative here; '+' || NULL keeps a missing amount NULL (printf would make it 0).
  const first = sql`date(${date}, 'start of month', '+' || (${months}) || ' months')`;
  // The month's last day: none from date() for December 9999 (its next month is out of range).
  return sql`min(date(${first}, '+' || (CAST(strftime('%d', ${date}) AS INTEGER) - 1) || ' days'), COALESCE(date(${first}, '+1 month', '-1 day'), '9999-12-31'))`;
}

/** PostgreSQL dates go far past 9999; SQLite and MySQL stop there, and so do deadlines. */
function beforeTheEnd(date: Expr): Expr {
  return withinYears(date);
}

/**
 * A PostgreSQL date outside the years 0001–9999 becomes NULL, the date written once: LEAST and
 * GREATEST bring it to a sentinel just outside, NULLIF turns the sentinel into NULL (and NULL,
 * which LEAST and GREATEST skip, comes out a sentinel, then NULL again).
 */
function withinYears(date: Expr): Expr {
  const after = sql`DATE '10000-01-01'`;
  const before = sql`DATE '0001-01-01' - 1`;
  return sql`NULLIF(NULLIF(GREATEST(LEAST(${date}, ${after}), ${before}), ${after}), ${before})`;
}

export function addDays(dialect: Dialect, date: Expr, days: Expr): Expr {
  if (dialect === 'postgres') return beforeTheEnd(sql`(${date} + (${days})::int)`);
  if (dialect === 'mysql') return sql`DATE_ADD(${date}, INTERVAL (${days}) DAY)`;
  return sql`date(${date}, '+' || (${days}) || ' days')`;
}

/** The last day of the financial year that contains `date`, for a year ending on `MM-DD`. */
export function financialYearEndOf(dialect: Dialect, date: Expr, yearEnd: string): Expr {
  const [month, day] = yearEnd.split('-').map(Number) as [number, number];
  // The year end of the date's own year: the first of the month after it, minus (last day - day) days,
  // written as "first of the year-end month + (day - 1) days", clamped to that month's end.
  const yearStart = (offsetYears: number): Expr =>
    dialect === 'sqlite'
      ? sql`date(${date}, 'start of year', ${`+${offsetYears} years`}, ${`+${month - 1} months`})`
      : dialect === 'postgres'
        ? sql`(date_trunc('year', ${date}) + make_interval(years => ${offsetYears}, months => ${month - 1}))::date`
        : sql`DATE_ADD(MAKEDATE(YEAR(${date}), 1), INTERVAL ${offsetYears * 12 + month - 1} MONTH)`;
  const endIn = (offsetYears: number): Expr => {
    const first = yearStart(offsetYears);
    const lastOfMonth =
      dialect === 'sqlite'
        ? sql`date(${first}, '+1 month', '-1 day')`
        : addDays(dialect, addMonths(dialect, first, sql`1`), sql`-1`);
    const wanted = addDays(dialect, first, sql`${day - 1}`);
    return least(dialect, [wanted, lastOfMonth]);
  };
  return sql`CASE WHEN ${date} <= ${endIn(0)} THEN ${endIn(0)} ELSE ${endIn(1)} END`;
}

/** The earliest non-null of several dates (null when all are). */
export function least(dialect: Dialect, values: readonly Expr[]): Expr {
  if (values.length === 1) return values[0] as Expr;
  if (dialect === 'postgres') return sql`LEAST(${sql.join(values)})`;
  // SQLite's min() and MySQL's LEAST return NULL when any argument is NULL: a NULL becomes a date
  // no real one reaches, and that date becomes NULL again. Each argument is written once.
  const high = dateLiteral(dialect, NEVER);
  const fn = sql.raw(dialect === 'sqlite' ? 'min' : 'LEAST');
  return sql`NULLIF(${fn}(${sql.join(values.map((v) => sql`COALESCE(${v}, ${high})`))}), ${high})`;
}

/** The latest non-null of several dates (null when all are). */
export function greatest(dialect: Dialect, values: readonly Expr[]): Expr {
  if (values.length === 1) return values[0] as Expr;
  if (dialect === 'postgres') return sql`GREATEST(${sql.join(values)})`;
  const low = dateLiteral(dialect, '0001-01-01');
  const fn = sql.raw(dialect === 'sqlite' ? 'max' : 'GREATEST');
  return sql`NULLIF(${fn}(${sql.join(values.map((v) => sql`COALESCE(${v}, ${low})`))}), ${low})`;
}

/** The value an anonymisation writes into a column. */
export function anonymiseColumnSql(dialect: Dialect, column: Expr, method: Anonymisation | undefined): Expr {
  if (method === undefined || method === null) return sql`NULL`;
  if ('fixed' in method) return sql`${method.fixed}`;
  if (method.generalise === 'prefix') return sql`substr(${column}, 1, ${sql.lit(method.keep)})`;
  const year = method.generalise === 'year';
  if (dialect === 'sqlite')
    return sql`strftime(${year ? '%Y-01-01 00:00:00' : '%Y-%m-01 00:00:00'}, ${column})`;
  if (dialect === 'postgres') return sql`date_trunc(${year ? 'year' : 'month'}, ${column})`;
  return sql`DATE_FORMAT(${column}, ${year ? '%Y-01-01' : '%Y-%m-01'})`;
}

/** Whether a column is already in the state its anonymisation leaves it in. */
export function anonymisedColumnSql(dialect: Dialect, column: Expr, method: Anonymisation | undefined): Expr {
  if (method === undefined || method === null) return sql`${column} IS NULL`;
  if ('fixed' in method) return sql`${column} = ${method.fixed}`;
  if (method.generalise === 'prefix')
    return sql`(${column} IS NULL OR length(${column}) <= ${sql.lit(method.keep)})`;
  return sql`(${column} IS NULL OR ${column} = ${anonymiseColumnSql(dialect, column, method)})`;
}

/**
 * Written after a subquery, keeps the planner from merging it into the query around it (and so
 * from copying its expressions into every place they are used): OFFSET 0, the usual fence.
 */
export function fence(dialect: Dialect): Expr {
  if (dialect === 'sqlite') return sql`LIMIT -1 OFFSET 0`;
  if (dialect === 'postgres') return sql`OFFSET 0`;
  return sql`LIMIT 18446744073709551615`;
}

/** The size a list of bound keys is padded to: the next power of two (at most `MAX_BOUND_KEYS`). */
function paddedLength(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/** Keys bound one parameter each (MySQL) go by lists of at most this many. */
export const MAX_BOUND_KEYS = 1024;

/**
 * `expr IN (keys)` whose statement text does not depend on how many keys there are: SQLite binds
 * them as one JSON array (`json_each`), PostgreSQL as one array (`= ANY`, typed by the column).
 * MySQL has neither that the planner serves with an index: there each key is a parameter, the
 * list padded to a power of two by repeating its last key, so a sweep prepares a handful of
 * statement texts, not one per batch length (prepared statements hold native memory); lists
 * longer than MAX_BOUND_KEYS are OR-ed. No key: a condition that is false.
 */
export function inKeys(dialect: Dialect, expr: Expr, keys: readonly unknown[]): Expr {
  if (keys.length === 0) return sql`1 = 0`;
  if (dialect === 'sqlite') return sql`${expr} IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`;
  if (dialect === 'postgres') return sql`${expr} = ANY(${keys.map((k) => (k === null ? null : String(k)))})`;
  const lists: Expr[] = [];
  for (let i = 0; i < keys.length; i += MAX_BOUND_KEYS) {
    const part = keys.slice(i, i + MAX_BOUND_KEYS);
    while (part.length < paddedLength(part.length)) part.push(part[part.length - 1]);
    lists.push(sql`${expr} IN (${sql.join(part.map((k) => sql`${k}`))})`);
  }
  return lists.length === 1 ? (lists[0] as Expr) : sql`(${sql.join(lists, sql` OR `)})`;
}
