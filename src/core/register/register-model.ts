/** Look-ups over a loaded register: ids, record fields and relation paths. */

import { RegistreError } from '../errors.js';
import type { Register } from './register-load.js';
import type { Activity, Controller, Purpose, RecordType, RetentionRule } from './register-schema.js';
import { CNIL_CATEGORIES } from './vocabulary.js';

export type FieldType = 'date' | 'boolean' | 'string' | 'integer' | 'enum' | 'text';

export interface FieldInfo {
  readonly type: FieldType;
  readonly values?: readonly string[];
}

export function fieldInfo(record: RecordType, name: string): FieldInfo | undefined {
  const spec = record.fields[name];
  if (spec === undefined) return undefined;
  if (typeof spec === 'string') return { type: spec };
  return spec.values ? { type: spec.type, values: spec.values } : { type: spec.type };
}

export type ResolvedPath =
  | {
      readonly ok: true;
      readonly record: RecordType;
      readonly field: string;
      readonly info: FieldInfo;
      readonly relations: readonly string[];
      readonly many: boolean;
    }
  | {
      readonly ok: false;
      readonly code: 'E_UNKNOWN_FIELD' | 'E_UNKNOWN_RELATION' | 'E_UNKNOWN_RECORD';
      readonly message: string;
    };

/** Resolves `field` or `relation.relation.field` from a record type. */
export function resolvePath(register: Register, recordId: string, path: string): ResolvedPath {
  const segments = path.split('.');
  const field = segments.pop() as string;
  let record = findRecord(register, recordId);
  if (!record)
    return { ok: false, code: 'E_UNKNOWN_RECORD', message: `record "${recordId}" is not declared` };
  let many = false;
  for (const rel of segments) {
    const relation = record.relations?.[rel];
    if (!relation) {
      const known = Object.keys(record.relations ?? {});
      return {
        ok: false,
        code: 'E_UNKNOWN_RELATION',
        message: `record "${record.id}" has no relation "${rel}"${known.length ? `; it has ${known.join(', ')}` : ''}`,
      };
    }
    many ||= relation.many === true;
    const next = findRecord(register, relation.to);
    if (!next)
      return {
        ok: false,
        code: 'E_UNKNOWN_RECORD',
        message: `relation "${rel}" leads to record "${relation.to}", which is not declared`,
      };
    record = next;
  }
  const info = fieldInfo(record, field);
  if (!info) {
    return {
      ok: false,
      code: 'E_UNKNOWN_FIELD',
      message: `record "${record.id}" has no field "${field}"; it has ${Object.keys(record.fields).join(', ')}`,
    };
  }
  return { ok: true, record, field, info, relations: segments, many };
}

export function findRecord(register: Register, id: string): RecordType | undefined {
  return register.records.find((r) => r.id === id);
}

export interface PurposeRef {
  readonly activity: Activity;
  readonly purpose: Purpose;
}

export function allPurposes(register: Register): PurposeRef[] {
  return register.activities.flatMap((activity) =>
    activity.purposes.map((purpose) => ({ activity, purpose })),
  );
}

export function findPurpose(register: Register, id: string): PurposeRef | undefined {
  return allPurposes(register).find((p) => p.purpose.id === id);
}

export function rulesForPurpose(register: Register, purposeId: string): RetentionRule[] {
  return register.retention.filter((r) => r.purposes.includes(purposeId));
}

export function rulesForRecord(register: Register, recordId: string): RetentionRule[] {
  return register.retention.filter((r) => r.record === recordId);
}

export function isCnilCategory(id: string): boolean {
  return (CNIL_CATEGORIES as readonly string[]).includes(id);
}

/** The CNIL category a data category belongs to (itself for a CNIL category). */
export function cnilCategoryOf(register: Register, id: string): string | undefined {
  if (isCnilCategory(id)) return id;
  return register.dataCategories.find((c) => c.id === id)?.parent;
}

/** The categories a record holds: its own, its fields', and the CNIL categories above them. */
export function recordCategories(register: Register, record: RecordType): Set<string> {
  const set = new Set<string>(record.categories ?? []);
  for (const spec of Object.values(record.fields))
    if (typeof spec === 'object' && spec.category) set.add(spec.category);
  for (const c of [...set]) {
    const parent = cnilCategoryOf(register, c);
    if (parent) set.add(parent);
  }
  return set;
}

/** The records an activity keeps data in: those it names and those its purposes' rules apply to. */
export function activityRecords(register: Register, activity: Activity): RecordType[] {
  const purposes = new Set(activity.purposes.map((p) => p.id));
  const ids = new Set([
    ...(activity.records ?? []),
    ...register.retention.filter((r) => r.purposes.some((p) => purposes.has(p))).map((r) => r.record),
  ]);
  return register.records.filter((r) => ids.has(r.id));
}

export function languagesOf(register: Register): readonly ('fr' | 'en')[] {
  return register.organisation.languages ?? ['fr', 'en'];
}

/** Activities in the register's own order: by `ref` (T-01, T-02 …), then as read. */
export function orderedActivities(register: Register): Activity[] {
  return [...register.activities].sort((a, b) =>
    a.ref !== undefined && b.ref !== undefined ? a.ref.localeCompare(b.ref, 'en', { numeric: true }) : 0,
  );
}

/**
 * A rule's suppression: the identity field whose keyed hash goes on the suppression list when a
 * record is deleted, and, when given, the date fields that mean the person asked (only a record
 * ended by one of them is listed: nobody objected when a period simply ran out).
 */
export function suppressionOf(rule: RetentionRule): { field: string; when?: readonly string[] } | undefined {
  if (rule.suppress === undefined) return undefined;
  return typeof rule.suppress === 'string' ? { field: rule.suppress } : rule.suppress;
}

/**
 * The controllers behind a controller id: the members of a group (`memberOf`), or the controller
 * itself when nothing is a member of it. A group within a group is refused: validation reports it
 * (E_CONTROLLER_GROUP_NESTED), and a document made from an unvalidated register throws it.
 */
export function controllerMembers(register: Register, id: string): Controller[] {
  const controller = register.controllers.find((c) => c.id === id);
  if (!controller) return [];
  const members = register.controllers.filter((c) => c.memberOf === id && c !== controller);
  const nested =
    controller.memberOf !== undefined && members.length > 0
      ? controller
      : members.find((m) => register.controllers.some((c) => c.memberOf === m.id));
  if (nested || controller.memberOf === id)
    throw new RegistreError(
      'E_CONTROLLER_GROUP_NESTED',
      `controller "${(nested ?? controller).id}" is both a group and a member of one: a group of controllers holds controllers, not groups`,
    );
  return members.length ? members : [controller];
}

/** Every controller an activity acts for, groups replaced by their members, each once, in the register's order. */
export function activityControllers(register: Register, activity: Activity): Controller[] {
  const ids = new Set(
    (activity.controllers ?? []).flatMap((c) => controllerMembers(register, c)).map((c) => c.id),
  );
  return register.controllers.filter((c) => ids.has(c.id));
}
