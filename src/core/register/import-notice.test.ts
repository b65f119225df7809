import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildNotice } from '../documents/notice.js';
import { importNotice, recogniseRetention } from './import-notice.js';
import { parseRegister, type Register } from './register-load.js';
import { validateRegister } from './validate-register.js';

const SEED = readFileSync(new URL('../../../test/fixtures/negomarkets-notice.txt', import.meta.url), 'utf8');

function load(text: string) {
  const parsed = parseRegister([{ file: 'draft.yaml', text: stringify(importNotice(text)) }]);
  // A draft is parsed without error; what it leaves to fill in is named (W_PLACEHOLDER).
  expect(parsed.issues.filter((i) => i.code !== 'W_PLACEHOLDER')).toEqual([]);
  const register = parsed.register as Register;
  return { register, issues: validateRegister(register) };
}

const clean = (s: string) =>
  s
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();

/** The seed read independently of the importer: its sections and rows, as a test oracle. */
function seedRows() {
  const rows: { section: string; processor: boolean; purposes: string; basis: string; retention: string }[] =
    [];
  let section = '';
  let processor = false;
  for (const line of SEED.split('\n')) {
    const cells = line.split('\t');
    if (/sous-traitant/.test(line)) processor = true;
    if (cells.length < 4 || /^DONNEES/.test(cells[0] ?? '')) continue;
    if (cells.slice(1).every((c) => c.trim() === '')) section = cells[0]?.trim() ?? '';
    else
      rows.push({
        section,
        processor,
        purposes: clean(cells[1] ?? ''),
        basis: clean(cells[2] ?? ''),
        retention: clean(cells[3] ?? ''),
      });
  }
  return rows;
}

describe('recogniseRetention', () => {
  it.each([
    ['13 mois maximum pour vos données de navigation', { anchor: 'collected_at', keep: '13 months' }],
    [
      '3 ans à compter de la collecte ou du dernier contact pour les prospects',
      { keep: '3 years', anchor: { latest: ['collected_at', 'last_contact_at'] } },
    ],
    [
      'le temps de la relation commerciale et 5 ans après la fin de la relation',
      { anchor: 'relationship_ended_at', keep: '5 years' },
    ],
    [
      'Conservation des factures pendant 10 ans.',
      { record: 'invoices', anchor: 'issued_at', keep: '10 years' },
    ],
    ['tant que la personne concernée ne se désinscrit pas', { until: ['unsubscribed_at'] }],
    [
      '2 ans après le dernier contact avec le candidat',
      { anchor: 'last_contact_at', keep: '2 years', talentPool: true },
    ],
    ['13 months at most for your browsing data', { anchor: 'collected_at', keep: '13 months' }],
    ['3 years from collection or the last contact', { keep: '3 years' }],
    ['the time of the business relationship and 5 years after it ends', { keep: '5 years' }],
    ['invoices are kept for 10 years', { record: 'invoices', keep: '10 years' }],
    ['until the person unsubscribes', { until: ['unsubscribed_at'] }],
    ['2 years after the last contact with the candidate', { anchor: 'last_contact_at', keep: '2 years' }],
  ])('%s', (text, expected) => {
    expect(recogniseRetention(text)).toMatchObject(expected);
  });

  it('returns null for what it cannot read', () => {
    expect(recogniseRetention('aussi longtemps que nécessaire')).toBeNull();
  });
});

describe('importing the NEGOMARKETS seed', () => {
  const { register, issues } = load(SEED);

  it('gives a register with no error, the seed activities and the processor part', () => {
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(register.organisation.name).toBe('NEGOMARKETS');
    expect(register.activities.map((a) => [a.name, a.role])).toEqual([
      ['Gestion du site internet', 'controller'],
      ['Gestion de la relation client', 'controller'],
      ['Gestion des ambassadeurs et influenceurs', 'controller'],
      ['Inscription a la newsletter', 'controller'],
      ['Gestion du recrutement', 'controller'],
      ['Gestion des ventes', 'processor'],
    ]);
    expect(register.controllers.map((c) => c.name)).toEqual(['distributeurs']);
  });

  it("lists each of the seed's gaps as a warning", () => {
    const codes = (code: string) => issues.filter((i) => i.code === code).map((i) => i.message);
    // Blank retention cells: customer relationship (legitimate interest), newsletter (legitimate interest, legal obligation).
    expect(codes('W_NO_RETENTION')).toHaveLength(7);
    expect(codes('W_NO_RETENTION').join('\n')).toContain('tenir-a-jour-une-liste-de');
    // Processor data kept "relationship + 5 years": set by the processor, not by its distributors.
    expect(codes('W_PROCESSOR_SETS_RETENTION')).toHaveLength(1);
    // Recruitment: a 2-year pool "on consent" under legitimate interest.
    expect(codes('W_TALENT_POOL_WITHOUT_CONSENT')).toHaveLength(2);
    // Website consent purposes say nowhere how to withdraw; the newsletter's unsubscribe link does.
    expect(codes('W_CONSENT_WITHOUT_WITHDRAWAL')).toHaveLength(2);
    expect(codes('W_LEGITIMATE_INTEREST_UNSTATED').length).toBeGreaterThan(0);
    expect(codes('W_NO_SECURITY_MEASURES')).toHaveLength(6);
  });

  it('an unrecognised phrase stays a TODO that validate reports', () => {
    const text = SEED.replace(
      '13 mois maximum pour vos données de navigation sur notre site internet',
      'aussi longtemps que nécessaire',
    );
    const { register: r, issues: found } = load(text);
    expect(r.retention.find((x) => x.todo !== undefined)?.todo).toContain('aussi longtemps que nécessaire');
    expect(found.map((i) => i.code)).toContain('W_RETENTION_TODO');
  });

  it('the French notice gives back the seed: activities, purposes, bases and retention texts', () => {
    const notice = buildNotice(register, 'fr');
    const sections = [...notice.controller, ...notice.processor];
    const rows = seedRows();
    expect(rows).toHaveLength(11);
    for (const row of rows) {
      const section = sections.find((s) => s.title.toLowerCase() === row.section.toLowerCase());
      expect(section, row.section).toBeDefined();
      const noticeRow = section?.rows.find(
        (r) => r.basisLabel.toLowerCase().slice(0, 8) === row.basis.toLowerCase().slice(0, 8),
      );
      expect(noticeRow, `${row.section} / ${row.basis}`).toBeDefined();
      // The notice is typeset (’, a small letter after " : ", a final full stop); the seed is not.
      const plain = (text: string) => text.replaceAll('’', "'").replaceAll('…', '...').toLowerCase();
      for (const purpose of noticeRow?.purposes ?? []) expect(plain(row.purposes)).toContain(plain(purpose));
      const words = (text: string) => plain(text).replace(/[;.]/g, ' ').replace(/\s+/g, ' ').trim();
      expect(words(row.purposes.replace(/^Nous utilisons ces données afin de : /, ''))).toBe(
        words((noticeRow?.purposes ?? []).map((p) => `- ${p}`).join(' ')),
      );
      expect(words((noticeRow?.retention ?? []).join(' '))).toBe(words(row.retention));
      expect(notice.processor.some((s) => s.title.toLowerCase() === row.section.toLowerCase())).toBe(
        row.processor,
      );
    }
  });

  it('reads the same table written in English', () => {
    const english = [
      'DATA COLLECTED\tPURPOSES\tLEGAL BASIS\tRETENTION',
      'WEBSITE MANAGEMENT\t\t\t',
      '... Identity ... Internet\tWe use this data to: - Measure our audience - Produce statistics\tConsent\tRecommended period: 13 months at most for your browsing data',
      'NEWSLETTER\t\t\t',
      '... Identity\tWe use this data to: - Send you our newsletter\tConsent\tRecommended period: until the person unsubscribes (unsubscribe link in every newsletter)',
    ].join('\n');
    const { register: r, issues: found } = load(english);
    expect(r.organisation.languages).toEqual(['en']);
    expect(r.activities[0]?.dataCategories).toEqual(['identity', 'internet']);
    expect(r.activities[0]?.purposes.map((p) => p.name)).toEqual([
      'Measure our audience',
      'Produce statistics',
    ]);
    expect(r.retention.map((x) => x.keep ?? x.until)).toEqual(['13 months', ['unsubscribed_at']]);
    expect(found.filter((i) => i.severity === 'error')).toEqual([]);
  });
});
