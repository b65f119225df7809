import type { LocalText } from './register/register-schema.js';

export type Language = 'fr' | 'en';

/** The text in `lang`, else in the other language, else the plain string. */
export function localise(text: LocalText | undefined, lang: Language): string {
  if (text === undefined) return '';
  if (typeof text === 'string') return text;
  return text[lang] ?? text[lang === 'fr' ? 'en' : 'fr'] ?? '';
}

export function hasLanguage(text: LocalText | undefined, lang: Language, first: Language): boolean {
  if (text === undefined) return false;
  if (typeof text === 'string') return lang === first;
  return Boolean(text[lang]);
}
