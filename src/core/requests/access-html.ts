/**
 * The access package as a page the person can read (art. 15), in French then in English: each
 * record with its data, why it is kept, who receives it and until when; the consents and their
 * proof; the data held on a distributor's behalf, apart.
 */
import { escapeHtml, htmlList, htmlPage } from '../documents/html.js';
import { LEGAL_BASIS_LABELS } from '../documents/labels.js';
import type { Register } from '../register/register-load.js';
import type { Purpose } from '../register/register-schema.js';
import { type Language, localise } from '../text.js';

export interface AccessPackage {
  readonly subject: { readonly request: number; readonly person: string };
  readonly generated: string;
  readonly records: readonly {
    readonly store: string;
    readonly table: string;
    readonly id: string;
    readonly record: string | undefined;
    readonly archived: boolean;
    readonly data: Record<string, unknown>;
    readonly purposes: readonly { readonly purpose: string; readonly legalBasis: string }[];
    readonly recipients: readonly string[];
    readonly deadline: string | null;
    readonly status: string;
  }[];
  readonly consents: readonly {
    readonly purpose: string;
    readonly table: string;
    readonly id: string;
    readonly proof: Record<string, unknown>;
  }[];
  readonly processor: readonly {
    readonly controller: string | null;
    readonly controllerId: string | null;
    readonly table: string;
    readonly id: string;
    readonly data: Record<string, unknown>;
  }[];
}

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
    processor: 'Données traitées pour le compte de nos distributeurs',
    processorIntro:
      'Ces données appartiennent au distributeur nommé, responsable du traitement ; nous les traitons sur ses instructions.',
    controller: 'Distributeur',
    noDeadline: 'tant que la finalité dure',
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
    processor: "Data processed on our distributors' behalf",
    processorIntro:
      'This data belongs to the distributor named, its controller; we process it on its instructions.',
    controller: 'Distributor',
    noDeadline: 'while the purpose lasts',
  },
} as const;

function purposeName(register: Register, id: string, lang: Language): string {
  const purpose: Purpose | undefined = register.activities
    .flatMap((a) => a.purposes)
    .find((p) => p.id === id);
  return purpose ? localise(purpose.name, lang) : id;
}

function dataList(data: Record<string, unknown>): string {
  const entries = Object.entries(data).filter(([, v]) => v !== null && v !== undefined && v !== '');
  return entries.length
    ? `<dl class="card">${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`).join('')}</dl>`
    : '—';
}

function section(register: Register, pkg: AccessPackage, lang: Language): string {
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
        `<tr><td>${escapeHtml(`${r.table} ${r.id}`)}${r.archived ? `<br><span class="muted">${w.archived}</span>` : ''}</td><td>${dataList(r.data)}</td><td>${htmlList(
          r.purposes.map(
            (p) =>
              `${purposeName(register, p.purpose, lang)} (${LEGAL_BASIS_LABELS[p.legalBasis]?.[lang] ?? p.legalBasis})`,
          ),
        )}</td><td>${htmlList([...r.recipients])}</td><td>${escapeHtml(r.deadline ?? w.noDeadline)}</td><td>${escapeHtml(r.status)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  if (pkg.consents.length) {
    parts.push(`<h2>${w.consents}</h2><table><tbody>`);
    for (const c of pkg.consents)
      parts.push(
        `<tr><td>${escapeHtml(purposeName(register, c.purpose, lang))}</td><td>${escapeHtml(`${c.table} ${c.id}`)}</td><td>${dataList(c.proof)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  if (pkg.processor.length) {
    parts.push(`<h2>${w.processor}</h2><p>${escapeHtml(w.processorIntro)}</p><table><tbody>`);
    for (const p of pkg.processor)
      parts.push(
        `<tr><td>${w.controller}: ${escapeHtml(p.controller ?? '?')}</td><td>${escapeHtml(`${p.table} ${p.id}`)}</td><td>${dataList(p.data)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

export function accessHtml(register: Register, pkg: AccessPackage): string {
  const name = register.organisation?.name ?? '';
  return htmlPage(
    'fr',
    `${name} — ${WORDS.fr.title} / ${WORDS.en.title}`,
    `${section(register, pkg, 'fr')}\n<hr class="sheet">\n${section(register, pkg, 'en')}`,
  );
}
