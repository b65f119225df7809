/**
 * Retention rules compiled to SQL, per table: each record's deadline, phase and hold, computed in
 * the database (set-based), giving exactly the dates of the pure evaluation (src/core/retention/retention.ts).
 */

import { columnOfField, tableOfRecord } from '../../core/datamap/columns.js';
import type { DataMap } from '../../core/datamap/datamap-load.js';
import type { TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import type { Register } from '../../core/register/register-load.js';
import { findRecord } from '../../core/register/register-model.js';
import type {
  Condition,
  DateExpr,
  HoldRule,
  Keep,
  RetentionRule,
} from '../../core/register/register-schema.js';
import {
  addDuration,
  type CalendarDate,
  financialYearEnd,
  LAST_DATE,
  latestWithin,
  parseDuration,
} from '../../core/retention/calendar.js';
import { ruleInputs } from '../../core/retention/retention.js';
import type { Connection, Dialect } from './connect.js';
import {
  addConstantMonths,
  addDays,
  addMonths,
  amountOf,
  dateLiteral,
  dateOf,
  financialYearEndOf,
  greatest,
  inKeys,
  least,
  NEVER,
  nativeAtMost,
  nativeDateOf,
  nativeValid,
  nullDate,
} from './dialect.js';
import { columnKey, dateColumns } from './introspect.js';
import { type RawBuilder, sql } from './kysely.js';

// biome-ignore lint/suspicious/noExplicitAny: a SQL fragment of any type
type Expr = RawBuilder<any>;

export interface RetentionSqlContext {
  readonly register: Register;
  readonly datamap: DataMap;
  readonly dialect: Dialect;
  /**
   * Values through to-one relations already read into columns of the row (relatedFieldKey →
   * the column): a query that reads `distributor.retention_months` once per row, below, refers
   * to it everywhere above instead of repeating the subquery in every place it is used.
   */
  readonly fields?: ReadonlyMap<string, Expr>;
  /**
   * Date fields already parsed into columns of the row (relatedFieldKey → the column): parsing a
   * stored date (its form checked, its time zone applied) is the costliest part of a verdict, and
   * a rule may read the same date in several places (a financial year's end reads it seven times).
   */
  readonly dates?: ReadonlyMap<string, Expr>;
  /**
   * The store's columns of a native date or time type (introspect.ts's dateColumns): a date read
   * from one of them is not parsed as text (nativeDateOf), which costs a plan on PostgreSQL and
   * MySQL most of its time otherwise.
   */
  readonly dateColumns?: ReadonlySet<string>;
  /**
   * The consent ledger's verdicts for this evaluation (see consent-gate.ts): a table of the store
   * holding, per consent-based rule, the subjects (a visitor id) or records (a key) whose consent
   * was lost and the day it was; such a rule's active phase ends that day.
   */
  readonly consent?: ConsentGateContext;
}

export interface ConsentGateContext {
  /** The gate table's name in the store (one per evaluation). */
  readonly table: string;
  /** The gated rules by id: the column the gate's `k` meets (a visitor id), or the record's key. */
  readonly rules: ReadonlyMap<string, { readonly column: string; readonly byKey: boolean }>;
}

/** The value of the row at `alias` that the gate's `k` holds for `rule`, or null when the rule is not gated. */
function gateMatch(ctx: RetentionSqlContext, rule: RetentionRule, alias: string): Expr | null {
  const gated = ctx.consent?.rules.get(rule.id);
  if (!gated) return null;
  const value = sql.ref(`${alias}.${gated.column}`);
  if (!gated.byKey) return value;
  return sql`CAST(${value} AS ${sql.raw(ctx.dialect === 'mysql' ? 'CHAR' : 'TEXT')})`;
}

/** The day the consent of a gated rule's record was lost (NULL: not lost), as a date. */
function consentEnd(ctx: RetentionSqlContext, rule: RetentionRule, alias: string): Expr | null {
  const match = gateMatch(ctx, rule, alias);
  if (!match || !ctx.consent) return null;
  const ended = sql`(SELECT cg.ended FROM ${sql.table(ctx.consent.table)} cg WHERE cg.rule = ${rule.id} AND cg.k = ${match})`;
  if (ctx.dialect === 'sqlite') return ended;
  return sql`CAST(${ended} AS DATE)`;
}

/** Whether a gated rule's record lost its consent on `at` or before (null when the rule is not gated). */
export function consentEndedBy(
  ctx: RetentionSqlContext,
  rule: RetentionRule,
  alias: string,
  at: CalendarDate,
): Expr | null {
  const match = gateMatch(ctx, rule, alias);
  if (!match || !ctx.consent) return null;
  return sql`EXISTS (SELECT 1 FROM ${sql.table(ctx.consent.table)} cg WHERE cg.rule = ${rule.id} AND cg.k = ${match} AND cg.ended <= ${at})`;
}

/** The SQL context of a connection: the register, the data map, and the store's native date columns. */
export async function retentionContext(
  conn: Connection,
  register: Register,
  datamap: DataMap,
): Promise<RetentionSqlContext> {
  return { register, datamap, dialect: conn.dialect, dateColumns: await dateColumns(conn) };
}

export function relatedFieldKey(recordId: string, alias: string, path: string): string {
  return `${recordId}\u0000${alias}\u0000${path}`;
}

/**
 * The date fields (own, or through relations) that a record's rules would parse several times
 * per row: those read inside a composite date (a financial year's end, the latest of several, an
 * end condition), which parses each of its parts in several places. A rule's plain anchor is
 * parsed once already (its column).
 */
export function repeatedDateFieldsOf(ctx: RetentionSqlContext, recordId: string): string[] {
  const paths = new Set<string>();
  for (const rule of ctx.register.retention) {
    if (rule.record !== recordId || rule.todo !== undefined || rule.follows !== undefined) continue;
    for (const path of ruleInputs(rule).dates) if (rule.anchor !== path) paths.add(path);
  }
  return [...paths];
}

/** The fields through relations (`distributor.retention_months`) that a record's rules read. */
export function relatedFieldsOf(ctx: RetentionSqlContext, recordId: string): string[] {
  const paths = new Set<string>();
  for (const rule of ctx.register.retention) {
    if (rule.record !== recordId || rule.todo !== undefined || rule.follows !== undefined) continue;
    const { dates, amounts } = ruleInputs(rule);
    for (const path of [...dates, ...amounts, ...Object.keys(rule.where ?? {})])
      if (path.includes('.')) paths.add(path);
  }
  return [...paths];
}

let aliasCounter = 0;
let aliasScopes = 0;
const nextAlias = () => `r${++aliasCounter}`;

/**
 * Builds a statement with its table aliases numbered from 1, so that building the same statement
 * again gives the same text: a statement built per batch is then prepared once, not once per
 * batch (a prepared statement holds native memory until the collector frees its wrapper).
 */
export function freshAliases<T>(build: () => T): T {
  if (aliasScopes++ === 0) aliasCounter = 0;
  try {
    return build();
  } finally {
    aliasScopes--;
  }
}

function bound(ctx: RetentionSqlContext, recordId: string): TableMap {
  const b = tableOfRecord(ctx.datamap, recordId);
  if (!b)
    throw new RegistreError('E_UNBOUND_RECORD', `record "${recordId}" is bound to no table in the data map`);
  return b.table;
}

function column(ctx: RetentionSqlContext, recordId: string, alias: string, field: string): Expr {
  const table = bound(ctx, recordId);
  const name = columnOfField(table, field);
  if (!name)
    throw new RegistreError('E_UNMAPPED_FIELD', `field "${field}" of record "${recordId}" has no column`);
  return sql.ref(`${alias}.${name}`);
}

/** Whether `field` of `recordId` is stored in a native date or time column (ctx.dateColumns). */
function nativeField(ctx: RetentionSqlContext, recordId: string, field: string): boolean {
  if (!ctx.dateColumns?.size) return false;
  const table = bound(ctx, recordId);
  const name = columnOfField(table, field);
  return name !== undefined && ctx.dateColumns.has(columnKey(table.name, name));
}

/** A stored value read as a date (NULL when it is not a valid one), by the column's kind. */
function parsedColumn(ctx: RetentionSqlContext, recordId: string, field: string, value: Expr): Expr {
  return (nativeField(ctx, recordId, field) ? nativeDateOf : dateOf)(ctx.dialect, value);
}

/**
 * The date a field (own, or through to-one relations) holds, NULL when it holds none or an
 * invalid one: parsed once per row already when ctx.dates has it, read without text parsing
 * from a native date column.
 */
export function fieldDate(ctx: RetentionSqlContext, recordId: string, alias: string, path: string): Expr {
  const known = ctx.dates?.get(relatedFieldKey(recordId, alias, path));
  if (known) return known;
  const { target, field } = targetOf(ctx, recordId, path);
  return parsedColumn(ctx, target, field, fieldValue(ctx, recordId, alias, path));
}

/** The record and field a path (`placed_at`, `order.placed_at`) ends on. */
function targetOf(
  ctx: RetentionSqlContext,
  recordId: string,
  path: string,
): { target: string; field: string } {
  const segments = path.split('.');
  const field = segments.pop() as string;
  const target = segments.length ? (hopsOf(ctx, recordId, segments).at(-1) as Hop).to : recordId;
  return { target, field };
}

/**
 * Whether a date expression reads only native date columns of the record itself, through steps
 * that need no other row (the latest or earliest of them, a financial year's end, a constant
 * duration added): as cheap to compute where it is used as a column, nothing to gain by computing
 * it once in a level of its own.
 */
export function cheapDate(ctx: RetentionSqlContext, recordId: string, expr: DateExpr, alias = 't'): boolean {
  if (typeof expr === 'string') {
    const key = relatedFieldKey(recordId, alias, expr);
    // A native column, of the row or read into one below it (a relation's value): not a subquery.
    return (
      ctx.dates?.has(key) === true ||
      ((!expr.includes('.') || ctx.fields?.has(key) === true) && nativeDatePath(ctx, recordId, expr))
    );
  }
  if ('latest' in expr) return expr.latest.every((e) => cheapDate(ctx, recordId, e, alias));
  if ('earliest' in expr) return expr.earliest.every((e) => cheapDate(ctx, recordId, e, alias));
  if ('financialYearEnd' in expr) return cheapDate(ctx, recordId, expr.financialYearEnd, alias);
  if ('from' in expr) return typeof expr.add === 'string' && cheapDate(ctx, recordId, expr.from, alias);
  return false;
}

/** Whether the date at `path` is read from a native date column (cheap: nothing gained by reading it once). */
export function nativeDatePath(ctx: RetentionSqlContext, recordId: string, path: string): boolean {
  const { target, field } = targetOf(ctx, recordId, path);
  return nativeField(ctx, target, field);
}

interface Hop {
  readonly from: string;
  readonly relation: string;
  readonly to: string;
}

function hopsOf(ctx: RetentionSqlContext, recordId: string, relations: readonly string[]): Hop[] {
  const hops: Hop[] = [];
  let current = recordId;
  for (const rel of relations) {
    const to = findRecord(ctx.register, current)?.relations?.[rel]?.to;
    if (!to) throw new RegistreError('E_UNKNOWN_RELATION', `record "${current}" has no relation "${rel}"`);
    hops.push({ from: current, relation: rel, to });
    current = to;
  }
  return hops;
}

interface Chain {
  /** `t1 AS a JOIN t2 AS b ON …`: every table after the first joined to the one before. */
  readonly from: Expr;
  /** The first table alone (`t1 AS a`), and the joins after it. */
  readonly first: Expr;
  readonly rest: Expr;
  /** How the first table joins the row the chain starts from. */
  readonly where: Expr;
  readonly last: string;
}

/** The tables along relations from the row `alias`. */
function joinChain(ctx: RetentionSqlContext, hops: readonly Hop[], alias: string): Chain {
  let previous = alias;
  const parts: Expr[] = [];
  let where: Expr = sql`1 = 1`;
  let first: Expr = sql``;
  for (const [i, hop] of hops.entries()) {
    const binding = bound(ctx, hop.from).relations?.[hop.relation];
    if (!binding)
      throw new RegistreError(
        'E_UNBOUND_RELATION',
        `relation "${hop.relation}" of "${hop.from}" has no join`,
      );
    const next = nextAlias();
    const table = sql`${sql.table(bound(ctx, hop.to).name)} AS ${sql.id(next)}`;
    const on = sql`${sql.ref(`${next}.${binding.remote}`)} = ${sql.ref(`${previous}.${binding.local}`)}`;
    if (i === 0) {
      parts.push(table);
      first = table;
      where = on;
    } else parts.push(sql`JOIN ${table} ON ${on}`);
    previous = next;
  }
  return {
    from: sql.join(parts, sql` `),
    first,
    rest: sql.join(parts.slice(1), sql` `),
    where,
    last: previous,
  };
}

/** A field through to-one relations, as a scalar subquery when it is not the row's own. */
export function fieldValue(ctx: RetentionSqlContext, recordId: string, alias: string, path: string): Expr {
  const segments = path.split('.');
  const field = segments.pop() as string;
  if (segments.length === 0) return column(ctx, recordId, alias, field);
  const known = ctx.fields?.get(relatedFieldKey(recordId, alias, path));
  if (known) return known;
  const hops = hopsOf(ctx, recordId, segments);
  const chain = joinChain(ctx, hops, alias);
  const target = (hops[hops.length - 1] as Hop).to;
  return sql`(SELECT ${column(ctx, target, chain.last, field)} FROM ${chain.from} WHERE ${chain.where})`;
}

/**
 * The values at `paths` (through to-one relations) read by LEFT JOINs from the row `alias`, one
 * join per relation however many values it gives, instead of a subquery per value and row
 * (PostgreSQL ran the distributors' subqueries 200,000 times on 100,000 orders). Only where each
 * hop joins on the related table's primary key: at most one row, as the subquery, so no row is
 * repeated; null otherwise, and the subqueries stay.
 */
export function relatedJoins(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  paths: readonly string[],
): { joins: Expr; values: Expr[] } | null {
  const joined = new Map<string, string>();
  const joins: Expr[] = [];
  const values: Expr[] = [];
  for (const path of paths) {
    const segments = path.split('.');
    const field = segments.pop() as string;
    const hops = hopsOf(ctx, recordId, segments);
    let previous = alias;
    let chain = '';
    for (const hop of hops) {
      const binding = bound(ctx, hop.from).relations?.[hop.relation];
      const target = bound(ctx, hop.to);
      if (!binding || binding.remote !== target.primaryKey) return null;
      chain = `${chain}\u0000${hop.relation}`;
      let next = joined.get(chain);
      if (next === undefined) {
        next = nextAlias();
        joined.set(chain, next);
        joins.push(
          sql`LEFT JOIN ${sql.table(target.name)} AS ${sql.id(next)} ON ${sql.ref(`${next}.${binding.remote}`)} = ${sql.ref(`${previous}.${binding.local}`)}`,
        );
      }
      previous = next;
    }
    values.push(column(ctx, (hops[hops.length - 1] as Hop).to, previous, field));
  }
  return { joins: sql.join(joins, sql` `), values };
}

function keepExpr(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  date: Expr,
  keep: Keep,
): Expr | null {
  if (typeof keep === 'string') {
    const parsed = parseDuration(keep);
    if (!parsed.ok) return null;
    const { amount, unit } = parsed.duration;
    if (unit === 'days') return addDays(ctx.dialect, date, sql.lit(amount));
    return addConstantMonths(ctx.dialect, date, unit === 'years' ? amount * 12 : amount);
  }
  const [unit, path] = Object.entries(keep)[0] as ['months' | 'years' | 'days', string];
  // A negative, fractional, huge or missing instruction gives no deadline, as in the pure evaluation.
  const amount = amountOf(ctx.dialect, fieldValue(ctx, recordId, alias, path));
  if (unit === 'days') return addDays(ctx.dialect, date, amount);
  return addMonths(ctx.dialect, date, unit === 'years' ? sql`(${amount}) * 12` : amount);
}

export function dateExpr(ctx: RetentionSqlContext, recordId: string, alias: string, expr: DateExpr): Expr {
  if (typeof expr === 'string') return fieldDate(ctx, recordId, alias, expr);
  if ('latest' in expr)
    return greatest(
      ctx.dialect,
      expr.latest.map((e) => dateExpr(ctx, recordId, alias, e)),
    );
  if ('earliest' in expr)
    return least(
      ctx.dialect,
      expr.earliest.map((e) => dateExpr(ctx, recordId, alias, e)),
    );
  if ('financialYearEnd' in expr)
    return financialYearEndOf(
      ctx.dialect,
      dateExpr(ctx, recordId, alias, expr.financialYearEnd),
      ctx.register.organisation.financialYearEnd ?? '12-31',
    );
  if ('from' in expr)
    return (
      keepExpr(ctx, recordId, alias, dateExpr(ctx, recordId, alias, expr.from), expr.add) ??
      nullDate(ctx.dialect)
    );
  const [fn, path] = 'max' in expr ? ['MAX', expr.max] : ['MIN', expr.min];
  const segments = path.split('.');
  const field = segments.pop() as string;
  const hops = hopsOf(ctx, recordId, segments);
  const chain = joinChain(ctx, hops, alias);
  const target = (hops[hops.length - 1] as Hop).to;
  const value = parsedColumn(ctx, target, field, column(ctx, target, chain.last, field));
  return sql`(SELECT ${sql.raw(fn)}(${value}) FROM ${chain.from} WHERE ${chain.where})`;
}

function matcherSql(ctx: RetentionSqlContext, value: Expr, expected: unknown): Expr {
  const literal = (v: unknown) => (typeof v === 'boolean' && ctx.dialect !== 'postgres' ? (v ? 1 : 0) : v);
  if (expected === null) return sql`${value} IS NULL`;
  if (Array.isArray(expected)) {
    const nonNull = expected.filter((v) => v !== null);
    const parts: Expr[] = [];
    if (nonNull.length) parts.push(sql`${value} IN (${sql.join(nonNull.map((v) => sql`${literal(v)}`))})`);
    if (nonNull.length < expected.length) parts.push(sql`${value} IS NULL`);
    return sql`(${sql.join(parts, sql` OR `)})`;
  }
  if (typeof expected === 'object' && expected !== null && 'not' in expected)
    return sql`NOT COALESCE(${matcherSql(ctx, value, (expected as { not: unknown }).not)}, FALSE)`;
  return sql`${value} = ${literal(expected)}`;
}

export function conditionSql(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  condition: Condition | undefined,
): Expr {
  if (!condition || Object.keys(condition).length === 0) return sql`1 = 1`;
  const parts = Object.entries(condition).map(
    ([path, matcher]) =>
      sql`COALESCE(${matcherSql(ctx, fieldValue(ctx, recordId, alias, path), matcher)}, FALSE)`,
  );
  return sql`(${sql.join(parts, sql` AND `)})`;
}

/** The end of the active phase and the deadline of one rule, for the row `alias` (null: none). */
export function ruleDates(
  ctx: RetentionSqlContext,
  rule: RetentionRule,
  alias: string,
  /** The anchor already computed (a column of a subquery), so that it is evaluated once. */
  anchorRef?: Expr,
): { activeEnd: Expr; deadline: Expr } {
  if (rule.follows !== undefined) {
    const hops = hopsOf(ctx, rule.record, [rule.follows]);
    const chain = joinChain(ctx, hops, alias);
    const parent = tableDeadline(ctx, (hops[0] as Hop).to, chain.last);
    const deadline = sql`(SELECT ${parent.deadline} FROM ${chain.from} WHERE ${chain.where})`;
    return { activeEnd: deadline, deadline };
  }
  const ends: Expr[] = [];
  let anchor: Expr | null = null;
  if (rule.anchor !== undefined) {
    anchor = anchorRef ?? dateExpr(ctx, rule.record, alias, rule.anchor);
    const kept = rule.keep === undefined ? anchor : keepExpr(ctx, rule.record, alias, anchor, rule.keep);
    ends.push(kept ?? nullDate(ctx.dialect));
  }
  for (const u of rule.until ?? []) ends.push(dateExpr(ctx, rule.record, alias, u));
  const lost = consentEnd(ctx, rule, alias);
  if (lost) ends.push(lost);
  const activeEnd = ends.length ? least(ctx.dialect, ends) : nullDate(ctx.dialect);
  if (!rule.archive || anchor === null)
    return { activeEnd, deadline: rule.archive ? nullDate(ctx.dialect) : activeEnd };
  const archiveEnd = keepExpr(ctx, rule.record, alias, anchor, rule.archive.keep) ?? nullDate(ctx.dialect);
  // Both must exist: the later of the two, as in the pure evaluation.
  const deadline = sql`CASE WHEN ${activeEnd} IS NOT NULL AND ${archiveEnd} IS NOT NULL THEN ${greatest(ctx.dialect, [activeEnd, archiveEnd])} END`;
  return { activeEnd, deadline };
}

export interface RuleColumns {
  readonly rule: RetentionRule;
  /** The rule's index in the register's retention list. */
  readonly index: number;
  /** Its deadline when it applies (NEVER when it has none), NULL when it does not apply. */
  readonly deadline: Expr;
  /** The end of its active phase when it applies (NEVER when none), NULL when it does not apply. */
  readonly activeEnd: Expr;
  /** True when it applies, has an archive phase, and is in it before its deadline. */
  readonly inArchive: Expr | null;
  /** True when it applies and a value it reads is there but invalid (never due: `invalid`). */
  readonly invalid: Expr | null;
}

/** Whether a value the rule reads is there but is not a valid date or amount (hasInvalidInput). */
function invalidSql(
  ctx: RetentionSqlContext,
  rule: RetentionRule,
  alias: string,
  /** The anchor already parsed (when it is a plain field): not parsed twice. */
  anchorRef?: Expr,
): Expr | null {
  const { dates, amounts } = ruleInputs(rule);
  const bad = (path: string, parse: (dialect: Dialect, value: Expr) => Expr) => {
    const value = fieldValue(ctx, rule.record, alias, path);
    // A native date column: its range is checked, its date not computed.
    if (
      parse === dateOf &&
      !ctx.dates?.has(relatedFieldKey(rule.record, alias, path)) &&
      nativeDatePath(ctx, rule.record, path)
    )
      return sql`(${value} IS NOT NULL AND NOT ${nativeValid(ctx.dialect, value)})`;
    const parsed =
      parse === dateOf
        ? anchorRef !== undefined &&
          rule.anchor === path &&
          !ctx.dates?.has(relatedFieldKey(rule.record, alias, path))
          ? anchorRef
          : fieldDate(ctx, rule.record, alias, path)
        : parse(ctx.dialect, value);
    return sql`(${value} IS NOT NULL AND ${parsed} IS NULL)`;
  };
  const checks = [...dates.map((p) => bad(p, dateOf)), ...amounts.map((p) => bad(p, amountOf))];
  return checks.length ? sql`(${sql.join(checks, sql` OR `)})` : null;
}

/** Per rule on the record at `alias`: the columns the verdict is combined from. */
export function ruleColumns(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  anchorRef?: (index: number) => Expr | undefined,
): RuleColumns[] {
  const never = dateLiteral(ctx.dialect, NEVER);
  return ctx.register.retention
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => rule.record === recordId && rule.todo === undefined)
    .map(({ rule, index }) => {
      const applies = conditionSql(ctx, recordId, alias, rule.where);
      const dates = ruleDates(ctx, rule, alias, anchorRef?.(index));
      const invalid = invalidSql(ctx, rule, alias, anchorRef?.(index));
      return {
        rule,
        index,
        deadline: sql`CASE WHEN ${applies} THEN COALESCE(${dates.deadline}, ${never}) END`,
        activeEnd: sql`CASE WHEN ${applies} THEN COALESCE(${dates.activeEnd}, ${never}) END`,
        inArchive: rule.archive
          ? sql`(${applies} AND ${dates.activeEnd} IS NOT NULL AND ${dates.deadline} IS NOT NULL AND ${dates.activeEnd} < ${dates.deadline})`
          : null,
        invalid: invalid ? sql`(${applies} AND ${invalid})` : null,
      };
    });
}

/** Whether a rule's deadline and archive phase can be read from cut-offs (ruleStatusConditions). */
export function hasCutOffs(rule: RetentionRule): boolean {
  if (rule.follows !== undefined || (rule.archive && rule.anchor === undefined)) return false;
  if (rule.keep !== undefined && typeof rule.keep !== 'string') return false;
  return !rule.archive || typeof rule.archive.keep === 'string';
}

/**
 * For counting (plan): whether a rule's deadline has come on `at`, and whether its record is in
 * its archive phase, as conditions on the parsed anchor compared with cut-offs computed once
 * (latestWithin), instead of date arithmetic on every row: `anchor + 13 months <= at` is
 * `anchor <= cut-off`. Exact, as the deadline never decreases with the anchor. Null when the
 * rule reads a duration from the data, follows another record, or has an archive but no anchor:
 * no cut-off then, and the verdict's arithmetic says.
 */
export function ruleStatusConditions(
  ctx: RetentionSqlContext,
  rule: RetentionRule,
  alias: string,
  anchorRef: Expr | undefined,
  at: CalendarDate,
): { due: Expr; archive: Expr | null } | null {
  if (!hasCutOffs(rule)) return null;
  const anchor =
    rule.anchor === undefined ? null : (anchorRef ?? dateExpr(ctx, rule.record, alias, rule.anchor));
  // A native date column that no level has read already: compared as it is stored (nativeAtMost).
  const nativeOwn = (path: string) =>
    !ctx.dates?.has(relatedFieldKey(rule.record, alias, path)) && nativeDatePath(ctx, rule.record, path);
  // An anchor that is one field's date through steps that never decrease it (a financial year's
  // end, a constant duration added) is compared with a cut-off on that field's date: no step is
  // computed on any row (invoices: the end of the year of issue, then 10 years).
  const chain =
    rule.anchor === undefined || anchorRef !== undefined
      ? null
      : monotoneChain(rule.anchor, ctx.register.organisation.financialYearEnd ?? '12-31');
  /** `value <= cutoff`: a field by its date (compared as stored when it is a native column), or a date. */
  const atMost = (value: string | Expr, cutoff: CalendarDate): Expr => {
    if (typeof value !== 'string') return sql`${value} <= ${dateLiteral(ctx.dialect, cutoff)}`;
    if (nativeOwn(value) && cutoff < LAST_DATE)
      return nativeAtMost(ctx.dialect, fieldValue(ctx, rule.record, alias, value), cutoff);
    return sql`${fieldDate(ctx, rule.record, alias, value)} <= ${dateLiteral(ctx.dialect, cutoff)}`;
  };
  /** `anchor + keep <= at` (keep null: `anchor <= at`), with a duration that does not parse as no end (as keepExpr). */
  const keptBy = (keep: string | null): Expr | null => {
    const parsed = keep === null ? null : parseDuration(keep);
    if (parsed && !parsed.ok) return null;
    const then = (d: CalendarDate) => (parsed?.ok ? addDuration(d, parsed.duration) : d);
    const compared = chain ? chain.path : (anchor as Expr);
    const steps = chain ? chain.steps : (d: CalendarDate) => d;
    const cutoff = latestWithin((d) => {
      const stepped = steps(d);
      return stepped === null ? null : then(stepped);
    }, at);
    if (cutoff === null) return sql`1 = 0`;
    if (cutoff === LAST_DATE)
      return sql`${typeof compared === 'string' ? fieldDate(ctx, rule.record, alias, compared) : compared} IS NOT NULL`;
    return atMost(compared, cutoff);
  };
  // The active phase ends with the earliest of its ends that are there.
  const ends: Expr[] = [];
  if (anchor !== null) {
    const end = keptBy((rule.keep as string | undefined) ?? null);
    if (end) ends.push(end);
  }
  for (const u of rule.until ?? [])
    ends.push(atMost(typeof u === 'string' ? u : dateExpr(ctx, rule.record, alias, u), at));
  const lost = consentEndedBy(ctx, rule, alias, at);
  if (lost) ends.push(lost);
  const ended = ends.length ? sql`(${sql.join(ends, sql` OR `)})` : sql`1 = 0`;
  if (!rule.archive || anchor === null) return { due: ended, archive: null };
  // With an archive: due once both phases are over; in archive when the active one is and the
  // archive has an end (then, not being due, that end is after `at`, so after the active end).
  const archiveKeep = rule.archive.keep as string;
  const archived = keptBy(archiveKeep);
  if (!archived) return { due: sql`1 = 0`, archive: sql`1 = 0` };
  const archiveEnd = keepExpr(ctx, rule.record, alias, anchor, archiveKeep) ?? nullDate(ctx.dialect);
  return {
    due: sql`(${ended} AND ${archived})`,
    archive: sql`(${ended} AND ${archiveEnd} IS NOT NULL)`,
  };
}

/**
 * A date expression that is one field's date through steps that never decrease it (a financial
 * year's end, a constant duration added): the field's path, and the steps as the pure evaluation
 * takes them (null past 9999-12-31). Null for any other expression (the latest of several, an
 * aggregate, a duration read from the data).
 */
export function monotoneChain(
  expr: DateExpr,
  yearEnd: string,
): { path: string; steps: (date: CalendarDate) => CalendarDate | null } | null {
  if (typeof expr === 'string') return { path: expr, steps: (d) => d };
  if ('financialYearEnd' in expr) {
    const inner = monotoneChain(expr.financialYearEnd, yearEnd);
    if (!inner) return null;
    return {
      path: inner.path,
      steps: (d) => {
        const x = inner.steps(d);
        return x === null ? null : financialYearEnd(x, yearEnd);
      },
    };
  }
  if ('from' in expr && typeof expr.add === 'string') {
    const parsed = parseDuration(expr.add);
    const inner = monotoneChain(expr.from, yearEnd);
    if (!parsed.ok || !inner) return null;
    return {
      path: inner.path,
      steps: (d) => {
        const x = inner.steps(d);
        return x === null ? null : addDuration(x, parsed.duration);
      },
    };
  }
  return null;
}

export interface Verdict {
  /** The record's deadline: the latest of its applicable rules' (never due: NEVER; no rule: NULL). */
  readonly deadline: Expr;
  /** The index of the rule that wins, NULL when none applies. */
  readonly rule: Expr;
  readonly archiveFrom: Expr;
}

/**
 * Combines per-rule columns (as expressions, or as references to columns a subquery computed) into
 * the record's verdict, as the pure evaluation does: the latest deadline wins; the first rule with
 * none wins over all; on a tie, anonymise before delete.
 */
export function combineRules(
  ctx: RetentionSqlContext,
  rules: readonly RuleColumns[],
  ref: (rule: RuleColumns, what: 'deadline' | 'activeEnd' | 'inArchive') => Expr = (r, what) =>
    what === 'inArchive' ? (r.inArchive ?? sql`FALSE`) : r[what],
): Verdict {
  if (rules.length === 0)
    return { deadline: nullDate(ctx.dialect), rule: sql`NULL`, archiveFrom: nullDate(ctx.dialect) };
  const never = dateLiteral(ctx.dialect, NEVER);
  const deadline = greatest(
    ctx.dialect,
    rules.map((r) => ref(r, 'deadline')),
  );
  const isAnonymise = (r: RetentionRule) => r.then !== undefined && r.then !== 'delete';
  const ordered = [...rules.filter((r) => isAnonymise(r.rule)), ...rules.filter((r) => !isAnonymise(r.rule))];
  const rule = sql`CASE ${sql.join(
    [
      ...rules.map(
        (r) => sql`WHEN ${ref(r, 'deadline')} = ${never} AND ${deadline} = ${never} THEN ${sql.lit(r.index)}`,
      ),
      ...ordered.map((r) => sql`WHEN ${ref(r, 'deadline')} = ${deadline} THEN ${sql.lit(r.index)}`),
    ],
    sql` `,
  )} END`;
  const archiving = rules.filter((r) => r.inArchive !== null).map((r) => ref(r, 'inArchive'));
  const archiveFrom = archiving.length
    ? sql`CASE WHEN ${sql.join(archiving, sql` OR `)} THEN ${greatest(
        ctx.dialect,
        rules.map((r) => ref(r, 'activeEnd')),
      )} END`
    : nullDate(ctx.dialect);
  return { deadline, rule, archiveFrom };
}

/** The verdict of the record at `alias`, as one expression (used for the records a rule follows). */
export function tableDeadline(ctx: RetentionSqlContext, recordId: string, alias: string): Verdict {
  return combineRules(ctx, ruleColumns(ctx, recordId, alias));
}

/** Each data-driven hold that can cover the record at `alias` (its own, and those of what it follows). */
/**
 * One hold path from its holding rows (alias of the holder, `when` its condition) along the
 * relations to a record of `recordId`: the joined tables, and the column (`reached`) whose value
 * is the held record's `binding.remote`. Undefined when the path lands elsewhere.
 */
function holdPath(
  ctx: RetentionSqlContext,
  hold: HoldRule,
  holdTable: TableMap,
  path: string,
  recordId: string,
): { from: Expr; reached: Expr; when: Expr; binding: { local: string; remote: string } } | undefined {
  const hops = hopsOf(ctx, hold.record, path.split('.'));
  const lastHop = hops[hops.length - 1] as Hop;
  if (lastHop.to !== recordId) return undefined;
  const binding = bound(ctx, lastHop.from).relations?.[lastHop.relation];
  if (!binding) return undefined;
  const h = nextAlias();
  const inner = hops.slice(0, -1);
  const chain = inner.length ? joinChain(ctx, inner, h) : null;
  const holder = sql`${sql.table(holdTable.name)} AS ${sql.id(h)}`;
  // A plain JOIN ON, so that the planner may start from the row (SQLite keeps CROSS JOIN's order).
  const from = chain ? sql`${holder} JOIN ${chain.first} ON ${chain.where} ${chain.rest}` : holder;
  return {
    from,
    reached: sql.ref(`${chain ? chain.last : h}.${binding.local}`),
    when: conditionSql(ctx, hold.record, h, hold.when),
    binding,
  };
}

export function holdChecks(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
): { hold: string; held: Expr }[] {
  const checks: { hold: string; held: Expr }[] = [];
  for (const hold of ctx.register.holds) {
    const holdTable = tableOfRecord(ctx.datamap, hold.record);
    if (!holdTable) continue;
    for (const path of hold.holds) {
      if (path === 'self') {
        if (hold.record === recordId)
          checks.push({ hold: hold.id, held: conditionSql(ctx, recordId, alias, hold.when) });
        continue;
      }
      const walk = holdPath(ctx, hold, holdTable.table, path, recordId);
      if (!walk) continue;
      checks.push({
        hold: hold.id,
        held: sql`EXISTS (SELECT 1 FROM ${walk.from} WHERE ${walk.reached} = ${sql.ref(`${alias}.${walk.binding.remote}`)} AND ${walk.when})`,
      });
    }
  }
  for (const rule of ctx.register.retention) {
    if (rule.record !== recordId || rule.follows === undefined) continue;
    const hops = hopsOf(ctx, recordId, [rule.follows]);
    const chain = joinChain(ctx, hops, alias);
    for (const parent of holdChecks(ctx, (hops[0] as Hop).to, chain.last)) {
      checks.push({
        hold: parent.hold,
        held: sql`(${conditionSql(ctx, recordId, alias, rule.where)} AND EXISTS (SELECT 1 FROM ${chain.from} WHERE ${chain.where} AND ${parent.held}))`,
      });
    }
  }
  return checks;
}

/** The tables of the records that a record `follows` (it goes with them, and is held with them). */
export function followedTables(ctx: RetentionSqlContext, recordId: string): string[] {
  return ctx.register.retention.flatMap((rule) => {
    if (rule.record !== recordId || rule.follows === undefined) return [];
    const to = findRecord(ctx.register, recordId)?.relations?.[rule.follows]?.to;
    const table = to ? tableOfRecord(ctx.datamap, to)?.table : undefined;
    return table ? [table.name] : [];
  });
}

/**
 * Whether a manual hold on the record that the record at `alias` follows covers it: a supplier
 * dispute stays with its held order, as it goes with it.
 */
export function heldThroughFollowsSql(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  heldByTable: ReadonlyMap<string, readonly string[]>,
): Expr | null {
  const parts: Expr[] = [];
  for (const rule of ctx.register.retention) {
    if (rule.record !== recordId || rule.follows === undefined) continue;
    const hops = hopsOf(ctx, recordId, [rule.follows]);
    const parent = bound(ctx, (hops[0] as Hop).to);
    const keys = heldByTable.get(parent.name) ?? [];
    if (keys.length === 0) continue;
    const chain = joinChain(ctx, hops, alias);
    parts.push(
      sql`(${conditionSql(ctx, recordId, alias, rule.where)} AND EXISTS (SELECT 1 FROM ${chain.from} WHERE ${chain.where} AND ${inKeys(ctx.dialect, sql.ref(`${chain.last}.${parent.primaryKey}`), keys)}))`,
    );
  }
  return parts.length ? sql`(${sql.join(parts, sql` OR `)})` : null;
}

/** Whether a data-driven hold covers the record at `alias`. */
export function heldSql(ctx: RetentionSqlContext, recordId: string, alias: string): Expr {
  const checks = holdChecks(ctx, recordId, alias).map((c) => c.held);
  return checks.length ? sql`(${sql.join(checks, sql` OR `)})` : sql`1 = 0`;
}

/**
 * The keys of the records of `recordId` that the data-driven holds hold, found from the holding
 * rows (an open dispute → its order's customer id): for records that are no longer in their live
 * table (the archive store), whose only link to the live data is their key. Each query returns
 * one column `k`. `unsure` when a hold reaches these records otherwise than by their primary key
 * (or holds them by a condition on their own columns): the caller must then treat them all as held.
 */
export function heldKeysQueries(
  ctx: RetentionSqlContext,
  recordId: string,
): { queries: Expr[]; unsure: boolean } {
  const target = bound(ctx, recordId);
  const queries: Expr[] = [];
  let unsure = false;
  for (const hold of ctx.register.holds) {
    const holdTable = tableOfRecord(ctx.datamap, hold.record);
    if (!holdTable) continue;
    for (const path of hold.holds) {
      if (path === 'self') {
        if (hold.record === recordId) unsure = true;
        continue;
      }
      const hops = hopsOf(ctx, hold.record, path.split('.'));
      if ((hops[hops.length - 1] as Hop).to !== recordId) continue;
      const walk = holdPath(ctx, hold, holdTable.table, path, recordId);
      if (!walk || walk.binding.remote !== target.primaryKey) {
        unsure = true;
        continue;
      }
      queries.push(sql`SELECT ${walk.reached} AS k FROM ${walk.from} WHERE ${walk.when}`);
    }
  }
  if (ctx.register.retention.some((r) => r.record === recordId && r.follows !== undefined)) unsure = true;
  return { queries, unsure };
}

// ---- Candidates: a cheap condition on raw columns that every record a sweep may act on meets.

/** A date's text two days later (a stored timestamp's UTC date can be a day before its written one). */
function twoDaysAfter(date: CalendarDate): CalendarDate | null {
  return addDuration(date, { amount: 2, unit: 'days' });
}

/** Unknown (no cheap condition): the record stays a candidate. */
const UNKNOWN = null;

/**
 * A necessary condition for `expr <= limit` (a date that exists and is on or before `limit`),
 * comparing raw columns with a constant, or UNKNOWN. Sound for every stored form: a value whose
 * UTC date is on or before `limit` has a written date on or before the day after, so its text
 * (or its timestamp) is below `limit + 2 days`; a value that is not a date at all may pass, and
 * the exact verdict then says what it is. A plain field of the record that holds garbage makes
 * the record `invalid` (never due), so it may be left out here.
 */
function dateWithin(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  expr: DateExpr,
  limit: CalendarDate,
): Expr | null {
  const below = (value: Expr): Expr | null => {
    const bound = twoDaysAfter(limit);
    return bound === null ? UNKNOWN : sql`${value} < ${bound}`;
  };
  if (typeof expr === 'string') {
    const segments = expr.split('.');
    const field = segments.pop() as string;
    if (segments.length === 0) return below(column(ctx, recordId, alias, field));
    const hops = hopsOf(ctx, recordId, segments);
    const chain = joinChain(ctx, hops, alias);
    const condition = below(column(ctx, (hops[hops.length - 1] as Hop).to, chain.last, field));
    return condition && sql`EXISTS (SELECT 1 FROM ${chain.from} WHERE ${chain.where} AND ${condition})`;
  }
  if ('latest' in expr) {
    // Every part that is there must be within: a part that may be absent is checked with its absence.
    const parts = expr.latest.flatMap((e) => {
      if (typeof e === 'string' && !e.includes('.')) {
        const value = column(ctx, recordId, alias, e);
        const condition = below(value);
        return condition ? [sql`(${value} IS NULL OR ${condition})`] : [];
      }
      if (typeof e === 'object' && 'max' in e) {
        const condition = dateWithin(ctx, recordId, alias, e, limit);
        return condition ? [condition] : [];
      }
      return [];
    });
    return parts.length ? sql`(${sql.join(parts, sql` AND `)})` : UNKNOWN;
  }
  if ('earliest' in expr) {
    const parts = expr.earliest.map((e) => dateWithin(ctx, recordId, alias, e, limit));
    return parts.some((p) => p === UNKNOWN) ? UNKNOWN : sql`(${sql.join(parts as Expr[], sql` OR `)})`;
  }
  if ('financialYearEnd' in expr) {
    const yearEnd = ctx.register.organisation.financialYearEnd ?? '12-31';
    return mappedWithin(
      ctx,
      recordId,
      alias,
      expr.financialYearEnd,
      (d) => financialYearEnd(d, yearEnd),
      limit,
    );
  }
  if ('from' in expr) return keptWithin(ctx, recordId, alias, expr.from, expr.add, limit);
  if ('min' in expr) return UNKNOWN;
  // max ≤ limit: no related row holds a valid date after it (none at all: no date, the part is absent).
  const segments = expr.max.split('.');
  const field = segments.pop() as string;
  const hops = hopsOf(ctx, recordId, segments);
  const chain = joinChain(ctx, hops, alias);
  const target = (hops[hops.length - 1] as Hop).to;
  const value = column(ctx, target, chain.last, field);
  const bound = twoDaysAfter(limit);
  if (bound === null) return UNKNOWN;
  return sql`NOT EXISTS (SELECT 1 FROM ${chain.from} WHERE ${chain.where} AND ${value} >= ${bound} AND ${parsedColumn(ctx, target, field, value)} IS NOT NULL)`;
}

/** A necessary condition for `f(expr) <= limit`, `f` never decreasing. */
function mappedWithin(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  expr: DateExpr,
  f: (date: CalendarDate) => CalendarDate | null,
  limit: CalendarDate,
): Expr | null {
  const cutoff = latestWithin(f, limit);
  if (cutoff === null) return sql`1 = 0`;
  if (cutoff === LAST_DATE) return UNKNOWN;
  return dateWithin(ctx, recordId, alias, expr, cutoff);
}

/** A necessary condition for `expr + keep <= limit` (a duration read from the data is at least 0). */
function keptWithin(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  expr: DateExpr,
  keep: Keep | undefined,
  limit: CalendarDate,
): Expr | null {
  if (typeof keep !== 'string') return dateWithin(ctx, recordId, alias, expr, limit);
  const parsed = parseDuration(keep);
  if (!parsed.ok) return sql`1 = 0`;
  return mappedWithin(ctx, recordId, alias, expr, (d) => addDuration(d, parsed.duration), limit);
}

/**
 * A cheap condition on the record at `alias` that every record a sweep on `at` may act on (due,
 * or entering its archive phase) meets, or null when there is none to give. Both need the active
 * phase of every rule that applies to have ended on `at`, and a rule's active phase ends with the
 * earliest of its ends: the anchor plus what it keeps, each `until`. Each end's "on or before
 * `at`" becomes a comparison of the raw column with a cut-off date computed once
 * (`occurred_at < '2025-10-29'`), which an index serves, instead of date arithmetic on every row.
 * The exact verdict is still computed for every candidate: this only leaves out records it would
 * have found neither due nor in archive (tested against it on every dialect).
 */
export function sweepCandidateSql(
  ctx: RetentionSqlContext,
  recordId: string,
  alias: string,
  at: CalendarDate,
): Expr | null {
  return freshAliases(() => {
    const parts: Expr[] = [];
    for (const rule of ctx.register.retention) {
      if (rule.record !== recordId || rule.todo !== undefined || rule.follows !== undefined) continue;
      const ends: (Expr | null)[] = [];
      if (rule.anchor !== undefined) ends.push(keptWithin(ctx, recordId, alias, rule.anchor, rule.keep, at));
      for (const u of rule.until ?? []) ends.push(dateWithin(ctx, recordId, alias, u, at));
      const lost = consentEndedBy(ctx, rule, alias, at);
      if (lost) ends.push(lost);
      if (ends.some((e) => e === UNKNOWN)) continue;
      const ended = ends.length ? sql`(${sql.join(ends as Expr[], sql` OR `)})` : sql`1 = 0`;
      const conditional = rule.where !== undefined && Object.keys(rule.where).length > 0;
      parts.push(
        conditional ? sql`(NOT ${conditionSql(ctx, recordId, alias, rule.where)} OR ${ended})` : ended,
      );
    }
    return parts.length ? sql`(${sql.join(parts, sql` AND `)})` : null;
  });
}
