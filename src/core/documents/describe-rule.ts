/** A plain sentence for a retention rule, generated from its structure (never retyped). */

import { anonymiseResidue, isPseudonymisation } from '../register/pseudonymisation.js';
import type { Register } from '../register/register-load.js';
import { findRecord } from '../register/register-model.js';
import type { DateExpr, Keep, RecordType, RetentionRule } from '../register/register-schema.js';
import { parseDuration } from '../retention/calendar.js';
import { type Language, localise } from '../text.js';
import { UNIT_LABELS } from './labels.js';
import { lowerFirst } from './typography.js';

function fieldLabel(
  register: Register,
  record: RecordType | undefined,
  path: string,
  lang: Language,
): string {
  const segments = path.split('.');
  const field = segments.pop() as string;
  let current = record;
  for (const rel of segments)
    current = current?.relations?.[rel] ? findRecord(register, current.relations[rel].to) : undefined;
  const spec = current?.fields[field];
  if (spec && typeof spec === 'object' && spec.label) return localise(spec.label, lang);
  return field.replace(/_at$/, '').replaceAll('_', ' ');
}

/**
 * "the order" → "the last order", "la commande" → "la dernière commande", "le ticket" → "le
 * premier ticket"; a label without a known article: "the last of: X" / "la plus récente de : X".
 */
function ordinal(labelText: string, which: 'first' | 'last', lang: Language): string {
  if (lang === 'en') {
    const bare = labelText.replace(/^the /i, '');
    return `the ${which} ${bare}`;
  }
  const feminine = /^la /i.exec(labelText);
  const masculine = /^le /i.exec(labelText);
  if (feminine) return `la ${which === 'last' ? 'dernière' : 'première'} ${labelText.slice(3)}`;
  if (masculine) return `le ${which === 'last' ? 'dernier' : 'premier'} ${labelText.slice(3)}`;
  return `${which === 'last' ? 'la plus récente de : ' : 'la plus ancienne de : '}${labelText}`;
}

/**
 * What an anonymisation removes, in the data categories' words (never the column names): the
 * category of each field, else its label, each once.
 */
function describeAnonymised(
  register: Register,
  record: RecordType | undefined,
  fields: readonly string[],
  lang: Language,
): string {
  const names: string[] = [];
  for (const field of fields) {
    const spec = record?.fields[field];
    const category =
      spec && typeof spec === 'object' && spec.category
        ? register.dataCategories.find((d) => d.id === spec.category)
        : undefined;
    const name = category
      ? localise(category.name, lang)
      : spec && typeof spec === 'object' && spec.label
        ? localise(spec.label, lang)
        : field.replaceAll('_', ' ');
    const lower = name.charAt(0).toLowerCase() + name.slice(1);
    if (!names.includes(lower)) names.push(lower);
  }
  return names.join(lang === 'fr' ? ' ; ' : '; ');
}

/** French contractions the assembled sentence needs: "de le" → "du", "à les" → "aux". */
function contractFrench(text: string): string {
  return text
    .replace(/\bde le\b/g, 'du')
    .replace(/\bde les\b/g, 'des')
    .replace(/(^|\s)à le\b/g, '$1au')
    .replace(/(^|\s)à les\b/g, '$1aux');
}

export function describeKeep(
  register: Register,
  record: RecordType | undefined,
  keep: Keep,
  lang: Language,
): string {
  if (typeof keep === 'string') {
    const parsed = parseDuration(keep);
    if (!parsed.ok) return keep;
    const [one, many] = UNIT_LABELS[lang][parsed.duration.unit] ?? ['', ''];
    return `${parsed.duration.amount} ${parsed.duration.amount > 1 ? many : one}`;
  }
  const [unit, path] = Object.entries(keep)[0] as [string, string];
  const units = UNIT_LABELS[lang][unit]?.[1] ?? unit;
  return `${fieldLabel(register, record, path, lang)} (${lang === 'fr' ? 'en' : 'in'} ${units})`;
}

export function describeDate(
  register: Register,
  record: RecordType | undefined,
  expr: DateExpr,
  lang: Language,
): string {
  if (typeof expr === 'string') return fieldLabel(register, record, expr, lang);
  if ('latest' in expr) {
    const parts = expr.latest.map((e) => describeDate(register, record, e, lang));
    return parts.length === 1
      ? (parts[0] ?? '')
      : `${lang === 'fr' ? 'la plus tardive des dates suivantes : ' : 'the latest of: '}${parts.join(', ')}`;
  }
  if ('earliest' in expr) {
    const parts = expr.earliest.map((e) => describeDate(register, record, e, lang));
    return `${lang === 'fr' ? 'la plus ancienne des dates suivantes : ' : 'the earliest of: '}${parts.join(', ')}`;
  }
  if ('max' in expr) return ordinal(fieldLabel(register, record, expr.max, lang), 'last', lang);
  if ('min' in expr) return ordinal(fieldLabel(register, record, expr.min, lang), 'first', lang);
  if ('financialYearEnd' in expr)
    return `${lang === 'fr' ? "la clôture de l'exercice comptable au cours duquel intervient " : 'the end of the financial year that includes '}${describeDate(register, record, expr.financialYearEnd, lang)}`;
  return `${describeKeep(register, record, expr.add, lang)} ${lang === 'fr' ? 'après' : 'after'} ${describeDate(register, record, expr.from, lang)}`;
}

/** E.g. "3 ans à compter de la plus tardive des dates suivantes : la collecte, le dernier contact ; puis suppression." */
export function describeRule(register: Register, rule: RetentionRule, lang: Language): string {
  if (rule.todo !== undefined)
    return lang === 'fr' ? `À définir : ${rule.todo}` : `To be defined: ${rule.todo}`;
  const record = findRecord(register, rule.record);
  const fr = lang === 'fr';
  const parts: string[] = [];
  if (rule.follows !== undefined) {
    const relation = record?.relations?.[rule.follows];
    const target = relation ? findRecord(register, relation.to) : undefined;
    const linked = lowerFirst(localise(target?.name, lang) || rule.follows);
    parts.push(
      fr
        ? `aussi longtemps que l'enregistrement de « ${linked} » auquel il est lié est conservé`
        : `as long as the “${linked}” record it is linked to is kept`,
    );
  } else {
    const ends: string[] = [];
    if (rule.anchor !== undefined) {
      const anchor = describeDate(register, record, rule.anchor, lang);
      ends.push(
        rule.keep === undefined
          ? fr
            ? `jusqu'à ${anchor}`
            : `until ${anchor}`
          : `${describeKeep(register, record, rule.keep, lang)} ${fr ? 'à compter de' : 'from'} ${anchor}`,
      );
    }
    for (const u of rule.until ?? [])
      ends.push(`${fr ? "jusqu'à" : 'until'} ${describeDate(register, record, u, lang)}`);
    parts.push(
      ends.length > 1
        ? `${ends.join(fr ? ', ou ' : ', or ')}${fr ? ', au premier terme échu' : ', whichever comes first'}`
        : (ends[0] ?? ''),
    );
    if (rule.archive) {
      parts.push(
        fr
          ? `puis archivage intermédiaire jusqu'à ${describeKeep(register, record, rule.archive.keep, lang)} après ${rule.anchor ? describeDate(register, record, rule.anchor, lang) : "l'ancre"}`
          : `then intermediate archive until ${describeKeep(register, record, rule.archive.keep, lang)} after ${rule.anchor ? describeDate(register, record, rule.anchor, lang) : 'the anchor'}`,
      );
    }
  }
  if ((rule.then === undefined || rule.then === 'delete') && rule.follows !== undefined)
    parts.push(fr ? 'puis suppression en même temps que lui' : 'then deleted with it');
  else if (rule.then === undefined || rule.then === 'delete')
    parts.push(fr ? 'puis suppression' : 'then deletion');
  else {
    const removed = describeAnonymised(
      register,
      record,
      rule.then.anonymise.map((f) => (typeof f === 'string' ? f : f.field)),
      lang,
    );
    const residue = anonymiseResidue(register, rule);
    if (residue && isPseudonymisation(residue)) {
      const kept = describeAnonymised(register, record, residue.keptFields, lang);
      const links = residue.links
        .map((l) => {
          const name = lowerFirst(
            localise(record?.relations?.[l.relation]?.label ?? l.record.name, lang) || l.relation,
          );
          return fr ? `« ${name} »` : `"${name}"`;
        })
        .join(', ');
      const details = [
        fr ? `retrait de : ${removed}` : `removed: ${removed}`,
        ...(kept ? [fr ? `restent : ${kept}` : `kept: ${kept}`] : []),
        ...(links
          ? [fr ? `l'enregistrement reste lié à : ${links}` : `the record stays linked to: ${links}`]
          : []),
      ];
      parts.push(
        fr ? `puis pseudonymisation (${details.join(' ; ')})` : `then pseudonymised (${details.join('; ')})`,
      );
    } else parts.push(fr ? `puis anonymisation : ${removed}` : `then anonymisation of: ${removed}`);
  }
  if (rule.returnTo)
    parts.push(
      fr
        ? 'restitution préalable au responsable qui la demande'
        : 'returned first to a controller that asks for it',
    );
  const joined = parts.filter(Boolean).join(fr ? ' ; ' : '; ');
  const sentence = fr ? contractFrench(joined) : joined;
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}
