/**
 * import-notice reads the table as websites publish it (HTML) and as DPOs keep it (XLSX), and
 * loses no sentence of a retention cell (issue 10, items 15 and 16).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readNoticeTable } from '../src/adapters/files/notice-files.js';
import { importNotice, splitRetention } from '../src/core/register/import-notice.js';
import { ROOT, registre } from './shop-helpers.js';

const SEED = readFileSync(join(ROOT, 'test', 'fixtures', 'negomarkets-notice.txt'), 'utf8');
const SEED_FILE = join(ROOT, 'test', 'fixtures', 'negomarkets-notice.txt');
const BIN = join(ROOT, 'bin', 'registre.js');
const temp = () => mkdtempSync(join(tmpdir(), 'registre-import-'));

const htmlText = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** The seed as a website publishes it: a table, titles spanning it, purposes as a list. */
function seedAsHtml(): string {
  const rows: string[] = [];
  const before: string[] = [];
  let inTable = false;
  for (const line of SEED.split('\n')) {
    const cells = line.split('\t');
    if (cells.every((c) => c.trim() === '')) continue;
    if (cells.length < 4) {
      // A sentence between tables (the processor part's introduction).
      (inTable ? rows : before).push(`</tbody></table>\n<p>${htmlText(cells[0] ?? '')}</p>\n<table><tbody>`);
      continue;
    }
    inTable = true;
    if (/^DONNEES/.test(cells[0] ?? '')) {
      rows.push(`<tr>${cells.map((c) => `<th>${htmlText(c)}</th>`).join('')}</tr>`);
      continue;
    }
    if (cells.slice(1).every((c) => c.trim() === '')) {
      rows.push(`<tr><td colspan="4"><strong>${htmlText(cells[0] ?? '')}</strong></td></tr>`);
      continue;
    }
    const [categories = '', purposes = '', basis = '', retention = ''] = cells;
    const [intro, ...items] = purposes.split(/(?:^|\s)-\s+/);
    const list = `${intro?.trim() ? `<p>${htmlText(intro.trim())}</p>` : ''}<ul>${items.map((i) => `<li>${htmlText(i.trim())}</li>`).join('')}</ul>`;
    // The seed's retention cells hold <u>…</u> markup already: kept as the page's own.
    rows.push(
      `<tr><td>${htmlText(categories)}</td><td>${list}</td><td>${htmlText(basis)}</td><td>${retention}</td></tr>`,
    );
  }
  return `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Politique</title></head><body>
<h1>Politique de confidentialité</h1>${before.join('')}
<table><tbody>${rows.join('\n')}</tbody></table>
<h2>Vos droits</h2><p>Vous pouvez écrire au DPO.</p></body></html>`;
}

/** The seed as a DPO keeps it: one sheet, titles merged across the four columns. */
async function seedAsXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Politique');
  for (const line of SEED.split('\n')) {
    const cells = line.split('\t').map((c) => c.replace(/<[^>]+>/g, ''));
    if (cells.every((c) => c.trim() === '')) continue;
    const row = sheet.addRow(cells.length < 4 ? [cells[0]] : cells);
    if (cells.length >= 4 && cells.slice(1).every((c) => c.trim() === '') && !/^DONNEES/.test(cells[0] ?? ''))
      sheet.mergeCells(row.number, 1, row.number, 4);
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** What a draft says, without the ids (which follow the order of reading). */
function summary(draft: ReturnType<typeof importNotice>) {
  return {
    organisation: draft.organisation?.name,
    activities: (draft.activities ?? []).map((a) => ({
      name: a.name,
      role: a.role,
      categories: a.dataCategories,
      purposes: a.purposes.map((p) => [p.name, p.legalBasis]),
    })),
    retention: (draft.retention ?? []).map((r) => [r.text, r.keep ?? null, r.todo ?? null]),
  };
}

describe('15. import-notice reads HTML and XLSX as it reads text', () => {
  const fromText = summary(importNotice(SEED));

  it('the seed as an HTML page gives the same draft as the tab-separated text', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'notice.html'), seedAsHtml());
    const { rows, format } = await readNoticeTable(join(dir, 'notice.html'));
    expect(format).toBe('html');
    expect(summary(importNotice(rows))).toEqual(fromText);
  });

  it('the seed as an XLSX sheet gives the same draft', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'notice.xlsx'), await seedAsXlsx());
    const { rows, format } = await readNoticeTable(join(dir, 'notice.xlsx'));
    expect(format).toBe('xlsx');
    expect(summary(importNotice(rows))).toEqual(fromText);
  });

  it('from the command line: the format is read from the content, and the draft validates', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'politique'), seedAsHtml());
    writeFileSync(join(dir, 'politique.xlsx'), await seedAsXlsx());
    for (const file of ['politique', 'politique.xlsx']) {
      const run = spawnSync(process.execPath, [BIN, 'import-notice', file, '--out', `${file}.yaml`], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toMatch(
        /draft register written to .*: 6 activities, \d+ retention sentences \(\d+ left as todo\)/,
      );
      const draft = parse(readFileSync(join(dir, `${file}.yaml`), 'utf8'));
      expect(draft.activities).toHaveLength(6);
      const check = spawnSync(process.execPath, [BIN, 'validate', `${file}.yaml`], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(check.status, check.stdout).toBe(0);
    }
  });

  it('a file that is no privacy table is a clear error', () => {
    const dir = temp();
    writeFileSync(join(dir, 'page.html'), '<html><body><p>Bienvenue</p></body></html>');
    const run = spawnSync(process.execPath, [BIN, 'import-notice', 'page.html'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('page.html (read as html) holds no table row with purposes');
    // A missing file (read before its format is known): below, registre import-notice.
  });
});

describe('16. no sentence of a retention cell is lost', () => {
  const table = (lang: 'fr' | 'en', cell: string) =>
    lang === 'en'
      ? `DATA COLLECTED\tPURPOSES\tLEGAL BASIS\tRETENTION\nACCOUNTS\t\t\t\n... Identity\tWe use this data to: - Manage accounts\tContract\t${cell}`
      : `DONNEES COLLECTEES\tRAISONS\tFONDEMENT JURIDIQUE\tDUREES\nCOMPTES\t\t\t\n... Identité\tNous utilisons ces données afin de : - Gérer les comptes\tExécution d'un contrat\t${cell}`;

  it.each([
    [
      'en',
      'Accounts: while the account is open and 2 years after. Payment records are kept for 13 months.',
      [
        ['Accounts: while the account is open and 2 years after.', null, 'todo'],
        ['Payment records are kept for 13 months.', '13 months', null],
      ],
    ],
    [
      'en',
      'Recommended period: 13 months at most for browsing data. Support tickets: as long as needed. Legal period: invoices are kept for 10 years.',
      [
        ['Recommended period: 13 months at most for browsing data.', '13 months', null],
        ['Support tickets: as long as needed.', null, 'todo'],
        ['Legal period: invoices are kept for 10 years.', '10 years', null],
      ],
    ],
    [
      'fr',
      'Comptes : tant que le compte est ouvert et 2 ans après. Les paiements sont conservés pendant 13 mois. Durée légale : conservation des factures pendant 10 ans.',
      [
        ['Comptes : tant que le compte est ouvert et 2 ans après.', null, 'todo'],
        ['Les paiements sont conservés pendant 13 mois.', '13 months', null],
        ['Durée légale : conservation des factures pendant 10 ans.', '10 years', null],
      ],
    ],
  ] as const)('in %s: "%s"', (lang, cell, expected) => {
    const draft = importNotice(table(lang, cell));
    expect(
      (draft.retention ?? []).map((r) => [r.text, r.keep ?? null, r.todo === undefined ? null : 'todo']),
    ).toEqual(expected);
    // Nothing lost: the sentences put back together are the cell.
    expect((draft.retention ?? []).map((r) => r.text).join(' ')).toBe(cell);
  });

  it('an abbreviation or a number does not cut a sentence', () => {
    expect(splitRetention('5 ans (art. 2224 du Code civil) après la livraison.')).toHaveLength(1);
    expect(splitRetention('Kept 2.5 years. Then deleted.')).toEqual(['Kept 2.5 years.', 'Then deleted.']);
  });
});

describe('registre import-notice', () => {
  it('prints a draft register on standard output', () => {
    const { code, stdout } = registre(['import-notice', SEED_FILE]);
    expect(code).toBe(0);
    const draft = parse(stdout);
    expect(draft.activities).toHaveLength(6);
    expect(draft.retention.length).toBeGreaterThan(5);
  });

  it('a missing file is a clear error', () => {
    const { code, stderr } = registre(['import-notice', 'missing.txt']);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('registre: cannot read missing.txt: ENOENT');
  });
});

describe('issue 23, points 9 and 10: the seed imported end to end, what a DPO must fill named', () => {
  const dir = temp();
  const imported = spawnSync(process.execPath, [BIN, 'import-notice', SEED_FILE, '--out', 'draft.yaml'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const draft = () => parse(readFileSync(join(dir, 'draft.yaml'), 'utf8'));
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
  const notice = (lang: 'fr' | 'en', file = 'draft.yaml') => {
    const out = `out-${lang}-${file}`;
    const docs = run(['docs', file, '--out', out, '--only', 'notice', '--lang', lang]);
    expect(docs.status, docs.stderr).toBe(0);
    return {
      md: readFileSync(join(dir, out, `privacy-notice.${lang}.md`), 'utf8'),
      html: readFileSync(join(dir, out, `privacy-notice.${lang}.html`), 'utf8'),
    };
  };
  /** A Markdown section by the start of its title. */
  const section = (md: string, title: string) => md.split(/^## /m).find((s) => s.startsWith(title)) ?? '';

  it('9. the titles in capitals come back with their accents, in the draft and in both notices', () => {
    expect(imported.status, imported.stderr).toBe(0);
    const names = draft().activities.map((a: { name: string }) => a.name);
    expect(names).toContain('Inscription à la newsletter');
    expect(names.join('\n')).not.toContain('Inscription a la');
    for (const lang of ['fr', 'en'] as const) {
      const { md, html } = notice(lang);
      expect(md).toContain('### Inscription à la newsletter');
      expect(html).toContain('Inscription à la newsletter');
      expect(`${md}${html}`).not.toMatch(/Inscription a la/i);
    }
  });

  it('10. no retention sentence in `withdrawal`, so validate says the newsletter tells no way to withdraw', () => {
    const purposes = draft().activities.flatMap(
      (a: { purposes: { id: string; withdrawal?: string }[] }) => a.purposes,
    );
    for (const p of purposes) expect(p.withdrawal ?? '').not.toMatch(/conserv|tant que|dur[ée]e/i);
    const check = run(['validate', 'draft.yaml']);
    expect(check.status, check.stdout).toBe(0);
    expect(check.stdout).toMatch(
      /^draft\.yaml:\d+:\d+ W_CONSENT_WITHOUT_WITHDRAWAL purpose "vous-adresser-notre-newsletter/m,
    );
    // Neither notice announces a withdrawal that is a retention sentence.
    for (const lang of ['fr', 'en'] as const) {
      const rights = section(notice(lang).md, lang === 'fr' ? 'Comment exercer' : 'How to exercise');
      expect(rights).not.toMatch(/tant que la personne|ne se désinscrit pas/);
    }
  });

  it('10. validate names every gap a DPO must fill: contact, DPO, recipients, with where to fill it', () => {
    const { stdout } = run(['validate', 'draft.yaml']);
    expect(stdout).toMatch(/^draft\.yaml:\d+:\d+ W_NO_CONTACT .*organisation\.rights\.email/m);
    expect(stdout).toMatch(/^draft\.yaml:\d+:\d+ W_NO_DPO .*organisation\.dpo .*designated: false/m);
    const recipients = stdout.split('\n').filter((l) => l.includes(' W_NO_RECIPIENTS '));
    // The five activities NEGOMARKETS is responsible for; the one it processes for its distributors is theirs to state.
    expect(recipients.map((l) => /activity "([^"]+)"/.exec(l)?.[1])).toEqual([
      'gestion-du-site-internet',
      'gestion-de-la-relation-client',
      'gestion-des-ambassadeurs-et-influenceurs',
      'inscription-a-la-newsletter',
      'gestion-du-recrutement',
    ]);
    for (const line of recipients)
      expect(line).toMatch(/^draft\.yaml:\d+:\d+ .*add "recipients:" to the activity/);
  });

  it('10. both notices: recipients and the rights address are placeholders, never an empty section', () => {
    for (const lang of ['fr', 'en'] as const) {
      const { md, html } = notice(lang);
      const recipients = section(md, lang === 'fr' ? 'Destinataires' : 'Who receives');
      expect(recipients).toContain(
        lang === 'fr' ? '[À compléter : destinataires des données]' : '[To complete: recipients of the data]',
      );
      const rights = section(md, lang === 'fr' ? 'Comment exercer' : 'How to exercise');
      expect(rights).toContain(
        lang === 'fr' ? 'Écrivez-nous : [adresse à compléter].' : 'Write to us: [address to complete].',
      );
      // A document holding a placeholder is printed under the DRAFT banner.
      expect(md.split('\n')[2]).toMatch(lang === 'fr' ? /BROUILLON/ : /DRAFT/);
      expect(html).not.toContain('<ul></ul>');
    }
  });

  it('10. once the DPO fills them, the gaps and the placeholders go', () => {
    const filled = readFileSync(join(dir, 'draft.yaml'), 'utf8')
      .replace(
        /^organisation:\n/m,
        'organisation:\n  contact: { email: contact@negomarkets.fr }\n  dpo: { designated: false }\n',
      )
      .replace(/^(\s+)role: controller\n/gm, '$1role: controller\n$1recipients: [marketing]\n')
      .concat('recipients:\n  - { id: marketing, kind: internal, name: Service marketing }\n');
    writeFileSync(join(dir, 'filled.yaml'), filled);
    const { stdout } = run(['validate', 'filled.yaml']);
    expect(stdout).not.toMatch(/W_NO_CONTACT|W_NO_DPO|W_NO_RECIPIENTS/);
    for (const lang of ['fr', 'en'] as const) {
      const { md } = notice(lang, 'filled.yaml');
      expect(section(md, lang === 'fr' ? 'Comment exercer' : 'How to exercise')).toContain(
        lang === 'fr' ? 'Écrivez-nous : contact@negomarkets.fr.' : 'Write to us: contact@negomarkets.fr.',
      );
      expect(section(md, lang === 'fr' ? 'Destinataires' : 'Who receives')).toMatch(/service marketing/i);
      // What is left to complete is the periods validate names (W_NO_RETENTION), each one a gap.
      const gap = lang === 'fr' ? '[À compléter : durée de conservation]' : '[To complete: retention period]';
      expect(md.includes(gap)).toBe(/W_NO_RETENTION/.test(stdout));
      // So is how to withdraw a consent the table says nothing of (W_CONSENT_WITHOUT_WITHDRAWAL).
      const how =
        lang === 'fr'
          ? '[à compléter : comment retirer ce consentement]'
          : '[to complete: how to withdraw this consent]';
      expect(md.includes(how)).toBe(/W_CONSENT_WITHOUT_WITHDRAWAL/.test(stdout));
      // (and the DRAFT banner those gaps put on the notice)
      expect(
        md
          .replaceAll(gap, '')
          .replaceAll(how, '')
          .replace(/^> \*\*.*$/m, ''),
      ).not.toMatch(/compléter|to complete/i);
    }
  });

  it('the bundled register leaves none of these gaps', () => {
    const { code, stdout } = registre(['validate', 'registers/negomarkets']);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/W_NO_CONTACT|W_NO_DPO|W_NO_RECIPIENTS/);
  });
});
