/**
 * The register of breaches as a table in the shape of the CNIL's model ("registre des violations":
 * one row per breach, its columns those of the model, see docs/decisions.md), as HTML and CSV (the
 * XLSX is written from the same table by adapters/files/breach-xlsx), and the letter to the people
 * a breach must be told of (art. 34(2)), drafted from the register in French and in English.
 */

import { spreadsheetCsv } from '../csv.js';
import { escapeHtml, htmlPage } from '../documents/html.js';
import { CNIL_CATEGORY_LABELS } from '../documents/labels.js';
import { formatDay, formatInstant, sentence } from '../documents/typography.js';
import { designatedDpo } from '../register/organisation-contacts.js';
import type { Register } from '../register/register-load.js';
import { activityRecords, cnilCategoryOf, findRecord } from '../register/register-model.js';
import { type Language, localise } from '../text.js';
import { type BreachView, textIn } from './breach.js';

const LABELS = {
  fr: {
    title: 'Registre des violations de données personnelles',
    controller: 'Responsable du traitement',
    dpo: 'Délégué à la protection des données',
    made: 'Établi le',
    zone: 'Dates et heures à l’heure de',
    none: 'Aucune violation n’est inscrite au registre.',
    columns: [
      'N°',
      'Date et heure de la violation',
      'Date et heure de la découverte',
      'Nature de la violation',
      'Traitements concernés',
      'Catégories de personnes concernées',
      'Nombre approximatif de personnes concernées',
      'Catégories de données concernées',
      'Nombre approximatif d’enregistrements concernés',
      'Conséquences probables',
      'Mesures prises ou envisagées',
      'Notification à la CNIL (délai : 72 heures)',
      'Date de la notification, référence, ou motif de l’absence de notification',
      'Information des personnes concernées',
      'Date de l’information, ou motif de l’absence d’information',
    ],
    kinds: {
      confidentiality: 'perte de confidentialité',
      integrity: 'perte d’intégrité',
      availability: 'perte de disponibilité',
    },
    unknown: 'inconnue',
    yes: 'oui',
    no: 'non',
    toDecide: 'à décider',
    deadline: 'avant le',
    overdue: 'délai dépassé le',
    late: 'après le délai de 72 heures ; motif du retard :',
    reference: 'référence',
    estimate: 'estimation du DPO',
    atMost: 'au plus',
  },
  en: {
    title: 'Register of personal data breaches',
    controller: 'Controller',
    dpo: 'Data protection officer',
    made: 'Made on',
    zone: 'Dates and times on the clocks of',
    none: 'No breach is in the register.',
    columns: [
      'No.',
      'Date and time of the breach',
      'Date and time of its discovery',
      'Nature of the breach',
      'Processing activities concerned',
      'Categories of people concerned',
      'Approximate number of people concerned',
      'Categories of data concerned',
      'Approximate number of records concerned',
      'Likely consequences',
      'Measures taken or proposed',
      'Notified to the CNIL (within 72 hours)',
      'Date of the notification, reference, or why it was not notified',
      'People concerned informed',
      'Date they were informed, or why they were not',
    ],
    kinds: {
      confidentiality: 'loss of confidentiality',
      integrity: 'loss of integrity',
      availability: 'loss of availability',
    },
    unknown: 'unknown',
    yes: 'yes',
    no: 'no',
    toDecide: 'to decide',
    deadline: 'by',
    overdue: 'deadline passed on',
    late: 'after the 72-hour deadline; reasons for the delay:',
    reference: 'reference',
    estimate: "the DPO's estimate",
    atMost: 'at most',
  },
} as const;

/**
 * The designated DPO in one line (none when the register states none is designated); a name that
 * only repeats the role ("Délégué à la protection des données") is left out.
 */
function dpoLine(register: Register, lang: Language): string {
  const dpo = designatedDpo(register.organisation);
  if (!dpo) return '';
  const name = localise(dpo.name, lang);
  const role = name.trim().toLowerCase() === LABELS[lang].dpo.toLowerCase();
  return [role ? '' : name, dpo.email, dpo.phone].filter(Boolean).join(', ');
}

/** "2026-12-05T09:30:00.000Z" → "2026-12-05 09:30 UTC". */
export const instantText = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

const joined = (items: readonly string[]) => (items.length ? items.join(', ') : '—');

/** The data categories a breach touched, by their register names, with their CNIL category. */
function categoryNames(register: Register, breach: BreachView, lang: Language): string[] {
  const ids = [...new Set(breach.affected.tables.flatMap((t) => t.categories))].sort();
  return ids.map((id) => {
    const own = register.dataCategories.find((c) => c.id === id);
    const cnil = cnilCategoryOf(register, id);
    const parent = cnil ? CNIL_CATEGORY_LABELS[cnil]?.[lang] : undefined;
    if (!own) return parent ?? id;
    return parent ? `${localise(own.name, lang)} (${parent})` : localise(own.name, lang);
  });
}

function activityNames(register: Register, breach: BreachView, lang: Language): string[] {
  const records = new Set(breach.affected.tables.map((t) => t.record));
  return register.activities
    .filter(
      (a) =>
        breach.scope.activities.includes(a.id) || activityRecords(register, a).some((r) => records.has(r.id)),
    )
    .map((a) => `${a.ref ? `${a.ref} ` : ''}${localise(a.name, lang)}`);
}

function subjectNames(register: Register, breach: BreachView, lang: Language): string[] {
  const ids = new Set(breach.affected.tables.flatMap((t) => findRecord(register, t.record)?.subjects ?? []));
  return register.dataSubjects.filter((s) => ids.has(s.id)).map((s) => localise(s.name, lang));
}

function peopleText(breach: BreachView, lang: Language): string {
  const t = LABELS[lang];
  const n = String;
  const counted = breach.affected.people;
  const parts: string[] = [];
  if (counted !== null)
    parts.push(breach.affected.peopleUpperBound ? `${t.atMost} ${n(counted)}` : n(counted));
  if (breach.peopleEstimate !== null) parts.push(`${n(breach.peopleEstimate)} (${t.estimate})`);
  return parts.join(lang === 'fr' ? ' ; ' : '; ') || t.unknown;
}

function notificationCells(breach: BreachView, lang: Language, zone: string): [string, string] {
  const t = LABELS[lang];
  const n = breach.notification;
  if (n.decision === 'notify') {
    const late = n.notifiedAt > breach.deadline ? ` (${t.late} ${n.delayReason ?? ''})` : '';
    return [
      t.yes,
      `${formatInstant(n.notifiedAt, lang, zone)}${n.reference ? `, ${t.reference} ${n.reference}` : ''}${late}`,
    ];
  }
  if (n.decision === 'no-notify') return [t.no, n.reason];
  const when = breach.status === 'overdue' ? t.overdue : t.deadline;
  return [`${t.toDecide} (${when} ${formatInstant(breach.deadline, lang, zone)})`, ''];
}

function informationCells(breach: BreachView, lang: Language, zone: string): [string, string] {
  const t = LABELS[lang];
  const i = breach.information;
  if (i.decision === 'inform') return [t.yes, i.informedAt ? formatInstant(i.informedAt, lang, zone) : ''];
  if (i.decision === 'no-inform') return [t.no, i.reason];
  return [t.toDecide, ''];
}

/** One breach as a row of the register, in the columns of the CNIL's model; its times on the clocks of `zone`. */
export function breachRow(register: Register, breach: BreachView, lang: Language, zone: string): string[] {
  const t = LABELS[lang];
  return [
    String(breach.id),
    breach.occurredAt ? formatInstant(breach.occurredAt, lang, zone) : t.unknown,
    formatInstant(breach.discoveredAt, lang, zone),
    `${breach.kinds.map((k) => t.kinds[k]).join(', ')}${lang === 'fr' ? ' : ' : ': '}${textIn(breach.nature, lang)}`,
    joined(activityNames(register, breach, lang)),
    joined(subjectNames(register, breach, lang)),
    peopleText(breach, lang),
    joined(categoryNames(register, breach, lang)),
    String(breach.affected.records),
    textIn(breach.consequences, lang),
    textIn(breach.measures, lang),
    ...notificationCells(breach, lang, zone),
    ...informationCells(breach, lang, zone),
  ];
}

export interface BreachRegisterTable {
  readonly lang: Language;
  readonly title: string;
  /** The controller and its DPO, as the register names them. */
  readonly heading: readonly (readonly [string, string])[];
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function breachRegisterTable(
  register: Register,
  breaches: readonly BreachView[],
  lang: Language,
  now: string,
  zone: string,
): BreachRegisterTable {
  const t = LABELS[lang];
  const org = register.organisation;
  const dpo = dpoLine(register, lang);
  return {
    lang,
    title: t.title,
    heading: [
      [t.controller, [org.name, localise(org.address, lang)].filter(Boolean).join(', ')],
      [t.dpo, dpo || '—'],
      [t.made, formatDay(now, lang, zone)],
      [t.zone, zone],
    ],
    // The times' zone in their headers too: the CSV has no heading.
    columns: t.columns.map((c, i) => (i === 1 || i === 2 ? `${c} (${zone})` : c)),
    // The register reads in the order of the breaches' numbers.
    rows: [...breaches].sort((a, b) => a.id - b.id).map((b) => breachRow(register, b, lang, zone)),
  };
}

export function breachRegisterHtml(table: BreachRegisterTable): string {
  const head = table.heading.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  // The register is wider than a page: it scrolls in its own box, the page does not.
  const rows = table.rows.length
    ? `<div style="overflow-x: auto"><table>
<thead><tr>${table.columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>
${table.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table></div>`
    : `<p>${escapeHtml(LABELS[table.lang].none)}</p>`;
  return htmlPage(
    table.lang,
    table.title,
    `<h1>${escapeHtml(table.title)}</h1>\n<dl class="card">${head}</dl>\n${rows}`,
  );
}

export function breachRegisterCsv(table: BreachRegisterTable): string {
  return spreadsheetCsv([table.columns, ...table.rows]);
}

// ---------------------------------------------------------------------------------------------
// The letter to the people (art. 34)

const ADVICE: Record<string, { fr: string; en: string }> = {
  'economic-financial': {
    fr: 'Surveillez les opérations de votre compte bancaire. Si vous constatez un débit que vous ne reconnaissez pas, faites opposition à votre carte auprès de votre banque et demandez le remboursement : vous disposez de 13 mois pour contester un paiement non autorisé.',
    en: 'Watch the transactions on your bank account. If you see a debit you do not recognise, have your bank block your card and ask for a refund: you have 13 months to dispute an unauthorised payment.',
  },
  connection: {
    fr: 'Changez votre mot de passe, ainsi que sur tout autre site où vous utilisez le même.',
    en: 'Change your password, and on any other site where you use the same one.',
  },
  identity: {
    fr: 'Méfiez-vous des messages, appels ou SMS qui se réclameraient de nous ou d’un organisme connu : nous ne vous demanderons jamais votre mot de passe ni votre numéro de carte.',
    en: 'Be wary of e-mails, calls or text messages that claim to come from us or from a known organisation: we will never ask for your password or your card number.',
  },
};

const GENERAL_ADVICE = {
  fr: 'Restez attentif à tout usage inhabituel de vos données et signalez-le-nous.',
  en: 'Watch for any unusual use of your data and tell us about it.',
};

const LETTER = {
  fr: {
    subject: (org: string) => `Violation de vos données personnelles chez ${org}`,
    hello: 'Madame, Monsieur,',
    intro: (org: string, date: string) =>
      `Nous vous informons, comme l’exige l’article 34 du règlement général sur la protection des données (RGPD), qu’une violation de données personnelles vous concernant a été découverte chez ${org} le ${date}.`,
    what: 'Ce qui s’est passé',
    data: 'Les données concernées',
    consequences: 'Les conséquences possibles pour vous',
    measures: 'Les mesures que nous avons prises',
    advice: 'Ce que vous pouvez faire',
    contact: 'Pour toute question',
    contactText: (dpo: string) =>
      `Notre délégué à la protection des données répond à vos questions : ${dpo}. Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).`,
    contactNoDpo: (contact: string) =>
      `Nous répondons à vos questions : ${contact}. Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).`,
    notified: (date: string) => `Nous avons notifié cette violation à la CNIL le ${date}.`,
    bye: 'Nous vous prions de nous excuser pour cet incident.',
  },
  en: {
    subject: (org: string) => `A breach of your personal data at ${org}`,
    hello: 'Dear Sir or Madam,',
    intro: (org: string, date: string) =>
      `As article 34 of the General Data Protection Regulation (GDPR) requires, we are writing to tell you that a breach of personal data about you was discovered at ${org} on ${date}.`,
    what: 'What happened',
    data: 'The data concerned',
    consequences: 'What it may mean for you',
    measures: 'What we have done',
    advice: 'What you can do',
    contact: 'If you have a question',
    contactText: (dpo: string) =>
      `Our data protection officer answers your questions: ${dpo}. You may also lodge a complaint with the CNIL (www.cnil.fr).`,
    contactNoDpo: (contact: string) =>
      `We answer your questions: ${contact}. You may also lodge a complaint with the CNIL (www.cnil.fr).`,
    notified: (date: string) => `We notified the CNIL of this breach on ${date}.`,
    bye: 'We apologise for this incident.',
  },
} as const;

export interface BreachLetter {
  readonly lang: Language;
  readonly subject: string;
  readonly text: string;
}

/**
 * The letter to the people of a breach (art. 34(2)): in clear and plain language, the nature of
 * the breach, the DPO's contact, its likely consequences, the measures taken, and what the person
 * can do, drafted from the register; the DPO reads it before it is sent.
 */
export function breachLetter(
  register: Register,
  breach: BreachView,
  lang: Language,
  zone: string,
): BreachLetter {
  const t = LETTER[lang];
  const org = register.organisation;
  const dpo = dpoLine(register, lang);
  const contact = [org.contact?.email, org.contact?.phone].filter(Boolean).join(', ') || org.name;
  const parents = new Set(
    breach.affected.tables.flatMap((x) => x.categories).map((c) => cnilCategoryOf(register, c) ?? c),
  );
  const advice = [
    ...Object.entries(ADVICE)
      .filter(([c]) => parents.has(c))
      .map(([, a]) => a[lang]),
    GENERAL_ADVICE[lang],
  ];
  const notified = breach.notification.decision === 'notify' ? breach.notification.notifiedAt : null;
  const section = (title: string, body: string) => `${title}\n${body}\n`;
  const text = [
    t.hello,
    '',
    t.intro(org.name, formatDay(breach.discoveredAt, lang, zone)),
    '',
    section(t.what, sentence(textIn(breach.nature, lang), lang)),
    section(
      t.data,
      categoryNames(register, breach, lang)
        .map((c) => `- ${c}`)
        .join('\n') || '—',
    ),
    section(t.consequences, sentence(textIn(breach.consequences, lang), lang)),
    section(
      t.measures,
      [
        sentence(textIn(breach.measures, lang), lang),
        ...(notified ? [t.notified(formatDay(notified, lang, zone))] : []),
      ].join('\n'),
    ),
    section(t.advice, advice.map((a) => `- ${a}`).join('\n')),
    section(t.contact, dpo ? t.contactText(dpo) : t.contactNoDpo(contact)),
    t.bye,
    '',
    org.name,
    '',
  ].join('\n');
  return { lang, subject: t.subject(org.name), text };
}
