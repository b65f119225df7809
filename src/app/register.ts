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
  /** Null when nothing was written: the register has errors, or `strict` found drafts. */
  readonly written: readonly string[] | null;
  readonly issues: readonly Issue[];
  /** Texts printed in the other language, by language. */
  readonly missing: readonly { readonly lang: Language; readonly texts: readonly MissingText[] }[];
  /** The documents that still hold a placeholder (printed under a DRAFT banner). */
  readonly drafts: readonly string[];
}

/**
 * Writes the register's documents. A document still holding a placeholder is written under a
 * DRAFT banner, or, with `strict`, nothing is written at all (the placeholders are the
 * W_PLACEHOLDER issues, with their file and line).
 */
export async function generateDocuments(
  path: string,
  out: string,
  options: { only?: DocumentKind; lang?: Language; strict?: boolean } = {},
): Promise<DocumentsResult> {
  const { loadRegister } = await import('../adapters/files/config-files.js');
  const { register, issues } = loadRegister(path);
  if (!register || issues.some((i) => i.severity === 'error'))
    return { written: null, issues, missing: [], drafts: [] };
  // The documents' modules (the XLSX writer among them) load only when documents are written.
  const { plannedDocuments, writeDocuments } = await import('../adapters/files/documents.js');
  const { missingTexts } = await import('../core/documents/translations.js');
  const languages = options.lang ? [options.lang] : (['fr', 'en'] as const);
  const missing = languages.map((lang) => ({ lang, texts: missingTexts(register, lang) }));
  const planned = plannedDocuments(register, {
    ...(options.only ? { only: options.only } : {}),
    languages,
  });
  const drafts = planned.filter((d) => d.draft).map((d) => d.name);
  if (options.strict && drafts.length) return { written: null, issues, missing, drafts };
  const written = await writeDocuments(resolve(out), planned);
  return { written, issues, missing, drafts };
}

/** A draft register from a published privacy table (text, HTML or XLSX). */
export async function importNoticeFile(file: string) {
  const { readNoticeTable } = await import('../adapters/files/notice-files.js');
  const { importNotice } = await import('../core/register/import-notice.js');
  const { rows, format } = await readNoticeTable(file);
  return { draft: importNotice(rows), format };
}
