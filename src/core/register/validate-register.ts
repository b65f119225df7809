/**
 * Semantic validation of a loaded register: references, durations and rule shapes (errors), and
 * the doctrine problems a DPO wants flagged (warnings).
 */

import { type Issue, issueCollector, type Reporter } from '../issues.js';
import { parseDuration } from '../retention/calendar.js';
import { hasLanguage, localise } from '../text.js';
import { checkGapsToFill } from './gaps-to-fill.js';
import type { Register } from './register-load.js';
import {
  activityRecords,
  cnilCategoryOf,
  findRecord,
  isCnilCategory,
  languagesOf,
  recordCategories,
  resolvePath,
  suppressionOf,
} from './register-model.js';
import type { Condition, DateExpr, Keep, LocalText, RecordType, RetentionRule } from './register-schema.js';
import { checkRegisterSubstance } from './substance-checks.js';
import { checkWording } from './wording-checks.js';

const DURATION_MESSAGES: Record<string, string> = {
  E_NEGATIVE_DURATION: 'is negative; a retention period counts forward from its anchor',
  E_DURATION_UNIT: 'has no known unit; write "13 months", "3 years", "30 days", "2 weeks" or "P13M"',
  E_DURATION_SYNTAX: 'is not a duration; write "13 months", "3 years", "30 days", "2 weeks" or "P13M"',
};

const PSEUDONYMISING = new Set(['hash', 'hmac', 'pseudonym']);

/** Words that address the reader: right in the notice, wrong in the company's own record. */
const SECOND_PERSON = /\b(?:vous|vos|votre|you|your|yours)\b/i;

export function validateRegister(register: Register): Issue[] {
  const { issues, error, warn } = issueCollector(register.locate);

  // Ids: unique within their kind (purposes across the whole register, since rules name them).
  const checkUnique = <T extends { id: string }>(kind: string, items: readonly T[]) => {
    const seen = new Map<string, T>();
    for (const item of items) {
      const first = seen.get(item.id);
      if (first) {
        const loc = register.locate(first, 'id');
        error(
          'E_DUPLICATE_ID',
          item,
          ['id'],
          `${kind} "${item.id}" is declared twice (first at ${loc.file}:${loc.line}:${loc.column})`,
        );
      } else seen.set(item.id, item);
    }
    return seen;
  };
  const categories = checkUnique('data category', register.dataCategories);
  for (const c of register.dataCategories)
    if (isCnilCategory(c.id))
      error(
        'E_DUPLICATE_ID',
        c,
        ['id'],
        `data category "${c.id}" is a CNIL category already; choose another id`,
      );
  const subjects = checkUnique('data subject', register.dataSubjects);
  const recipients = checkUnique('recipient', register.recipients);
  const controllers = checkUnique('controller', register.controllers);
  const records = checkUnique('record', register.records);
  checkUnique('activity', register.activities);
  const purposes = checkUnique(
    'purpose',
    register.activities.flatMap((a) => a.purposes),
  );
  checkUnique('retention rule', register.retention);
  checkUnique('hold', register.holds);

  const ref = (
    kind: string,
    known: ReadonlyMap<string, unknown> | ((id: string) => boolean),
    id: string,
    item: object,
    subpath: (string | number)[],
  ) => {
    const exists = typeof known === 'function' ? known(id) : known.has(id);
    if (!exists) {
      const list =
        typeof known === 'function' ? '' : ` (declared: ${[...known.keys()].join(', ') || 'none'})`;
      error('E_UNKNOWN_REFERENCE', item, subpath, `${kind} "${id}" is not declared${list}`);
    }
  };
  const categoryExists = (id: string) => isCnilCategory(id) || categories.has(id);
  const langs = languagesOf(register);
  const translated = (
    text: LocalText | undefined,
    item: object,
    subpath: (string | number)[],
    what: string,
  ) => {
    if (text === undefined) return;
    for (const lang of langs)
      if (!hasLanguage(text, lang, langs[0] ?? 'fr'))
        warn(
          'W_MISSING_TRANSLATION',
          item,
          subpath,
          `${what} has no ${lang === 'fr' ? 'French' : 'English'} text`,
        );
  };

  for (const item of [
    ...register.dataCategories,
    ...register.dataSubjects,
    ...register.recipients,
    ...register.controllers,
  ])
    translated(item.name, item, ['name'], `"${item.id}"`);

  // Records: categories, subjects, relations.
  for (const record of register.records) {
    for (const [i, c] of (record.categories ?? []).entries())
      ref('data category', categoryExists, c, record, ['categories', i]);
    for (const [i, s] of (record.subjects ?? []).entries())
      ref('data subject', subjects, s, record, ['subjects', i]);
    for (const [name, rel] of Object.entries(record.relations ?? {}))
      ref('record', records, rel.to, record, ['relations', name, 'to']);
    for (const [name, spec] of Object.entries(record.fields)) {
      if (typeof spec === 'object' && spec.category)
        ref('data category', categoryExists, spec.category, record, ['fields', name, 'category']);
      if (typeof spec === 'object' && spec.type === 'enum' && !spec.values?.length)
        error(
          'E_ENUM_WITHOUT_VALUES',
          record,
          ['fields', name],
          `field "${name}" of record "${record.id}" is an enum with no values`,
        );
    }
  }

  // Activities.
  const ruled = new Set(register.retention.flatMap((r) => r.purposes));
  for (const activity of register.activities) {
    translated(activity.name, activity, ['name'], `activity "${activity.id}"`);
    for (const [i, s] of activity.dataSubjects.entries())
      ref('data subject', subjects, s, activity, ['dataSubjects', i]);
    for (const [i, c] of activity.dataCategories.entries())
      ref('data category', categoryExists, c, activity, ['dataCategories', i]);
    for (const [i, r] of (activity.recipients ?? []).entries())
      ref('recipient', recipients, r, activity, ['recipients', i]);
    for (const [i, r] of (activity.records ?? []).entries())
      ref('record', records, r, activity, ['records', i]);
    for (const [i, t] of (activity.transfers ?? []).entries())
      ref('recipient', recipients, t.recipient, activity, ['transfers', i, 'recipient']);
    if (activity.role === 'processor') {
      if (!activity.controllers?.length)
        error(
          'E_PROCESSOR_WITHOUT_CONTROLLER',
          activity,
          ['role'],
          `activity "${activity.id}" is processed on behalf of others but names no controller`,
        );
      for (const [i, c] of (activity.controllers ?? []).entries())
        ref('controller', controllers, c, activity, ['controllers', i]);
    } else if (activity.controllers?.length) {
      error(
        'E_CONTROLLERS_ON_CONTROLLER_ACTIVITY',
        activity,
        ['controllers'],
        `activity "${activity.id}" has role controller; "controllers" is only for role processor`,
      );
    }
    if (!activity.security?.length)
      warn(
        'W_NO_SECURITY_MEASURES',
        activity,
        ['id'],
        `activity "${activity.id}" describes no security measures (art. 30(1)(g))`,
      );
    if (activity.role === 'controller' && !activity.provision)
      warn(
        'W_PROVISION_UNSTATED',
        activity,
        ['id'],
        `activity "${activity.id}" does not say whether people must provide the data and what happens if they do not (art. 13(2)(e)): add "provision"`,
      );
    if (
      activity.role === 'controller' &&
      !activity.automatedDecisions &&
      !register.organisation.automatedDecisions
    )
      warn(
        'W_AUTOMATED_DECISIONS_UNSTATED',
        activity,
        ['id'],
        `activity "${activity.id}" does not say whether decisions are taken by automated means (art. 13(2)(f)): add "automatedDecisions: none" to it or to the organisation`,
      );
    // What the notice announces and what the records hold must be the same categories.
    const kept = activityRecords(register, activity);
    if (kept.length) {
      const held = new Set(kept.flatMap((r) => [...recordCategories(register, r)]));
      for (const [i, c] of activity.dataCategories.entries())
        if ((isCnilCategory(c) || categoryExists(c)) && !held.has(c))
          warn(
            'W_CATEGORY_NOT_HELD',
            activity,
            ['dataCategories', i],
            `activity "${activity.id}" announces the category "${c}", but none of its records (${kept.map((r) => r.id).join(', ')}) holds it: the notice says it is collected, the art. 30 record that nothing keeps it; map a field to it, or remove it`,
          );
      const announced = new Set(
        activity.dataCategories.flatMap((c) => [
          c,
          ...(isCnilCategory(c) ? [] : [cnilCategoryOf(register, c) ?? c]),
        ]),
      );
      for (const record of kept)
        for (const [field, spec] of Object.entries(record.fields)) {
          const c = typeof spec === 'object' ? spec.category : undefined;
          if (c === undefined || announced.has(c)) continue;
          const parent = cnilCategoryOf(register, c);
          const finerAnnounced = activity.dataCategories.some((a) => !isCnilCategory(a) && a === c);
          if (
            finerAnnounced ||
            (parent !== undefined &&
              announced.has(parent) &&
              !activity.dataCategories.some(
                (a) => !isCnilCategory(a) && cnilCategoryOf(register, a) === parent,
              ))
          )
            continue;
          warn(
            'W_CATEGORY_NOT_ANNOUNCED',
            record,
            ['fields', field],
            `record "${record.id}" (activity "${activity.id}") holds the category "${c}" in field "${field}", which the activity does not announce: the notice would not tell people`,
          );
        }
    }
    activity.purposes.forEach((purpose) => {
      translated(purpose.name, purpose, ['name'], `purpose "${purpose.id}"`);
      if (purpose.recordName)
        translated(purpose.recordName, purpose, ['recordName'], `purpose "${purpose.id}"`);
      // The notice speaks to people ("your orders"); the art. 30 record is the company's own.
      const spoken = [localise(purpose.name, 'fr'), localise(purpose.name, 'en')].join(' ');
      if (!purpose.recordName && SECOND_PERSON.test(spoken))
        warn(
          'W_SECOND_PERSON_IN_RECORD',
          purpose,
          ['name'],
          `purpose "${purpose.id}" speaks to the person ("${SECOND_PERSON.exec(spoken)?.[0]}"), and the art. 30 record would print it so: give it a recordName in the third person`,
        );
      for (const [i, c] of (purpose.dataCategories ?? []).entries())
        ref('data category', categoryExists, c, purpose, ['dataCategories', i]);
      if (!ruled.has(purpose.id))
        warn(
          'W_NO_RETENTION',
          purpose,
          ['id'],
          `purpose "${purpose.id}" (activity "${activity.id}") has no retention rule: how long its data is kept is undefined`,
        );
      if (purpose.consent && purpose.legalBasis !== 'consent')
        error(
          'E_CONSENT_NOT_CONSENT',
          purpose,
          ['consent'],
          `purpose "${purpose.id}" sets how long a consent counts, but rests on ${purpose.legalBasis}, not consent`,
        );
      if (purpose.consent && purpose.consent.expires.trim() !== 'never') {
        const parsed = parseDuration(purpose.consent.expires);
        if (!parsed.ok)
          error(
            parsed.code,
            purpose,
            ['consent', 'expires'],
            `purpose "${purpose.id}": consent.expires "${purpose.consent.expires}" ${DURATION_MESSAGES[parsed.code]}, or "never"`,
          );
      }
      if (purpose.legalBasis === 'consent' && !purpose.withdrawal && activity.role === 'controller')
        warn(
          'W_CONSENT_WITHOUT_WITHDRAWAL',
          purpose,
          ['legalBasis'],
          `purpose "${purpose.id}" rests on consent but says nowhere how to withdraw it (art. 7(3))`,
        );
      if (
        purpose.legalBasis === 'legitimate-interest' &&
        !purpose.legitimateInterest &&
        activity.role === 'controller'
      )
        warn(
          'W_LEGITIMATE_INTEREST_UNSTATED',
          purpose,
          ['legalBasis'],
          `purpose "${purpose.id}" rests on legitimate interest but does not state the interest pursued (art. 13(1)(d))`,
        );
      if (purpose.tags?.includes('talent-pool') && purpose.legalBasis !== 'consent')
        warn(
          'W_TALENT_POOL_WITHOUT_CONSENT',
          purpose,
          ['legalBasis'],
          `purpose "${purpose.id}" keeps candidates in a talent pool under ${purpose.legalBasis}; the CNIL requires the candidate's consent`,
        );
    });
  }

  // Retention rules.
  for (const rule of register.retention) {
    translated(rule.text, rule, ['text'], `the text of rule "${rule.id}"`);
    rule.purposes.forEach((p, i) => {
      if (!purposes.has(p))
        error(
          'E_UNKNOWN_PURPOSE',
          rule,
          ['purposes', i],
          `rule "${rule.id}" is for purpose "${p}", which no activity declares`,
        );
    });
    if (rule.todo !== undefined)
      warn(
        'W_RETENTION_TODO',
        rule,
        ['todo'],
        `rule "${rule.id}" is not yet a rule: "${rule.todo}" must be written as anchor and duration`,
      );
    const record = findRecord(register, rule.record);
    if (!record) {
      error(
        'E_UNKNOWN_RECORD',
        rule,
        ['record'],
        `rule "${rule.id}" is on record "${rule.record}", which is not declared (declared: ${[...records.keys()].join(', ') || 'none'})`,
      );
      continue;
    }
    checkRule(register, rule, record, error, warn);
  }
  checkWording(register, warn);

  // Holds.
  for (const hold of register.holds) {
    const record = findRecord(register, hold.record);
    if (!record) {
      error(
        'E_UNKNOWN_RECORD',
        hold,
        ['record'],
        `hold "${hold.id}" is on record "${hold.record}", which is not declared`,
      );
      continue;
    }
    checkCondition(register, record, hold.when, hold, ['when'], error);
    hold.holds.forEach((path, i) => {
      if (path === 'self') return;
      let current: RecordType | undefined = record;
      for (const rel of path.split('.')) {
        const relation: { to: string } | undefined = current?.relations?.[rel];
        if (!relation || !current) {
          error(
            'E_UNKNOWN_RELATION',
            hold,
            ['holds', i],
            `hold "${hold.id}": record "${current?.id}" has no relation "${rel}"`,
          );
          return;
        }
        current = findRecord(register, relation.to);
      }
    });
  }
  checkRegisterSubstance(register, error, warn);
  checkGapsToFill(register, warn);
  return issues;
}

function checkRule(
  register: Register,
  rule: RetentionRule,
  record: RecordType,
  error: Reporter,
  warn: Reporter,
): void {
  const purposes = register.activities
    .flatMap((a) => a.purposes.map((p) => ({ a, p })))
    .filter((x) => rule.purposes.includes(x.p.id));
  const processor = purposes.some((x) => x.a.role === 'processor');

  const checkDuration = (text: string, subpath: (string | number)[]) => {
    const parsed = parseDuration(text);
    if (!parsed.ok)
      error(
        parsed.code,
        rule,
        subpath,
        `rule "${rule.id}": duration "${text}" ${DURATION_MESSAGES[parsed.code]}`,
      );
  };
  const checkKeep = (keep: Keep, subpath: (string | number)[]) => {
    if (typeof keep === 'string') {
      checkDuration(keep, subpath);
      return;
    }
    const [unit, path] = Object.entries(keep)[0] as [string, string];
    const resolved = resolvePath(register, record.id, path);
    if (!resolved.ok) {
      error(resolved.code, rule, [...subpath, unit], `rule "${rule.id}": ${resolved.message}`);
      return;
    }
    if (resolved.info.type !== 'integer')
      error(
        'E_FIELD_TYPE',
        rule,
        [...subpath, unit],
        `rule "${rule.id}": a duration in ${unit} must be read from an integer field; "${path}" is ${resolved.info.type}`,
      );
    if (resolved.many)
      error(
        'E_FIELD_TYPE',
        rule,
        [...subpath, unit],
        `rule "${rule.id}": "${path}" goes through a to-many relation; a duration needs one value`,
      );
  };
  const checkDate = (expr: DateExpr, subpath: (string | number)[]): void => {
    if (typeof expr === 'string') {
      const resolved = resolvePath(register, record.id, expr);
      if (!resolved.ok) {
        error(resolved.code, rule, subpath, `rule "${rule.id}": ${resolved.message}`);
        return;
      }
      if (resolved.info.type !== 'date')
        error(
          'E_FIELD_TYPE',
          rule,
          subpath,
          `rule "${rule.id}": "${expr}" is a ${resolved.info.type} field; a date is needed here`,
        );
      if (resolved.many)
        error(
          'E_AGGREGATE_REQUIRED',
          rule,
          subpath,
          `rule "${rule.id}": "${expr}" has many values; write {max: ${expr}} or {min: ${expr}}`,
        );
      return;
    }
    if ('latest' in expr || 'earliest' in expr) {
      const [key, list] = 'latest' in expr ? ['latest', expr.latest] : ['earliest', expr.earliest];
      for (const [i, e] of list.entries()) checkDate(e, [...subpath, key, i]);
      return;
    }
    if ('financialYearEnd' in expr) {
      checkDate(expr.financialYearEnd, [...subpath, 'financialYearEnd']);
      return;
    }
    if ('from' in expr) {
      checkDate(expr.from, [...subpath, 'from']);
      checkKeep(expr.add, [...subpath, 'add']);
      return;
    }
    const [fn, path] = 'max' in expr ? ['max', expr.max] : ['min', expr.min];
    const resolved = resolvePath(register, record.id, path);
    if (!resolved.ok) {
      error(resolved.code, rule, [...subpath, fn], `rule "${rule.id}": ${resolved.message}`);
      return;
    }
    if (resolved.info.type !== 'date')
      error(
        'E_FIELD_TYPE',
        rule,
        [...subpath, fn],
        `rule "${rule.id}": "${path}" is a ${resolved.info.type} field; a date is needed here`,
      );
    if (!resolved.many)
      warn(
        'W_AGGREGATE_OVER_ONE',
        rule,
        [...subpath, fn],
        `rule "${rule.id}": "${path}" has one value; ${fn} is not needed`,
      );
  };

  if (
    rule.todo === undefined &&
    rule.anchor === undefined &&
    rule.until === undefined &&
    rule.follows === undefined
  )
    error(
      'E_RULE_WITHOUT_DEADLINE',
      rule,
      ['id'],
      `rule "${rule.id}" has no anchor, no "until" and no "follows": it can never end`,
    );
  if (rule.keep !== undefined && rule.anchor === undefined)
    error(
      'E_KEEP_WITHOUT_ANCHOR',
      rule,
      ['keep'],
      `rule "${rule.id}" keeps data "${typeof rule.keep === 'string' ? rule.keep : 'for a time'}" but from no anchor`,
    );
  if (
    rule.follows !== undefined &&
    (rule.anchor !== undefined || rule.until !== undefined || rule.keep !== undefined)
  )
    error(
      'E_FOLLOWS_WITH_ANCHOR',
      rule,
      ['follows'],
      `rule "${rule.id}" follows "${rule.follows}" and also has its own anchor; choose one`,
    );
  if (rule.follows !== undefined) {
    const rel = record.relations?.[rule.follows];
    if (!rel)
      error(
        'E_UNKNOWN_RELATION',
        rule,
        ['follows'],
        `rule "${rule.id}": record "${record.id}" has no relation "${rule.follows}"`,
      );
    else if (rel.many)
      error(
        'E_FIELD_TYPE',
        rule,
        ['follows'],
        `rule "${rule.id}": "${rule.follows}" is a to-many relation; a record can only follow one`,
      );
  }
  if (rule.anchor !== undefined) checkDate(rule.anchor, ['anchor']);
  if (rule.keep !== undefined) checkKeep(rule.keep, ['keep']);
  for (const [i, u] of (rule.until ?? []).entries()) checkDate(u, ['until', i]);
  if (rule.where) checkCondition(register, record, rule.where, rule, ['where'], error);
  if (rule.archive) {
    checkDuration(rule.archive.keep, ['archive', 'keep']);
    rule.archive.fields.forEach((f, i) => {
      if (!record.fields[f])
        error(
          'E_UNKNOWN_FIELD',
          rule,
          ['archive', 'fields', i],
          `rule "${rule.id}": record "${record.id}" has no field "${f}"`,
        );
    });
    const keep = typeof rule.keep === 'string' ? parseDuration(rule.keep) : null;
    const archive = parseDuration(rule.archive.keep);
    if (keep?.ok && archive.ok && monthsOf(archive.duration) <= monthsOf(keep.duration))
      warn(
        'W_ARCHIVE_NOT_AFTER_ACTIVE',
        rule,
        ['archive', 'keep'],
        `rule "${rule.id}": the archive ends (${rule.archive.keep} after the anchor) no later than the active phase (${rule.keep})`,
      );
  }
  if (rule.then !== undefined && rule.then !== 'delete') {
    rule.then.anonymise.forEach((f, i) => {
      const field = typeof f === 'string' ? f : f.field;
      const sub = typeof f === 'string' ? ['then', 'anonymise', i] : ['then', 'anonymise', i, 'field'];
      if (!record.fields[field])
        error(
          'E_UNKNOWN_FIELD',
          rule,
          sub,
          `rule "${rule.id}": record "${record.id}" has no field "${field}"`,
        );
      if (typeof f === 'object' && PSEUDONYMISING.has(f.method))
        warn(
          'W_ANONYMISE_IS_PSEUDONYMISATION',
          rule,
          ['then', 'anonymise', i, 'method'],
          `rule "${rule.id}" "anonymises" field "${field}" by ${f.method}: that is pseudonymisation, the data stays personal (CNIL; WP216)`,
        );
    });
  }
  const suppression = suppressionOf(rule);
  for (const [field, path] of suppression
    ? [
        [
          suppression.field,
          typeof rule.suppress === 'string' ? ['suppress'] : ['suppress', 'field'],
        ] as const,
        ...(suppression.when ?? []).map((f, i) => [f, ['suppress', 'when', i]] as const),
      ]
    : [])
    if (!record.fields[field])
      error(
        'E_UNKNOWN_FIELD',
        rule,
        [...path],
        `rule "${rule.id}": record "${record.id}" has no field "${field}"`,
      );
  if (rule.returnTo) {
    const rel = record.relations?.[rule.returnTo.relation];
    if (!rel)
      error(
        'E_UNKNOWN_RELATION',
        rule,
        ['returnTo', 'relation'],
        `rule "${rule.id}": record "${record.id}" has no relation "${rule.returnTo.relation}"`,
      );
    else {
      const target = findRecord(register, rel.to);
      if (target && rule.returnTo.when)
        checkCondition(register, target, rule.returnTo.when, rule, ['returnTo', 'when'], error);
    }
  }
  if (processor) {
    const readsInstruction =
      rule.todo === undefined &&
      (rule.follows !== undefined || (rule.keep !== undefined && typeof rule.keep !== 'string'));
    if (!readsInstruction && rule.setBy !== 'controller-instructions')
      warn(
        'W_PROCESSOR_SETS_RETENTION',
        rule,
        ['id'],
        `rule "${rule.id}" is for data processed on behalf of a controller, but its period is set here rather than by the controller's documented instructions (art. 28(3)(a), (g))`,
      );
  }
  if (!processor && rule.setBy === 'controller-instructions')
    warn(
      'W_INSTRUCTIONS_WITHOUT_PROCESSOR',
      rule,
      ['setBy'],
      `rule "${rule.id}" says a controller's instructions set it, but none of its purposes is a processor activity's`,
    );
  const consentPhrase = /consentement|consent/i;
  for (const { a, p } of purposes) {
    const text = typeof rule.text === 'string' ? rule.text : `${rule.text?.fr ?? ''} ${rule.text?.en ?? ''}`;
    if (
      a.role === 'controller' &&
      p.legalBasis !== 'consent' &&
      consentPhrase.test(text) &&
      !p.tags?.includes('talent-pool')
    )
      warn(
        'W_RETENTION_NEEDS_CONSENT',
        rule,
        ['text'],
        `rule "${rule.id}" keeps data "on consent", but purpose "${p.id}" rests on ${p.legalBasis}`,
      );
  }
}

function monthsOf(d: { amount: number; unit: string }): number {
  return d.unit === 'years' ? d.amount * 12 : d.unit === 'months' ? d.amount : d.amount / 30.4;
}

function checkCondition(
  register: Register,
  record: RecordType,
  condition: Condition,
  item: object,
  base: (string | number)[],
  error: Reporter,
): void {
  for (const [path, matcher] of Object.entries(condition)) {
    const resolved = resolvePath(register, record.id, path);
    if (!resolved.ok) {
      error(resolved.code, item, [...base, path], resolved.message);
      continue;
    }
    const values = resolved.info.values;
    if (!values) continue;
    const given =
      matcher !== null && typeof matcher === 'object' && !Array.isArray(matcher) ? matcher.not : matcher;
    for (const v of Array.isArray(given) ? given : [given]) {
      if (v !== null && !values.includes(String(v)))
        error(
          'E_UNKNOWN_VALUE',
          item,
          [...base, path],
          `"${String(v)}" is not a value of field "${path}" (values: ${values.join(', ')})`,
        );
    }
  }
}
