/**
 * What a breach touched, from what the DPO names (processing activities, retention rules, register
 * records, data categories) to the tables and columns the data map binds them to, and for each
 * table the identity its people are counted by. Pure: the counting is SQL (adapters/sql/breach-count).
 */
import { type BoundTable, columnOf, type DataMap, tableOfRecord } from '../datamap/columns.js';
import type { StoreMap, TableMap } from '../datamap/datamap-schema.js';
import { field, RegistreError } from '../errors.js';
import type { Register } from '../register/register-load.js';
import { activityRecords, cnilCategoryOf, findRecord, isCnilCategory } from '../register/register-model.js';

export interface BreachScopeInput {
  readonly activities: readonly string[];
  readonly rules: readonly string[];
  readonly records: readonly string[];
  readonly categories: readonly string[];
}

/** A to-one hop from a table to the one its person is found in. */
export interface PersonHop {
  readonly table: string;
  /** The column of the table before. */
  readonly local: string;
  /** The column of `table` it equals. */
  readonly remote: string;
}

/** Where a table's person is: its own identity column, or one reached through to-one relations. */
export interface PersonPath {
  readonly hops: readonly PersonHop[];
  /** The identity column of the last table (the first when there is no hop). */
  readonly column: string;
  readonly kind: string;
  /** `store.table.column`: tables counted by the same key count the same people. */
  readonly key: string;
}

export interface ScopedTable {
  readonly store: StoreMap;
  readonly table: TableMap;
  readonly record: string;
  /** The personal columns in scope: a record holds data of the breach when one of them has a value. */
  readonly columns: readonly string[];
  readonly categories: readonly string[];
  /** The rules whose records alone are in scope (their `where`); empty: every record of the table. */
  readonly rules: readonly string[];
  readonly person: PersonPath | null;
}

export interface BreachScope {
  readonly tables: readonly ScopedTable[];
  /** Records the register names but the data map binds to no table (paper files, a processor's). */
  readonly unbound: readonly string[];
}

/** Identities in the order a person is counted by: a customer number names one person best. */
const IDENTITY_ORDER = ['customer-number', 'email', 'phone', 'visitor-id'];

const scopeError = (name: string, message: string) =>
  new RegistreError('E_BREACH_SCOPE', `${field(name)} ${message}`, { path: [name] });

function known(ids: readonly string[]): string {
  const shown = ids.slice(0, 12).join(', ');
  return ids.length > 12 ? `${shown}, …` : shown;
}

/** The identity column a table holds itself, the best one first. */
function ownIdentity(table: TableMap): { column: string; kind: string } | undefined {
  const found: { column: string; kind: string }[] = [];
  for (const [column, spec] of Object.entries(table.columns)) {
    const c = columnOf(spec);
    // A keyed hash of an address cannot be compared with an address elsewhere, but it names one person.
    if (c.identity) found.push({ column, kind: c.identity });
  }
  found.sort((a, b) => IDENTITY_ORDER.indexOf(a.kind) - IDENTITY_ORDER.indexOf(b.kind));
  return found[0];
}

/**
 * The path to a table's person: its own identity, else the nearest table with one through the
 * record's to-one relations (a payment's order's customer), in the same store; null when none.
 */
export function personPath(register: Register, datamap: DataMap, bound: BoundTable): PersonPath | null {
  const queue: { table: TableMap; hops: PersonHop[] }[] = [{ table: bound.table, hops: [] }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { table, hops } = queue.shift() as (typeof queue)[number];
    if (seen.has(table.name) || hops.length > 4) continue;
    seen.add(table.name);
    const identity = ownIdentity(table);
    if (identity)
      return {
        hops,
        column: identity.column,
        kind: identity.kind,
        key: `${bound.store.id}.${table.name}.${identity.column}`,
      };
    const record = table.record ? findRecord(register, table.record) : undefined;
    for (const [name, relation] of Object.entries(record?.relations ?? {})) {
      if (relation.many) continue;
      const binding = table.relations?.[name];
      const target = tableOfRecord(datamap, relation.to);
      if (!binding || !target || target.store.id !== bound.store.id) continue;
      queue.push({
        table: target.table,
        hops: [...hops, { table: target.table.name, local: binding.local, remote: binding.remote }],
      });
    }
  }
  return null;
}

/** Whether a column of category `category` is one of `wanted` (a category, or the CNIL category above it). */
function categoryMatches(register: Register, category: string, wanted: ReadonlySet<string>): boolean {
  return wanted.has(category) || wanted.has(cnilCategoryOf(register, category) ?? '');
}

/**
 * The tables a breach touched. Refused (E_BREACH_SCOPE, naming the field) when an id is unknown,
 * when nothing is named, or when a category named is held in none of the tables in scope.
 */
export function resolveBreachScope(
  register: Register,
  datamap: DataMap,
  input: BreachScopeInput,
): BreachScope {
  const { activities, rules, records, categories } = input;
  if (activities.length + rules.length + records.length + categories.length === 0)
    throw scopeError(
      'activities',
      `, ${field('rules')}, ${field('records')} or ${field('categories')}: name at least one, what the breach touched`,
    );
  const recordIds = new Set<string>();
  const whole = new Set<string>();
  const byRule = new Map<string, string[]>();
  // Data processed for another controller: its breach is that controller's to notify (art. 33(2):
  // the processor tells it without undue delay); no CNIL deadline, no letter of ours.
  const forOthers = processorOnlyRecords(register);
  const onBehalf = (name: string, id: string) =>
    scopeError(
      name,
      `"${id}" is processed only on behalf of other controllers: as processor, tell each controller without undue delay (art. 33(2)); this register keeps the breaches of data you are the controller of`,
    );
  for (const id of activities) {
    const activity = register.activities.find((a) => a.id === id);
    if (!activity)
      throw scopeError(
        'activities',
        `"${id}": no processing activity of the register has this id (it has ${known(register.activities.map((a) => a.id))})`,
      );
    if (activity.role === 'processor')
      throw scopeError(
        'activities',
        `"${id}" is processed on behalf of other controllers: as processor, tell each controller without undue delay (art. 33(2)); this register keeps the breaches of data you are the controller of`,
      );
    for (const r of activityRecords(register, activity)) {
      recordIds.add(r.id);
      whole.add(r.id);
    }
  }
  for (const id of rules) {
    const rule = register.retention.find((r) => r.id === id);
    if (!rule)
      throw scopeError(
        'rules',
        `"${id}": no retention rule of the register has this id (it has ${known(register.retention.map((r) => r.id))})`,
      );
    if (forOthers.has(rule.record)) throw onBehalf('rules', id);
    recordIds.add(rule.record);
    byRule.set(rule.record, [...(byRule.get(rule.record) ?? []), rule.id]);
  }
  for (const id of records) {
    if (!findRecord(register, id))
      throw scopeError(
        'records',
        `"${id}": no record of the register has this id (it has ${known(register.records.map((r) => r.id))})`,
      );
    if (forOthers.has(id)) throw onBehalf('records', id);
    recordIds.add(id);
    whole.add(id);
  }
  const wanted = new Set(categories);
  for (const id of categories)
    if (!isCnilCategory(id) && !register.dataCategories.some((c) => c.id === id))
      throw scopeError(
        'categories',
        `"${id}": no data category of the register has this id (it has ${known([...register.dataCategories.map((c) => c.id)])})`,
      );
  // Categories alone: wherever the data map holds them, in the records we are the controller of.
  if (recordIds.size === 0)
    for (const r of register.records.filter((r) => !forOthers.has(r.id))) {
      recordIds.add(r.id);
      whole.add(r.id);
    }

  const tables: ScopedTable[] = [];
  const unbound: string[] = [];
  const matched = new Set<string>();
  for (const recordId of recordIds) {
    const bound = tableOfRecord(datamap, recordId);
    if (!bound) {
      unbound.push(recordId);
      continue;
    }
    const columns: string[] = [];
    const held = new Set<string>();
    for (const [column, spec] of Object.entries(bound.table.columns)) {
      const c = columnOf(spec);
      if (c.category === undefined && c.identity === undefined) continue;
      if (wanted.size > 0) {
        if (c.category === undefined || !categoryMatches(register, c.category, wanted)) continue;
        for (const w of wanted) if (categoryMatches(register, c.category, new Set([w]))) matched.add(w);
      }
      columns.push(column);
      if (c.category !== undefined) held.add(c.category);
    }
    if (columns.length === 0) continue;
    tables.push({
      store: bound.store,
      table: bound.table,
      record: recordId,
      columns,
      categories: [...held].sort(),
      rules: whole.has(recordId) ? [] : (byRule.get(recordId) ?? []),
      person: personPath(register, datamap, bound),
    });
  }
  const missing = categories.filter((c) => !matched.has(c));
  if (missing.length > 0)
    throw scopeError(
      'categories',
      `"${missing.join('", "')}": held in none of the tables of what the breach touched (${tables.map((t) => t.table.name).join(', ') || 'none'}); name the activity, rule or record that holds it`,
    );
  if (tables.length === 0 && unbound.length === 0)
    throw scopeError('records', 'the breach touches no personal data the data map knows of');
  return { tables, unbound: unbound.sort() };
}

/** Records that only processor activities hold: data processed on behalf of other controllers. */
function processorOnlyRecords(register: Register): Set<string> {
  const own = new Set<string>();
  const others = new Set<string>();
  for (const activity of register.activities)
    for (const r of activityRecords(register, activity))
      (activity.role === 'processor' ? others : own).add(r.id);
  return new Set([...others].filter((id) => !own.has(id)));
}
