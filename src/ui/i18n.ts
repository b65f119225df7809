/**
 * The console's languages: French and English, every label in both. The page's language is the
 * one asked (`?lang=`, kept in a cookie so the next pages follow), else the browser's
 * Accept-Language, else French. Dates and numbers are written as each language writes them.
 */
import type { Context as HonoContext } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ErrorKind } from '../core/errors.js';
import { longDate } from '../core/requests/letters.js';
import type { RequestStatus, RequestType } from '../core/requests/requests.js';

export const LANGS = ['fr', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_COOKIE = 'registre_lang';

const isLang = (v: unknown): v is Lang => v === 'fr' || v === 'en';

/** The language a console page is written in. */
export function consoleLang(c: HonoContext): Lang {
  const asked = c.req.query('lang');
  if (isLang(asked)) return asked;
  const kept = getCookie(c, LANG_COOKIE);
  if (isLang(kept)) return kept;
  for (const part of (c.req.header('accept-language') ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (isLang(tag)) return tag;
  }
  return 'fr';
}

/** A text in both languages. */
export type Text = Readonly<Record<Lang, string>>;

/** 12 345 in French (a narrow no-break space), 12,345 in English. */
export const number = (n: number, lang: Lang) => n.toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB');

/** A day: "4 décembre 2026", "4 December 2026". */
export const day = (date: string, lang: Lang) => longDate(date, lang);

/** A time of day in UTC: "4 décembre 2026, 03:00 UTC". */
export function moment(iso: string, lang: Lang): string {
  const time = iso.slice(11, 16);
  return time ? `${day(iso, lang)}, ${time} UTC` : day(iso, lang);
}

/** "décembre 2026" / "December 2026" for a `YYYY-MM` month. */
export function month(yearMonth: string, lang: Lang): string {
  const [y, m] = yearMonth.split('-').map(Number);
  const date = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, 1));
  return date.toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** A month's short name alone: "déc.", "Dec". */
export function monthName(yearMonth: string, lang: Lang): string {
  const [y, m] = yearMonth.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, 1)).toLocaleDateString(
    lang === 'fr' ? 'fr-FR' : 'en-GB',
    {
      month: 'short',
      timeZone: 'UTC',
    },
  );
}

/** The words every page shares: the menu, the session, the notices. */
export const COMMON = {
  fr: {
    console: 'registre — console du DPO',
    skip: 'Aller au contenu',
    menu: 'Menu principal',
    dashboard: 'Tableau de bord',
    register: 'Registre',
    requests: 'Demandes',
    breaches: 'Violations de données',
    people: 'Personnes et données',
    sweeps: 'Purges et journal',
    consents: 'Consentements',
    signedInAs: 'Connecté avec le jeton',
    scope: 'droits',
    signOut: 'Se déconnecter',
    otherLang: 'English',
    error: 'L’action n’a pas abouti',
    done: 'C’est fait',
    code: 'Code',
    none: 'Aucun',
    yes: 'oui',
    no: 'non',
    needScope: (needed: string, held: string) =>
      `Cette action demande un jeton aux droits « ${needed} » ; celui de la session a « ${held} ».`,
  },
  en: {
    console: "registre — the DPO's console",
    skip: 'Skip to content',
    menu: 'Main menu',
    dashboard: 'Dashboard',
    register: 'Register',
    requests: 'Requests',
    breaches: 'Data breaches',
    people: 'People and records',
    sweeps: 'Sweeps and audit',
    consents: 'Consents',
    signedInAs: 'Signed in with the token',
    scope: 'scope',
    signOut: 'Sign out',
    otherLang: 'Français',
    error: 'The action did not succeed',
    done: 'Done',
    code: 'Code',
    none: 'None',
    yes: 'yes',
    no: 'no',
    needScope: (needed: string, held: string) =>
      `This action needs a token of scope "${needed}"; this session's token has "${held}".`,
  },
} as const;

/**
 * What an error of each kind is called in the page's language; its detail (the catalogue's
 * message, which names the field or the record at fault) follows in English.
 */
export const ERROR_KINDS: Readonly<Record<ErrorKind, Text>> = {
  usage: { fr: 'La saisie est refusée.', en: 'The input is refused.' },
  invalid: {
    fr: 'Une valeur ou un fichier ne peut pas être utilisé.',
    en: 'A value or a file cannot be used.',
  },
  misconfigured: {
    fr: 'La configuration du projet ne permet pas cette action.',
    en: "The project's configuration does not allow this action.",
  },
  'not-found': { fr: 'Introuvable.', en: 'Not found.' },
  conflict: { fr: 'L’action est refusée dans l’état actuel.', en: 'The action is refused as things stand.' },
  locked: { fr: 'Verrouillé jusqu’à une intervention.', en: 'Locked until someone acts.' },
  busy: { fr: 'Une autre opération est en cours.', en: 'Another operation is under way.' },
  'rate-limited': { fr: 'Trop d’essais : réessayez plus tard.', en: 'Too many attempts: try again later.' },
  'too-large': { fr: 'Envoi trop volumineux.', en: 'What was sent is too large.' },
  unauthenticated: { fr: 'Connexion requise.', en: 'Sign-in needed.' },
  forbidden: { fr: 'Action non autorisée.', en: 'Not allowed.' },
  tampered: {
    fr: 'Le journal ou l’état a été modifié hors de registre.',
    en: 'The log or the state was changed outside registre.',
  },
  unavailable: {
    fr: 'Une base ou le serveur de courrier ne répond pas.',
    en: 'A store or the mail server does not answer.',
  },
  failed: { fr: 'L’opération a échoué en cours de route.', en: 'The operation failed part way.' },
};

/** The columns of a table of requests (the dashboard's, the requests page's). */
export const REQUEST_WORDS = {
  fr: {
    number: 'N°',
    type: 'Type',
    received: 'Reçue le',
    due: 'Échéance',
    daysLeft: 'Jours restants',
    status: 'État',
    late: (n: number) => `en retard de ${n} j`,
  },
  en: {
    number: 'No.',
    type: 'Type',
    received: 'Received',
    due: 'Due',
    daysLeft: 'Days left',
    status: 'Status',
    late: (n: number) => `${n} day(s) late`,
  },
} as const;

/** What each kind of request is called. */
export const REQUEST_TYPE_TEXT: Readonly<Record<RequestType, Text>> = {
  access: { fr: 'Accès (art. 15)', en: 'Access (art. 15)' },
  erasure: { fr: 'Effacement (art. 17)', en: 'Erasure (art. 17)' },
  rectification: { fr: 'Rectification (art. 16)', en: 'Rectification (art. 16)' },
  restriction: { fr: 'Limitation (art. 18)', en: 'Restriction (art. 18)' },
  portability: { fr: 'Portabilité (art. 20)', en: 'Portability (art. 20)' },
  objection: { fr: 'Opposition (art. 21)', en: 'Objection (art. 21)' },
};

/** What each status of a request is called. */
export const REQUEST_STATUS_TEXT: Readonly<Record<RequestStatus, Text>> = {
  received: { fr: 'reçue, identité à vérifier', en: 'received, identity to verify' },
  verified: { fr: 'identité vérifiée, à traiter', en: 'identity verified, to handle' },
  locked: { fr: 'verrouillée (codes erronés)', en: 'locked (wrong codes)' },
  running: { fr: 'en cours de traitement', en: 'being handled' },
  done: { fr: 'traitée', en: 'done' },
  refused: { fr: 'refusée', en: 'refused' },
};
