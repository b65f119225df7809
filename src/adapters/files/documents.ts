/** Writes a register's documents to a folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArt30, renderArt30Csv, renderArt30Html } from '../../core/documents/art30.js';
import { buildDpv } from '../../core/documents/dpv.js';
import type { DocumentKind } from '../../core/documents/kinds.js';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from '../../core/documents/notice.js';
import { holdsPlaceholder } from '../../core/documents/typography.js';
import type { Register } from '../../core/register/register-load.js';
import type { Language } from '../../core/text.js';
import { renderArt30Xlsx } from './art30-xlsx.js';

export interface WriteDocumentsOptions {
  readonly only?: DocumentKind;
  readonly languages?: readonly Language[];
}

/** One document `registre docs` writes: its file name, whether it still holds a placeholder, its maker. */
export interface PlannedDocument {
  readonly name: string;
  readonly kind: DocumentKind;
  readonly lang?: Language;
  /** Still holds a placeholder: printed under a DRAFT banner, refused by `docs --strict`. */
  readonly draft: boolean;
  readonly make: () => Promise<string | Buffer>;
}

/** The documents of a register, in the order they are written; each is made on demand. */
export function plannedDocuments(register: Register, options: WriteDocumentsOptions = {}): PlannedDocument[] {
  const langs = options.languages ?? ['fr', 'en'];
  const wants = (kind: DocumentKind) => options.only === undefined || options.only === kind;
  const planned: PlannedDocument[] = [];
  for (const lang of langs)
    if (wants('notice')) {
      const notice = buildNotice(register, lang);
      const draft = notice.draft;
      planned.push(
        {
          name: `privacy-notice.${lang}.md`,
          kind: 'notice',
          lang,
          draft,
          make: async () => renderNoticeMarkdown(notice),
        },
        {
          name: `privacy-notice.${lang}.html`,
          kind: 'notice',
          lang,
          draft,
          make: async () => renderNoticeHtml(notice),
        },
      );
    }
  for (const lang of langs)
    if (wants('art30')) {
      const records = (['controller', 'processor'] as const)
        .map((kind) => buildArt30(register, kind, lang))
        .filter((r) => r.activities.length > 0);
      for (const record of records) {
        const { draft } = record;
        planned.push(
          {
            name: `art30-${record.kind}.${lang}.html`,
            kind: 'art30',
            lang,
            draft,
            make: async () => renderArt30Html(record),
          },
          {
            name: `art30-${record.kind}.${lang}.csv`,
            kind: 'art30',
            lang,
            draft,
            make: async () => renderArt30Csv(record),
          },
        );
      }
      if (records.length)
        planned.push({
          name: `art30.${lang}.xlsx`,
          kind: 'art30',
          lang,
          draft: records.some((r) => r.draft),
          make: () => renderArt30Xlsx(records),
        });
    }
  if (wants('dpv')) {
    const dpv = buildDpv(register);
    planned.push({
      name: 'register.dpv.jsonld',
      kind: 'dpv',
      draft: holdsPlaceholder(dpv),
      make: async () => `${JSON.stringify(dpv, null, 2)}\n`,
    });
  }
  return planned;
}

/** Writes the planned documents to a folder; returns the paths written. */
export async function writeDocuments(outDir: string, planned: readonly PlannedDocument[]): Promise<string[]> {
  const contents = await Promise.all(planned.map(async (doc) => [doc.name, await doc.make()] as const));
  mkdirSync(outDir, { recursive: true });
  return contents.map(([name, content]) => {
    const path = join(outDir, name);
    writeFileSync(path, content);
    return path;
  });
}

/** The documents of a register, by file name (as `registre docs` writes them), each made on demand. */
export function documentMakers(register: Register): Map<string, () => Promise<string | Buffer>> {
  return new Map(plannedDocuments(register).map((doc) => [doc.name, doc.make]));
}
