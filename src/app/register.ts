/** The register as code: where it is, its validation, the documents made from it, a draft from a notice. */
import { resolve } from 'node:path';
import { registerPathOf } from '../adapters/files/config-paths.js';
import { loadRegisterCached, readConfigCached } from '../adapters/files/parse-cache.js';
import type { DocumentKind } from '../core/documents/kinds.js';
import type { MissingText } from '../core/documents/translations.js';
import type { Issue } from '../core/issues.js';
import type { Register } from '../core/register/register-load.js';
import type { Language } from '../core/text.js';

export { BUNDLED_REGISTER } from '../adapters/files/bundled.js';

/** The register a command reads: the path given, else the configured one, else the bundled one. */
export async function registerPath(
  given: string | undefined,
  configFile: string | undefined,
): Promise<string> {
  if (given) return resolve(given);
  return registerPathOf(await readConfigCached(configFile));
}

/** The register's issues (through the parse cache: validating changes nothing). */
export async function validateRegister(
  path: string,
): Promise<{ register: Register | null; issues: readonly Issue[] }> {
  const { register, issues } = (await loadRegisterCached(path)).result;
  return { register: register ?? null, issues };
}

export interface DocumentsResult {
  /** Null when the register has errors: nothing was written. */
  readonly written: readonly string[] | null;
  readonly issues: readonly Issue[];
  /** Texts printed in the other language, by language. */
  readonly missing: readonly { readonly lang: Language; readonly texts: readonly MissingText[] }[];
}

export async function generateDocuments(
  path: string,
  out: string,
  options: { only?: DocumentKind; lang?: Language } = {},
): Promise<DocumentsResult> {
  const { loadRegister } = await import('../adapters/files/config-files.js');
  const { register, issues } = loadRegister(path);
  if (!register || issues.some((i) => i.severity === 'error')) return { written: null, issues, missing: [] };
  // The documents' modules (the XLSX writer among them) load only when documents are written.
  const { writeDocuments } = await import('../adapters/files/documents.js');
  const { missingTexts } = await import('../core/documents/translations.js');
  const languages = options.lang ? [options.lang] : (['fr', 'en'] as const);
  const missing = languages.map((lang) => ({ lang, texts: missingTexts(register, lang) }));
  const written = await writeDocuments(register, resolve(out), {
    ...(options.only ? { only: options.only } : {}),
    ...(options.lang ? { languages: [options.lang] } : {}),
  });
  return { written, issues, missing };
}

/** A draft register from a published privacy table (text, HTML or XLSX). */
export async function importNoticeFile(file: string) {
  const { readNoticeTable } = await import('../adapters/files/notice-files.js');
  const { importNotice } = await import('../core/register/import-notice.js');
  const { rows, format } = await readNoticeTable(file);
  return { draft: importNotice(rows), format };
}
