/**
 * The public privacy notice: the seed's structure (data collected, reasons, legal basis,
 * retention; controller part, then processor part), then transfers, recipients and rights.
 */
import { designatedDpo, rightsEmail } from '../register/organisation-contacts.js';
import type { Register } from '../register/register-load.js';
import {
  cnilCategoryOf,
  isCnilCategory,
  orderedActivities,
  rulesForPurpose,
} from '../register/register-model.js';
import type { Activity, AutomatedDecisions } from '../register/register-schema.js';
import { CNIL_CATEGORIES, type LegalBasis } from '../register/vocabulary.js';
import { type Language, localise } from '../text.js';
import { describeRule } from './describe-rule.js';
import { draftBannerHtml, escapeHtml, htmlList, htmlPage } from './html.js';
import {
  CNIL_CATEGORY_LABELS,
  LEGAL_BASIS_LABELS,
  label,
  RECIPIENT_KIND_LABELS,
  SAFEGUARD_LABELS,
} from './labels.js';
import {
  afterLabel,
  DRAFT_BANNER,
  formatDate,
  holdsPlaceholder,
  lowerFirst,
  sentence,
  typesetAll,
} from './typography.js';

export interface NoticeRow {
  readonly basis: LegalBasis;
  readonly basisLabel: string;
  readonly purposes: readonly string[];
  readonly interests: readonly string[];
  readonly retention: readonly string[];
}

export interface NoticeSection {
  readonly id: string;
  readonly title: string;
  readonly categories: readonly string[];
  readonly details: readonly string[];
  readonly rows: readonly NoticeRow[];
  /** Art. 13(2)(e): whether the data must be provided, and what follows if it is not. */
  readonly provision: string | null;
  /** Art. 13(2)(f): automated decisions (a statement that there are none, or their logic). */
  readonly automated: string | null;
}

export interface Notice {
  readonly lang: Language;
  readonly title: string;
  readonly intro: readonly string[];
  readonly controller: readonly NoticeSection[];
  /** The processor part's heading and introduction, naming the controllers acted for. */
  readonly processorTitle: string;
  readonly processorIntro: string;
  readonly processor: readonly NoticeSection[];
  readonly recipients: readonly { kind: string; names: readonly string[] }[];
  readonly transfers: readonly string[];
  /** Art. 13(2)(f), for every activity that does not say otherwise. */
  readonly automated: string | null;
  readonly rights: readonly string[];
  readonly exercise: readonly string[];
  readonly updated: string;
  /** The notice still holds a placeholder: it is printed under a DRAFT banner. */
  readonly draft: boolean;
}

const T = {
  fr: {
    colon: ' : ',
    semicolon: ' ; ',
    title: (org: string) => `Politique de protection des données personnelles de ${org}`,
    intro: (org: string) =>
      `${org} traite des données personnelles vous concernant. Cette page dit lesquelles, pourquoi, sur quel fondement juridique et combien de temps elles sont conservées.`,
    controller: (org: string, form?: string, address?: string, registration?: string) =>
      // The comma closes what names the company; named alone, it is the subject of the sentence.
      `${org}${form ? `, ${form}` : ''}${address ? ` dont le siège est situé ${address}` : ''}${registration ? ` (immatriculation : ${registration})` : ''}${form || address || registration ? ',' : ''} est responsable de ces traitements.`,
    contact: (email: string) => `Vous pouvez nous joindre à l'adresse ${email}.`,
    dpo: (email: string) =>
      `Vous pouvez joindre notre délégué à la protection des données à l'adresse ${email}.`,
    processorIntro: (org: string, forWhom: string) =>
      `Dans le cadre de nos missions, ${org} agit en qualité de « sous-traitant », pour le compte ${forWhom} :`,
    headers: [
      'Données collectées',
      'Raisons de la collecte',
      'Fondement juridique',
      'Durées de conservation',
    ],
    usedFor: 'Nous utilisons ces données afin de :',
    detail: 'Détail :',
    interest: 'Intérêt poursuivi :',
    partController: 'Traitements dont nous sommes responsables',
    partProcessor: (forWhom: string) => `Traitements réalisés pour le compte ${forWhom}`,
    recipients: 'Destinataires des données',
    transfers: "Transferts hors de l'Union européenne",
    noTransfer: "Notre registre ne déclare aucun transfert de données hors de l'Union européenne.",
    rights: 'Vos droits',
    exercise: 'Comment exercer vos droits',
    updated: 'Dernière mise à jour :',
    rightsList: [
      "Droit d'accès : obtenir la confirmation que nous traitons vos données et en recevoir une copie (art. 15 RGPD).",
      'Droit de rectification : faire corriger des données inexactes ou incomplètes (art. 16).',
      "Droit à l'effacement : obtenir la suppression de vos données, sauf lorsque la loi nous impose de les garder (par exemple les factures) ou qu'elles sont nécessaires à la défense de droits en justice (art. 17).",
      'Droit à la limitation : faire geler l’utilisation de vos données le temps d’une vérification (art. 18).',
      'Droit à la portabilité : recevoir les données que vous nous avez fournies, dans un format lisible par machine, lorsque le traitement repose sur votre consentement ou sur un contrat (art. 20).',
      "Droit d'opposition : vous opposer à un traitement fondé sur notre intérêt légitime, et à tout moment à la prospection commerciale (art. 21).",
      'Retrait du consentement : retirer à tout moment un consentement donné, sans que cela remette en cause les traitements déjà faits (art. 7(3)).',
      'Directives post mortem : définir ce que deviennent vos données après votre décès (loi Informatique et Libertés, art. 85).',
    ],
    complaint: (authority: string) =>
      `Vous pouvez introduire une réclamation auprès de la ${authority} (www.cnil.fr) si vous estimez que vos droits ne sont pas respectés.`,
    exerciseBy: (channels: string) => `Écrivez-nous : ${channels}.`,
    noAddress: '[adresse à compléter]',
    noRecipients: '[À compléter : destinataires des données]',
    noRetention: '[À compléter : durée de conservation]',
    noWithdrawal: '[à compléter : comment retirer ce consentement]',
    delay:
      "Nous répondons dans un délai d'un mois à compter de la réception de votre demande. Ce délai peut être prolongé de deux mois pour une demande complexe ; nous vous en informons alors dans le premier mois.",
    identity:
      "Nous vérifions votre identité par tout moyen proportionné (par exemple une demande envoyée depuis l'adresse e-mail de votre compte). Nous ne demandons une pièce d'identité qu'en cas de doute raisonnable, et la supprimons dès la demande traitée.",
    processorRights:
      "Pour les données que nous traitons pour le compte d'un autre responsable du traitement, nous lui transmettons votre demande et l'aidons à y répondre.",
    withdrawal:
      "Vous pouvez retirer votre consentement à tout moment, aussi simplement que vous l'avez donné :",
    withdrawalFor: (purpose: string, how: string) => `consentement donné pour ${purpose} : ${how}`,
    provisionTitle: 'Devez-vous fournir ces données ?',
    requirement: {
      statutory: 'Leur fourniture est une obligation légale.',
      contractual: "Leur fourniture est nécessaire à l'exécution du contrat.",
      'pre-contractual': 'Leur fourniture est nécessaire à la conclusion du contrat.',
      voluntary: 'Leur fourniture est facultative.',
    },
    automatedTitle: 'Décisions automatisées',
    noAutomated:
      "Aucune décision produisant des effets juridiques à votre égard ou vous affectant de manière significative n'est prise sur le seul fondement d'un traitement automatisé, profilage compris.",
    automatedLogic: 'Logique :',
    automatedConsequences: 'Conséquences pour vous :',
  },
  en: {
    colon: ': ',
    semicolon: '; ',
    title: (org: string) => `${org} privacy notice`,
    intro: (org: string) =>
      `${org} processes personal data about you. This page says which data, why, on which legal basis and for how long it is kept.`,
    controller: (org: string, form?: string, address?: string, registration?: string) =>
      `${org}${form ? `, ${form}` : ''}${address ? `, registered office ${address}` : ''}${registration ? ` (registration: ${registration})` : ''}${form || address || registration ? ',' : ''} is the controller of this processing.`,
    contact: (email: string) => `You can reach us at ${email}.`,
    dpo: (email: string) => `You can reach our data protection officer at ${email}.`,
    processorIntro: (org: string, forWhom: string) =>
      `In the course of its work, ${org} acts as a “processor” on behalf of ${forWhom}:`,
    headers: ['Data collected', 'Why we collect it', 'Legal basis', 'How long we keep it'],
    usedFor: 'We use this data to:',
    detail: 'In detail:',
    interest: 'Interest pursued:',
    partController: 'Processing we are responsible for',
    partProcessor: (forWhom: string) => `Processing carried out on behalf of ${forWhom}`,
    recipients: 'Who receives the data',
    transfers: 'Transfers outside the European Union',
    noTransfer: 'Our register declares no transfer of data outside the European Union.',
    rights: 'Your rights',
    exercise: 'How to exercise your rights',
    updated: 'Last updated:',
    rightsList: [
      'Right of access: confirmation that we process your data, and a copy of it (GDPR art. 15).',
      'Right to rectification: have inaccurate or incomplete data corrected (art. 16).',
      'Right to erasure: have your data deleted, except where the law requires us to keep it (invoices, for example) or where it is needed to establish or defend legal claims (art. 17).',
      'Right to restriction: have the use of your data frozen while a point is checked (art. 18).',
      'Right to data portability: receive the data you gave us in a machine-readable format, where the processing rests on your consent or on a contract (art. 20).',
      'Right to object: object to processing based on our legitimate interest, and at any time to direct marketing (art. 21).',
      'Withdrawing consent: withdraw a consent at any time, without affecting processing already done (art. 7(3)).',
      'Instructions after death: decide what becomes of your data after your death (French Data Protection Act, art. 85).',
    ],
    complaint: (authority: string) =>
      `You can lodge a complaint with the ${authority} (www.cnil.fr) if you consider that your rights are not respected.`,
    exerciseBy: (channels: string) => `Write to us: ${channels}.`,
    noAddress: '[address to complete]',
    noRecipients: '[To complete: recipients of the data]',
    noRetention: '[To complete: retention period]',
    noWithdrawal: '[to complete: how to withdraw this consent]',
    delay:
      'We answer within one month of receiving your request. For a complex request this can be extended by two months; we tell you so within the first month.',
    identity:
      "We check your identity by any proportionate means (for example a request sent from your account's e-mail address). We ask for an identity document only where there is a reasonable doubt, and delete it as soon as the request is handled.",
    processorRights:
      'For data we process on behalf of another controller, we pass your request on to that controller and help it answer.',
    withdrawal: 'You can withdraw your consent at any time, as easily as you gave it:',
    withdrawalFor: (purpose: string, how: string) => `consent for us to ${purpose}: ${how}`,
    provisionTitle: 'Must you provide this data?',
    requirement: {
      statutory: 'Providing it is required by law.',
      contractual: 'Providing it is necessary to perform the contract.',
      'pre-contractual': 'Providing it is necessary to enter into the contract.',
      voluntary: 'Providing it is optional.',
    },
    automatedTitle: 'Automated decisions',
    noAutomated:
      'No decision producing legal effects concerning you or similarly significantly affecting you is taken by automated means alone, profiling included.',
    automatedLogic: 'Logic involved:',
    automatedConsequences: 'Consequences for you:',
  },
} as const;

function categoriesOf(
  register: Register,
  activity: Activity,
  lang: Language,
): { cnil: string[]; details: string[] } {
  const parents = new Set(activity.dataCategories.map((c) => cnilCategoryOf(register, c)).filter(Boolean));
  const cnil = CNIL_CATEGORIES.filter((c) => parents.has(c)).map((c) => label(CNIL_CATEGORY_LABELS, c, lang));
  const details = activity.dataCategories
    .filter((c) => !isCnilCategory(c))
    .map((c) => localise(register.dataCategories.find((d) => d.id === c)?.name, lang))
    .filter(Boolean)
    .map(lowerFirst);
  return { cnil, details };
}

function sectionOf(register: Register, activity: Activity, lang: Language): NoticeSection {
  const rows: NoticeRow[] = [];
  for (const purpose of activity.purposes) {
    let row = rows.find((r) => r.basis === purpose.legalBasis);
    if (!row) {
      row = {
        basis: purpose.legalBasis,
        basisLabel: label(LEGAL_BASIS_LABELS, purpose.legalBasis, lang),
        purposes: [],
        interests: [],
        retention: [],
      };
      rows.push(row);
    }
    (row.purposes as string[]).push(localise(purpose.name, lang));
    if (purpose.legitimateInterest) {
      // The first follows "Intérêt poursuivi :": no capital in French.
      const said = sentence(localise(purpose.legitimateInterest, lang), lang);
      (row.interests as string[]).push(row.interests.length ? said : afterLabel(said, lang));
    }
    for (const rule of rulesForPurpose(register, purpose.id)) {
      const scope = localise(rule.scope, lang);
      const described = rule.text
        ? localise(rule.text, lang)
        : `${scope ? `${scope}${T[lang].colon}` : ''}${describeRule(register, rule, lang)}`;
      const text = sentence(described, lang);
      if (!row.retention.includes(text)) (row.retention as string[]).push(text);
    }
  }
  const { cnil, details } = categoriesOf(register, activity, lang);
  const t = T[lang];
  const provision = activity.provision
    ? `${t.requirement[activity.provision.requirement]} ${sentence(localise(activity.provision.consequences, lang), lang)}`
    : null;
  // The organisation's statement is printed once for the whole notice; an activity's own here.
  const automated = automatedStatement(activity.automatedDecisions, lang);
  return {
    id: activity.id,
    title: localise(activity.name, lang),
    // After "Données collectées :", inside the sentence: no capitals in French.
    // In English too: a list of common nouns ("identity, personal life").
    categories: cnil.map((c) => lowerFirst(c)),
    details,
    // No period: a gap to fill (validate says W_NO_RETENTION), which makes the notice a draft; not "—".
    rows: rows.map((row) => ({
      ...row,
      retention: row.retention.length ? withoutRepeats(row.retention) : [T[lang].noRetention],
    })),
    provision,
    automated,
  };
}

/**
 * The controllers the processor activities name, as the notice says it: "des distributeurs de
 * NEGOMARKETS" / "NEGOMARKETS's distributors" (a group by its name, not its members one by one).
 */
function onBehalfOf(register: Register, lang: Language): string {
  const ids = [
    ...new Set(register.activities.filter((a) => a.role === 'processor').flatMap((a) => a.controllers ?? [])),
  ];
  const names = ids.map((id) => localise(register.controllers.find((c) => c.id === id)?.name, lang) || id);
  const list = (items: string[], and: string) =>
    items.length > 1 ? `${items.slice(0, -1).join(', ')}${and}${items.at(-1)}` : (items[0] ?? '');
  if (lang === 'en') return list(names, ' and ');
  return list(
    names.map((n) =>
      `de ${n.replace(/^(?:Les|Le|La)(?=\s)|^L['’](?=\p{L})/u, (a) => a.toLowerCase())}`
        .replace(/^de les /, 'des ')
        .replace(/^de le /, 'du '),
    ),
    ' et ',
  );
}

function automatedStatement(decisions: AutomatedDecisions | undefined, lang: Language): string | null {
  const t = T[lang];
  if (decisions === undefined) return null;
  if (decisions === 'none') return t.noAutomated;
  return `${t.automatedLogic} ${localise(decisions.logic, lang)} ${t.automatedConsequences} ${localise(decisions.consequences, lang)}`;
}

/**
 * Retention sentences without repeats: one that another merely extends ("… 5 years after it
 * ends." and "… 5 years after it ends, for customers") is said once, in its longer form.
 */
function withoutRepeats(texts: readonly string[]): string[] {
  const stem = (text: string) => text.trim().replace(/[.;,\s]+$/, '');
  return texts.filter(
    (text, i) =>
      !texts.some(
        (other, j) => j !== i && stem(other).length > stem(text).length && stem(other).startsWith(stem(text)),
      ),
  );
}

export function buildNotice(register: Register, lang: Language): Notice {
  const org = register.organisation;
  const t = T[lang];
  const intro = [
    t.intro(org.name),
    t.controller(
      org.name,
      org.legalForm,
      localise(org.address, lang) || undefined,
      localise(org.registration, lang) || undefined,
    ),
  ];
  const dpo = designatedDpo(org);
  if (org.contact?.email && org.contact.email !== dpo?.email) intro.push(t.contact(org.contact.email));
  if (dpo?.email) intro.push(t.dpo(dpo.email));
  const used = new Set(register.activities.flatMap((a) => a.recipients ?? []));
  const recipients = (['internal', 'processor', 'third-party', 'authority'] as const)
    .map((kind) => ({
      kind: label(RECIPIENT_KIND_LABELS, kind, lang),
      names: register.recipients
        .filter((r) => r.kind === kind && used.has(r.id))
        .map((r) => afterLabel(localise(r.name, lang), lang)),
    }))
    .filter((g) => g.names.length > 0);
  // No recipient declared: a placeholder (validate names it, W_NO_RECIPIENTS), not an empty section.
  if (!recipients.length) recipients.push({ kind: t.noRecipients, names: [] });
  const transfers = orderedActivities(register).flatMap((a) =>
    (a.transfers ?? []).map((tr) => {
      const to = localise(register.recipients.find((r) => r.id === tr.recipient)?.name, lang) || tr.recipient;
      return `${localise(a.name, lang)}${T[lang].colon}${to} (${tr.country}) — ${label(SAFEGUARD_LABELS, tr.safeguard, lang)}`;
    }),
  );
  // The rights contact, else the DPO's or the organisation's address, else a placeholder (W_NO_CONTACT).
  const channels =
    [rightsEmail(org), localise(org.rights?.address, lang), org.rights?.url]
      .filter(Boolean)
      .join(t.semicolon) || t.noAddress;
  const withdrawals = orderedActivities(register).flatMap((a) =>
    a.role === 'controller'
      ? a.purposes
          // A consent that says nowhere how to withdraw it (W_CONSENT_WITHOUT_WITHDRAWAL) is a gap
          // the notice shows, and its banner with it.
          .filter((p) => p.legalBasis === 'consent' || p.withdrawal)
          .map((p) =>
            sentence(
              t.withdrawalFor(
                consentedTo(localise(p.name, lang)),
                p.withdrawal ? lowerFirst(localise(p.withdrawal, lang)) : t.noWithdrawal,
              ),
              lang,
            ),
          )
      : [],
  );
  const exercise = [
    t.exerciseBy(channels),
    t.delay,
    t.identity,
    ...(register.activities.some((a) => a.role === 'processor') ? [t.processorRights] : []),
    ...(withdrawals.length ? [t.withdrawal, ...withdrawals.map((w) => `• ${w}`)] : []),
    t.complaint(org.supervisoryAuthority ?? 'CNIL'),
  ];
  const forWhom = onBehalfOf(register, lang);
  const notice: Omit<Notice, 'draft'> = {
    lang,
    title: t.title(org.name),
    intro,
    controller: orderedActivities(register)
      .filter((a) => a.role === 'controller')
      .map((a) => sectionOf(register, a, lang)),
    processorTitle: t.partProcessor(forWhom),
    processorIntro: t.processorIntro(org.name, forWhom),
    processor: orderedActivities(register)
      .filter((a) => a.role === 'processor')
      .map((a) => sectionOf(register, a, lang)),
    recipients,
    transfers,
    automated: automatedStatement(org.automatedDecisions, lang),
    rights: t.rightsList,
    exercise,
    updated: org.updatedAt ? formatDate(org.updatedAt, lang) : '',
  };
  return { ...typesetAll(notice, lang), draft: holdsPlaceholder(notice) };
}

/** "Vous adresser notre newsletter (si vous nous en avez fait la demande)" → "vous adresser notre newsletter". */
function consentedTo(purpose: string): string {
  return lowerFirst(purpose.replace(/\s*\((?:si|if)\b[^)]*\)\s*$/i, ''));
}

function sectionMarkdown(section: NoticeSection, t: (typeof T)[Language]): string {
  const lines = [`### ${section.title}`, ''];
  lines.push(`**${t.headers[0]}**${t.colon}${section.categories.join(', ')}`);
  if (section.details.length) lines.push('', `${t.detail} ${section.details.join(t.semicolon)}`);
  for (const row of section.rows) {
    lines.push('', `#### ${row.basisLabel}`, '', `**${t.headers[1]}** — ${t.usedFor}`, '');
    for (const p of row.purposes) lines.push(`- ${p}`);
    if (row.interests.length) lines.push('', `${t.interest} ${row.interests.join(' ')}`);
    lines.push('', `**${t.headers[3]}**`, '', ...row.retention.map((r) => `- ${r}`));
  }
  if (section.provision) lines.push('', `**${t.provisionTitle}** ${section.provision}`);
  if (section.automated) lines.push('', `**${t.automatedTitle}**${t.colon}${section.automated}`);
  return lines.join('\n');
}

export function renderNoticeMarkdown(notice: Notice): string {
  const t = typesetAll(T[notice.lang], notice.lang);
  const out = [
    `# ${notice.title}`,
    '',
    ...(notice.draft ? [`> **${DRAFT_BANNER[notice.lang]}**`, ''] : []),
    ...notice.intro.flatMap((p) => [p, '']),
    `## ${t.partController}`,
    '',
  ];
  for (const s of notice.controller) out.push(sectionMarkdown(s, t), '');
  if (notice.processor.length) {
    out.push(`## ${notice.processorTitle}`, '', notice.processorIntro, '');
    for (const s of notice.processor) out.push(sectionMarkdown(s, t), '');
  }
  out.push(`## ${t.recipients}`, '');
  for (const g of notice.recipients)
    out.push(g.names.length ? `- **${g.kind}**${t.colon}${g.names.join(', ')}` : g.kind);
  out.push(
    '',
    `## ${t.transfers}`,
    '',
    ...(notice.transfers.length ? notice.transfers.map((x) => `- ${x}`) : [t.noTransfer]),
  );
  if (notice.automated) out.push('', `## ${t.automatedTitle}`, '', notice.automated);
  out.push('', `## ${t.rights}`, '', ...notice.rights.map((r) => `- ${r}`));
  out.push(
    '',
    `## ${t.exercise}`,
    '',
    // A paragraph after a list needs a blank line, or Markdown renders it inside the last item.
    ...notice.exercise.map((e, i) =>
      e.startsWith('• ')
        ? `- ${e.slice(2)}`
        : `${notice.exercise[i - 1]?.startsWith('• ') ? '\n' : ''}${e}\n`,
    ),
  );
  if (notice.updated) out.push('', `*${t.updated} ${notice.updated}*`);
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function sectionHtml(section: NoticeSection, t: (typeof T)[Language]): string {
  const rows = section.rows.map((row, i) => {
    const cats =
      i === 0
        ? `<td rowspan="${section.rows.length}">${htmlList(section.categories)}${section.details.length ? `<p class="muted">${escapeHtml(t.detail)} ${escapeHtml(section.details.join(t.semicolon))}</p>` : ''}</td>`
        : '';
    const interests = row.interests.length
      ? `<p class="muted">${escapeHtml(t.interest)} ${escapeHtml(row.interests.join(' '))}</p>`
      : '';
    return `<tr>${cats}<td>${i === 0 ? `<p>${escapeHtml(t.usedFor)}</p>` : ''}<ul>${row.purposes.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></td><td>${escapeHtml(row.basisLabel)}${interests}</td><td>${htmlList(row.retention)}</td></tr>`;
  });
  const statements = [
    ...(section.provision
      ? [`<p><strong>${escapeHtml(t.provisionTitle)}</strong> ${escapeHtml(section.provision)}</p>`]
      : []),
    ...(section.automated
      ? [`<p><strong>${escapeHtml(t.automatedTitle)}</strong>${t.colon}${escapeHtml(section.automated)}</p>`]
      : []),
  ];
  const footer = statements.length
    ? `\n<tr class="statements"><td colspan="4">${statements.join('')}</td></tr>`
    : '';
  return `<tr class="section"><td colspan="4">${escapeHtml(section.title)}</td></tr>\n${rows.join('\n')}${footer}`;
}

function tableHtml(sections: readonly NoticeSection[], t: (typeof T)[Language]): string {
  return `<table>\n<thead><tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${sections.map((s) => sectionHtml(s, t)).join('\n')}\n</tbody>\n</table>`;
}

export function renderNoticeHtml(notice: Notice): string {
  const t = typesetAll(T[notice.lang], notice.lang);
  const body = [
    ...(notice.draft ? [draftBannerHtml(notice.lang)] : []),
    `<h1>${escapeHtml(notice.title)}</h1>`,
    ...notice.intro.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<h2>${escapeHtml(t.partController)}</h2>`,
    tableHtml(notice.controller, t),
  ];
  if (notice.processor.length) {
    body.push(
      `<h2>${escapeHtml(notice.processorTitle)}</h2>`,
      `<p>${escapeHtml(notice.processorIntro)}</p>`,
      tableHtml(notice.processor, t),
    );
  }
  body.push(
    `<h2>${escapeHtml(t.recipients)}</h2>`,
    `<ul>${notice.recipients.map((g) => (g.names.length ? `<li><strong>${escapeHtml(g.kind)}</strong>${t.colon}${escapeHtml(g.names.join(', '))}</li>` : `<li>${escapeHtml(g.kind)}</li>`)).join('')}</ul>`,
    `<h2>${escapeHtml(t.transfers)}</h2>`,
    notice.transfers.length ? htmlList(notice.transfers) : `<p>${escapeHtml(t.noTransfer)}</p>`,
    ...(notice.automated
      ? [`<h2>${escapeHtml(t.automatedTitle)}</h2>`, `<p>${escapeHtml(notice.automated)}</p>`]
      : []),
    `<h2>${escapeHtml(t.rights)}</h2>`,
    `<ul>${notice.rights.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`,
    `<h2>${escapeHtml(t.exercise)}</h2>`,
  );
  const bullets = notice.exercise.filter((e) => e.startsWith('• '));
  for (const e of notice.exercise) {
    if (e.startsWith('• ')) continue;
    body.push(`<p>${escapeHtml(e)}</p>`);
    if (e === t.withdrawal)
      body.push(`<ul>${bullets.map((b) => `<li>${escapeHtml(b.slice(2))}</li>`).join('')}</ul>`);
  }
  if (notice.updated) body.push(`<footer>${escapeHtml(t.updated)} ${escapeHtml(notice.updated)}</footer>`);
  return htmlPage(notice.lang, notice.title, body.join('\n'));
}
