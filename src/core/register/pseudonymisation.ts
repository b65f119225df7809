/**
 * What an `anonymise` end leaves behind. A row whose personal columns are cleared is anonymous
 * only if nothing else in it, and nothing it is linked to, still names the person: an order
 * that keeps its customer's key, or that a kept invoice with the billing name points to, is
 * pseudonymised (CNIL; WP216), and the documents must say so.
 */
import type { Register } from './register-load.js';
import { findRecord } from './register-model.js';
import type { RecordType, RetentionRule } from './register-schema.js';

export interface AnonymiseResidue {
  /** Fields holding personal data (a data category) that the end leaves in place. */
  readonly keptFields: readonly string[];
  /** Relations to records that still hold personal data, directly or through their own links. */
  readonly links: readonly { readonly relation: string; readonly record: RecordType }[];
}

const personalFields = (record: RecordType): string[] =>
  Object.entries(record.fields)
    .filter(([, spec]) => typeof spec === 'object' && spec.category !== undefined)
    .map(([name]) => name);

/** The fields every `anonymise` end of a record clears (none if one of its ends deletes). */
function clearedFields(register: Register, record: RecordType): Set<string> {
  const rules = register.retention.filter((r) => r.record === record.id && r.todo === undefined);
  const ends = rules.map((r) =>
    r.then !== undefined && r.then !== 'delete'
      ? new Set(r.then.anonymise.map((f) => (typeof f === 'string' ? f : f.field)))
      : null,
  );
  if (!ends.length || ends.some((e) => e === null)) return new Set();
  const [first, ...rest] = ends as Set<string>[];
  return new Set([...(first ?? [])].filter((f) => rest.every((e) => e.has(f))));
}

/** Whether a record, as its own rules leave it, still holds or leads to a person's data. */
function leadsToPerson(register: Register, record: RecordType, visited: Set<string>): boolean {
  if (visited.has(record.id)) return false;
  const cleared = clearedFields(register, record);
  if (personalFields(record).some((f) => !cleared.has(f))) return true;
  const seen = new Set([...visited, record.id]);
  return Object.values(record.relations ?? {}).some((rel) => {
    const target = findRecord(register, rel.to);
    return target !== undefined && leadsToPerson(register, target, seen);
  });
}

/** What an `anonymise` end keeps of the person; undefined when the rule deletes or the record is unknown. */
export function anonymiseResidue(register: Register, rule: RetentionRule): AnonymiseResidue | undefined {
  if (rule.then === undefined || rule.then === 'delete') return undefined;
  const record = findRecord(register, rule.record);
  if (!record) return undefined;
  const removed = new Set(rule.then.anonymise.map((f) => (typeof f === 'string' ? f : f.field)));
  const keptFields = personalFields(record).filter((f) => !removed.has(f));
  const links = Object.entries(record.relations ?? {}).flatMap(([relation, rel]) => {
    const target = findRecord(register, rel.to);
    return target && leadsToPerson(register, target, new Set([record.id]))
      ? [{ relation, record: target }]
      : [];
  });
  return { keptFields, links };
}

/** Whether what an `anonymise` end leaves still relates to a person: pseudonymisation. */
export function isPseudonymisation(residue: AnonymiseResidue | undefined): boolean {
  return residue !== undefined && (residue.keptFields.length > 0 || residue.links.length > 0);
}
