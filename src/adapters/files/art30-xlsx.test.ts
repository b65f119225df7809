/** The art. 30 workbook (issue 23, point 8): sheet names cut on a word, unique, the full title inside; DRAFT on a draft. */
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { buildArt30 } from '../../core/documents/art30.js';
import { DRAFT_BANNER } from '../../core/documents/typography.js';
import type { Register } from '../../core/register/register-load.js';
import { renderArt30Xlsx, sheetName } from './art30-xlsx.js';
import { BUNDLED_REGISTER } from './bundled.js';
import { loadRegister } from './config-files.js';

const register = loadRegister(BUNDLED_REGISTER).register as Register;

async function workbookOf(lang: 'fr' | 'en', draft?: boolean): Promise<ExcelJS.Workbook> {
  const records = (['controller', 'processor'] as const).map((kind) => {
    const record = buildArt30(register, kind, lang);
    return draft === undefined ? record : { ...record, draft };
  });
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(
    (await renderArt30Xlsx(records)) as unknown as Parameters<typeof workbook.xlsx.load>[0],
  );
  return workbook;
}

/** The title row of a sheet: the first, or the second under a DRAFT banner. */
const titleOf = (ws: ExcelJS.Worksheet, draft: boolean) => String(ws.getCell(draft ? 'A2' : 'A1').value);

describe('sheet names', () => {
  it('cut on a word boundary, never on a dangling article, with "…"', () => {
    const used = new Set<string>();
    expect(sheetName('T-02', 'Gestion de la relation client', used)).toBe('T-02 Gestion de la relation…');
    expect(sheetName('T-04', 'Inscription à la newsletter', used)).toBe('T-04 Inscription…');
    expect(sheetName('T-01', 'Gestion du site internet', used)).toBe('T-01 Gestion du site internet');
    expect(sheetName('T-09', 'Ventes: [archives] / 2024?*', used)).toBe('T-09 Ventes archives 2024');
  });

  it('unique whatever the case, within 31 characters', () => {
    const used = new Set<string>();
    const names = [
      sheetName('ST-01', 'Gestion des ventes pour le compte des distributeurs', used),
      sheetName('ST-01', 'Gestion des ventes pour le compte des distributeurs', used),
      sheetName('st-01', 'GESTION DES VENTES POUR LE COMPTE DES DISTRIBUTEURS', used),
    ];
    expect(names).toEqual([
      'ST-01 Gestion des ventes…',
      'ST-01 Gestion des ventes… (2)',
      'st-01 GESTION DES VENTES… (3)',
    ]);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(31);
  });
});

describe.each(['fr', 'en'] as const)('the %s workbook of the bundled register', (lang) => {
  it('names each sheet with a prefix of its full title, cut between words, each name once', async () => {
    const workbook = await workbookOf(lang);
    const names = workbook.worksheets.map((w) => w.name);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    for (const ws of workbook.worksheets.filter((w) => /^S?T-\d/.test(w.name))) {
      expect(ws.name.length).toBeLessThanOrEqual(31);
      const title = titleOf(ws, true).replace(' — ', ' ');
      const shown = ws.name.replace(/ \(\d+\)$/, '');
      if (shown.endsWith('…')) {
        const head = shown.slice(0, -1);
        expect(title.startsWith(head), `${ws.name} / ${title}`).toBe(true);
        // The cut falls between two words: the title goes on with a space.
        expect(title.charAt(head.length), ws.name).toBe(' ');
      } else expect(title.startsWith(shown), `${ws.name} / ${title}`).toBe(true);
    }
    expect(names).toContain(lang === 'fr' ? 'T-02 Gestion de la relation…' : 'T-02 Customer relationship…');
    expect(names.join('|')).not.toMatch(/relation cli\b|Inscription à la…/);
  });

  it('a draft says so on the first row of every sheet, above the title; a final record does not', async () => {
    const draft = await workbookOf(lang);
    for (const ws of draft.worksheets) {
      expect(ws.getCell('A1').value, ws.name).toBe(DRAFT_BANNER[lang]);
      expect(titleOf(ws, true), ws.name).not.toBe('');
    }
    const final = await workbookOf(lang, false);
    for (const ws of final.worksheets) {
      expect(ws.getCell('A1').value, ws.name).not.toBe(DRAFT_BANNER[lang]);
      expect(JSON.stringify(ws.getSheetValues())).not.toContain(DRAFT_BANNER[lang]);
    }
    expect(titleOf(final.worksheets[0] as ExcelJS.Worksheet, false)).toBe(
      buildArt30(register, 'controller', lang).title,
    );
  });

  it('gives each controller acted for its own processor sheet, named in its title row', async () => {
    const workbook = await workbookOf(lang);
    const processor = workbook.worksheets.filter((w) => w.name.startsWith('ST-01'));
    expect(processor.map((w) => titleOf(w, true))).toEqual(
      lang === 'fr'
        ? [
            'ST-01 — Gestion des ventes pour le compte des distributeurs — [Distributeur 1 — à compléter]',
            'ST-01 — Gestion des ventes pour le compte des distributeurs — [Distributeur 2 — à compléter]',
          ]
        : [
            'ST-01 — Sales management on behalf of distributors — [Distributor 1 — to complete]',
            'ST-01 — Sales management on behalf of distributors — [Distributor 2 — to complete]',
          ],
    );
  });
});
