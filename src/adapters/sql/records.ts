/**
 * Records read from a store as the pure evaluator sees them (RecordView), with the related
 * records its rules need loaded beforehand: what `explain` evaluates, and what the tests compare
 * the SQL with.
 */

import { columnOfField, tableOfRecord } from '../../core/datamap/columns.js';
import { RegistreError } from '../../core/errors.js';
import type { Register } from '../../core/register/register-load.js';
import { findRecord } from '../../core/register/register-model.js';
import { dateInputs, keepInputs, type RecordView } from '../../core/retention/retention.js';
import type { Connection } from './connect.js';
import { sql } from './kysely.js';
import type { RetentionSqlContext } from './retention-sql.js';

type Row = Record<string, unknown>;

/** The relation paths (from a record) that its rules, conditions and follows read. */
export function neededPaths(register: Register, recordId: string, depth = 0): string[][] {
  if (depth > 4) return [];
  const paths: string[][] = [];
  const addField = (path: string) => {
    const segments = path.split('.');
    segments.pop();
    if (segments.length) paths.push(segments);
  };
  for (const rule of register.retention) {
    if (rule.record !== recordId) continue;
    for (const path of Object.keys(rule.where ?? {})) addField(path);
    const read = dateInputs([...(rule.anchor ? [rule.anchor] : []), ...(rule.until ?? [])]);
    for (const path of [...read.dates, ...read.aggregates, ...read.amounts]) addField(path);
    for (const path of rule.keep ? keepInputs(rule.keep) : []) addField(path);
    if (rule.follows) {
      const to = findRecord(register, recordId)?.relations?.[rule.follows]?.to;
      paths.push([rule.follows]);
      if (to) for (const sub of neededPaths(register, to, depth + 1)) paths.push([rule.follows, ...sub]);
    }
  }
  return paths;
}

export async function loadRows(
  conn: Connection,
  table: string,
  column: string,
  value: unknown,
): Promise<Row[]> {
  if (value === null || value === undefined) return [];
  return (await conn.db.selectFrom(table).selectAll().where(sql.ref(column), '=', value).execute()) as Row[];
}

/** A RecordView of `row`, with the relations along `paths` loaded from the store. */
export async function viewOfRow(
  conn: Connection,
  ctx: RetentionSqlContext,
  recordId: string,
  row: Row,
  paths: readonly (readonly string[])[],
): Promise<RecordView> {
  const bound = tableOfRecord(ctx.datamap, recordId);
  const record = findRecord(ctx.register, recordId);
  if (!bound || !record)
    throw new RegistreError('E_UNBOUND_RECORD', `record "${recordId}" is bound to no table`);
  const related = new Map<string, RecordView[]>();
  for (const rel of new Set(paths.map((p) => p[0] as string))) {
    const relation = record.relations?.[rel];
    const binding = bound.table.relations?.[rel];
    const target = relation ? tableOfRecord(ctx.datamap, relation.to) : undefined;
    if (!relation || !binding || !target) continue;
    const rows = await loadRows(conn, target.table.name, binding.remote, row[binding.local]);
    const rest = paths.filter((p) => p[0] === rel && p.length > 1).map((p) => p.slice(1));
    related.set(rel, await Promise.all(rows.map((r) => viewOfRow(conn, ctx, relation.to, r, rest))));
  }
  return {
    type: recordId,
    key: `${recordId}:${String(row[bound.table.primaryKey])}`,
    get: (field) => {
      const column = columnOfField(bound.table, field);
      return column === undefined ? null : (row[column] ?? null);
    },
    one: (rel) => related.get(rel)?.[0] ?? null,
    many: (rel) => related.get(rel) ?? [],
  };
}

/** One record by its key, or null when there is none. */
export async function loadRecord(
  conn: Connection,
  ctx: RetentionSqlContext,
  recordId: string,
  key: unknown,
): Promise<RecordView | null> {
  const bound = tableOfRecord(ctx.datamap, recordId);
  if (!bound) throw new RegistreError('E_UNBOUND_RECORD', `record "${recordId}" is bound to no table`);
  const [row] = await loadRows(conn, bound.table.name, bound.table.primaryKey, key);
  return row ? viewOfRow(conn, ctx, recordId, row, neededPaths(ctx.register, recordId)) : null;
}
