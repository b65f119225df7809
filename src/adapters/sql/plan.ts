/**
 * `plan`: for each rule and table, how many records are active, in archive, due and held on a
 * date, counted by the database in one set-based query per table.
 */

import { columnOf, columnOfField } from '../../core/datamap/columns.js';
import type { DataMap } from '../../core/datamap/datamap-load.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import type { Register } from '../../core/register/register-load.js';
import type { Condition, RetentionRule } from '../../core/register/register-schema.js';
import type { ForecastLine, ListedRecord, PlanLine } from '../../core/retention/results.js';
import { ruleInputs } from '../../core/retention/retention.js';
import type { RecordStatus } from '../../core/retention/statuses.js';
import type { Connection } from './connect.js';
import { anonymisedColumnSql, dateLiteral, dateText, fence, inKeys, nullDate } from './dialect.js';
import { listTables } from './introspect.js';
import { type RawBuilder, sql } from './kysely.js';
import {
  type ConsentGateContext,
  cheapDate,
  combineRules,
  conditionSql,
  consentEndedBy,
  dateExpr,
  fieldDate,
  fieldValue,
  freshAliases,
  hasCutOffs,
  heldKeysQueries,
  heldSql,
  heldThroughFollowsSql,
  nativeDatePath,
  type RetentionSqlContext,
  relatedFieldKey,
  relatedFieldsOf,
  relatedJoins,
  repeatedDateFieldsOf,
  retentionContext,
  ruleColumns,
  ruleStatusConditions,
  sweepCandidateSql,
} from './retention-sql.js';

export type { ForecastLine, ListedRecord, PlanLine } from '../../core/retention/results.js';

// biome-ignore lint/suspicious/noExplicitAny: a SQL fragment of any type
type Expr = RawBuilder<any>;

export interface VerdictOptions {
  /** Restricts the rows considered (keyset pagination). */
  readonly where?: Expr;
  /** Keys held by manual holds, by table (the table's own, and those of the tables it follows). */
  readonly heldByTable?: ReadonlyMap<string, readonly string[]>;
  /** Keys under a restriction of processing (art. 18), by table: their status is `restricted`. */
  readonly restrictedByTable?: ReadonlyMap<string, readonly string[]>;
  /**
   * Only the records a sweep may act on (due or entering the archive) need a right verdict: the
   * others may be left out, by their raw columns (sweepCandidateSql), before any date arithmetic.
   */
  readonly sweepOnly?: boolean;
  /**
   * The statuses are only counted (plan): the status query's rows are not fenced off from the
   * query around them, which reads each of their columns once (MySQL copied them into a
   * temporary table). A query that reads a status several times keeps the fence: each reading
   * would compute it again.
   */
  readonly countedOnly?: boolean;
}

/** SQL that says whether the record at `alias` is already anonymised as `rule` wants. */
function anonymisedSql(
  ctx: RetentionSqlContext,
  table: TableMap,
  rule: RetentionRule,
  alias: string,
): Expr | null {
  if (rule.then === undefined || rule.then === 'delete') return null;
  const checks = rule.then.anonymise.map((f) => {
    const field = typeof f === 'string' ? f : f.field;
    const column = columnOfField(table, field) ?? field;
    const spec = table.columns[column];
    const method = spec === undefined ? undefined : columnOf(spec).anonymise;
    return anonymisedColumnSql(ctx.dialect, sql.ref(`${alias}.${column}`), method);
  });
  return sql`(${sql.join(checks, sql` AND `)})`;
}

/**
 * The per-record verdict query of one table: its key, winning rule index, deadline, archive start,
 * held flag and status on `at` (active, archive, due, held, or anonymised: done). Each rule's
 * dates are computed once, in the inner query.
 */
export function verdictQuery(
  ctx: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions = {},
): Expr {
  return freshAliases(() => verdictQueryText(ctx, table, at, options));
}

/** What both the verdict and the status-only query are built on: the rows, their levels, each rule's columns. */
function verdictLevels(
  plain: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions,
  /** For the status query: every plain date the rules read is parsed once, below the anchors. */
  byChains = false,
  /**
   * The name the row's expressions use for it: `t` over the levels; another (the table's own
   * name, for a statement that cannot alias its table) only where `flat`, the levels unused.
   */
  alias = 't',
) {
  const recordId = table.record as string;
  // Below everything: each value read through a to-one relation, once per row.
  const related = relatedFieldsOf(plain, recordId);
  const withFields: RetentionSqlContext = {
    ...plain,
    fields: new Map(
      related.map((path, i) => [relatedFieldKey(recordId, alias, path), sql.ref(`${alias}.__f${i}`)]),
    ),
  };
  // Above them, on MySQL: each date the rules would parse more than once, parsed once per row.
  // MySQL parses a stored date with a regular expression and a round trip through DATE_FORMAT, and
  // a financial year's end parses it seven times (invoices: 2.2 s of a plan on 20,000 customers,
  // 1.1 s once); PostgreSQL and SQLite parse it cheaply, where the level this takes costs more
  // than it saves. A native date column is read without parsing text: nothing to gain there either.
  // For the status query, every plain date its rules read (an anchor's parts, an end): each is
  // then parsed once, where the check for invalid values, the anchor and its cut-off all read it.
  const ownRules = plain.register.retention.filter(
    (r) => r.record === recordId && r.todo === undefined && r.follows === undefined,
  );
  const dates = [
    ...new Set([
      ...(plain.dialect === 'mysql' ? repeatedDateFieldsOf(plain, recordId) : []),
      ...(byChains ? ownRules.flatMap((r) => ruleInputs(r).dates) : []),
    ]),
  ].filter((path) => !nativeDatePath(withFields, recordId, path));
  const ctx: RetentionSqlContext = {
    ...withFields,
    dates: new Map(
      dates.map((path, i) => [relatedFieldKey(recordId, alias, path), sql.ref(`${alias}.__d${i}`)]),
    ),
  };
  // Level a: the table's rows with each rule's anchor computed once (anchors may read related
  // rows), unless it reads only native date columns of the row, computed where it is used.
  const anchored = ctx.register.retention.flatMap((rule, index) =>
    rule.record === recordId &&
    rule.todo === undefined &&
    rule.anchor !== undefined &&
    rule.follows === undefined &&
    !cheapDate(ctx, recordId, rule.anchor, alias)
      ? [{ index, expr: dateExpr(ctx, recordId, alias, rule.anchor) }]
      : [],
  );
  const rules = ruleColumns(ctx, recordId, alias, (index) =>
    anchored.some((a) => a.index === index) ? sql.ref(`${alias}.__anchor${index}`) : undefined,
  );
  const done = rules.map((r) => anonymisedSql(ctx, table, r.rule, alias));
  const invalid = rules.flatMap((r) => (r.invalid ? [r.invalid] : []));
  const own = options.heldByTable?.get(table.name) ?? [];
  const restricted = options.restrictedByTable?.get(table.name) ?? [];
  const followed = options.heldByTable
    ? heldThroughFollowsSql(ctx, recordId, alias, options.heldByTable)
    : null;
  const manual = sql`${own.length ? sql` OR ${inKeys(ctx.dialect, sql.ref(`${alias}.${table.primaryKey}`), own)}` : sql``}${followed ? sql` OR ${followed}` : sql``}`;
  const candidate = options.sweepOnly ? sweepCandidateSql(plain, recordId, alias, at) : null;
  const filters = [...(options.where ? [options.where] : []), ...(candidate ? [candidate] : [])];
  // The rows considered, with the values read through relations when there are any.
  const where = filters.length ? sql`WHERE ${sql.join(filters, sql` AND `)}` : sql``;
  const chosen = sql`FROM ${sql.table(table.name)} AS t ${where}`;
  // Read by joins on the related tables' keys where they can be, else by a subquery each.
  const joined = related.length ? relatedJoins(plain, recordId, 't', related) : null;
  const relatedValues = joined?.values ?? related.map((path) => fieldValue(plain, recordId, 't', path));
  const rows = related.length
    ? sql`FROM (SELECT t.*${sql.join(
        relatedValues.map((value, i) => sql`, ${value} AS ${sql.id(`__f${i}`)}`),
        sql``,
      )} ${joined ? sql`FROM ${sql.table(table.name)} AS t ${joined.joins} ${where}` : chosen} ${fence(ctx.dialect)}) AS t`
    : chosen;
  const dated = dates.length
    ? sql`FROM (SELECT t.*${sql.join(
        dates.map((path, i) => sql`, ${fieldDate(withFields, recordId, 't', path)} AS ${sql.id(`__d${i}`)}`),
        sql``,
      )} ${rows} ${fence(ctx.dialect)}) AS t`
    : rows;
  const level0 = sql`SELECT t.*${sql.join(
    anchored.map((a) => sql`, ${a.expr} AS ${sql.id(`__anchor${a.index}`)}`),
    sql``,
  )} ${dated} ${anchored.length ? fence(ctx.dialect) : sql``}`;
  const heldExpr = sql`${heldSql(ctx, recordId, alias)}${manual}`;
  const restrictedExpr = restricted.length
    ? inKeys(ctx.dialect, sql.ref(`${alias}.${table.primaryKey}`), restricted)
    : null;
  // Flat: every value the rules read is a column of the row itself (no level computed below it),
  // so that the expressions above can be written on the table's own rows (statusPredicate).
  const flat = anchored.length === 0 && dates.length === 0 && related.length === 0;
  return { ctx, recordId, rules, done, invalid, level0, heldExpr, restrictedExpr, anchored, filters, flat };
}

/** The held, restricted and invalid flags of a row (1 or 0). */
function flags(held: Expr, restricted: Expr | null, invalid: readonly Expr[]) {
  return {
    held: sql`CASE WHEN ${held} THEN 1 ELSE 0 END` as Expr,
    restricted: (restricted ? sql`CASE WHEN ${restricted} THEN 1 ELSE 0 END` : sql`0`) as Expr,
    bad: sql`CASE WHEN ${invalid.length ? sql.join(invalid, sql` OR `) : sql`1 = 0`} THEN 1 ELSE 0 END` as Expr,
  };
}

/** The same, named: columns of a SELECT. */
function flagColumns(held: Expr, restricted: Expr | null, invalid: readonly Expr[]): Expr[] {
  return Object.entries(flags(held, restricted, invalid)).map(([name, e]) => sql`${e} AS ${sql.id(name)}`);
}

function verdictQueryText(
  plain: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions,
): Expr {
  const { ctx, rules, done, invalid, level0, heldExpr, restrictedExpr } = verdictLevels(
    plain,
    table,
    at,
    options,
  );
  const inner = sql.join(
    [
      sql`${sql.ref(`t.${table.primaryKey}`)} AS k`,
      ...rules.flatMap((r, i) => [
        sql`${r.deadline} AS ${sql.id(`d${i}`)}`,
        // Without an archive phase the active phase ends at the deadline: computed once.
        ...(r.rule.archive ? [sql`${r.activeEnd} AS ${sql.id(`e${i}`)}`] : []),
        ...(r.inArchive ? [sql`CASE WHEN ${r.inArchive} THEN 1 ELSE 0 END AS ${sql.id(`a${i}`)}`] : []),
        ...(done[i] ? [sql`CASE WHEN ${done[i]} THEN 1 ELSE 0 END AS ${sql.id(`z${i}`)}`] : []),
      ]),
      ...flagColumns(heldExpr, restrictedExpr, invalid),
    ],
    sql`, `,
  );
  const verdict = combineRules(ctx, rules, (r, what) => {
    const i = rules.indexOf(r);
    if (what === 'inArchive') return sql`${sql.ref(`c.a${i}`)} = 1`;
    return sql.ref(`c.${what === 'deadline' || !r.rule.archive ? 'd' : 'e'}${i}`);
  });
  const on = dateLiteral(ctx.dialect, at);
  const anonymised = rules.flatMap((r, i) =>
    done[i] ? [sql`(v.rule_index = ${sql.lit(r.index)} AND ${sql.ref(`v.z${i}`)} = 1)`] : [],
  );
  const finished = anonymised.length
    ? sql`WHEN ${sql.join(anonymised, sql` OR `)} THEN 'anonymised' `
    : sql``;
  const zColumns = rules.flatMap((_, i) => (done[i] ? [sql`, ${sql.ref(`c.z${i}`)}`] : []));
  return sql`SELECT k, rule_index, ${dateText(ctx.dialect, sql.ref('v.deadline'))} AS deadline,
      ${dateText(ctx.dialect, sql.ref('v.archive_from'))} AS archive_from, held,
      CASE WHEN restricted = 1 THEN 'restricted' WHEN held = 1 THEN 'held' WHEN bad = 1 THEN 'invalid' ${finished}WHEN v.deadline <= ${on} THEN 'due' WHEN v.archive_from <= ${on} THEN 'archive' ELSE 'active' END AS status
    FROM (SELECT c.k, c.held, c.restricted, c.bad${sql.join(zColumns, sql``)}, ${verdict.rule} AS rule_index, ${verdict.deadline} AS deadline, ${verdict.archiveFrom} AS archive_from
          FROM (SELECT ${inner} FROM (${level0}) AS t ${fence(ctx.dialect)}) c ${fence(ctx.dialect)}) v`;
}

/**
 * For counting and sweeping: each row's key, rule and status, and its deadline when it is in its
 * archive phase (what the archive keeps), when at most one rule of its record can apply to it (one
 * rule, or rules whose conditions exclude each other): its status then needs no date arithmetic
 * (ruleStatusConditions). Null otherwise (when several rules apply, the one whose deadline is
 * latest wins: the deadlines are needed), or when a rule's dates give no cut-off.
 */
export function statusQuery(
  ctx: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions = {},
): Expr | null {
  return freshAliases(() => statusQueryText(ctx, table, at, options));
}

/**
 * The values a matcher accepts, when it is a plain value or list of them that every database
 * compares the same way: lower-case ASCII words, or integers and booleans (SQLite and MySQL store
 * booleans as 0 and 1), with null; undefined otherwise. MySQL compares text without case and
 * trailing spaces, and text with a number as a number: such mixes are not compared here.
 */
function acceptedValues(
  matcher: unknown,
): { kind: 'text' | 'number' | null; values: Set<string> } | undefined {
  const values = Array.isArray(matcher) ? matcher : [matcher];
  const out = new Set<string>();
  let kind: 'text' | 'number' | null = null;
  const of = (k: 'text' | 'number') => {
    if (kind !== null && kind !== k) return false;
    kind = k;
    return true;
  };
  for (const v of values) {
    if (v === null) out.add('null');
    else if (typeof v === 'boolean' && of('number')) out.add(v ? '1' : '0');
    else if (typeof v === 'number' && Number.isInteger(v) && of('number')) out.add(String(v));
    else if (typeof v === 'string' && /^[a-z][a-z0-9_-]*$/.test(v) && of('text')) out.add(v);
    else return undefined;
  }
  return { kind, values: out };
}

/** Whether no record can meet both conditions: some field that both test accepts no common value. */
function exclusive(a: Condition | undefined, b: Condition | undefined): boolean {
  for (const [field, matcher] of Object.entries(a ?? {})) {
    const other = b?.[field];
    if (other === undefined) continue;
    const x = acceptedValues(matcher);
    const y = acceptedValues(other);
    if (!x || !y || (x.kind !== null && y.kind !== null && x.kind !== y.kind)) continue;
    if (![...x.values].some((v) => y.values.has(v))) return true;
  }
  return false;
}

/**
 * Whether the statuses of a record's rows can be decided without their deadlines: at most one of
 * its rules applies to a row (one rule, or conditions that exclude each other), and each one's
 * dates give cut-offs. Read from the register alone: a sweep asks it once per table.
 */
export function statusWithoutDeadlines(register: Register, recordId: string): boolean {
  const own = register.retention.filter((r) => r.record === recordId && r.todo === undefined);
  if (own.length === 0 || !own.every(hasCutOffs)) return false;
  return own.every((r, i) => own.slice(i + 1).every((other) => exclusive(r.where, other.where)));
}

/** The columns the status query computes per row, as expressions on the row `t` (its levels below). */
function statusParts(
  plain: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions,
  alias = 't',
) {
  if (!table.record || !statusWithoutDeadlines(plain.register, table.record)) return null;
  const levels = verdictLevels(plain, table, at, options, true, alias);
  const { ctx, recordId, rules, done, invalid, heldExpr, restrictedExpr, anchored } = levels;
  const each = rules.map((r, i) => ({
    index: r.index,
    deadline: r.deadline,
    applies: conditionSql(ctx, recordId, alias, r.rule.where),
    done: done[i] ?? null,
    conditions: ruleStatusConditions(
      ctx,
      r.rule,
      alias,
      anchored.some((a) => a.index === r.index) ? sql.ref(`${alias}.__anchor${r.index}`) : undefined,
      at,
    ),
  }));
  if (each.some((r) => r.conditions === null)) return null;
  // At most one rule applies to a row: it is the row's rule, and says its phase.
  const byRule = (value: (r: (typeof each)[number]) => Expr) =>
    sql`CASE ${sql.join(
      each.map((r) => sql`WHEN ${r.applies} THEN ${value(r)}`),
      sql` `,
    )} END`;
  const { held, restricted, bad } = flags(heldExpr, restrictedExpr, invalid);
  const none = nullDate(ctx.dialect);
  const columns = {
    k: sql.ref(`${alias}.${table.primaryKey}`),
    rule_index: byRule((r) => sql.lit(r.index)),
    held,
    restricted,
    bad,
    z: byRule((r) => (r.done ? sql`CASE WHEN ${r.done} THEN 1 ELSE 0 END` : sql`0`)),
    phase: byRule((r) => {
      const c = r.conditions as NonNullable<typeof r.conditions>;
      return sql`CASE WHEN ${c.due} THEN 'due' WHEN ${c.archive ?? sql`1 = 0`} THEN 'archive' ELSE 'active' END`;
    }),
    // The deadline, computed for the records in their archive phase only (the archive keeps it).
    dl: byRule((r) => {
      const c = r.conditions as NonNullable<typeof r.conditions>;
      return c.archive ? sql`CASE WHEN ${c.due} THEN ${none} WHEN ${c.archive} THEN ${r.deadline} END` : none;
    }),
  };
  return { levels, columns, each };
}

/** A row's status from its flags and phase (the columns statusParts computes, by name). */
function statusOf(column: (name: 'restricted' | 'held' | 'bad' | 'z' | 'phase') => Expr): Expr {
  return sql`CASE WHEN ${column('restricted')} = 1 THEN 'restricted' WHEN ${column('held')} = 1 THEN 'held' WHEN ${column('bad')} = 1 THEN 'invalid' WHEN ${column('z')} = 1 THEN 'anonymised' ELSE ${column('phase')} END`;
}

function statusQueryText(
  plain: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions,
): Expr | null {
  const parts = statusParts(plain, table, at, options);
  if (!parts) return null;
  const { levels, columns } = parts;
  const inner = sql.join(
    Object.entries(columns).map(([name, expr]) => sql`${expr} AS ${sql.id(name)}`),
    sql`, `,
  );
  return sql`SELECT k, rule_index, ${statusOf((name) => sql.ref(name))} AS status,
      ${dateText(levels.ctx.dialect, sql.ref('c.dl'))} AS deadline
    FROM (SELECT ${inner} FROM (${levels.level0}) AS t ${options.countedOnly ? sql`` : fence(levels.ctx.dialect)}) c`;
}

/**
 * For a sweep that changes rows where they are: the condition that a row of `table` (alias `t`,
 * the table itself) is `due` under the rule at `ruleIndex` on `at`, exactly as the status query
 * says it (the same expressions, written on the row instead of over a subquery), with the
 * options' range and the sweep's candidate filter. Null when the status query does not apply, or
 * when a rule reads a value computed below the row (a date parsed once, a related field): a
 * statement then cannot be written on the table's rows alone.
 */
export function statusPredicate(
  plain: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: VerdictOptions,
  ruleIndex: number,
  /** The name the row goes by in the statement (`t`, or the table's name where it cannot be aliased). */
  alias = 't',
): Expr | null {
  return freshAliases(() => {
    const parts = statusParts(plain, table, at, options, alias);
    if (!parts?.levels.flat) return null;
    const { levels, each } = parts;
    const position = each.findIndex((r) => r.index === ruleIndex);
    const rule = each[position];
    if (!rule?.conditions) return null;
    // The status query's CASE (the first rule that applies; restricted, held, invalid,
    // anonymised, then the phase) as a conjunction of the same conditions, each NULL taken as
    // false as CASE takes it: the database then tests the cheap ones (the dates) first and the
    // costly ones (a hold from the data, a subquery) only on the rows that pass them, where the
    // CASE tested the hold on every row.
    const yes = (e: Expr) => sql`COALESCE((${e}), FALSE)`;
    const no = (e: Expr) => sql`NOT COALESCE((${e}), FALSE)`;
    return sql.join(
      [
        ...levels.filters,
        ...each.slice(0, position).map((r) => no(r.applies)),
        yes(rule.applies),
        ...(levels.restrictedExpr ? [no(levels.restrictedExpr)] : []),
        no(levels.heldExpr),
        ...(levels.invalid.length ? [no(sql.join(levels.invalid, sql` OR `))] : []),
        ...(rule.done ? [no(rule.done)] : []),
        yes(rule.conditions.due),
      ],
      sql` AND `,
    );
  });
}

/**
 * The keys of archived records of `table` that a data-driven hold in the live store holds ('all'
 * when a hold reaches them otherwise than by key: then none may go).
 */
export async function heldArchivedKeys(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
): Promise<Set<string> | 'all'> {
  if (!table.record) return new Set();
  const { queries, unsure } = heldKeysQueries(ctx, table.record);
  if (unsure) return 'all';
  const keys = new Set<string>();
  for (const query of queries)
    for (const row of (await query.execute(conn.db)).rows as { k: unknown }[])
      if (row.k !== null && row.k !== undefined) keys.add(String(row.k));
  return keys;
}

export interface PlanOptions {
  /** Keys under a manual hold, by table name. */
  readonly heldKeys?: ReadonlyMap<string, readonly string[]>;
  /** Of those, the keys under a restriction of processing (art. 18). */
  readonly restrictedKeys?: ReadonlyMap<string, readonly string[]>;
  /** The archive store: its records count as in archive (or due, past their archive deadline). */
  readonly archive?: Connection | null;
  /** The consent ledger's verdicts in the store (withConsentGate): gated rules' records due at once. */
  readonly consent?: ConsentGateContext;
}

export async function planStore(
  conn: Connection,
  register: Register,
  datamap: DataMap,
  store: StoreMap,
  at: string,
  options: PlanOptions = {},
): Promise<PlanLine[]> {
  const ctx: RetentionSqlContext = {
    ...(await retentionContext(conn, register, datamap)),
    ...(options.consent ? { consent: options.consent } : {}),
  };
  const lines: PlanLine[] = [];
  const archiveTables = options.archive
    ? new Set((await listTables(options.archive)).map((t) => t.name))
    : new Set<string>();
  for (const table of store.tables) {
    if (!table.record || !register.retention.some((r) => r.record === table.record && r.todo === undefined))
      continue;
    const heldKeys = options.heldKeys?.get(table.name) ?? [];
    const verdictOptions: VerdictOptions = {
      ...(options.heldKeys ? { heldByTable: options.heldKeys } : {}),
      ...(options.restrictedKeys ? { restrictedByTable: options.restrictedKeys } : {}),
    };
    // Counts need no deadlines: without them when the record's rule allows it.
    const verdicts =
      statusQuery(ctx, table, at, { ...verdictOptions, countedOnly: true }) ??
      verdictQuery(ctx, table, at, verdictOptions);
    const query = sql<{ rule_index: number | string; status: string; n: number | string }>`
      SELECT rule_index, status, COUNT(*) AS n FROM (${verdicts}) s
      WHERE rule_index IS NOT NULL GROUP BY rule_index, status`;
    const { rows } = await query.execute(conn.db);
    const counts = new Map<number, Record<string, number>>();
    const add = (index: number, status: string, n: number) => {
      const c = counts.get(index) ?? {};
      c[status] = (c[status] ?? 0) + n;
      counts.set(index, c);
    };
    for (const row of rows) add(Number(row.rule_index), row.status, Number(row.n));
    const archived = `${store.id}__${table.name}`;
    if (options.archive && archiveTables.has(archived)) {
      const dataHeld = await heldArchivedKeys(conn, ctx, table);
      const allHeld = [...heldKeys, ...(dataHeld === 'all' ? [] : dataHeld)];
      const held =
        dataHeld === 'all'
          ? sql`1 = 1`
          : allHeld.length
            ? inKeys((options.archive as Connection).dialect, sql.ref('record_key'), allHeld)
            : sql`1 = 0`;
      const restrictedKeys = options.restrictedKeys?.get(table.name) ?? [];
      const restricted = restrictedKeys.length
        ? inKeys((options.archive as Connection).dialect, sql.ref('record_key'), restrictedKeys)
        : sql`1 = 0`;
      const { rows: arch } = await sql<{ rule: string; status: string; n: number | string }>`
        SELECT rule, status, COUNT(*) AS n FROM (
          SELECT rule, CASE WHEN ${restricted} THEN 'restricted' WHEN ${held} THEN 'held' WHEN deadline <= ${at} THEN 'due' ELSE 'archive' END AS status
          FROM ${sql.table(archived)}) s
        GROUP BY rule, status`.execute(options.archive.db);
      for (const row of arch) {
        const index = register.retention.findIndex((r) => r.id === row.rule);
        if (index >= 0) add(index, row.status, Number(row.n));
      }
    }
    for (const [index, rule] of register.retention.entries()) {
      if (rule.record !== table.record || rule.todo !== undefined) continue;
      const c = counts.get(index) ?? {};
      const noConsent = await lostConsentCount(conn, ctx, table, rule, at);
      lines.push({
        ...(noConsent === undefined ? {} : { noConsent }),
        rule: rule.id,
        table: table.name,
        active: c.active ?? 0,
        archive: c.archive ?? 0,
        due: c.due ?? 0,
        held: c.held ?? 0,
        restricted: c.restricted ?? 0,
        anonymised: c.anonymised ?? 0,
        invalid: c.invalid ?? 0,
      });
    }
  }
  return lines;
}

/**
 * Of a consent-gated rule's records, how many lost their consent on `at` or before (due at once,
 * unless held): undefined for a rule the ledger does not gate in this evaluation.
 */
async function lostConsentCount(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
  rule: RetentionRule,
  at: string,
): Promise<number | undefined> {
  // The gate's own condition (retention-sql's consentEndedBy), not a second copy of it.
  const lost = consentEndedBy(ctx, rule, 't', at);
  if (!lost) return undefined;
  const { rows } = await sql<{ n: number | string }>`
    SELECT COUNT(*) AS n FROM ${sql.table(table.name)} t
    WHERE ${conditionSql(ctx, rule.record, 't', rule.where)} AND ${lost}`.execute(conn.db);
  return Number(rows[0]?.n ?? 0);
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
  const ctx = await retentionContext(conn, register, datamap);
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

/**
 * One page of the live records whose winning rule is `ruleIndex` and whose status is one of
 * `statuses`, by key, after `after` (keyset pagination: the last key of the previous page).
 */
export async function listRecords(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
  at: string,
  options: {
    readonly ruleIndex: number;
    readonly statuses: readonly RecordStatus[];
    readonly limit: number;
    readonly after?: string;
    readonly heldKeys?: ReadonlyMap<string, readonly string[]>;
    readonly restrictedKeys?: ReadonlyMap<string, readonly string[]>;
  },
): Promise<ListedRecord[]> {
  const pk = sql.ref(`t.${table.primaryKey}`);
  const after = options.after;
  const where =
    after === undefined ? undefined : sql`${pk} > ${/^-?\d{1,15}$/.test(after) ? Number(after) : after}`;
  const { rows } = await sql<{ k: unknown; status: string; deadline: string | null }>`
    SELECT k, status, deadline FROM (${verdictQuery(ctx, table, at, {
      ...(where ? { where } : {}),
      ...(options.heldKeys ? { heldByTable: options.heldKeys } : {}),
      ...(options.restrictedKeys ? { restrictedByTable: options.restrictedKeys } : {}),
    })}) s
    WHERE rule_index = ${options.ruleIndex} AND status IN (${sql.join(options.statuses.map((s) => sql`${s}`))})
    ORDER BY k LIMIT ${options.limit}`.execute(conn.db);
  return rows.map((r) => ({ key: String(r.k), status: r.status, deadline: r.deadline }));
}
