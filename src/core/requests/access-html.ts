/**
 * The access package as a page the person can read (art. 15), in French then in English, every
 * label in the page's language: each record with every field of it (a secret described, never
 * copied; a third person's data masked, art. 15(4); a file linked to its copy), why it is kept,
 * who receives it, until when and where it comes from; the consents and their proof; the data
 * held on a distributor's behalf, apart; the person's rights and the right to complain to the CNIL.
 */
import { escapeHtml, htmlList, htmlPage } from '../documents/html.js';
import { LEGAL_BASIS_LABELS } from '../documents/labels.js';
import type { Register } from '../register/register-load.js';
import type { Language } from '../text.js';

/** A text in both languages of the package. */
export interface Both {
  readonly fr: string;
  readonly en: string;
}

/** One field of a record as the package gives it. */
export interface PackageField {
  readonly column: string;
  readonly title: Both;
  /** The value (absent for a secret or a masked value). */
  readonly value?: unknown;
  /** A secret (a password hash, a payment token, a keyed hash): said to be stored, never copied. */
  readonly secret?: true;
  readonly stored?: boolean;
  /** May describe someone else (a gift's recipient) and does: left out (art. 15(4)). */
  readonly masked?: true;
  /** A file column: its folder, and where its copy is in the package (null: not found). */
  readonly folder?: string;
  readonly file?: string | null;
  readonly fileError?: string;
}

/** The supervisory authority: where a person complains (art. 15(1)(f), 77). */
export const CNIL = {
  name: "Commission nationale de l'informatique et des libertés (CNIL)",
  address: '3 Place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France',
  url: 'https://www.cnil.fr',
} as const;

const CHOICES: Record<string, Record<'fr' | 'en', string>> = {
  given: { fr: 'donné', en: 'given' },
  refused: { fr: 'refusé', en: 'refused' },
  withdrawn: { fr: 'retiré', en: 'withdrawn' },
};

export interface AccessPackage {
  readonly subject: { readonly request: number; readonly person: string };
  readonly generated: string;
  readonly records: readonly {
    readonly store: string;
    readonly table: string;
    readonly id: string;
    readonly record: string | undefined;
    readonly name: Both;
    readonly archived: boolean;
    readonly fields: readonly PackageField[];
    /** The values shown, by column (what `fields` shows, for a program). */
    readonly data: Record<string, unknown>;
    readonly purposes: readonly {
      readonly purpose: string;
      readonly name: Both;
      readonly legalBasis: string;
    }[];
    readonly recipients: readonly { readonly id: string; readonly name: Both }[];
    readonly deadline: string | null;
    readonly status: string;
    /** Where the data comes from when not from the person (art. 15(1)(g)). */
    readonly source?: Both;
  }[];
  readonly consents: readonly {
    readonly purpose: string;
    readonly name: Both;
    readonly record: Both;
    readonly table: string;
    readonly id: string;
    readonly proof: Record<string, unknown>;
    /** The proof's field names in both languages. */
    readonly titles: Record<string, Both>;
  }[];
  /**
   * The consent ledger's events of the person (their address, and the visitor id the request
   * names): each choice with the notice version and the SHA-256 of the text shown.
   */
  readonly ledger?: readonly {
    readonly event: number;
    readonly purpose: string;
    readonly name: Both;
    readonly choice: string;
    readonly at: string;
    readonly notice: { readonly version: string; readonly sha256: string };
    readonly source: string;
    readonly consentId: string;
    readonly language: string | null;
    /** `email` or `visitor`: which of the request's identifiers it was recorded under. */
    readonly subject: string;
  }[];
  readonly processor: readonly {
    readonly controller: string | null;
    readonly controllerId: string | null;
    readonly record: Both;
    readonly table: string;
    readonly id: string;
    readonly data: Record<string, unknown>;
    readonly titles: Record<string, Both>;
    readonly source?: Both;
  }[];
  readonly rights: {
    readonly contact: { readonly email?: string; readonly address?: Both };
    readonly authority: typeof CNIL;
  };
}

const STATUS: Record<string, Both> = {
  active: { fr: 'en cours d’utilisation', en: 'in use' },
  archive: { fr: 'archivé (accès restreint)', en: 'archived (restricted access)' },
  due: { fr: 'à supprimer', en: 'to be deleted' },
  held: { fr: 'conservé pour un litige ou une obligation', en: 'kept for a dispute or an obligation' },
  restricted: { fr: 'traitement limité à votre demande', en: 'processing restricted at your request' },
  anonymised: { fr: 'anonymisé', en: 'anonymised' },
  invalid: { fr: 'à vérifier', en: 'to be checked' },
};

const COLON = { fr: ' : ', en: ': ' } as const;

const WORDS = {
  fr: {
    title: 'Vos données personnelles',
    intro: (n: number, date: string) =>
      `Réponse à votre demande d'accès n° ${n} (RGPD art. 15), établie le ${date}.`,
    none: 'Nous ne détenons aucune donnée vous concernant.',
    record: 'Enregistrement',
    data: 'Données',
    purposes: 'Finalités et bases légales',
    recipients: 'Destinataires',
    until: 'Conservé jusqu’au',
    status: 'Statut',
    archived: 'archive intermédiaire',
    consents: 'Vos consentements et leur preuve',
    ledger: 'Vos choix enregistrés (registre des consentements)',
    ledgerHead: ['Date', 'Finalité', 'Choix', 'Texte affiché (version, empreinte SHA-256)', 'Source'],
    processor: 'Données traitées pour le compte de nos distributeurs',
    processorIntro:
      'Ces données appartiennent au distributeur nommé, responsable du traitement ; nous les traitons sur ses instructions.',
    controller: 'Distributeur',
    noDeadline: 'tant que la finalité dure',
    secret: 'enregistré sous une forme protégée ; non reproduit ici (secret)',
    secretNone: 'aucun',
    masked: 'masqué : peut concerner une autre personne (RGPD art. 15(4))',
    maskedNote:
      'Certaines données d’une commande (le destinataire d’un cadeau) concernent une autre personne : elles sont masquées, car les communiquer porterait atteinte à ses droits (RGPD art. 15(4)).',
    file: 'copie jointe',
    fileMissing: 'fichier introuvable',
    source: 'Provenance',
    sourceOwn: 'Les autres données ont été collectées auprès de vous.',
    rights: 'Vos droits',
    rightsList: [
      'faire rectifier des données inexactes ou incomplètes (art. 16) ;',
      'obtenir l’effacement de vos données (art. 17) ;',
      'obtenir la limitation du traitement (art. 18) ;',
      'vous opposer à un traitement fondé sur notre intérêt légitime, et à tout moment à la prospection (art. 21) ;',
      'recevoir les données que vous nous avez fournies dans un format réutilisable (portabilité, art. 20) ;',
      'retirer à tout moment un consentement donné, sans effet sur ce qui a été fait avant.',
    ],
    contact: 'Pour exercer ces droits',
    complaint: 'Vous pouvez introduire une réclamation auprès de la',
  },
  en: {
    title: 'Your personal data',
    intro: (n: number, date: string) =>
      `Answer to your access request no. ${n} (GDPR art. 15), made on ${date}.`,
    none: 'We hold no data about you.',
    record: 'Record',
    data: 'Data',
    purposes: 'Purposes and legal bases',
    recipients: 'Recipients',
    until: 'Kept until',
    status: 'Status',
    archived: 'intermediate archive',
    consents: 'Your consents and their proof',
    ledger: 'Your recorded choices (consent ledger)',
    ledgerHead: ['Date', 'Purpose', 'Choice', 'Text shown (version, SHA-256)', 'Source'],
    processor: "Data processed on our distributors' behalf",
    processorIntro:
      'This data belongs to the distributor named, its controller; we process it on its instructions.',
    controller: 'Distributor',
    noDeadline: 'while the purpose lasts',
    secret: 'stored in a protected form; not copied here (a secret)',
    secretNone: 'none',
    masked: 'masked: may be about someone else (GDPR art. 15(4))',
    maskedNote:
      "Some data of an order (a gift's recipient) is about someone else: it is masked, as giving it would affect that person's rights (GDPR art. 15(4)).",
    file: 'copy enclosed',
    fileMissing: 'file not found',
    source: 'Source',
    sourceOwn: 'The other data was collected from you.',
    rights: 'Your rights',
    rightsList: [
      'have inaccurate or incomplete data rectified (art. 16);',
      'have your data erased (art. 17);',
      'have the processing restricted (art. 18);',
      'object to processing based on our legitimate interest, and at any time to direct marketing (art. 21);',
      'receive the data you gave us in a reusable format (portability, art. 20);',
      'withdraw a consent at any time, without affecting what was done before.',
    ],
    contact: 'To exercise these rights',
    complaint: 'You can lodge a complaint with the',
  },
} as const;

function fieldValue(f: PackageField, lang: Language): string {
  const w = WORDS[lang];
  if (f.secret) return f.stored === false ? w.secretNone : w.secret;
  if (f.masked) return w.masked;
  if (f.folder !== undefined && f.file !== undefined)
    return f.file === null
      ? `${String(f.value)} (${w.fileMissing})`
      : `<a href="${escapeHtml(f.file)}">${escapeHtml(f.file)}</a> (${w.file})`;
  return escapeHtml(String(f.value));
}

function fieldList(fields: readonly PackageField[], lang: Language): string {
  const listed = fields.filter(
    (f) => f.secret || f.masked || (f.value !== null && f.value !== undefined && f.value !== ''),
  );
  return listed.length
    ? `<dl class="card">${listed.map((f) => `<dt>${escapeHtml(f.title[lang])}</dt><dd>${fieldValue(f, lang)}</dd>`).join('')}</dl>`
    : '—';
}

function dataList(data: Record<string, unknown>, titles: Record<string, Both>, lang: Language): string {
  const entries = Object.entries(data).filter(([, v]) => v !== null && v !== undefined && v !== '');
  return entries.length
    ? `<dl class="card">${entries.map(([k, v]) => `<dt>${escapeHtml(titles[k]?.[lang] ?? k)}</dt><dd>${escapeHtml(String(v))}</dd>`).join('')}</dl>`
    : '—';
}

function section(pkg: AccessPackage, lang: Language): string {
  const w = WORDS[lang];
  const parts = [
    `<section lang="${lang}">`,
    `<h1>${escapeHtml(w.title)}</h1>`,
    `<p>${escapeHtml(w.intro(pkg.subject.request, pkg.generated))}</p>`,
  ];
  if (pkg.records.length === 0 && pkg.processor.length === 0) parts.push(`<p>${escapeHtml(w.none)}</p>`);
  if (pkg.records.length) {
    parts.push(
      `<table><thead><tr><th>${w.record}</th><th>${w.data}</th><th>${w.purposes}</th><th>${w.recipients}</th><th>${w.until}</th><th>${w.status}</th></tr></thead><tbody>`,
    );
    for (const r of pkg.records)
      parts.push(
        `<tr><td>${escapeHtml(`${r.name[lang]} ${r.id}`)}${r.archived ? `<br><span class="muted">${w.archived}</span>` : ''}${r.source ? `<br><span class="muted">${escapeHtml(`${w.source}${COLON[lang]}${r.source[lang]}`)}</span>` : ''}</td><td>${fieldList(r.fields, lang)}</td><td>${htmlList(
          r.purposes.map(
            (p) => `${p.name[lang]} (${LEGAL_BASIS_LABELS[p.legalBasis]?.[lang] ?? p.legalBasis})`,
          ),
        )}</td><td>${htmlList(r.recipients.map((x) => x.name[lang]))}</td><td>${escapeHtml(r.deadline ?? w.noDeadline)}</td><td>${escapeHtml(STATUS[r.status]?.[lang] ?? r.status)}</td></tr>`,
      );
    parts.push('</tbody></table>');
    if (pkg.records.some((r) => r.fields.some((f) => f.masked)))
      parts.push(`<p>${escapeHtml(w.maskedNote)}</p>`);
  }
  if (pkg.consents.length) {
    parts.push(`<h2>${w.consents}</h2><table><tbody>`);
    for (const c of pkg.consents)
      parts.push(
        `<tr><td>${escapeHtml(c.name[lang])}</td><td>${escapeHtml(`${c.record[lang]} ${c.id}`)}</td><td>${dataList(c.proof, c.titles, lang)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  if (pkg.ledger?.length) {
    parts.push(
      `<h2>${w.ledger}</h2><table><thead><tr>${w.ledgerHead.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`,
    );
    for (const e of pkg.ledger)
      parts.push(
        `<tr><td>${escapeHtml(e.at)}</td><td>${escapeHtml(e.name[lang])}</td><td>${escapeHtml(CHOICES[e.choice]?.[lang] ?? e.choice)}</td><td>${escapeHtml(e.notice.version)}<br><code>${escapeHtml(e.notice.sha256)}</code></td><td>${escapeHtml(`${e.source} · ${e.consentId}`)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  if (pkg.processor.length) {
    parts.push(`<h2>${w.processor}</h2><p>${escapeHtml(w.processorIntro)}</p><table><tbody>`);
    for (const p of pkg.processor)
      parts.push(
        `<tr><td>${w.controller}${COLON[lang]}${escapeHtml(p.controller ?? '?')}${p.source ? `<br><span class="muted">${escapeHtml(`${w.source}${COLON[lang]}${p.source[lang]}`)}</span>` : ''}</td><td>${escapeHtml(`${p.record[lang]} ${p.id}`)}</td><td>${dataList(p.data, p.titles, lang)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  if (pkg.records.some((r) => r.source) || pkg.processor.some((p) => p.source))
    parts.push(`<p>${escapeHtml(w.sourceOwn)}</p>`);
  const contact = pkg.rights.contact;
  const where = [contact.email, contact.address?.[lang]].filter((x): x is string => Boolean(x));
  parts.push(
    `<h2>${w.rights}</h2>`,
    htmlList(w.rightsList),
    where.length ? `<p>${escapeHtml(`${w.contact}${COLON[lang]}${where.join(' — ')}`)}</p>` : '',
    `<p>${escapeHtml(`${w.complaint} ${pkg.rights.authority.name}, ${pkg.rights.authority.address} (${pkg.rights.authority.url.replace('https://', '')}).`)}</p>`,
  );
  parts.push('</section>');
  return parts.join('\n');
}

export function accessHtml(register: Register, pkg: AccessPackage): string {
  const name = register.organisation?.name ?? '';
  return htmlPage(
    'fr',
    `${name} — ${WORDS.fr.title} / ${WORDS.en.title}`,
    `${section(pkg, 'fr')}\n<hr class="sheet">\n${section(pkg, 'en')}`,
  );
}
