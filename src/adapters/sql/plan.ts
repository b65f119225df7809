/**
 * `plan`: for each rule and table, how many records are active, in archive, due and held on a
 * date, counted by the database in one set-based query per table.
 */
import { type RawBuilder, sql } from 'kysely';
import type { DataMap } from '../../core/datamap-load.js';
import type { StoreMap } from '../../core/datamap-schema.js';
import type { Register } from '../../core/register-load.js';
import type { Connection } from './connect.js';
import { dateLiteral, dateText } from './dialect.js';
import { combineRules, heldSql, type RetentionSqlContext, ruleColumns } from './retention-sql.js';

export interface PlanLine {
  readonly rule: string;
  readonly table: string;
  readonly active: number;
  readonly archive: number;
  readonly due: number;
  readonly held: number;
}

// biome-ignore lint/suspicious/noExplicitAny: a SQL fragment of any type
type Expr = RawBuilder<any>;

/**
 * The per-record verdict query of one table: its key, winning rule index, deadline, archive start,
 * held flag and status on `at`. Each rule's dates are computed once, in the inner query.
 */
export function verdictQuery(
  ctx: RetentionSqlContext,
  table: StoreMap['tables'][number],
  at: string,
  where?: Expr,
): Expr {
  const recordId = table.record as string;
  const rules = ruleColumns(ctx, recordId, 't');
  const inner = sql.join(
    [
      sql`${sql.ref(`t.${table.primaryKey}`)} AS k`,
      ...rules.flatMap((r, i) => [
        sql`${r.deadline} AS ${sql.id(`d${i}`)}`,
        sql`${r.activeEnd} AS ${sql.id(`e${i}`)}`,
        ...(r.inArchive ? [sql`CASE WHEN ${r.inArchive} THEN 1 ELSE 0 END AS ${sql.id(`a${i}`)}`] : []),
      ]),
      sql`CASE WHEN ${heldSql(ctx, recordId, 't')} THEN 1 ELSE 0 END AS held`,
    ],
    sql`, `,
  );
  const verdict = combineRules(ctx, rules, (r, what) => {
    const i = rules.indexOf(r);
    if (what === 'inArchive') return sql`${sql.ref(`c.a${i}`)} = 1`;
    return sql.ref(`c.${what === 'deadline' ? 'd' : 'e'}${i}`);
  });
  const on = dateLiteral(ctx.dialect, at);
  return sql`SELECT k, rule_index, ${dateText(ctx.dialect, sql.ref('v.deadline'))} AS deadline,
      ${dateText(ctx.dialect, sql.ref('v.archive_from'))} AS archive_from, held,
      CASE WHEN held = 1 THEN 'held' WHEN v.deadline <= ${on} THEN 'due' WHEN v.archive_from <= ${on} THEN 'archive' ELSE 'active' END AS status
    FROM (SELECT c.k, c.held, ${verdict.rule} AS rule_index, ${verdict.deadline} AS deadline, ${verdict.archiveFrom} AS archive_from
          FROM (SELECT ${inner} FROM ${sql.table(table.name)} AS t ${where ? sql`WHERE ${where}` : sql``}) c) v`;
}

export async function planStore(
  conn: Connection,
  register: Register,
  datamap: DataMap,
  store: StoreMap,
  at: string,
): Promise<PlanLine[]> {
  const ctx: RetentionSqlContext = { register, datamap, dialect: conn.dialect };
  const lines: PlanLine[] = [];
  for (const table of store.tables) {
    if (!table.record || !register.retention.some((r) => r.record === table.record && r.todo === undefined))
      continue;
    const query = sql<{ rule_index: number | string; status: string; n: number | string }>`
      SELECT rule_index, status, COUNT(*) AS n FROM (${verdictQuery(ctx, table, at)}) s
      WHERE rule_index IS NOT NULL GROUP BY rule_index, status`;
    const { rows } = await query.execute(conn.db);
    const byRule = new Map<number, PlanLine>();
    for (const row of rows) {
      const index = Number(row.rule_index);
      const rule = register.retention[index]?.id ?? String(index);
      const line = byRule.get(index) ?? { rule, table: table.name, active: 0, archive: 0, due: 0, held: 0 };
      byRule.set(index, { ...line, [row.status]: Number(row.n) });
    }
    for (const [index, rule] of register.retention.entries()) {
      if (rule.record !== table.record || rule.todo !== undefined) continue;
      lines.push(
        byRule.get(index) ?? { rule: rule.id, table: table.name, active: 0, archive: 0, due: 0, held: 0 },
      );
    }
  }
  return lines;
}

export interface ForecastLine {
  readonly rule: string;
  readonly table: string;
  /** `YYYY-MM` → how many records reach their deadline in that month (holds aside). */
  readonly months: Readonly<Record<string, number>>;
}

/** How many records reach their deadline in each month of [from, until), per rule. */
export async function forecastStore(
  conn: Connection,
  register: Register,
  datamap: DataMap,
  store: StoreMap,
  from: string,
  until: string,
): Promise<ForecastLine[]> {
  const ctx: RetentionSqlContext = { register, datamap, dialect: conn.dialect };
  const lines: ForecastLine[] = [];
  for (const table of store.tables) {
    if (!table.record || !register.retention.some((r) => r.record === table.record && r.todo === undefined))
      continue;
    const { rows } = await sql<{ rule_index: number | string; month: string; n: number | string }>`
      SELECT rule_index, substr(deadline, 1, 7) AS month, COUNT(*) AS n FROM (${verdictQuery(ctx, table, from)}) s
      WHERE rule_index IS NOT NULL AND held = 0 AND deadline >= ${from} AND deadline < ${until}
      GROUP BY rule_index, substr(deadline, 1, 7)`.execute(conn.db);
    for (const [index, rule] of register.retention.entries()) {
      if (rule.record !== table.record || rule.todo !== undefined) continue;
      const months: Record<string, number> = {};
      for (const row of rows) if (Number(row.rule_index) === index) months[row.month] = Number(row.n);
      lines.push({ rule: rule.id, table: table.name, months });
    }
  }
  return lines;
}
