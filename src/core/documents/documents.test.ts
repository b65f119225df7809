import jsonld from 'jsonld';
import { describe, expect, it } from 'vitest';
import { BUNDLED_REGISTER } from '../../adapters/files/bundled.js';
import { loadRegister } from '../../adapters/files/config-files.js';
import type { Register } from '../register/register-load.js';
import { buildArt30, renderArt30Csv, renderArt30Html } from './art30.js';
import { describeRule } from './describe-rule.js';
import { buildDpv } from './dpv.js';
import { buildNotice, renderNoticeHtml, renderNoticeMarkdown } from './notice.js';

const register = loadRegister(BUNDLED_REGISTER).register as Register;

describe('the privacy notice', () => {
  it.each(['fr', 'en'] as const)(
    'in %s: every activity, controller part then processor part, and the rights',
    (lang) => {
      const notice = buildNotice(register, lang);
      expect(notice.controller.map((s) => s.id)).toEqual([
        'website',
        'customer-relationship',
        'ambassadors',
        'newsletter',
        'recruitment',
      ]);
      expect(notice.processor.map((s) => s.id)).toEqual(['distributor-sales']);
      for (const section of [...notice.controller, ...notice.processor]) {
        for (const row of section.rows)
          expect(row.retention.length, `${section.id} ${row.basis}`).toBeGreaterThan(0);
      }
      expect(notice.rights).toHaveLength(8);
      const md = renderNoticeMarkdown(notice);
      const html = renderNoticeHtml(notice);
      for (const text of [md, html]) {
        expect(text).not.toMatch(/undefined|\[object Object\]/);
        for (const section of notice.controller) expect(text).toContain(section.title.replace(/'/g, ''));
      }
      expect(html).toMatch(new RegExp(`^<!doctype html>\\n<html lang="${lang}">`));
    },
  );

  it('speaks each language', () => {
    expect(renderNoticeMarkdown(buildNotice(register, 'fr'))).toContain(
      '13 mois maximum pour vos données de navigation',
    );
    expect(renderNoticeMarkdown(buildNotice(register, 'en'))).toContain(
      '13 months at most for your browsing data',
    );
    expect(renderNoticeHtml(buildNotice(register, 'en'))).toContain('Legitimate interest');
  });

  it('escapes HTML from the register', () => {
    const evil = { ...register, organisation: { ...register.organisation, name: '<script>x</script>' } };
    expect(renderNoticeHtml(buildNotice(evil, 'fr'))).not.toContain('<script>x');
  });
});

describe('rule descriptions', () => {
  const rule = (id: string) =>
    register.retention.find((r) => r.id === id) as (typeof register.retention)[number];

  it.each([
    ['web-visits', 'fr', '13 mois à compter de la date de la visite ; puis suppression.'],
    [
      'invoices',
      'en',
      "10 years from the end of the financial year that includes the invoice's issue; then deletion.",
    ],
    ['newsletter-subscribers', 'en', 'whichever comes first'],
    [
      'distributor-orders',
      'fr',
      'La durée fixée par le distributeur (en mois) à compter de la commande, ou jusqu',
    ],
    ['customer-accounts', 'fr', "puis archivage intermédiaire jusqu'à 5 ans après"],
    [
      'supplier-disputes',
      'en',
      "As long as the “orders of the distributors' customers” record it is linked to is kept; then deleted with it.",
    ],
    [
      'supplier-disputes',
      'fr',
      "Aussi longtemps que l'enregistrement de « commandes des clients des distributeurs » auquel il est lié est conservé ; puis suppression en même temps que lui.",
    ],
  ] as const)('%s (%s)', (id, lang, expected) => {
    expect(describeRule(register, rule(id), lang)).toContain(expected);
  });
});

describe('the art. 30 records', () => {
  it('the controller record has a common sheet and one sheet per controller activity', () => {
    const record = buildArt30(register, 'controller', 'fr');
    expect(record.activities.map((a) => a.ref)).toEqual(['T-01', 'T-02', 'T-03', 'T-04', 'T-05']);
    expect(record.sections).toHaveLength(1);
    const crm = record.sections[0]?.sheets.find((s) => s.ref === 'T-02');
    expect(crm?.purposes).toContainEqual({
      purpose: 'Conserver les factures et pièces comptables',
      basis: 'Obligation légale',
    });
    const billing = crm?.categories.find((c) => c.category === 'Données de facturation');
    expect(billing?.retention).toContain(
      'Factures : 10 ans à compter de la clôture de l’exercice comptable au cours duquel intervient l’émission de la facture',
    );
    expect(crm?.security.length).toBeGreaterThan(0);
  });

  it('the processor record has one section per controller acted for (each member of a group)', () => {
    const record = buildArt30(register, 'processor', 'en');
    expect(record.sections.map((s) => s.title)).toEqual([
      '[Distributor 1 — to complete]',
      '[Distributor 2 — to complete]',
    ]);
    expect(record.sections[0]?.sheets.map((s) => s.ref)).toEqual(['ST-01']);
    // The group's instructions hold for each member that has none of its own.
    expect(record.sections[0]?.details.map(([k]) => k)).toContain('Documented instructions');
  });

  it('renders as HTML and as CSV (one row per activity and data category)', () => {
    const record = buildArt30(register, 'controller', 'fr');
    const html = renderArt30Html(record);
    expect(html).toContain('Registre des activités de traitement de NEGOMARKETS');
    expect(html).not.toMatch(/undefined|\[object Object\]/);
    const csv = renderArt30Csv(record);
    const categories = record.sections.flatMap((s) => s.sheets).reduce((n, s) => n + s.categories.length, 0);
    const rows = csv.split(/\r\n(?=T-\d)/);
    expect(rows).toHaveLength(categories + 1);
    // As French Excel opens it: a UTF-8 byte order mark, ";" between cells.
    // The bundled register still holds placeholders: the sheet says DRAFT above its header.
    expect(record.draft).toBe(true);
    expect(csv.split('\r\n')[0]).toContain('BROUILLON');
    expect(csv.split('\r\n')[1]?.startsWith('Réf.;Activité;')).toBe(true);
  });
});

describe('the DPV export', () => {
  it('expands with a JSON-LD processor, with GDPR legal bases and ISO 8601 durations', async () => {
    const doc = buildDpv(register);
    const expanded = (await jsonld.expand(doc as jsonld.JsonLdDocument)) as Record<string, unknown>[];
    const text = JSON.stringify(expanded);
    expect(expanded.length).toBeGreaterThan(20);
    for (const article of ['A6-1-a', 'A6-1-b', 'A6-1-c', 'A6-1-f'])
      expect(text).toContain(`https://w3id.org/dpv/legal/eu/gdpr#${article}`);
    expect(text).toContain('{"@type":"http://www.w3.org/2001/XMLSchema#duration","@value":"P13M"}');
    expect(text).toContain('https://w3id.org/dpv#UntilEventDuration');
    expect(text).toContain('https://w3id.org/dpv#hasDataProcessor');
    const processes = expanded.filter((n) =>
      (n['@type'] as string[] | undefined)?.includes('https://w3id.org/dpv#Process'),
    );
    expect(processes).toHaveLength(6);
  });
});
