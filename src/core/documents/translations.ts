/**
 * The texts of a register that have no version in a language: the documents in that language
 * print them in the other one, and `registre docs` says which and where.
 */
import type { Register } from '../register/register-load.js';
import type { Language } from '../text.js';

export interface MissingText {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** The path of the text in its file, e.g. `retention.3.text`. */
  readonly path: string;
}

const isLocalText = (value: unknown): value is { fr?: string; en?: string } =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length > 0 &&
  Object.keys(value).every((k) => k === 'fr' || k === 'en');

export function missingTexts(register: Register, lang: Language): MissingText[] {
  const found: MissingText[] = [];
  const visit = (root: object, value: unknown, path: (string | number)[]) => {
    if (isLocalText(value)) {
      if (!value[lang]) {
        const where = register.locate(root, ...path);
        found.push({
          ...(where.file ? { file: where.file } : {}),
          ...(where.line !== undefined ? { line: where.line, column: where.column as number } : {}),
          path: where.path.join('.'),
        });
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(root, v, [...path, i]);
    } else if (typeof value === 'object' && value !== null)
      for (const [k, v] of Object.entries(value)) visit(root, v, [...path, k]);
  };
  visit(register.organisation, register.organisation, []);
  for (const section of [
    register.dataCategories,
    register.dataSubjects,
    register.recipients,
    register.controllers,
    register.records,
    register.activities,
    register.retention,
    register.holds,
  ])
    for (const item of section) visit(item, item, []);
  return found;
}
