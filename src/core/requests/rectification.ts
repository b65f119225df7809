/**
 * Rectification (art. 16), decided without I/O: which fields a person may have corrected, the
 * values checked and normalised, and what happens to each of the person's records.
 *
 * Only a column holding a data category of the person is ever rectified. Keys, relations, `none`
 * columns, secrets, files, keyed hashes and every field a retention rule, a hold rule or a
 * returnTo/suppress condition reads are refused: a corrected value there would move records to
 * someone else or change when they are deleted. A column that may describe a third person (a gift
 * order's recipient) is not rewritten by another's request.
 */
import { columnOf, columnOfField, type DataMap, fieldOfColumn, tableOfRecord } from '../datamap/columns.js';
import type { TableMap } from '../datamap/datamap-schema.js';
import { field as fieldRef, RegistreError } from '../errors.js';
import type { Register } from '../register/register-load.js';
import { resolvePath } from '../register/register-model.js';
import type { Condition } from '../register/register-schema.js';
import { dateInputs, keepInputs } from '../retention/retention.js';
import { requireEmail } from './requests.js';

/** A column holding a field of a rectification, and why it may not be written (if so). */
export interface FieldHolder {
  readonly store: string;
  readonly table: string;
  readonly column: string;
  /** Why the column is never rectified; undefined when it may be. */
  readonly refused?: string;
  /** The column may describe someone other than the record's person. */
  readonly thirdParty: boolean;
}

/**
 * The fields each record type's rules read, with the first rule that reads it: conditions
 * (`where`, a hold's `when`, `returnTo.when`), anchors, `until`, durations read from the data,
 * and the date fields that mean the person asked (`suppress.when`).
 */
export function fieldsRulesRead(register: Register): Map<string, Map<string, string>> {
  const read = new Map<string, Map<string, string>>();
  const add = (record: string, path: string, why: string) => {
    const resolved = resolvePath(register, record, path);
    if (!resolved.ok) return;
    const fields = read.get(resolved.record.id) ?? new Map<string, string>();
    if (!fields.has(resolved.field)) fields.set(resolved.field, why);
    read.set(resolved.record.id, fields);
  };
  const condition = (record: string, c: Condition | undefined, why: string) => {
    for (const path of Object.keys(c ?? {})) add(record, path, why);
  };
  for (const rule of register.retention) {
    const why = `retention rule "${rule.id}"`;
    condition(rule.record, rule.where, `the condition of ${why}`);
    condition(rule.record, rule.returnTo?.when, `the return condition of ${why}`);
    const { dates, aggregates, amounts } = dateInputs([
      ...(rule.anchor !== undefined ? [rule.anchor] : []),
      ...(rule.until ?? []),
    ]);
    for (const path of [...dates, ...aggregates]) add(rule.record, path, `the dates of ${why}`);
    for (const path of [...amounts, ...(rule.keep !== undefined ? keepInputs(rule.keep) : [])])
      add(rule.record, path, `the duration of ${why}`);
    if (rule.suppress !== undefined && typeof rule.suppress !== 'string')
      for (const path of rule.suppress.when) add(rule.record, path, `the suppression of ${why}`);
  }
  for (const hold of register.holds) condition(hold.record, hold.when, `hold rule "${hold.id}"`);
  return read;
}

/** Every column of the data map bound by a relation, on either side: `table` → columns → relation. */
function relationColumns(register: Register, datamap: DataMap): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const mark = (store: string, table: string, column: string, why: string) => {
    const k = `${store}.${table}`;
    const columns = out.get(k) ?? new Map<string, string>();
    if (!columns.has(column)) columns.set(column, why);
    out.set(k, columns);
  };
  for (const store of datamap.stores)
    for (const table of store.tables)
      for (const [name, binding] of Object.entries(table.relations ?? {})) {
        mark(store.id, table.name, binding.local, `it links ${table.name} to its ${name} (a relation)`);
        const record = register.records.find((r) => r.id === table.record);
        const to = record?.relations?.[name]?.to;
        const target = to ? tableOfRecord(datamap, to) : undefined;
        if (target)
          mark(
            target.store.id,
            target.table.name,
            binding.remote,
            `${table.name} refer to ${target.table.name} by it (a relation)`,
          );
      }
  return out;
}

/** Why a column is never rectified, or undefined when it holds a data category of the person. */
function refusal(
  table: TableMap,
  column: string,
  read: Map<string, string> | undefined,
  relations: Map<string, string> | undefined,
): string | undefined {
  const spec = table.columns[column];
  if (spec === undefined) return undefined;
  const c = columnOf(spec);
  if (column === table.primaryKey) return 'it is the key of the record';
  if (spec === 'key') return 'it is a key';
  const relation = relations?.get(column);
  if (relation) return relation;
  if (c.secret) return 'it is a secret (a password hash, a payment token): never copied nor rectified';
  if (c.hashed) return 'it holds a keyed hash, derived from an identity, never written by hand';
  if (c.file) return 'it holds the path of a file: a file is replaced by the DPO, not rectified by a value';
  const rule = read?.get(fieldOfColumn(table, column));
  if (rule) return `${rule} reads it: a corrected value would change when records are kept or deleted`;
  if (c.category === undefined) return 'it holds no data category of the person (mapped none)';
  return undefined;
}

/** Every column of a record table that holds `field` (a register field or a column name). */
export function holdersOf(register: Register, datamap: DataMap, field: string): FieldHolder[] {
  const read = fieldsRulesRead(register);
  const relations = relationColumns(register, datamap);
  return holders(datamap, field, read, relations);
}

function holders(
  datamap: DataMap,
  field: string,
  read: Map<string, Map<string, string>>,
  relations: Map<string, Map<string, string>>,
): FieldHolder[] {
  const out: FieldHolder[] = [];
  for (const store of datamap.stores)
    for (const table of store.tables) {
      if (!table.record) continue;
      const column = columnOfField(table, field);
      if (column === undefined) continue;
      const why = refusal(table, column, read.get(table.record), relations.get(`${store.id}.${table.name}`));
      out.push({
        store: store.id,
        table: table.name,
        column,
        ...(why ? { refused: why } : {}),
        thirdParty: columnOf(table.columns[column] as never).thirdParty === true,
      });
    }
  return out;
}

/** The fields a rectification may correct: held by some record, and by no column refused. */
export function rectifiableFields(register: Register, datamap: DataMap): string[] {
  const read = fieldsRulesRead(register);
  const relations = relationColumns(register, datamap);
  const names = new Set<string>();
  for (const store of datamap.stores)
    for (const table of store.tables)
      if (table.record)
        for (const column of Object.keys(table.columns)) names.add(fieldOfColumn(table, column));
  return [...names]
    .filter((field) => {
      const h = holders(datamap, field, read, relations);
      return h.length > 0 && h.every((x) => !x.refused) && h.some((x) => !x.thirdParty);
    })
    .sort();
}

/**
 * Checks a rectification's `field → value` pairs and returns them normalised (an e-mail address
 * trimmed and lower-cased). Refuses, naming each field and why: an empty value, a field no record
 * holds, a field held by a column never rectified, a field held only where it may describe a third
 * person, and an e-mail identity that is not an address.
 */
export function checkRectification(
  set: Readonly<Record<string, string>>,
  register: Register,
  datamap: DataMap,
): Record<string, string> {
  const fields = Object.keys(set);
  if (fields.length === 0)
    throw new RegistreError(
      'E_USAGE',
      `a rectification says what to correct: ${fieldRef('set')} field=value`,
    );
  const read = fieldsRulesRead(register);
  const relations = relationColumns(register, datamap);
  const problems: string[] = [];
  const out: Record<string, string> = {};
  for (const field of fields) {
    const value = set[field] as string;
    const h = holders(datamap, field, read, relations);
    if (h.length === 0) {
      problems.push(
        `${fieldRef('set')} ${field}: no table of the data map holds such a field of a person's record; rectifiable: ${rectifiableFields(register, datamap).join(', ')}`,
      );
      continue;
    }
    const refused = h.filter((x) => x.refused);
    if (refused.length) {
      problems.push(
        `${fieldRef('set')} ${field}: not rectifiable: ${refused.map((x) => `${x.table}.${x.column}: ${x.refused}`).join('; ')}`,
      );
      continue;
    }
    if (h.every((x) => x.thirdParty)) {
      problems.push(
        `${fieldRef('set')} ${field}: not rectifiable by the person: ${h.map((x) => `${x.table}.${x.column}`).join(', ')} may describe someone else (a gift's recipient); that person asks for it`,
      );
      continue;
    }
    if (value.trim() === '') {
      problems.push(`${fieldRef('set')} ${field}: an empty value; say what the correct value is`);
      continue;
    }
    const email = h.some((x) => {
      const spec = datamap.stores.find((s) => s.id === x.store)?.tables.find((t) => t.name === x.table)
        ?.columns[x.column];
      const c = spec ? columnOf(spec) : undefined;
      return c?.identity === 'email' || c?.normalise === 'email';
    });
    if (email) {
      try {
        out[field] = requireEmail(value);
      } catch {
        problems.push(`${fieldRef('set')} ${field}: the value is not an e-mail address`);
      }
      continue;
    }
    out[field] = value.trim();
  }
  if (problems.length) throw new RegistreError('E_USAGE', problems.join('\n'));
  return out;
}

/** What a rectification does with one record of the person. */
export type RectificationDecision =
  /** The record holds none of the fields. */
  | { readonly kind: 'none' }
  | {
      readonly kind: 'write';
      /** column → corrected value */
      readonly columns: Readonly<Record<string, string>>;
      readonly fields: readonly string[];
      /** Fields of the record left as they are, and why (a third person's data). */
      readonly skipped?: { readonly fields: readonly string[]; readonly basis: string };
    }
  | { readonly kind: 'unchanged'; readonly fields: readonly string[]; readonly basis: string };

export const THIRD_PARTY_BASIS =
  "third person: these fields may describe someone other than the person (a gift's recipient); another person's request does not rewrite them";

/**
 * The policy's rectification, record by record. A record that holds none of the fields is left
 * out. One that does is left unchanged, with the reason, when it is archived, held for a
 * controller, restricted (art. 18), under a hold (legal claims), anonymised (it no longer relates
 * to the person), or kept under a legal obligation (an accounting document is corrected by a new
 * one). Otherwise its fields are written, except those that may describe a third person.
 */
export function rectificationDecision(record: {
  /** field → { column, value, thirdParty } for each field of the request the record's table holds */
  readonly fields: Readonly<
    Record<string, { readonly column: string; readonly value: string; readonly thirdParty: boolean }>
  >;
  /** The record's table holds a data category of one of the fields (for kept accounting documents). */
  readonly holdsCategory: boolean;
  readonly archived: boolean;
  readonly processor: boolean;
  readonly restricted: boolean;
  /** The reasons of the holds on the record (restrictions apart). */
  readonly held: readonly string[];
  readonly anonymised: boolean;
  readonly legalObligation: boolean;
}): RectificationDecision {
  const fields = Object.keys(record.fields);
  // A kept accounting document holding data of the same kind (an invoice's billing name) is
  // reported, even when it does not hold the field itself.
  if (
    fields.length === 0 &&
    !(record.legalObligation && record.holdsCategory && !record.archived && !record.processor)
  )
    return { kind: 'none' };
  const unchanged = (basis: string): RectificationDecision => ({ kind: 'unchanged', fields, basis });
  if (record.archived)
    return unchanged('archived: kept only for the archive purpose, as it was when the account closed');
  if (record.processor)
    return unchanged('held for a controller: rectified on its instruction (reported to it with the request)');
  if (record.restricted)
    return unchanged(
      'restricted (art. 18): only stored while the restriction lasts; lift it first (request restriction lift)',
    );
  if (record.held.length)
    return unchanged(`held (art. 17(3)(e), legal claims): ${record.held.join('; ')}; kept as it is`);
  if (record.anonymised) return unchanged('anonymised: the record no longer relates to the person');
  if (record.legalObligation)
    return unchanged('legal obligation: an accounting document is corrected by a new one, not rewritten');
  const own = fields.filter((f) => !record.fields[f]?.thirdParty);
  const third = fields.filter((f) => record.fields[f]?.thirdParty);
  if (own.length === 0) return unchanged(THIRD_PARTY_BASIS);
  const columns: Record<string, string> = {};
  for (const f of own) {
    const x = record.fields[f] as { column: string; value: string };
    columns[x.column] = x.value;
  }
  return {
    kind: 'write',
    columns,
    fields: own,
    ...(third.length ? { skipped: { fields: third, basis: THIRD_PARTY_BASIS } } : {}),
  };
}
