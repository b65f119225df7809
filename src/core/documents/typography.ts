/**
 * The typographic pass every generated document goes through, so that a DPO can publish it as
 * it is: one apostrophe (the typographic ’), French spacing only in French, no capital after a
 * colon inside a French sentence, sentences ending with a full stop, dates in words, and a mark
 * on any text still holding a placeholder.
 */

import type { Language } from '../text.js';
import { hasPlaceholder } from '../yaml-source.js';

const MONTHS: Record<Language, readonly string[]> = {
  fr: [
    'janvier',
    'février',
    'mars',
    'avril',
    'mai',
    'juin',
    'juillet',
    'août',
    'septembre',
    'octobre',
    'novembre',
    'décembre',
  ],
  en: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};

/** "2026-11-27" → "27 novembre 2026" / "27 November 2026"; "1er" for the first in French. */
export function formatDate(iso: string, lang: Language): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const month = match ? MONTHS[lang][Number(match[2]) - 1] : undefined;
  if (!match || !month) return iso;
  const day = Number(match[3]);
  return `${lang === 'fr' && day === 1 ? '1er' : day} ${month} ${match[1]}`;
}

/** The calendar day and the time of `iso` (an instant) on the clocks of `timeZone`. */
function clockOf(iso: string, timeZone: string): { day: string; hour: number; minute: string } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    day: `${part('year')}-${part('month')}-${part('day')}`,
    hour: Number(part('hour')),
    minute: part('minute'),
  };
}

/** The day `iso` (an instant) falls on in `timeZone`, in words: 23:30 UTC is the next day in Paris. */
export function formatDay(iso: string, lang: Language, timeZone: string): string {
  return formatDate(clockOf(iso, timeZone).day, lang);
}

/**
 * An instant as the clocks of `timeZone` showed it, in words: "6 décembre 2026 à 0 h 30",
 * "6 December 2026, 00:30" (summer time included: the zone's rules, not a fixed offset).
 */
export function formatInstant(iso: string, lang: Language, timeZone: string): string {
  const { day, hour, minute } = clockOf(iso, timeZone);
  return lang === 'fr'
    ? `${formatDate(day, lang)} à ${hour} h ${minute}`
    : `${formatDate(day, lang)}, ${String(hour).padStart(2, '0')}:${minute}`;
}

/**
 * One text typeset for `lang`. French: after " : " a capitalised word (not an acronym, not a
 * name in capitals) takes a small letter, as French typography wants it inside a sentence.
 * English: no space before ; : ! ? (a French habit carried into a translation). Both: ’.
 */
export function typeset(text: string, lang: Language): string {
  let out = text
    .replace(/(\p{L})'(?=\p{L})/gu, '$1’')
    .replace(/(\p{L}s)'(?=[\s,;.)]|$)/gu, '$1’')
    .replace(/(^|\s)'(?=\p{L})/gu, '$1’');
  if (lang === 'fr') out = out.replace(/ : (\p{Lu})(?=\p{Ll})/gu, (_m, c: string) => ` : ${c.toLowerCase()}`);
  else out = out.replace(/(\S)\s+([;:!?])(?=\s|$)/g, '$1$2');
  return out
    .replace(/\betc\s*(?:\.{2,}|…)/g, 'etc.')
    .replace(/\.{3}/g, '…')
    .replace(/\betc\b(?!\.)/g, 'etc.');
}

/** A sentence: typeset, with a capital first and a final full stop unless it ends with one. */
export function sentence(text: string, lang: Language): string {
  const trimmed = typeset(text.trim(), lang);
  if (!trimmed) return trimmed;
  const capital = `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}`;
  return /[.!?…»]$/.test(capital) ? capital : `${capital}.`;
}

/** Every string of a plain value typeset (the documents' models are plain objects). */
export function typesetAll<T>(value: T, lang: Language): T {
  if (typeof value === 'string') return typeset(value, lang) as T;
  if (Array.isArray(value)) return value.map((v) => typesetAll(v, lang)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'lang' ? v : typesetAll(v, lang);
    return out as T;
  }
  return value;
}

/** Whether any string of a plain value still holds a placeholder ("[à compléter]", TODO, .example). */
export function holdsPlaceholder(value: unknown): boolean {
  if (typeof value === 'string') return hasPlaceholder(value);
  if (Array.isArray(value)) return value.some(holdsPlaceholder);
  if (value && typeof value === 'object') return Object.values(value).some(holdsPlaceholder);
  return false;
}

/** The banner of a document that still holds a placeholder. */
export const DRAFT_BANNER: Record<Language, string> = {
  fr: 'BROUILLON : ce document contient encore des éléments à compléter (signalés par registre validate) ; ne le publiez pas en l’état.',
  en: 'DRAFT: this document still holds placeholders (registre validate names them); do not publish it as it is.',
};

/** A small first letter, unless the word is an acronym or a name in capitals ("DPO", "NEGOMARKETS"). */
export function lowerFirst(text: string): string {
  return /^\p{Lu}(?:\p{Ll}|\s|$)/u.test(text) ? `${text.charAt(0).toLowerCase()}${text.slice(1)}` : text;
}

/**
 * A value after a label and its colon ("Destinataires internes : service client"): inside the
 * sentence, so without a capital in French (acronyms and names in capitals keep theirs).
 */
export function afterLabel(text: string, lang: Language): string {
  return lang === 'fr' ? lowerFirst(text) : text;
}
