/**
 * What a person is told when a public call or the request page refuses: a fixed sentence per
 * error code (per field for E_USAGE), in French or English, never the internal message (English,
 * with the CLI's hints, and naming request numbers). The code and the field stay as they are.
 */
import type { Context as HonoContext } from 'hono';
import type { ErrorCode, RegistreError } from '../core/errors.js';

export type Lang = 'fr' | 'en';

const isLang = (value: unknown): value is Lang => value === 'fr' || value === 'en';

/** The language asked: `lang` of the body, `?lang=`, else the first French or English of Accept-Language; French by default. */
export function langOf(c: HonoContext, body?: Record<string, unknown>): Lang {
  if (isLang(body?.lang)) return body.lang;
  const asked = c.req.query('lang');
  if (isLang(asked)) return asked;
  for (const part of (c.req.header('accept-language') ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (isLang(tag)) return tag;
  }
  return 'fr';
}

type Text = Readonly<Record<Lang, string>>;

const FIELDS: Readonly<Record<string, Text>> = {
  type: { fr: 'Choisissez le type de votre demande.', en: 'Choose the kind of your request.' },
  email: { fr: 'Indiquez une adresse électronique valide.', en: 'Give a valid e-mail address.' },
  code: {
    fr: 'Saisissez le code à six chiffres reçu par courriel.',
    en: 'Enter the six-digit code you received by e-mail.',
  },
  purpose: { fr: 'La finalité indiquée n’est pas reconnue.', en: 'The purpose given is not recognised.' },
  visitor: { fr: 'L’identifiant de visiteur n’est pas valide.', en: 'The visitor id is not valid.' },
  lang: { fr: 'La langue est fr ou en.', en: 'The language is fr or en.' },
};

const MALFORMED: Text = {
  fr: 'La demande envoyée est incomplète ou mal formée.',
  en: 'What was sent is incomplete or malformed.',
};

const GENERIC: Text = {
  fr: 'Votre demande n’a pas pu être traitée. Réessayez plus tard.',
  en: 'Your request could not be handled. Please try again later.',
};

const CODES: Partial<Readonly<Record<ErrorCode, Text>>> = {
  E_WRONG_CODE: {
    fr: 'Ce code ne correspond pas. Vérifiez le dernier code reçu et réessayez. Au cinquième code erroné, la demande est bloquée : contactez-nous alors pour vérifier votre identité autrement.',
    en: 'This code does not match. Check the latest code you received and try again. After the fifth wrong code the request is locked: then contact us to check your identity another way.',
  },
  E_CODE_EXPIRED: {
    fr: 'Ce code a expiré. Demandez un nouveau code.',
    en: 'This code has expired. Ask for a new code.',
  },
  E_CODE_LIMIT: {
    fr: 'Le nombre maximal de codes a été envoyé. Contactez-nous pour vérifier votre identité autrement.',
    en: 'The most codes we send were sent. Contact us to check your identity another way.',
  },
  E_CODE_TOO_SOON: {
    fr: 'Un code vient d’être demandé pour cette adresse. Attendez une minute avant d’en demander un autre.',
    en: 'A code was just asked for this address. Wait a minute before asking for another.',
  },
  E_REQUEST_LOCKED: {
    fr: 'Trop de codes erronés : la demande est bloquée. Contactez-nous pour vérifier votre identité autrement.',
    en: 'Too many wrong codes: the request is locked. Contact us to check your identity another way.',
  },
  E_RATE_LIMITED: {
    fr: 'Trop de tentatives. Réessayez plus tard.',
    en: 'Too many attempts. Please try again later.',
  },
  E_BODY_TOO_LARGE: { fr: 'Ce qui a été envoyé est trop volumineux.', en: 'What was sent is too large.' },
  E_ORIGIN: {
    fr: 'Ce site n’est pas autorisé à envoyer cette demande.',
    en: 'This site may not send this request.',
  },
};

/**
 * The fixed sentence a person is told for `error`; `byField`: an E_USAGE says what to fix in the
 * request forms' fields (a consent call, made by the site's script, is told it is malformed).
 */
export function publicMessage(error: RegistreError, lang: Lang, byField = true): string {
  if (error.code === 'E_USAGE') {
    const name = error.path?.[0];
    return (byField && typeof name === 'string' ? FIELDS[name] : undefined)?.[lang] ?? MALFORMED[lang];
  }
  return (CODES[error.code] ?? GENERIC)[lang];
}

/** The JSON body of a public call's failure: the code and the field, with the fixed sentence. */
export function publicErrorBody(error: RegistreError, lang: Lang, byField = true) {
  return {
    error: {
      code: error.code,
      message: publicMessage(error, lang, byField),
      ...(error.path ? { field: error.path.join('.') } : {}),
    },
  };
}

/** An unexpected failure, as a person is told it. */
export const publicInternal = (lang: Lang) => ({ error: { code: 'E_INTERNAL', message: GENERIC[lang] } });
