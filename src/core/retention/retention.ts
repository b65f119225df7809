/**
 * The pure evaluation of retention rules: for one record on one date, which rules apply, their
 * anchors and deadlines, the record's phase and its final action. The SQL that plans and sweeps
 * must agree with this, date for date.
 */

import type { Register } from '../register/register-load.js';
import { findRecord } from '../register/register-model.js';
import type {
  Condition,
  DateExpr,
  FinalAction,
  HoldRule,
  Keep,
  RetentionRule,
} from '../register/register-schema.js';
import {
  addDuration,
  type CalendarDate,
  type Duration,
  earliestDate,
  financialYearEnd,
  latestDate,
  parseDuration,
  toAmount,
  toCalendarDate,
} from './calendar.js';
import type { RecordStatus } from './statuses.js';

/** A record as the evaluator reads it: its fields and its related records, by the register's names. */
export interface RecordView {
  readonly type: string;
  /** Identifies the record among all others (`type:id`), so holds found elsewhere can name it. */
  readonly key: string;
  get(field: string): unknown;
  one(relation: string): RecordView | null;
  many(relation: string): readonly RecordView[];
}

export type ActionKind = 'delete' | 'anonymise';

export interface RuleVerdict {
  readonly rule: string;
  readonly purposes: readonly string[];
  readonly anchorDate: CalendarDate | null;
  /** When the active phase ends (the archive phase starts, if the rule has one). */
  readonly activeEnd: CalendarDate | null;
  readonly deadline: CalendarDate | null;
  readonly action: ActionKind;
  /** A value it reads is invalid (see hasInvalidInput). */
  readonly invalid?: boolean;
  /** Its consent was lost (refused, withdrawn, expired): the record is due from that day. */
  readonly noConsent?: ConsentLoss;
}

/** A consent-based rule's record whose subject no longer consents: the day, and the ledger event that decided it. */
export interface ConsentLoss {
  readonly ended: CalendarDate;
  readonly event: number;
  readonly state: string;
}

export interface HoldReason {
  readonly hold: string;
  readonly reason: string;
  readonly until?: CalendarDate;
  /** A restriction of processing (art. 18), not a legal hold: the record shows as `restricted`. */
  readonly restriction?: boolean;
}

/** `held`, or `restricted` when a restriction of processing is among the holds. */
export function heldStatus(holds: readonly HoldReason[]): 'held' | 'restricted' {
  return holds.some((h) => h.restriction) ? 'restricted' : 'held';
}

export interface RecordVerdict {
  readonly type: string;
  readonly status: RecordStatus;
  readonly deadline: CalendarDate | null;
  readonly archiveFrom: CalendarDate | null;
  readonly action: ActionKind | null;
  readonly anonymise: readonly string[];
  readonly archiveFields: readonly string[];
  /** The rule whose deadline wins (the latest), null when no rule applies. */
  readonly rule: string | null;
  readonly rules: readonly RuleVerdict[];
  readonly holds: readonly HoldReason[];
}

export interface EvaluateOptions {
  /** Holds on this record found elsewhere (manual holds, data-driven holds from other records). */
  readonly holds?: readonly HoldReason[];
  /** Holds by record key (see collectHolds): used for this record and for the records it follows. */
  readonly holdsOf?: (key: string) => readonly HoldReason[];
  /** Whether these fields of the record are already anonymised (the data map knows how they are). */
  readonly isAnonymised?: (view: RecordView, fields: readonly string[]) => boolean;
  /** For a consent-based rule: whether the record's subject lost the consent, from the ledger. */
  readonly consentLost?: (rule: RetentionRule, view: RecordView) => ConsentLoss | undefined;
}

function financialYearEndOf(register: Register): string {
  return register.organisation.financialYearEnd ?? '12-31';
}

/** Reads `field` or `relation.field` (to-one relations only) from a record. */
export function readPath(view: RecordView, path: string): unknown {
  const segments = path.split('.');
  const field = segments.pop() as string;
  let current: RecordView | null = view;
  for (const rel of segments) {
    current = current.one(rel);
    if (current === null) return null;
  }
  return current.get(field);
}

/** Every record reached through a path of relations, one or many at each step. */
export function followPath(view: RecordView, relations: readonly string[]): RecordView[] {
  let current: RecordView[] = [view];
  for (const rel of relations) {
    current = current.flatMap((v) => {
      const many = v.many(rel);
      if (many.length > 0) return [...many];
      const one = v.one(rel);
      return one ? [one] : [];
    });
  }
  return current;
}

function keepDuration(view: RecordView, keep: Keep): Duration | null {
  if (typeof keep === 'string') {
    const parsed = parseDuration(keep);
    return parsed.ok ? parsed.duration : null;
  }
  const [unit, path] = Object.entries(keep)[0] as ['months' | 'years' | 'days', string];
  const amount = toAmount(readPath(view, path));
  return amount === null ? null : { amount, unit };
}

/**
 * The values a rule reads from the record itself (or through to-one relations): the dates it
 * anchors on or ends at, and the amounts of its durations. Aggregates over related records are
 * not here: an invalid value among them is skipped, as a missing one is.
 */
export function ruleInputs(rule: RetentionRule): { dates: string[]; amounts: string[] } {
  if (rule.follows !== undefined) return { dates: [], amounts: [] };
  const { dates, amounts } = dateInputs([
    ...(rule.anchor !== undefined ? [rule.anchor] : []),
    ...(rule.until ?? []),
  ]);
  return { dates, amounts: [...amounts, ...(rule.keep !== undefined ? keepInputs(rule.keep) : [])] };
}

/** The field path a duration reads from the data (`{ months: distributor.retention_months }`), if any. */
export function keepInputs(keep: Keep): string[] {
  return typeof keep === 'string' ? [] : [Object.values(keep)[0] as string];
}

/**
 * The paths date expressions read: plain dates (a field, or one through to-one relations),
 * aggregates over related records (`max(orders.placed_at)`), and duration amounts.
 */
export function dateInputs(exprs: readonly DateExpr[]): {
  dates: string[];
  aggregates: string[];
  amounts: string[];
} {
  const found = { dates: [] as string[], aggregates: [] as string[], amounts: [] as string[] };
  const visit = (expr: DateExpr): void => {
    if (typeof expr === 'string') found.dates.push(expr);
    else if ('latest' in expr) for (const e of expr.latest) visit(e);
    else if ('earliest' in expr) for (const e of expr.earliest) visit(e);
    else if ('financialYearEnd' in expr) visit(expr.financialYearEnd);
    else if ('from' in expr) {
      visit(expr.from);
      found.amounts.push(...keepInputs(expr.add));
    } else found.aggregates.push('max' in expr ? expr.max : expr.min);
  };
  for (const e of exprs) visit(e);
  return found;
}

/** Whether a value the rule reads is there but invalid (not a date, not a whole amount). */
export function hasInvalidInput(view: RecordView, rule: RetentionRule): boolean {
  const { dates, amounts } = ruleInputs(rule);
  const bad = (path: string, valid: (v: unknown) => unknown) => {
    const raw = readPath(view, path);
    return raw !== null && raw !== undefined && valid(raw) === null;
  };
  return dates.some((p) => bad(p, toCalendarDate)) || amounts.some((p) => bad(p, toAmount));
}

export function evaluateDate(register: Register, view: RecordView, expr: DateExpr): CalendarDate | null {
  if (typeof expr === 'string') return toCalendarDate(readPath(view, expr));
  if ('latest' in expr) return latestDate(expr.latest.map((e) => evaluateDate(register, view, e)));
  if ('earliest' in expr) return earliestDate(expr.earliest.map((e) => evaluateDate(register, view, e)));
  if ('financialYearEnd' in expr) {
    const d = evaluateDate(register, view, expr.financialYearEnd);
    return d === null ? null : financialYearEnd(d, financialYearEndOf(register));
  }
  if ('from' in expr) {
    const d = evaluateDate(register, view, expr.from);
    const duration = keepDuration(view, expr.add);
    return d === null || duration === null ? null : addDuration(d, duration);
  }
  const aggregate = 'max' in expr ? expr.max : expr.min;
  const segments = aggregate.split('.');
  const field = segments.pop() as string;
  const dates = followPath(view, segments).map((v) => toCalendarDate(v.get(field)));
  return 'max' in expr ? latestDate(dates) : earliestDate(dates);
}

function sameValue(actual: unknown, expected: unknown): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (typeof expected === 'boolean') {
    if (actual === null || actual === undefined) return false;
    const truthy = actual === true || actual === 1 || actual === '1' || actual === 'true' || actual === 't';
    return truthy === expected;
  }
  if (actual === null || actual === undefined) return false;
  return String(actual) === String(expected);
}

export function matchesCondition(view: RecordView, condition: Condition | undefined): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([path, matcher]) => {
    const actual = readPath(view, path);
    const test = (m: unknown) =>
      Array.isArray(m) ? m.some((x) => sameValue(actual, x)) : sameValue(actual, m);
    if (matcher !== null && typeof matcher === 'object' && !Array.isArray(matcher)) return !test(matcher.not);
    return test(matcher);
  });
}

function actionOf(then: FinalAction | undefined): ActionKind {
  return then === undefined || then === 'delete' ? 'delete' : 'anonymise';
}

function anonymisedFields(then: FinalAction | undefined): string[] {
  if (then === undefined || then === 'delete') return [];
  return then.anonymise.map((f) => (typeof f === 'string' ? f : f.field));
}

/** The dates of one rule for one record (whether or not its condition holds). */
export function evaluateRule(
  register: Register,
  rule: RetentionRule,
  view: RecordView,
  options: EvaluateOptions = {},
): RuleVerdict {
  const base = {
    rule: rule.id,
    purposes: rule.purposes,
    action: actionOf(rule.then),
    ...(hasInvalidInput(view, rule) ? { invalid: true } : {}),
  };
  if (rule.follows !== undefined) {
    const related = view.one(rule.follows);
    const deadline = related ? evaluateRecord(register, related, undefined, options).deadline : null;
    return { ...base, anchorDate: null, activeEnd: deadline, deadline };
  }
  const anchorDate = rule.anchor === undefined ? null : evaluateDate(register, view, rule.anchor);
  const keep = rule.keep === undefined ? { amount: 0, unit: 'days' as const } : keepDuration(view, rule.keep);
  const ends: (CalendarDate | null)[] = [];
  if (rule.anchor !== undefined)
    ends.push(anchorDate === null || keep === null ? null : addDuration(anchorDate, keep));
  for (const u of rule.until ?? []) ends.push(evaluateDate(register, view, u));
  // A lost consent ends the rule's active phase on its day, as another end condition would.
  const lost = options.consentLost?.(rule, view);
  if (lost) ends.push(lost.ended);
  const activeEnd = earliestDate(ends);
  const consent = lost && activeEnd === lost.ended ? { noConsent: lost } : {};
  if (!rule.archive) return { ...base, ...consent, anchorDate, activeEnd, deadline: activeEnd };
  const archive = parseDuration(rule.archive.keep);
  const archiveEnd = anchorDate !== null && archive.ok ? addDuration(anchorDate, archive.duration) : null;
  // No archive end (past 9999-12-31): no deadline, as SQL gives.
  const deadline = activeEnd === null || archiveEnd === null ? null : latestDate([activeEnd, archiveEnd]);
  return { ...base, anchorDate, activeEnd, deadline };
}

function holdsOn(register: Register, view: RecordView, options: EvaluateOptions): HoldReason[] {
  const holds = [...(options.holds ?? []), ...(options.holdsOf?.(view.key) ?? [])];
  for (const rule of register.retention) {
    if (rule.record !== view.type || rule.follows === undefined || !matchesCondition(view, rule.where))
      continue;
    const related = view.one(rule.follows);
    if (related) holds.push(...holdsOn(register, related, { ...options, holds: [] }));
  }
  return holds;
}

/** Every data-driven hold in a set of records, by the key of the record held. */
export function collectHolds(register: Register, views: Iterable<RecordView>): Map<string, HoldReason[]> {
  const held = new Map<string, HoldReason[]>();
  for (const view of views) {
    for (const hold of register.holds) {
      for (const { target, reason } of holdsPlacedBy(hold, view)) {
        const list = held.get(target.key) ?? [];
        if (!list.some((h) => h.hold === reason.hold)) list.push(reason);
        held.set(target.key, list);
      }
    }
  }
  return held;
}

function reasonOf(hold: HoldRule): HoldReason {
  const reason =
    typeof hold.reason === 'string' ? hold.reason : (hold.reason.en ?? hold.reason.fr ?? hold.id);
  return { hold: hold.id, reason };
}

/** The records a data-driven hold places under hold, starting from the record that causes it. */
export function holdsPlacedBy(
  hold: HoldRule,
  view: RecordView,
): { target: RecordView; reason: HoldReason }[] {
  if (hold.record !== view.type || !matchesCondition(view, hold.when)) return [];
  const reason = reasonOf(hold);
  return hold.holds.flatMap((path) =>
    (path === 'self' ? [view] : followPath(view, path.split('.'))).map((target) => ({ target, reason })),
  );
}

/**
 * The verdict on one record at date `at`: the latest deadline of the rules that apply wins, a hold
 * beats everything, and a record is due on its deadline (`deadline <= at`).
 */
export function evaluateRecord(
  register: Register,
  view: RecordView,
  at?: CalendarDate,
  options: EvaluateOptions = {},
): RecordVerdict {
  const rules = register.retention.filter(
    (r) => r.record === view.type && r.todo === undefined && matchesCondition(view, r.where),
  );
  const verdicts = rules.map((rule) => evaluateRule(register, rule, view, options));
  const holds = holdsOn(register, view, options);
  const empty = {
    type: view.type,
    archiveFrom: null,
    anonymise: [],
    archiveFields: [],
    rules: verdicts,
    holds,
  };
  if (verdicts.length === 0) {
    return {
      ...empty,
      status: holds.length ? heldStatus(holds) : 'active',
      deadline: null,
      action: null,
      rule: null,
    };
  }
  const open = verdicts.some((v) => v.deadline === null);
  let winner = verdicts[0] as RuleVerdict;
  for (const v of verdicts.slice(1)) {
    if (v.deadline === null || winner.deadline === null) {
      if (v.deadline === null && winner.deadline !== null) winner = v;
      continue;
    }
    if (
      v.deadline > winner.deadline ||
      (v.deadline === winner.deadline && v.action === 'anonymise' && winner.action === 'delete')
    )
      winner = v;
  }
  const deadline = open ? null : winner.deadline;
  const winningRule = rules[verdicts.indexOf(winner)] as RetentionRule;
  const inArchive = (v: RuleVerdict) =>
    v.activeEnd !== null && v.deadline !== null && v.activeEnd < v.deadline;
  const archiveRules = rules.filter((r, i) => r.archive && inArchive(verdicts[i] as RuleVerdict));
  const archiveFrom =
    archiveRules.length > 0 && verdicts.every((v) => v.activeEnd !== null)
      ? latestDate(verdicts.map((v) => v.activeEnd))
      : null;
  const base = {
    ...empty,
    deadline,
    archiveFrom,
    action: winner.action,
    anonymise: anonymisedFields(winningRule.then),
    archiveFields: [...new Set(archiveRules.flatMap((r) => r.archive?.fields ?? []))],
    rule: winner.rule,
  };
  if (at === undefined) return { ...base, status: holds.length ? heldStatus(holds) : 'active' };
  const activeHolds = holds.filter((h) => h.until === undefined || h.until >= at);
  if (activeHolds.length > 0) return { ...base, holds: activeHolds, status: heldStatus(activeHolds) };
  if (verdicts.some((v) => v.invalid)) return { ...base, status: 'invalid' };
  if (base.action === 'anonymise' && options.isAnonymised?.(view, base.anonymise))
    return { ...base, status: 'anonymised' };
  if (deadline !== null && deadline <= at) return { ...base, status: 'due' };
  if (archiveFrom !== null && archiveFrom <= at) return { ...base, status: 'archive' };
  return { ...base, status: 'active' };
}

/** Builds a RecordView from a plain object: fields as keys, relations as nested objects or arrays. */
export function viewOf(register: Register, type: string, data: Record<string, unknown>): RecordView {
  const record = findRecord(register, type);
  if (!record) throw new RangeError(`record "${type}" is not declared in the register`);
  const cache = new Map<string, RecordView | RecordView[] | null>();
  const related = (name: string): RecordView | RecordView[] | null => {
    if (cache.has(name)) return cache.get(name) ?? null;
    const relation = record.relations?.[name];
    const value = data[name];
    let result: RecordView | RecordView[] | null = null;
    if (relation && Array.isArray(value))
      result = value.map((v) => viewOf(register, relation.to, v as Record<string, unknown>));
    else if (relation && value && typeof value === 'object')
      result = viewOf(register, relation.to, value as Record<string, unknown>);
    cache.set(name, result);
    return result;
  };
  return {
    type,
    key: `${type}:${String(data.id ?? JSON.stringify(data))}`,
    get: (field) => data[field] ?? null,
    one: (name) => {
      const r = related(name);
      return Array.isArray(r) ? (r[0] ?? null) : r;
    },
    many: (name) => {
      const r = related(name);
      return Array.isArray(r) ? r : r ? [r] : [];
    },
  };
}
