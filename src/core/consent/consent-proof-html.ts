/**
 * The proof of a subject's consents as a page a DPO can hand to an authority (CNIL délibération
 * 2020-092: which text the person saw, when, and what they chose), in French then in English:
 * the state of each purpose on a day, then every event with the version and SHA-256 of the text
 * shown, its time, source, consent id and language, and when and by whom registre recorded it.
 * Self-contained (no script, no external resource); every value escaped. An address never
 * appears: the ledger knows it only as its keyed hash.
 */
import { escapeHtml, htmlPage } from '../documents/html.js';
import type { Register } from '../register/register-load.js';
import { type Language, localise } from '../text.js';
import type { ConsentEvent, ConsentSource, ConsentState, Subject } from './consent.js';

/** What the page shows: the ledger's events of one subject and the states they give on `on`. */
export interface ConsentProofView {
  readonly subject: Subject;
  readonly events: readonly ConsentEvent[];
  readonly status: readonly {
    readonly purpose: string;
    readonly state: ConsentState;
    readonly since: string | null;
    readonly expires: string | null;
    readonly event: number | null;
  }[];
  readonly drawnAt: string;
  readonly on: string;
}

/** What each state of a consent is called (the console says it so too). */
export const CONSENT_STATE_WORDS: Record<ConsentState, Record<Language, string>> = {
  given: { fr: 'donné', en: 'given' },
  refused: { fr: 'refusé', en: 'refused' },
  withdrawn: { fr: 'retiré', en: 'withdrawn' },
  expired: { fr: 'expiré', en: 'expired' },
  none: { fr: 'aucun choix enregistré', en: 'no choice recorded' },
};

/** Where a choice was made. */
export const CONSENT_SOURCE_WORDS: Record<ConsentSource, Record<Language, string>> = {
  banner: { fr: 'bandeau cookies', en: 'cookie banner' },
  form: { fr: 'formulaire', en: 'form' },
  import: { fr: 'import', en: 'import' },
  api: { fr: 'application (API)', en: 'application (API)' },
};

const WORDS = {
  fr: {
    title: 'Preuve du consentement',
    intro: (org: string, drawn: string) =>
      `Registre des consentements${org ? ` de ${org}` : ''}, extrait établi le ${drawn} (UTC) : chaque choix de la personne, le texte qui lui a été présenté (sa version et son empreinte SHA-256), quand et comment il a été fait.`,
    visitor: 'Visiteur, désigné par l’identifiant que le site a placé dans son navigateur',
    email:
      'Personne désignée par son adresse électronique ; le registre ne conserve pas l’adresse mais son empreinte à clé (HMAC-SHA-256)',
    state: (on: string) => `État au ${on}`,
    purpose: 'Finalité',
    stateCol: 'État',
    since: 'Depuis le',
    expires: 'Ne compte plus à partir du',
    event: 'Événement',
    never: 'jusqu’au retrait',
    events: 'Événements',
    noEvent: 'Le registre ne contient aucun choix de cette personne.',
    at: 'Choix fait le (UTC)',
    choice: 'Choix',
    version: 'Version du texte',
    sha256: 'Empreinte SHA-256 du texte présenté',
    source: 'Source',
    consentId: 'Identifiant du consentement',
    language: 'Langue',
    recorded: 'Enregistré le (UTC)',
    actor: 'Par',
    how: 'Comment le vérifier',
    howText:
      'Chaque ligne du registre est scellée par un code d’authentification à clé portant sur tous ses champs, vérifié à chaque lecture ; chaque lot de lignes est inscrit, avec l’empreinte de leurs sceaux, au journal d’audit chaîné de registre (« registre audit verify » le vérifie). L’empreinte SHA-256 permet de vérifier que le texte archivé sous la version citée est bien celui qui a été présenté.',
  },
  en: {
    title: 'Proof of consent',
    intro: (org: string, drawn: string) =>
      `Consent ledger${org ? ` of ${org}` : ''}, extract drawn on ${drawn} (UTC): every choice of the person, the text they were shown (its version and SHA-256), when and how it was made.`,
    visitor: 'Visitor, named by the identifier the site set in their browser',
    email:
      'Person named by their e-mail address; the ledger keeps not the address but its keyed hash (HMAC-SHA-256)',
    state: (on: string) => `State on ${on}`,
    purpose: 'Purpose',
    stateCol: 'State',
    since: 'Since',
    expires: 'No longer counts from',
    event: 'Event',
    never: 'until withdrawn',
    events: 'Events',
    noEvent: 'The ledger holds no choice of this person.',
    at: 'Chosen on (UTC)',
    choice: 'Choice',
    version: 'Text version',
    sha256: 'SHA-256 of the text shown',
    source: 'Source',
    consentId: 'Consent id',
    language: 'Language',
    recorded: 'Recorded on (UTC)',
    actor: 'By',
    how: 'How to check it',
    howText:
      'Each row of the ledger is sealed by a keyed authentication code over all its fields, checked whenever it is read; each batch of rows is written, with a digest of their seals, to registre\'s chained audit log ("registre audit verify" checks it). The SHA-256 lets anyone check that the text archived under the version named is the one that was shown.',
  },
} as const;

const COLON = { fr: ' : ', en: ': ' } as const;

/** An ISO time as a reader takes it: `2026-11-20 18:00:00`. */
const time = (iso: string) => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');

const code = (text: string) => `<code style="word-break: break-all">${escapeHtml(text)}</code>`;

function section(register: Register, proof: ConsentProofView, lang: Language): string {
  const w = WORDS[lang];
  const purposes = new Map(register.activities.flatMap((a) => a.purposes.map((p) => [p.id, p] as const)));
  const purposeCell = (id: string) => {
    const name = localise(purposes.get(id)?.name, lang);
    return `${name ? `${escapeHtml(name)}<br>` : ''}${code(id)}`;
  };
  const org = register.organisation?.name ?? '';
  const who = proof.subject.kind === 'visitor' ? w.visitor : w.email;
  const parts = [
    `<section lang="${lang}">`,
    `<h1>${escapeHtml(w.title)}</h1>`,
    `<p>${escapeHtml(w.intro(org, time(proof.drawnAt)))}</p>`,
    `<p>${escapeHtml(`${who}${COLON[lang]}`)}${code(proof.subject.id)}</p>`,
    `<h2>${escapeHtml(w.state(proof.on))}</h2>`,
    `<table><thead><tr><th>${w.purpose}</th><th>${w.stateCol}</th><th>${w.since}</th><th>${w.expires}</th><th>${w.event}</th></tr></thead><tbody>`,
    ...proof.status.map(
      (s) =>
        `<tr><td>${purposeCell(s.purpose)}</td><td>${escapeHtml(CONSENT_STATE_WORDS[s.state][lang])}</td><td>${escapeHtml(s.since ?? '—')}</td><td>${escapeHtml(s.expires ?? (s.state === 'given' ? w.never : '—'))}</td><td>${s.event === null ? '—' : escapeHtml(String(s.event))}</td></tr>`,
    ),
    '</tbody></table>',
    `<h2>${escapeHtml(w.events)}</h2>`,
  ];
  if (proof.events.length === 0) parts.push(`<p>${escapeHtml(w.noEvent)}</p>`);
  else {
    parts.push(
      `<table><thead><tr><th>${w.event}</th><th>${w.at}</th><th>${w.purpose}</th><th>${w.choice}</th><th>${w.version}</th><th>${w.sha256}</th><th>${w.source}</th><th>${w.consentId}</th><th>${w.language}</th><th>${w.recorded}</th><th>${w.actor}</th></tr></thead><tbody>`,
    );
    for (const e of proof.events)
      parts.push(
        `<tr><td>${escapeHtml(String(e.event))}</td><td>${escapeHtml(time(e.at))}</td><td>${purposeCell(e.purpose)}</td><td>${escapeHtml(CONSENT_STATE_WORDS[e.choice][lang])}</td><td>${code(e.notice.version)}</td><td>${code(e.notice.sha256)}</td><td>${escapeHtml(CONSENT_SOURCE_WORDS[e.source]?.[lang] ?? e.source)}</td><td>${code(e.consentId)}</td><td>${escapeHtml(e.language ?? '—')}</td><td>${escapeHtml(time(e.recordedAt))}</td><td>${code(e.actor)}</td></tr>`,
      );
    parts.push('</tbody></table>');
  }
  parts.push(`<h2>${escapeHtml(w.how)}</h2>`, `<p>${escapeHtml(w.howText)}</p>`, '</section>');
  return parts.join('\n');
}

/** The proof page: French, then English on a new sheet. */
export function consentProofHtml(register: Register, proof: ConsentProofView): string {
  const org = register.organisation?.name ?? '';
  return htmlPage(
    'fr',
    `${org ? `${org} — ` : ''}${WORDS.fr.title} / ${WORDS.en.title}`,
    `${section(register, proof, 'fr')}\n<hr class="sheet">\n${section(register, proof, 'en')}`,
  );
}
