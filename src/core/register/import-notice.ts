/**
 * Turns a published privacy-policy table (French or English, like NEGOMARKETS's) into a draft
 * register. The table arrives as rows of cells: from tab-separated text here (`rowsOfText`), from
 * an HTML page or an XLSX sheet through the file adapter. Every sentence of a retention cell
 * becomes a rule when it is recognised, else a `todo` rule holding it: none is dropped.
 */

import type { Language } from '../text.js';
import type { RegisterFile, RetentionRule } from './register-schema.js';
import { restoreAccents } from './restore-accents.js';
import type { LegalBasis } from './vocabulary.js';

const CATEGORY_WORDS: [RegExp, string][] = [
  [/^(identit[ée]|identity|[ée]tat[- ]civil)/i, 'identity'],
  [/^(vie personnelle|personal life)/i, 'personal-life'],
  [/^(vie professionnelle|professional life)/i, 'professional-life'],
  [/^(informations? [ée]conomiques?|economic)/i, 'economic-financial'],
  [/^(donn[ée]es de connexion|connection)/i, 'connection'],
  [/^(localisation|location)/i, 'location'],
  [/^internet/i, 'internet'],
];

const BASIS_WORDS: [RegExp, LegalBasis][] = [
  [/^(consentement|consent)/i, 'consent'],
  [/^(ex[ée]cution (d'un|du|des) contrats?|performance of (a|the) contract|contract)/i, 'contract'],
  [/^(obligations? l[ée]gales?|legal obligations?)/i, 'legal-obligation'],
  [/^(int[ée]r[êe]ts? l[ée]gitimes?|legitimate interests?)/i, 'legitimate-interest'],
  [/^(sauvegarde des int[ée]r[êe]ts vitaux|vital interests?)/i, 'vital-interests'],
  [/^(mission d'int[ée]r[êe]t public|public (task|interest))/i, 'public-task'],
];

interface Recognised {
  readonly anchor?: RetentionRule['anchor'];
  readonly keep?: string;
  readonly until?: RetentionRule['until'];
  readonly record?: 'invoices';
  readonly fields: readonly string[];
  readonly note?: string;
  readonly talentPool?: boolean;
}

const UNIT: Record<string, string> = {
  mois: 'months',
  month: 'months',
  months: 'months',
  an: 'years',
  ans: 'years',
  year: 'years',
  years: 'years',
  jour: 'days',
  jours: 'days',
  day: 'days',
  days: 'days',
};
const unit = (word: string | undefined) => UNIT[(word ?? '').toLowerCase()] ?? 'years';

/** Recognises one retention phrase; null when it cannot be turned into a rule. */
export function recogniseRetention(text: string): Recognised | null {
  const t = text.replace(/\s+/g, ' ');
  let m =
    /le temps de la relation commerciale et (\d+) (ans?|mois) apr[èe]s la fin/i.exec(t) ??
    /(?:time|duration|length) of the (?:business |commercial )?relationship and (\d+) (years?|months?) after/i.exec(
      t,
    );
  if (m)
    return {
      anchor: 'relationship_ended_at',
      keep: `${m[1]} ${unit(m[2])}`,
      fields: ['relationship_ended_at'],
      note: 'CNIL: the years after the relationship are an intermediate archive; declare the archived fields',
    };
  m =
    /factures pendant (\d+) (ans?)/i.exec(t) ??
    /invoices (?:are )?kept (?:for )?(\d+) (years?)/i.exec(t) ??
    /keep(?:ing)? invoices (?:for )?(\d+) (years?)/i.exec(t);
  if (m)
    return {
      record: 'invoices',
      anchor: 'issued_at',
      keep: `${m[1]} ${unit(m[2])}`,
      fields: ['issued_at'],
      note: 'Code de commerce L123-22: usually counted from the end of the financial year: anchor {financialYearEnd: issued_at}',
    };
  m =
    /(\d+) (ans?|mois) (?:à compter de|apr[èe]s) la collecte ou (?:du|le) dernier contact/i.exec(t) ??
    /(\d+) (years?|months?) (?:from|after) (?:the )?collection or (?:from )?the last contact/i.exec(t);
  if (m)
    return {
      anchor: { latest: ['collected_at', 'last_contact_at'] },
      keep: `${m[1]} ${unit(m[2])}`,
      fields: ['collected_at', 'last_contact_at'],
    };
  m =
    /(\d+) (ans?|mois) apr[èe]s le dernier contact/i.exec(t) ??
    /(\d+) (years?|months?) after the last contact/i.exec(t);
  if (m)
    return {
      anchor: 'last_contact_at',
      keep: `${m[1]} ${unit(m[2])}`,
      fields: ['last_contact_at'],
      talentPool: /candidat/i.test(t),
    };
  if (
    /tant que la personne (?:concern[ée]e )?ne se d[ée]sinscrit pas/i.test(t) ||
    /until (?:the person|you|they) unsubscribes?/i.test(t)
  )
    return { until: ['unsubscribed_at'], fields: ['unsubscribed_at'] };
  m =
    /(\d+) (mois|ans?|jours?) maximum/i.exec(t) ??
    /(\d+) (months?|years?|days?) (?:at most|maximum)/i.exec(t) ??
    /(?:conserv[ée]e?s?|gard[ée]e?s?) (?:pendant|durant) (\d+) (mois|ans?|jours?)/i.exec(t) ??
    /(?:kept|stored|retained) (?:for )?(\d+) (months?|years?|days?)/i.exec(t);
  if (m) return { anchor: 'collected_at', keep: `${m[1]} ${unit(m[2])}`, fields: ['collected_at'] };
  return null;
}

/** Words that name withdrawing a consent, and words that name a way of doing it. */
const WITHDRAW =
  /d[ée]sinscri|d[ée]sabonn|retir\w* (?:votre|son|leur|le|ce) consentement|retrait (?:du|de votre) consentement|unsubscrib|opt[- ]?out|withdraw/i;
const MEANS =
  /\blien\b|\blink\b|en cliquant|cliquez|click|par (?:e-?mail|courriel|courrier|t[ée]l[ée]phone)|by (?:e-?mail|post|letter|phone|writing)|[ée]crivant|writing to|[\w.+-]+@[\w-]+\.\w|r[ée]glages|param[èe]tres|settings|\bSTOP\b/i;
/** A sentence about how long data is kept: it belongs to retention, whatever else it says. */
const KEEPING =
  /dur[ée]e (?:recommand|l[ée]gale)|conserv[ée]|tant que|(?:recommended|legal) (?:period|duration)|\b(?:kept|retained|stored)\b|\buntil\b/i;

/**
 * The sentence that tells how a person withdraws consent (art. 7(3)): it names withdrawing and a
 * way to do it (a link, a click, an e-mail…), and is no retention sentence. "Les données sont
 * conservées tant que la personne ne se désinscrit pas (via le lien de désinscription)" says how
 * long data is kept, not how to withdraw: it stays a retention rule, and `validate` says that
 * nothing tells how to withdraw (W_CONSENT_WITHOUT_WITHDRAWAL).
 */
export function withdrawalIn(sentences: readonly string[]): string | undefined {
  return sentences.find(
    (s) => WITHDRAW.test(s) && MEANS.test(s) && !KEEPING.test(s) && recogniseRetention(s) === null,
  );
}

function slug(text: string, words = 6): string {
  const s = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .slice(0, words)
    .join('-');
  return /^[a-z]/.test(s) ? s : `x-${s}`;
}

function unique(base: string, used: Set<string>): string {
  let id = base;
  for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
  used.add(id);
  return id;
}

const stripTags = (s: string) =>
  s
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();

function splitPurposes(cell: string): string[] {
  const body = stripTags(cell).replace(
    /^(nous utilisons ces donn[ée]es afin de|we use (?:this|these) data (?:to|in order to))\s*:?\s*/i,
    '',
  );
  return body
    .split(/(?:^|\s)-\s+/)
    .map((p) =>
      p
        .trim()
        .replace(/\s*[;.]+$/, '')
        .trim(),
    )
    .filter((p) => p.length > 0);
}

/**
 * The retention sentences of a cell: split at each "Durée recommandée / légale" marker, then at
 * each sentence end (a full stop followed by a capital), so that no sentence hides in another.
 */
export function splitRetention(cell: string): string[] {
  const text = stripTags(cell);
  if (!text) return [];
  return text
    .split(/(?=Dur[ée]e (?:recommand[ée]e|l[ée]gale))|(?=(?:Recommended|Legal) (?:period|duration))/i)
    .flatMap((chunk) => chunk.split(/(?<=[.!?])\s+(?=[A-ZÀ-Ý])/))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One row of a published table: its cells, and what the source says it is when it says so. */
export interface NoticeTableRow {
  readonly cells: readonly string[];
  /** A section title (an HTML row spanning the table, a heading), or a sentence between tables. */
  readonly kind?: 'title' | 'text';
}

/** Tab-separated text, one row per line (what a table copied from a web page gives). */
export function rowsOfText(text: string): NoticeTableRow[] {
  return text.split(/\r?\n/).map((line) => ({ cells: line.split('\t').map((c) => c.trim()) }));
}

function isSectionTitle(cells: string[]): boolean {
  const [first, ...rest] = cells;
  return Boolean(
    first && first === first.toUpperCase() && /[A-ZÀ-Ý]/.test(first) && rest.every((c) => c.trim() === ''),
  );
}

function isHeader(cells: string[]): boolean {
  return /^(donn[ée]es collect[ée]es|data collected)/i.test(cells[0]?.trim() ?? '');
}

/** Parses the table (tab-separated text, or rows read from HTML or XLSX) into a draft register file. */
export function importNotice(input: string | readonly NoticeTableRow[]): RegisterFile {
  const rows = typeof input === 'string' ? rowsOfText(input) : input;
  const text = rows.map((r) => r.cells.join('\t')).join('\n');
  const lang: Language =
    /DATA COLLECTED|LEGAL BASIS/i.test(text) && !/DONN[ÉE]ES COLLECT/i.test(text) ? 'en' : 'fr';
  const used = new Set<string>();
  const activities: NonNullable<RegisterFile['activities']> = [];
  const records: NonNullable<RegisterFile['records']> = [];
  const retention: RetentionRule[] = [];
  const subjects: NonNullable<RegisterFile['dataSubjects']> = [];
  const controllers: NonNullable<RegisterFile['controllers']> = [];
  let role: 'controller' | 'processor' = 'controller';
  let orgName = lang === 'fr' ? 'TODO : nom de l’organisme' : 'TODO: organisation name';
  let current: (typeof activities)[number] | null = null;
  let invoices = false;

  const recordFor = (activityId: string, fields: readonly string[]) => {
    let record = records.find((r) => r.id === `${activityId.replaceAll('-', '_')}_data`);
    if (!record) {
      record = {
        id: `${activityId.replaceAll('-', '_')}_data`,
        name: `${current ? String(current.name) : activityId} (${lang === 'fr' ? 'données' : 'data'})`,
        fields: {},
      };
      records.push(record);
    }
    for (const f of fields) (record.fields as Record<string, 'date'>)[f] = 'date';
    return record.id;
  };

  for (const row of rows) {
    const cells = row.cells.map((c) => c.trim());
    if (cells.every((c) => c === '')) continue;
    if (isHeader(cells)) continue;
    const title = row.kind === 'title' || (row.kind === undefined && isSectionTitle(cells));
    if (!title && (cells.length === 1 || cells.slice(1).every((c) => c === ''))) {
      const sentence = stripTags(cells[0] ?? '');
      const processor = /sous-traitant|processor/i.exec(sentence);
      if (processor) {
        role = 'processor';
        const org = /^(?:dans le cadre de nos missions\s+)?(\S+)\s+(?:agit|acts)/i.exec(sentence);
        if (org?.[1]) orgName = org[1];
        const behalf =
          /pour le compte (?:de ses|des|de) ([^:]+?)\s*:?$/i.exec(sentence) ??
          /on behalf of (?:its )?([^:]+?)\s*:?$/i.exec(sentence);
        const name = behalf?.[1]?.trim() ?? (lang === 'fr' ? 'responsables du traitement' : 'controllers');
        if (!controllers.some((c) => c.name === name))
          controllers.push({ id: unique(slug(name, 3), used), name });
        current = null;
      }
      continue;
    }
    if (title) {
      const title = stripTags(cells.find((c) => c !== '') ?? '');
      // A title in capitals has lost its accents ("INSCRIPTION A LA NEWSLETTER"): restored.
      const restored = restoreAccents(title, lang);
      const name = restored === title ? title.charAt(0) + title.slice(1).toLowerCase() : restored;
      const id = unique(slug(title, 5), used);
      const subject = unique(`${id}-subjects`, used);
      subjects.push({
        id: subject,
        name:
          lang === 'fr' ? `TODO : personnes concernées par « ${name} »` : `TODO: data subjects of "${name}"`,
      });
      current = {
        id,
        name,
        role,
        ...(role === 'processor' && controllers.length ? { controllers: controllers.map((c) => c.id) } : {}),
        dataSubjects: [subject],
        dataCategories: [],
        purposes: [],
      };
      activities.push(current);
      continue;
    }
    if (!current) continue;
    const [categoryCell = '', purposeCell = '', basisCell = '', retentionCell = ''] = cells;
    if (categoryCell) {
      for (const part of stripTags(categoryCell)
        .split(/\.{3}|…/)
        .map((p) => p.trim())
        .filter(Boolean)) {
        const id = CATEGORY_WORDS.find(([re]) => re.test(part))?.[1];
        if (id && !current.dataCategories.includes(id)) (current.dataCategories as string[]).push(id);
      }
    }
    const basisText = stripTags(basisCell);
    const basis = BASIS_WORDS.find(([re]) => re.test(basisText))?.[1] ?? (basisText as LegalBasis);
    const purposeIds: string[] = [];
    const purposeTexts = splitPurposes(purposeCell).map((p) => restoreAccents(p, lang));
    const retentionTexts = splitRetention(retentionCell).map((r) => restoreAccents(r, lang));
    // How to withdraw a consent, said in the purposes or in the retention cell: no purpose, no
    // retention. Elsewhere such a sentence stays where it is (nothing is dropped).
    const withdrawal = basis === 'consent' ? withdrawalIn([...purposeTexts, ...retentionTexts]) : undefined;
    const recognised = retentionTexts
      .filter((r) => r !== withdrawal)
      .map((r) => ({ text: r, rule: recogniseRetention(r) }));
    for (const purposeText of purposeTexts.filter((p) => p !== withdrawal)) {
      const id = unique(slug(purposeText), used);
      purposeIds.push(id);
      (current.purposes as unknown[]).push({
        id,
        name: purposeText,
        legalBasis: basis,
        ...(basis === 'consent' && withdrawal ? { withdrawal } : {}),
        ...(recognised.some((r) => r.rule?.talentPool) ? { tags: ['talent-pool'] } : {}),
      });
    }
    for (const { text: phrase, rule } of recognised) {
      const id = unique(`${current.id}-retention`, used);
      if (!rule) {
        retention.push({
          id,
          record: recordFor(current.id, []),
          purposes: purposeIds,
          todo: phrase,
          text: phrase,
        });
        continue;
      }
      let record: string;
      if (rule.record === 'invoices') {
        if (!invoices)
          records.push({
            id: 'invoices',
            name: lang === 'fr' ? 'Factures' : 'Invoices',
            fields: { issued_at: 'date' },
          });
        invoices = true;
        record = 'invoices';
      } else record = recordFor(current.id, rule.fields);
      retention.push({
        id,
        record,
        purposes: purposeIds,
        ...(rule.anchor !== undefined ? { anchor: rule.anchor } : {}),
        ...(rule.keep !== undefined ? { keep: rule.keep } : {}),
        ...(rule.until !== undefined ? { until: rule.until } : {}),
        then: 'delete',
        text: phrase,
        ...(rule.note ? { note: rule.note } : {}),
      });
    }
  }
  for (const a of activities)
    if (a.dataCategories.length === 0) (a.dataCategories as string[]).push('identity');
  // A heading followed by no row of the table (a "Your rights" title on a web page) is no activity.
  const kept = activities.filter((a) => a.purposes.length > 0);
  const keptSubjects = new Set(kept.flatMap((a) => a.dataSubjects));
  return {
    organisation: {
      name: orgName,
      languages: [lang],
      financialYearEnd: '12-31',
    },
    dataSubjects: subjects.filter((d) => keptSubjects.has(d.id)),
    ...(controllers.length ? { controllers } : {}),
    records,
    activities: kept,
    retention,
  };
}
