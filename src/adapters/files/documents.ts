/** Writes a register's documents to a folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArt30, renderArt30Csv, renderArt30Html } from '../../core/documents/art30.js';
import { buildDpv } from '../../core/documents/dpv.js';
import type { DocumentKind } from '../../core/documents/kinds.js';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from '../../core/documents/notice.js';
import type { Register } from '../../core/register/register-load.js';
import type { Language } from '../../core/text.js';
import { renderArt30Xlsx } from './art30-xlsx.js';

export interface WriteDocumentsOptions {
  readonly only?: DocumentKind;
  readonly languages?: readonly Language[];
}

/** Returns the paths written. */
export async function writeDocuments(
  register: Register,
  outDir: string,
  options: WriteDocumentsOptions = {},
): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, content: string | Buffer) => {
    const path = join(outDir, name);
    writeFileSync(path, content);
    written.push(path);
  };
  const langs = options.languages ?? ['fr', 'en'];
  const wants = (kind: DocumentKind) => options.only === undefined || options.only === kind;
  if (wants('notice')) {
    for (const lang of langs) {
      const notice = buildNotice(register, lang);
      write(`privacy-notice.${lang}.md`, renderNoticeMarkdown(notice));
      write(`privacy-notice.${lang}.html`, renderNoticeHtml(notice));
    }
  }
  if (wants('art30')) {
    for (const lang of langs) {
      const records = (['controller', 'processor'] as const)
        .map((kind) => buildArt30(register, kind, lang))
        .filter((r) => r.activities.length > 0);
      for (const record of records) {
        write(`art30-${record.kind}.${lang}.html`, renderArt30Html(record));
        write(`art30-${record.kind}.${lang}.csv`, renderArt30Csv(record));
      }
      if (records.length) write(`art30.${lang}.xlsx`, await renderArt30Xlsx(records));
    }
  }
  if (wants('dpv')) write('register.dpv.jsonld', `${JSON.stringify(buildDpv(register), null, 2)}\n`);
  return written;
}

/** The documents of a register, by file name (as `registre docs` writes them), each made on demand. */
export function documentMakers(register: Register): Map<string, () => Promise<string | Buffer>> {
  const makers = new Map<string, () => Promise<string | Buffer>>();
  for (const lang of ['fr', 'en'] as const) {
    makers.set(`privacy-notice.${lang}.md`, async () => renderNoticeMarkdown(buildNotice(register, lang)));
    makers.set(`privacy-notice.${lang}.html`, async () => renderNoticeHtml(buildNotice(register, lang)));
    const records = (['controller', 'processor'] as const)
      .map((kind) => buildArt30(register, kind, lang))
      .filter((r) => r.activities.length > 0);
    for (const record of records) {
      makers.set(`art30-${record.kind}.${lang}.html`, async () => renderArt30Html(record));
      makers.set(`art30-${record.kind}.${lang}.csv`, async () => renderArt30Csv(record));
    }
    if (records.length) makers.set(`art30.${lang}.xlsx`, () => renderArt30Xlsx(records));
  }
  makers.set('register.dpv.jsonld', async () => `${JSON.stringify(buildDpv(register), null, 2)}\n`);
  return makers;
}
