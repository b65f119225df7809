/**
 * registre docs: the notice, the art. 30 records and the DPV export, and what it says of a text
 * without English.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { ROOT, registre } from './shop-helpers.js';

const temp = () => mkdtempSync(join(tmpdir(), 'registre-test-'));

describe('registre docs', () => {
  it('writes the notice, the art. 30 records and the DPV export', async () => {
    const dir = temp();
    const { code, stderr } = registre(['docs', '--out', dir]);
    expect(stderr).toContain('15 documents written');
    expect(code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'art30-controller.en.csv',
      'art30-controller.en.html',
      'art30-controller.fr.csv',
      'art30-controller.fr.html',
      'art30-processor.en.csv',
      'art30-processor.en.html',
      'art30-processor.fr.csv',
      'art30-processor.fr.html',
      'art30.en.xlsx',
      'art30.fr.xlsx',
      'privacy-notice.en.html',
      'privacy-notice.en.md',
      'privacy-notice.fr.html',
      'privacy-notice.fr.md',
      'register.dpv.jsonld',
    ]);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(join(dir, 'art30.fr.xlsx'));
    const names = workbook.worksheets.map((w) => w.name);
    expect(names[0]).toBe('RT Fiche commune');
    expect(names).toContain('T-04 Inscription à la newslette');
    expect(names).toContain('ST Fiche commune');
    expect(workbook.getWorksheet('RT Fiche commune')?.getCell('A1').value).toBe(
      'Registre des activités de traitement de NEGOMARKETS (article 30.1 du RGPD)',
    );
  });

  it('one document kind and one language at a time', () => {
    const dir = temp();
    expect(registre(['docs', '--out', dir, '--only', 'notice', '--lang', 'en']).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['privacy-notice.en.html', 'privacy-notice.en.md']);
    expect(registre(['docs', '--out', dir, '--only', 'pdf']).code).toBe(2);
  });

  it('an invalid register writes nothing', () => {
    const dir = temp();
    writeFileSync(
      join(dir, 'bad.yaml'),
      'organisation: { name: X }\nretention: [{ id: r, record: nope, purposes: [p], anchor: a }]\n',
    );
    const { code, stdout, stderr } = registre(['docs', 'bad.yaml', '--out', 'out'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('E_UNKNOWN_PURPOSE');
    expect(stderr).toContain('no document written');
    expect(readdirSync(dir)).toEqual(['bad.yaml']);
  });
});

describe('9. docs says what it prints in the other language', () => {
  it('a text without English: docs names it, with its file and line, and still writes the documents', () => {
    const dir = temp();
    spawnSync('cp', ['-r', join(ROOT, 'registers/negomarkets'), join(dir, 'reg')]);
    const file = join(dir, 'reg', 'newsletter.yaml');
    const text = readFileSync(file, 'utf8');
    const edited = text.replace(/\n {10}en: "Send the newsletter to the subscribers who asked for it"/, '');
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    const { code, stderr } = registre(['docs', 'reg', '--out', 'out'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(
      /^reg\/newsletter\.yaml:\d+:\d+ warning: activities\.0\.purposes\.0\.recordName has no English text; the en documents print it in French$/m,
    );
    expect(stderr).not.toMatch(/has no French text/);
    expect(readFileSync(join(dir, 'out', 'art30-controller.en.csv'), 'utf8').charCodeAt(0)).toBe(0xfeff);
  });
});

describe('23.6 a document with a placeholder is a draft, and --strict writes none', () => {
  it('the bundled register: DRAFT banners, named on stderr; --strict writes nothing and names the placeholders', () => {
    const dir = temp();
    const written = registre(['docs', '--out', join(dir, 'out')]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toMatch(
      /\d+ of them still hold placeholders and carry a DRAFT banner \(privacy-notice\.fr\.md,/,
    );
    expect(readFileSync(join(dir, 'out', 'privacy-notice.fr.md'), 'utf8')).toContain('> **BROUILLON :');
    expect(readFileSync(join(dir, 'out', 'privacy-notice.en.html'), 'utf8')).toMatch(
      /class="draft"[^>]*>DRAFT:/,
    );
    expect(readFileSync(join(dir, 'out', 'art30-controller.en.csv'), 'utf8').split('\r\n')[0]).toContain(
      'DRAFT:',
    );

    const strict = registre(['docs', '--strict', '--out', join(dir, 'strict')]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/organisation\.yaml:\d+:\d+ W_PLACEHOLDER "\[RCS à compléter\]"/);
    expect(strict.stderr).toContain('--strict writes no document until the placeholders above are replaced');
    expect(readdirSync(dir)).toEqual(['out']);
  });

  it('once every placeholder is replaced, --strict writes every document, none a draft', () => {
    const dir = temp();
    spawnSync('cp', ['-r', join(ROOT, 'registers/negomarkets'), join(dir, 'reg')]);
    for (const name of readdirSync(join(dir, 'reg')).filter((f) => f.endsWith('.yaml'))) {
      const file = join(dir, 'reg', name);
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .replace(/\[[^\]\n]*(?:compléter|complete)[^\]\n]*\]/g, '1 rue de la Paix, 75002 Paris')
          .replaceAll('negomarkets.example', 'negomarkets.fr'),
      );
    }
    const { code, stdout, stderr } = registre(['docs', 'reg', '--strict', '--out', 'out'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain('placeholders');
    const files = readdirSync(join(dir, 'out'));
    expect(files).toHaveLength(stdout.trim().split('\n').length);
    for (const file of files.filter((f) => !f.endsWith('.xlsx')))
      expect(readFileSync(join(dir, 'out', file), 'utf8'), file).not.toMatch(/BROUILLON|DRAFT/);
  });
});
