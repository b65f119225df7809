import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from '../documents/notice.js';
import type { Language } from '../text.js';
import { hasPlaceholder } from '../yaml-source.js';
import { importNotice, recogniseRetention, withdrawalIn } from './import-notice.js';
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

/** The seed's titles are in capitals without accents; the draft's have them back. */
const unaccented = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();

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
      ['Inscription à la newsletter', 'controller'],
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
    // No consent purpose says how to withdraw: the newsletter's unsubscribe link is told inside a
    // retention sentence ("kept as long as the person does not unsubscribe"), which is no withdrawal.
    expect(codes('W_CONSENT_WITHOUT_WITHDRAWAL')).toHaveLength(3);
    expect(codes('W_CONSENT_WITHOUT_WITHDRAWAL').join('\n')).toContain('vous-adresser-notre-newsletter');
    // What a DPO must fill, which the table does not say: a contact, the DPO, the recipients.
    expect(codes('W_NO_CONTACT')).toHaveLength(1);
    expect(codes('W_NO_DPO')).toHaveLength(1);
    expect(codes('W_NO_RECIPIENTS')).toHaveLength(5);
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
      const section = sections.find((s) => unaccented(s.title) === unaccented(row.section));
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
      // A row of the seed without a period prints the gap to fill (a draft), not nothing.
      const retention = (noticeRow?.retention ?? []).join(' ');
      expect(words(retention)).toBe(words(row.retention) || '[à compléter : durée de conservation]');
      expect(notice.processor.some((s) => unaccented(s.title) === unaccented(row.section))).toBe(
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

describe('issue 23, point 9: a table in capitals keeps its accents', () => {
  const { register } = load(SEED);
  const newsletter = register.activities.find((a) => a.id === 'inscription-a-la-newsletter');

  it('the newsletter is "Inscription à la newsletter", its id unchanged', () => {
    expect(newsletter?.name).toBe('Inscription à la newsletter');
    expect(register.records.map((r) => r.name)).toContain('Inscription à la newsletter (données)');
  });

  it.each(['fr', 'en'] as const)('the notice in %s prints the accented title', (lang: Language) => {
    const notice = buildNotice(register, lang);
    for (const text of [renderNoticeMarkdown(notice), renderNoticeHtml(notice)]) {
      expect(text).toContain('Inscription à la newsletter');
      expect(text).not.toMatch(/Inscription a la newsletter/i);
    }
  });

  it('purposes and retention cells in capitals are restored too; an English table is only put in sentence case', () => {
    const fr = importNotice(
      'DONNEES COLLECTEES\tRAISONS\tFONDEMENT JURIDIQUE\tDUREES\nGESTION DES EMPLOYES\t\t\t\n... Identité\tNous utilisons ces données afin de : - GERER LA SECURITE DES DONNEES\tObligation légale\tDUREE LEGALE : 5 ANNEES APRES LE DEPART',
    );
    expect(fr.activities?.[0]?.name).toBe('Gestion des employés');
    expect(fr.activities?.[0]?.purposes.map((p) => p.name)).toEqual(['Gérer la sécurité des données']);
    expect(fr.retention?.map((r) => r.text)).toEqual(['Durée légale : 5 années après le depart']);
    const en = importNotice(
      'DATA COLLECTED\tPURPOSES\tLEGAL BASIS\tRETENTION\nSIGNING UP TO A NEWSLETTER\t\t\t\n... Identity\tWe use this data to: - Send the newsletter\tConsent\t13 months at most',
    );
    expect(en.activities?.[0]?.name).toBe('Signing up to a newsletter');
  });
});

describe('issue 23, point 10: withdrawal, recipients and contact in the draft', () => {
  const { register } = load(SEED);

  it.each([
    ['Vous pouvez vous désinscrire à tout moment en cliquant sur le lien présent dans chaque e-mail.', true],
    ['Vous pouvez retirer votre consentement par e-mail à dpo@exemple.fr.', true],
    ['You can unsubscribe at any time through the link at the bottom of each newsletter.', true],
    // Retention sentences, even when they name the link: how long, not how to withdraw.
    [
      'Durée recommandée par la CNIL : Les données sont conservées tant que la personne concernée ne se désinscrit pas (via le lien de désinscription intégré aux newsletters)',
      false,
    ],
    ['Kept until the person unsubscribes (unsubscribe link in every newsletter)', false],
    // Withdrawing, with no way to do it; a way, with nothing withdrawn.
    ['Vous pouvez vous désinscrire à tout moment.', false],
    ['Traiter toute demande formulée par e-mail', false],
  ])('withdrawalIn: "%s" → %s', (sentence, found) => {
    expect(withdrawalIn([sentence])).toBe(found ? sentence : undefined);
  });

  it('the newsletter has no withdrawal made of a retention sentence, and its retention keeps the sentence', () => {
    const purpose = register.activities
      .find((a) => a.id === 'inscription-a-la-newsletter')
      ?.purposes.find((p) => p.legalBasis === 'consent');
    expect(purpose?.withdrawal).toBeUndefined();
    expect(register.retention.map((r) => r.text)).toContain(
      'Durée recommandée par la CNIL : Les données sont conservées tant que la personne concernée ne se désinscrit pas (via le lien de désinscription intégré aux newsletters)',
    );
  });

  it('a sentence that says how to withdraw becomes the withdrawal, neither a purpose nor a retention', () => {
    const table = (lang: Language) =>
      lang === 'fr'
        ? 'DONNEES COLLECTEES\tRAISONS\tFONDEMENT JURIDIQUE\tDUREES\nNEWSLETTER\t\t\t\n... Identité\tNous utilisons ces données afin de : - Vous adresser notre newsletter\tConsentement\t3 ans à compter de la collecte ou du dernier contact. Vous pouvez vous désinscrire en cliquant sur le lien de chaque newsletter.'
        : 'DATA COLLECTED\tPURPOSES\tLEGAL BASIS\tRETENTION\nNEWSLETTER\t\t\t\n... Identity\tWe use this data to: - Send you our newsletter\tConsent\t3 years from collection or the last contact. You can unsubscribe by clicking the link in each newsletter.';
    for (const lang of ['fr', 'en'] as const) {
      const { register: r, issues } = load(table(lang));
      const purposes = r.activities[0]?.purposes ?? [];
      expect(purposes).toHaveLength(1);
      expect(String(purposes[0]?.withdrawal)).toMatch(
        lang === 'fr' ? /^Vous pouvez vous désinscrire/ : /^You can unsubscribe/,
      );
      expect(r.retention.map((x) => x.keep)).toEqual(['3 years']);
      expect(issues.map((i) => i.code)).not.toContain('W_CONSENT_WITHOUT_WITHDRAWAL');
      const md = renderNoticeMarkdown(buildNotice(r, lang));
      expect(md).toContain(lang === 'fr' ? 'vous désinscrire en cliquant' : 'unsubscribe by clicking');
    }
  });

  it.each(['fr', 'en'] as const)(
    'the draft notice in %s: no empty recipients section, no retention sentence as a withdrawal, a contact placeholder',
    (lang: Language) => {
      const notice = buildNotice(register, lang);
      const md = renderNoticeMarkdown(notice);
      const section = (title: RegExp) => md.split(/^## /m).find((s) => title.test(s)) ?? '';
      const recipients = section(lang === 'fr' ? /^Destinataires/ : /^Who receives/);
      const placeholder = lang === 'fr' ? 'À compléter' : 'To complete';
      expect(recipients).toContain(placeholder);
      expect(recipients.split('\n').filter((l) => l.trim() !== '').length).toBeGreaterThan(1);
      const rights = section(lang === 'fr' ? /^Comment exercer/ : /^How to exercise/);
      expect(rights).toContain(lang === 'fr' ? '[adresse à compléter]' : '[address to complete]');
      // Nothing says how to withdraw: the withdrawal paragraph has a line to complete for each
      // consent, and no retention sentence in it.
      expect(rights).not.toMatch(/tant que la personne|as long as/i);
      expect(rights).toContain(
        lang === 'fr'
          ? ' : [à compléter : comment retirer ce consentement].'
          : ': [to complete: how to withdraw this consent].',
      );
      // Both placeholders are ones validate and the DRAFT banner recognise.
      expect(hasPlaceholder(recipients)).toBe(true);
      expect(notice.draft).toBe(true);
      const html = renderNoticeHtml(notice);
      expect(html).toMatch(lang === 'fr' ? /<li>\[À compléter/ : /<li>\[To complete/);
      expect(html).not.toMatch(/<ul><\/ul>/);
    },
  );

  it.each(['fr', 'en'] as const)(
    "in %s, the rights section falls back to the organisation's e-mail",
    (lang: Language) => {
      const withContact = {
        ...register,
        organisation: { ...register.organisation, contact: { email: 'contact@negomarkets.fr' } },
      };
      const rights = renderNoticeMarkdown(buildNotice(withContact, lang)).split(/^## /m).at(-1) ?? '';
      expect(rights).toContain(
        lang === 'fr' ? 'Écrivez-nous : contact@negomarkets.fr.' : 'Write to us: contact@negomarkets.fr.',
      );
      // No address left to complete (the lines to complete are the withdrawals, tested above).
      expect(rights).not.toMatch(/adresse à compléter|address to complete/);
    },
  );

  it.each(['fr', 'en'] as const)(
    'in %s, a DPO stated as not designated is printed nowhere',
    (lang: Language) => {
      const org = {
        ...register.organisation,
        contact: { email: 'contact@negomarkets.fr' },
        dpo: { designated: false, email: 'ancien-dpo@negomarkets.fr' },
      };
      const md = renderNoticeMarkdown(buildNotice({ ...register, organisation: org }, lang));
      expect(md).not.toContain('ancien-dpo@negomarkets.fr');
      expect(md).toContain('contact@negomarkets.fr');
      const designated = renderNoticeMarkdown(
        buildNotice({ ...register, organisation: { ...org, dpo: { email: 'dpo@negomarkets.fr' } } }, lang),
      );
      expect(designated).toContain('dpo@negomarkets.fr');
    },
  );
});
