/**
 * What a breach touched, counted in the stores: per table, the records holding a value in one of
 * the columns in scope and the distinct people among them (one statement per table, set-based);
 * then the people of every table counted by the same identity, once (one statement per identity).
 */

import type { AffectedTable } from '../../core/breaches/breach.js';
import type { PersonPath, ScopedTable } from '../../core/breaches/breach-scope.js';
import { findRecord } from '../../core/register/register-model.js';
import type { Connection } from './connect.js';
import { type RawBuilder, sql } from './kysely.js';
import { conditionSql, freshAliases, type RetentionSqlContext } from './retention-sql.js';

// biome-ignore lint/suspicious/noExplicitAny: a SQL fragment of any type
type Expr = RawBuilder<any>;

const T = 't';

/** The joins from the table to its person's table, and the expression of the person's key. */
function personSql(person: PersonPath): { joins: Expr; key: Expr } {
  const joins: Expr[] = [];
  let previous = T;
  person.hops.forEach((hop, i) => {
    const alias = `p${i + 1}`;
    joins.push(
      sql`LEFT JOIN ${sql.table(hop.table)} AS ${sql.id(alias)} ON ${sql.ref(`${alias}.${hop.remote}`)} = ${sql.ref(`${previous}.${hop.local}`)}`,
    );
    previous = alias;
  });
  const column = sql.ref(`${previous}.${person.column}`);
  // An address is one person however it is written.
  const key = person.kind === 'email' ? sql`LOWER(TRIM(${column}))` : column;
  return { joins: sql.join(joins, sql` `), key };
}

/** FROM the table, its person's joins, WHERE a column in scope holds a value (and a rule in scope matches). */
function scopedFrom(ctx: RetentionSqlContext, scoped: ScopedTable): { from: Expr; key: Expr | null } {
  const held = sql.join(
    scoped.columns.map((c) => sql`${sql.ref(`${T}.${c}`)} IS NOT NULL`),
    sql` OR `,
  );
  const record = findRecord(ctx.register, scoped.record);
  const rules = ctx.register.retention.filter((r) => scoped.rules.includes(r.id));
  const matched =
    record && rules.length > 0
      ? sql` AND (${sql.join(
          rules.map((r) => conditionSql(ctx, scoped.record, T, r.where)),
          sql` OR `,
        )})`
      : sql``;
  const person = scoped.person ? personSql(scoped.person) : null;
  return {
    from: sql`${sql.table(scoped.table.name)} AS ${sql.id(T)} ${person?.joins ?? sql``} WHERE (${held})${matched}`,
    key: person?.key ?? null,
  };
}

/** Per table: its records and its people, one statement each. */
export async function countScopedTable(
  conn: Connection,
  ctx: RetentionSqlContext,
  scoped: ScopedTable,
): Promise<AffectedTable> {
  const query = freshAliases(() => {
    const { from, key } = scopedFrom(ctx, scoped);
    return sql<{
      records: number | string;
      people: number | string | null;
    }>`SELECT COUNT(*) AS records, ${key ? sql`COUNT(DISTINCT ${key})` : sql`NULL`} AS people FROM ${from}`;
  });
  const row = (await query.execute(conn.db)).rows[0];
  return {
    store: scoped.store.id,
    table: scoped.table.name,
    record: scoped.record,
    columns: scoped.columns,
    categories: scoped.categories,
    records: Number(row?.records ?? 0),
    people: scoped.person ? Number(row?.people ?? 0) : null,
    personKey: scoped.person?.key ?? null,
  };
}

/**
 * The distinct people of several tables counted by the same identity (a customer's orders and
 * payments): the union of their keys, counted once, in one statement.
 */
export async function countPeople(
  conn: Connection,
  ctx: RetentionSqlContext,
  tables: readonly ScopedTable[],
): Promise<number> {
  const query = freshAliases(() => {
    const parts = tables.map((scoped) => {
      const { from, key } = scopedFrom(ctx, scoped);
      return sql`SELECT ${key ?? sql`NULL`} AS k FROM ${from}`;
    });
    return sql<{
      n: number | string;
    }>`SELECT COUNT(DISTINCT k) AS n FROM (${sql.join(parts, sql` UNION `)}) u`;
  });
  return Number((await query.execute(conn.db)).rows[0]?.n ?? 0);
}
