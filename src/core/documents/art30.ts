/**
 * The GDPR art. 30 records in the shape of the CNIL template: a common sheet (organisation, DPO,
 * list of activities), then one sheet per activity. The controller record (30(1)) covers the
 * activities NEGOMARKETS decides; the processor record (30(2)) has one section per controller.
 */

import { spreadsheetCsv } from '../csv.js';
import { designatedDpo } from '../register/organisation-contacts.js';
import type { Register } from '../register/register-load.js';
import {
  activityControllers,
  findRecord,
  isCnilCategory,
  orderedActivities,
  recordCategories,
} from '../register/register-model.js';
import type { Activity, Contact, Controller, RetentionRule } from '../register/register-schema.js';
import { type Language, localise } from '../text.js';
import { describeRule } from './describe-rule.js';
import { draftBannerHtml, escapeHtml, htmlList, htmlPage } from './html.js';
import {
  CNIL_CATEGORY_LABELS,
  LEGAL_BASIS_LABELS,
  label,
  RECIPIENT_KIND_LABELS,
  SAFEGUARD_LABELS,
  SECURITY_LABELS,
} from './labels.js';
import {
  afterLabel,
  DRAFT_BANNER,
  formatDate,
  holdsPlaceholder,
  lowerFirst,
  typesetAll,
} from './typography.js';

export type Pair = readonly [string, string];

export interface Art30Sheet {
  readonly ref: string;
  readonly name: string;
  readonly description: readonly Pair[];
  readonly actors: readonly Pair[];
  readonly purposes: readonly { readonly purpose: string; readonly basis: string }[];
  readonly categories: readonly {
    readonly category: string;
    readonly description: string;
    readonly retention: string;
  }[];
  readonly sensitive: string;
  readonly subjects: readonly string[];
  readonly recipients: readonly Pair[];
  readonly transfers: readonly {
    readonly recipient: string;
    readonly country: string;
    readonly safeguard: string;
    readonly documentation: string;
  }[];
  readonly security: readonly Pair[];
}

export interface Art30Section {
  /** For the processor record: the controller acted for, its contact and instructions. */
  readonly title: string;
  readonly details: readonly Pair[];
  readonly sheets: readonly Art30Sheet[];
}

export interface Art30Record {
  readonly lang: Language;
  readonly kind: 'controller' | 'processor';
  readonly title: string;
  readonly common: readonly Pair[];
  readonly activities: readonly {
    readonly ref: string;
    readonly name: string;
    readonly created: string;
    readonly updated: string;
  }[];
  readonly sections: readonly Art30Section[];
  /** The record still holds a placeholder: it is printed under a DRAFT banner. */
  readonly draft: boolean;
}

const T = {
  fr: {
    colon: ' : ',
    semicolon: ' ; ',
    controllerTitle: (org: string) => `Registre des activités de traitement de ${org} (article 30.1 du RGPD)`,
    processorTitle: (org: string) =>
      `Registre des catégories d'activités de traitement de ${org}, sous-traitant (article 30.2 du RGPD)`,
    common: 'Fiche commune',
    org: 'Organisme',
    address: 'Adresse',
    registration: 'Immatriculation',
    contact: 'Contact',
    dpo: 'Délégué à la protection des données',
    representative: "Représentant dans l'Union",
    activities: 'Activités de traitement',
    ref: 'Réf.',
    name: 'Activité',
    created: 'Création',
    updated: 'Mise à jour',
    description: 'Description',
    actors: 'Acteurs',
    controller: 'Responsable du traitement',
    processor: 'Sous-traitant',
    joint: 'Responsables conjoints',
    purposes: 'Finalité(s) du traitement',
    basis: 'Base légale',
    categories: 'Catégories de données personnelles',
    category: 'Catégorie',
    categoryDescription: 'Description',
    retention: 'Durée de conservation',
    sensitive: 'Données sensibles',
    noSensitive: 'Aucune donnée sensible (art. 9 et 10 du RGPD)',
    subjects: 'Catégories de personnes concernées',
    recipients: 'Destinataires',
    transfers: "Transferts hors de l'Union européenne",
    noTransfer: 'Aucun transfert déclaré',
    recipient: 'Destinataire',
    country: 'Pays',
    safeguard: 'Garantie',
    documentation: 'Documentation',
    security: 'Mesures de sécurité',
    instructions: 'Instructions documentées',
    actingFor: 'Responsable pour le compte duquel le sous-traitant agit',
    group: 'Groupe de responsables',
    none: '—',
    noRule: 'Aucun enregistrement déclaré ne porte cette catégorie',
    seeFiner: 'Voir les catégories détaillées ci-dessous',
  },
  en: {
    colon: ': ',
    semicolon: '; ',
    controllerTitle: (org: string) => `${org} record of processing activities (GDPR article 30(1))`,
    processorTitle: (org: string) =>
      `${org} record of categories of processing activities as a processor (GDPR article 30(2))`,
    common: 'Common sheet',
    org: 'Organisation',
    address: 'Address',
    registration: 'Registration',
    contact: 'Contact',
    dpo: 'Data protection officer',
    representative: 'Representative in the Union',
    activities: 'Processing activities',
    ref: 'Ref.',
    name: 'Activity',
    created: 'Created',
    updated: 'Updated',
    description: 'Description',
    actors: 'Actors',
    controller: 'Controller',
    processor: 'Processor',
    joint: 'Joint controllers',
    purposes: 'Purposes of the processing',
    basis: 'Legal basis',
    categories: 'Categories of personal data',
    category: 'Category',
    categoryDescription: 'Description',
    retention: 'Retention period',
    sensitive: 'Sensitive data',
    noSensitive: 'No sensitive data (GDPR art. 9 and 10)',
    subjects: 'Categories of data subjects',
    recipients: 'Recipients',
    transfers: 'Transfers outside the European Union',
    noTransfer: 'No transfer declared',
    recipient: 'Recipient',
    country: 'Country',
    safeguard: 'Safeguard',
    documentation: 'Documentation',
    security: 'Security measures',
    instructions: 'Documented instructions',
    actingFor: 'Controller on whose behalf the processor acts',
    group: 'Group of controllers',
    none: '—',
    noRule: 'No declared record holds this category',
    seeFiner: 'See the detailed categories below',
  },
} as const;

export type Art30Labels = (typeof T)[Language];
export function art30Labels(lang: Language): Art30Labels {
  return T[lang];
}

/** A contact in one line; a name that only repeats the row's label ("Délégué à la protection des données") is left out. */
function contactLine(c: Contact | undefined, lang: Language, rowLabel?: string): string {
  if (!c) return '';
  const name = localise(c.name, lang);
  const repeats = rowLabel !== undefined && name.trim().toLowerCase() === rowLabel.trim().toLowerCase();
  return [repeats ? '' : name, c.email, c.phone, localise(c.address, lang)].filter(Boolean).join(', ');
}

function rulesOf(register: Register, activity: Activity): RetentionRule[] {
  const ids = new Set(activity.purposes.map((p) => p.id));
  return register.retention.filter((r) => r.purposes.some((p) => ids.has(p)));
}

function sheetOf(register: Register, activity: Activity, lang: Language, actingFor?: Controller): Art30Sheet {
  const t = T[lang];
  const org = register.organisation;
  const rules = rulesOf(register, activity);
  const categories = activity.dataCategories.map((c) => {
    const finer = isCnilCategory(c)
      ? register.dataCategories
          .filter((d) => d.parent === c && activity.dataCategories.includes(d.id))
          .map((d, i) => (i === 0 ? localise(d.name, lang) : lowerFirst(localise(d.name, lang))))
      : [localise(register.dataCategories.find((d) => d.id === c)?.description ?? '', lang)].filter(Boolean);
    // A general category whose finer ones have rows of their own prints only the rules no finer
    // row prints: the same period is not said twice (under "Identité" and under "Nom, prénom").
    const finerIds = isCnilCategory(c)
      ? register.dataCategories.filter((d) => d.parent === c && activity.dataCategories.includes(d.id))
      : [];
    const retention = rules
      .filter((r) => {
        const record = findRecord(register, r.record);
        if (!record) return false;
        const held = recordCategories(register, record);
        return held.has(c) && !finerIds.some((d) => held.has(d.id));
      })
      .map((r) => {
        const scope = localise(r.scope, lang);
        return `${localise(findRecord(register, r.record)?.name, lang)}${scope ? ` (${scope})` : ''}${t.colon}${describeRule(register, r, lang)}`;
      });
    const name = isCnilCategory(c)
      ? label(CNIL_CATEGORY_LABELS, c, lang)
      : localise(register.dataCategories.find((d) => d.id === c)?.name, lang);
    return {
      category: name,
      description: finer.join(t.semicolon),
      retention: retention.join('\n') || (finerIds.length ? t.seeFiner : t.noRule),
    };
  });
  const recipientsByKind = (['internal', 'processor', 'third-party', 'authority'] as const)
    .map(
      (kind) =>
        [
          label(RECIPIENT_KIND_LABELS, kind, lang),
          register.recipients
            .filter((r) => r.kind === kind && activity.recipients?.includes(r.id))
            // A list: a capital on its first name only ("Service client, service comptabilité").
            .map((r, i) =>
              i === 0 || lang === 'en' ? localise(r.name, lang) : lowerFirst(localise(r.name, lang)),
            )
            .join(', '),
        ] as const,
    )
    .filter(([, names]) => names !== '');
  const actors: Pair[] = [
    [
      activity.role === 'processor' ? t.processor : t.controller,
      [org.name, contactLine(org.contact, lang)].filter(Boolean).join(', '),
    ],
    [t.dpo, contactLine(designatedDpo(org), lang, t.dpo) || t.none],
    [t.representative, contactLine(org.representative, lang) || t.none],
  ];
  if (activity.role === 'processor')
    actors.push([
      t.actingFor,
      (actingFor ? [actingFor] : activityControllers(register, activity))
        .map((c) => localise(c.name, lang))
        .join(', '),
    ]);
  else actors.push([t.joint, activity.jointControllers?.join(', ') || t.none]);
  return {
    ref: activity.ref ?? activity.id,
    name: localise(activity.name, lang),
    description: [
      [t.ref, activity.ref ?? activity.id],
      [t.name, localise(activity.name, lang)],
      [t.created, activity.createdAt ? formatDate(activity.createdAt, lang) : t.none],
      [t.updated, activity.updatedAt ? formatDate(activity.updatedAt, lang) : t.none],
      ...(activity.description ? [[t.description, localise(activity.description, lang)] as const] : []),
    ],
    actors,
    purposes: activity.purposes.map((p) => ({
      purpose: localise(p.recordName ?? p.name, lang),
      basis: label(LEGAL_BASIS_LABELS, p.legalBasis, lang),
    })),
    categories,
    sensitive: activity.specialCategories?.length ? activity.specialCategories.join(', ') : t.noSensitive,
    subjects: activity.dataSubjects.map(
      (s) => localise(register.dataSubjects.find((d) => d.id === s)?.name, lang) || s,
    ),
    recipients: recipientsByKind,
    transfers: (activity.transfers ?? []).map((tr) => ({
      recipient: localise(register.recipients.find((r) => r.id === tr.recipient)?.name, lang) || tr.recipient,
      country: tr.country,
      safeguard: label(SAFEGUARD_LABELS, tr.safeguard, lang),
      documentation: tr.documentation ?? '',
    })),
    security: (activity.security ?? []).map(
      (s) => [label(SECURITY_LABELS, s.kind, lang), localise(s.description, lang)] as const,
    ),
  };
}

/**
 * Art. 30(2)(a): one section per controller acted for, each with its name, address and contact;
 * a group of controllers (`memberOf`) gives one section per member, not one for the group.
 */
function processorSections(
  register: Register,
  activities: readonly Activity[],
  lang: Language,
): Art30Section[] {
  const t = T[lang];
  const served = new Map(activities.map((a) => [a, activityControllers(register, a)]));
  const controllers = register.controllers.filter((c) =>
    [...served.values()].some((list) => list.includes(c)),
  );
  return controllers.map((controller) => {
    const group = register.controllers.find((g) => g.id === controller.memberOf);
    const { address, ...reach } = controller.contact ?? {};
    const instructions = controller.instructions ?? group?.instructions;
    const details: Pair[] = [
      [t.actingFor, localise(controller.name, lang)],
      ...(group ? [[t.group, localise(group.name, lang)] as const] : []),
      [t.address, localise(address, lang) || t.none],
      [t.contact, contactLine(reach, lang) || t.none],
      ...(controller.description ? [[t.description, localise(controller.description, lang)] as const] : []),
      ...(instructions ? [[t.instructions, localise(instructions, lang)] as const] : []),
    ];
    return {
      title: localise(controller.name, lang),
      details,
      sheets: activities
        .filter((a) => served.get(a)?.includes(controller))
        .map((a) => sheetOf(register, a, lang, controller)),
    };
  });
}

export function buildArt30(
  register: Register,
  kind: 'controller' | 'processor',
  lang: Language,
): Art30Record {
  const t = T[lang];
  const org = register.organisation;
  const activities = orderedActivities(register).filter((a) => a.role === kind);
  const common: Pair[] = [
    [t.org, [org.name, org.legalForm].filter(Boolean).join(' ')],
    [t.address, localise(org.address, lang) || t.none],
    [t.registration, localise(org.registration, lang) || t.none],
    [t.contact, contactLine(org.contact, lang) || t.none],
    [t.dpo, contactLine(designatedDpo(org), lang, t.dpo) || t.none],
    [t.representative, contactLine(org.representative, lang) || t.none],
  ];
  const sections: Art30Section[] =
    kind === 'controller'
      ? [{ title: '', details: [], sheets: activities.map((a) => sheetOf(register, a, lang)) }]
      : processorSections(register, activities, lang);
  const record: Omit<Art30Record, 'draft'> = {
    lang,
    kind,
    title: kind === 'controller' ? t.controllerTitle(org.name) : t.processorTitle(org.name),
    common,
    activities: activities.map((a) => ({
      ref: a.ref ?? a.id,
      name: localise(a.name, lang),
      created: a.createdAt ? formatDate(a.createdAt, lang) : '',
      updated: a.updatedAt ? formatDate(a.updatedAt, lang) : '',
    })),
    sections,
  };
  return { ...typesetAll(record, lang), draft: holdsPlaceholder(record) };
}

const cell = (text: string) => escapeHtml(text).replaceAll('\n', '<br>');
const card = (pairs: readonly Pair[]) =>
  `<dl class="card">${pairs.map(([k, v]) => `<dt>${cell(k)}</dt><dd>${cell(v)}</dd>`).join('')}</dl>`;
const table = (headers: readonly string[], rows: readonly (readonly string[])[]) =>
  `<table><thead><tr>${headers.map((h) => `<th>${cell(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

function sheetHtml(sheet: Art30Sheet, t: Art30Labels): string {
  return [
    `<section class="sheet"><h2>${cell(sheet.ref)} — ${cell(sheet.name)}</h2>`,
    `<h3>${cell(t.description)}</h3>`,
    card(sheet.description),
    `<h3>${cell(t.actors)}</h3>`,
    card(sheet.actors),
    `<h3>${cell(t.purposes)}</h3>`,
    table(
      [t.purposes, t.basis],
      sheet.purposes.map((p) => [p.purpose, p.basis]),
    ),
    `<h3>${cell(t.categories)}</h3>`,
    table(
      [t.category, t.categoryDescription, t.retention],
      sheet.categories.map((c) => [c.category, c.description, c.retention]),
    ),
    `<h3>${cell(t.sensitive)}</h3><p>${cell(sheet.sensitive)}</p>`,
    `<h3>${cell(t.subjects)}</h3>${htmlList(sheet.subjects)}`,
    `<h3>${cell(t.recipients)}</h3>`,
    sheet.recipients.length ? card(sheet.recipients) : `<p>${t.none}</p>`,
    `<h3>${cell(t.transfers)}</h3>`,
    sheet.transfers.length
      ? table(
          [t.recipient, t.country, t.safeguard, t.documentation],
          sheet.transfers.map((x) => [x.recipient, x.country, x.safeguard, x.documentation]),
        )
      : `<p>${cell(t.noTransfer)}</p>`,
    `<h3>${cell(t.security)}</h3>`,
    sheet.security.length
      ? table(
          [t.security, t.description],
          sheet.security.map(([k, v]) => [k, v]),
        )
      : `<p>${t.none}</p>`,
    '</section>',
  ].join('\n');
}

export function renderArt30Html(record: Art30Record): string {
  const t = typesetAll(T[record.lang], record.lang);
  const body = [
    ...(record.draft ? [draftBannerHtml(record.lang)] : []),
    `<h1>${cell(record.title)}</h1>`,
    `<h2>${cell(t.common)}</h2>`,
    card(record.common),
    `<h3>${cell(t.activities)}</h3>`,
    table(
      [t.ref, t.name, t.created, t.updated],
      record.activities.map((a) => [a.ref, a.name, a.created, a.updated]),
    ),
  ];
  for (const section of record.sections) {
    if (section.title)
      body.push(
        `<section class="sheet"><h2>${cell(t.actingFor)}${cell(t.colon)}${cell(section.title)}</h2>${card(section.details)}</section>`,
      );
    for (const sheet of section.sheets) body.push(sheetHtml(sheet, t));
  }
  return htmlPage(record.lang, record.title, body.join('\n'));
}

/** One row per activity and data category: the register flattened for a spreadsheet (as French Excel opens it). */
export function renderArt30Csv(record: Art30Record): string {
  const t = typesetAll(T[record.lang], record.lang);
  const header = [
    t.ref,
    t.name,
    t.actingFor,
    t.purposes,
    t.subjects,
    t.category,
    t.categoryDescription,
    t.retention,
    t.recipients,
    t.transfers,
    t.security,
  ];
  const rows: string[][] = [];
  for (const section of record.sections) {
    for (const s of section.sheets) {
      for (const c of s.categories) {
        rows.push([
          s.ref,
          s.name,
          section.title,
          s.purposes.map((p) => `${p.purpose} (${p.basis})`).join('\n'),
          s.subjects.join('\n'),
          c.category,
          c.description,
          c.retention,
          s.recipients.map(([k, v]) => `${k}${t.colon}${afterLabel(v, record.lang)}`).join('\n'),
          s.transfers.map((x) => `${x.recipient} (${x.country}, ${x.safeguard})`).join('\n') || t.noTransfer,
          s.security.map(([k, v]) => `${k}${t.colon}${afterLabel(v, record.lang)}`).join('\n'),
        ]);
      }
    }
  }
  // A draft says so on its first line, above the header, where a reader of the sheet sees it.
  return spreadsheetCsv([...(record.draft ? [[DRAFT_BANNER[record.lang]]] : []), header, ...rows]);
}
