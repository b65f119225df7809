/**
 * The register of breaches (art. 33(5)) on the demo shop: a breach of the card data of `payments`
 * recorded, its 72-hour deadline and the people it touched counted through the data map (checked
 * against SQL written by hand, on every dialect), the decisions to notify and to tell the people,
 * the register exported as HTML, CSV and XLSX (read back), each step in the audit log, which still
 * verifies; and the input refused where it is wrong.
 */
import { rmSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { type BreachShown, type BreachView, recordBreach } from '../src/app/breaches.js';
import { type Context, createEngine, type Engine } from '../src/app/engine.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { main } from '../src/cli/main.js';
import { DIALECTS } from './dialects.js';
import { AT, shop, shopIn, stateInShopServer, withShop } from './shop-helpers.js';

const DPO: Context = { actor: 'test:dpo' };
const NOW = new Date('2026-12-06T12:00:00Z');
const CARD = {
  discoveredAt: '2026-12-05T09:30:00Z',
  occurredAt: '2026-12-04T22:00:00Z',
  kinds: ['confidentiality' as const],
  nature: {
    fr: 'Une sauvegarde de la table des paiements a été exposée sur un serveur de test.',
    en: 'A backup of the payments table was exposed on a test server.',
  },
  records: ['payments'],
  categories: ['payment-card'],
  consequences: {
    fr: 'Risque de tentatives de fraude à la carte.',
    en: 'Risk of attempted card fraud.',
  },
  measures: {
    fr: 'Serveur fermé, jetons de paiement révoqués auprès du prestataire.',
    en: 'Server closed, payment tokens revoked at the provider.',
  },
};

/** The card data of payments, counted by hand: rows with a card value, and their distinct customers. */
async function handCount(config: string): Promise<{ records: number; people: number }> {
  return withShop(config, async (conn) => {
    const { rows } = await sql<{ records: number | string; people: number | string }>`
      SELECT COUNT(*) AS records, COUNT(DISTINCT o.customer_id) AS people
      FROM payments p LEFT JOIN orders o ON o.id = p.order_id
      WHERE p.card_last4 IS NOT NULL OR p.card_token IS NOT NULL OR p.card_expiry IS NOT NULL`.execute(
      conn.db,
    );
    return { records: Number(rows[0]?.records), people: Number(rows[0]?.people) };
  });
}

/** The rows of a CSV as spreadsheets write it (a byte order mark, ";", quoted cells). */
function csvRows(text: string): string[][] {
  const rows: string[][] = [[]];
  let cell = '';
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      rows.at(-1)?.push(cell);
      cell = '';
    } else if (c === '\r' && body[i + 1] === '\n') {
      rows.at(-1)?.push(cell);
      cell = '';
      rows.push([]);
      i++;
    } else cell += c;
  }
  return rows.filter((r) => r.length > 0);
}

describe.each(DIALECTS)('the breach count on $name', (database) => {
  it("counts the card data of payments and its customers as SQL written by hand does, and an activity's tables each once", async () => {
    const drops: (() => Promise<void>)[] = [];
    try {
      const { config, out } = await shopIn(database, 120, 7, drops);
      // The register of breaches in the shop's own server too (PostgreSQL, MariaDB): its SQL runs there.
      stateInShopServer(config);
      const engine = createEngine({ config, clock: { now: () => NOW, today: () => AT } });
      try {
        const expected = await handCount(config);
        expect(expected.records).toBeGreaterThan(0);
        const breach = await recordBreach(engine, CARD, DPO);
        expect(breach.affected.tables).toEqual([
          expect.objectContaining({
            table: 'payments',
            columns: ['card_last4', 'card_token', 'card_expiry'],
            categories: ['payment-card'],
            records: expected.records,
            people: expected.people,
            personKey: 'shop.customers.id',
          }),
        ]);
        expect(breach.people).toBe(expected.people);
        // By rule: each rule's `where` (immediate or deferred debit) splits the same records.
        const byRule = await Promise.all(
          ['payments', 'payments-deferred'].map((rule) =>
            recordBreach(engine, { ...CARD, records: [], rules: [rule] }, DPO),
          ),
        );
        const split = byRule.map((b) => b.affected.records);
        expect(split.every((n) => n > 0)).toBe(true);
        expect((split[0] ?? 0) + (split[1] ?? 0)).toBe(expected.records);
        // Two people deciding on the same version at once: one wins, the other is told.
        const both = await Promise.allSettled(
          [true, false].map((notify) =>
            USE_CASES.decideBreach.run(
              engine,
              notify
                ? { id: breach.id, notify, notifiedAt: '2026-12-05T12:00:00Z', version: 0 }
                : { id: breach.id, notify, reason: 'tokens only', version: 0 },
              DPO,
            ),
          ),
        );
        expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        expect(both.find((r) => r.status === 'rejected')).toMatchObject({
          reason: expect.objectContaining({ code: 'E_BREACH_CHANGED' }),
        });
        expect((await USE_CASES.showBreach.run(engine, { id: breach.id }, DPO)).version).toBe(1);
        // A whole activity: orders, payments, invoices… each counted, the customers once over them.
        const wide = await recordBreach(
          engine,
          { ...CARD, records: [], categories: [], activities: ['customer-relationship'] },
          DPO,
        );
        const customers = await withShop(config, async (conn) =>
          Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM customers`.execute(conn.db)).rows[0]?.n),
        );
        expect(wide.affected.tables.map((t) => t.table)).toEqual(
          expect.arrayContaining(['customers', 'orders', 'payments']),
        );
        expect(wide.affected.people).toBeGreaterThanOrEqual(expected.people);
        expect(wide.affected.tables.find((t) => t.table === 'customers')?.people).toBe(customers);
      } finally {
        await engine.close();
        rmSync(out, { recursive: true, force: true });
      }
    } finally {
      for (const drop of drops) await drop();
    }
  }, 180_000);
});

describe('the register of breaches on the demo shop', () => {
  let out: string;
  let config: string;
  let engine: Engine;
  let now = NOW;

  beforeAll(async () => {
    ({ out, config } = await shop(300, 1));
    engine = createEngine({ config, clock: { now: () => now, today: () => now.toISOString().slice(0, 10) } });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('records the card data breach of payments with its deadline and its people counted from the data map', async () => {
    const expected = await handCount(config);
    const breach: BreachView = await USE_CASES.recordBreach.run(engine, CARD, DPO);
    expect(breach.id).toBe(1);
    expect(breach.deadline).toBe('2026-12-08T09:30:00.000Z');
    expect(breach.status).toBe('to-decide');
    // 2026-12-06 12:00 → 2026-12-08 09:30: 45.5 hours left.
    expect(breach.hoursLeft).toBe(45);
    expect(breach.affected.records).toBe(expected.records);
    expect(breach.people).toBe(expected.people);
    expect(breach.people).toBeLessThan(300);
    const shown: BreachShown = await USE_CASES.showBreach.run(engine, { id: 1 }, DPO);
    expect(shown.version).toBe(0);
    expect(shown.letters.fr.text).toContain('Surveillez les opérations de votre compte bancaire');
    expect(shown.letters.en.text).toContain('A backup of the payments table was exposed on a test server.');
    expect(shown.letters.en.text).toContain('dpo@negomarkets.example');
    expect(shown.letters.fr.text).toContain('a été découverte chez NEGOMARKETS le 5 décembre 2026.');
    expect(shown.letters.fr.text).toContain('Une sauvegarde de la table des paiements a été exposée');
    expect(shown.letters.fr.subject).toBe('Violation de vos données personnelles chez NEGOMARKETS');
  });

  it('lists an overdue breach first, then those to decide by deadline', async () => {
    const older = await USE_CASES.recordBreach.run(
      engine,
      {
        ...CARD,
        discoveredAt: '2026-12-01T08:00:00Z',
        occurredAt: undefined,
        records: [],
        categories: [],
        rules: ['web-visits'],
        nature: 'Web visit logs were readable by everyone for a day.',
        consequences: 'Little: browsing data without names.',
        measures: 'Access closed.',
      },
      DPO,
    );
    expect(older.status).toBe('overdue');
    expect(older.hoursLeft).toBeLessThan(0);
    const listed: BreachView[] = await USE_CASES.listBreaches.run(engine, {}, DPO);
    expect(listed.map((b) => [b.id, b.status])).toEqual([
      [older.id, 'overdue'],
      [1, 'to-decide'],
    ]);
  });

  it('records the decision to notify the CNIL, and refuses a second decision made on the same version', async () => {
    const decided: BreachShown = await USE_CASES.decideBreach.run(
      engine,
      { id: 1, notify: true, notifiedAt: '2026-12-06T10:00:00Z', reference: 'CNIL-2026-0042', version: 0 },
      DPO,
    );
    expect(decided.status).toBe('notified');
    expect(decided.version).toBe(1);
    expect(decided.letters.fr.text).toContain(
      'Nous avons notifié cette violation à la CNIL le 6 décembre 2026.',
    );
    await expect(
      USE_CASES.decideBreach.run(engine, { id: 1, notify: false, reason: 'no risk', version: 0 }, DPO),
    ).rejects.toMatchObject({ code: 'E_BREACH_CHANGED' });
    // Two people deciding at once on the same version: one wins.
    const both = await Promise.allSettled([
      USE_CASES.informBreach.run(engine, { id: 1, inform: true, version: 1 }, DPO),
      USE_CASES.informBreach.run(engine, { id: 1, inform: false, reason: 'tokens revoked', version: 1 }, DPO),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({
      reason: expect.objectContaining({ code: 'E_BREACH_CHANGED' }),
    });
    // The older breach, notified late: the reasons for the delay are required.
    await expect(
      USE_CASES.decideBreach.run(engine, { id: 2, notify: true, notifiedAt: '2026-12-06T09:00:00Z' }, DPO),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['reason'] });
    const late = await USE_CASES.decideBreach.run(
      engine,
      { id: 2, notify: true, notifiedAt: '2026-12-06T09:00:00Z', reason: 'found in a weekly log review' },
      DPO,
    );
    expect(late.status).toBe('notified-late');
    const informed = await USE_CASES.informBreach.run(
      engine,
      { id: 2, inform: false, reason: 'no high risk: no names, no contact data' },
      DPO,
    );
    expect(informed.information).toMatchObject({ decision: 'no-inform' });
  });

  it('exports the register as HTML, CSV and XLSX in the columns of the CNIL model', async () => {
    const html = await USE_CASES.exportBreachRegister.run(engine, { format: 'html' }, DPO);
    expect(html.name).toBe('breach-register.fr.html');
    const page = String(html.content);
    expect(page).toContain('Registre des violations de données personnelles');
    expect(page).toContain('Nombre approximatif de personnes concernées');
    expect(page).toContain('CNIL-2026-0042');
    const expected = await handCount(config);
    const csv = String(
      (await USE_CASES.exportBreachRegister.run(engine, { format: 'csv', lang: 'en' }, DPO)).content,
    );
    const lines = csvRows(csv);
    expect(lines[0]?.[6]).toBe('Approximate number of people concerned');
    expect(lines).toHaveLength(3);
    const first = lines[1] ?? [];
    expect(first[0]).toBe('1');
    expect(first[2]).toBe('5 December 2026, 10:30');
    expect(first[6]).toBe(String(expected.people));
    expect(first[8]).toBe(String(expected.records));
    expect(first[11]).toBe('yes');
    const xlsx = await USE_CASES.exportBreachRegister.run(engine, { format: 'xlsx' }, DPO);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.content as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0];
    const values: string[][] = [];
    sheet?.eachRow((row) => {
      values.push((row.values as unknown[]).slice(1).map((v) => String(v ?? '')));
    });
    const header = values.findIndex((r) => r[0] === 'N°');
    expect(values[header]?.[6]).toBe('Nombre approximatif de personnes concernées');
    expect(values[header + 1]?.[6]).toBe(String(expected.people));
    expect(values[header + 2]?.[11]).toBe('oui');
  });

  it('logs every step without its texts, and the log still verifies', async () => {
    const log = String(await USE_CASES.exportAudit.run(engine, {}, DPO));
    const entries = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; data: Record<string, unknown> });
    const kinds = entries.map((e) => e.kind).filter((k) => k.startsWith('breach.'));
    expect(kinds).toEqual([
      'breach.record',
      'breach.record',
      'breach.decide',
      'breach.inform',
      'breach.decide',
      'breach.inform',
      'breach.export',
      'breach.export',
      'breach.export',
    ]);
    const recorded = entries.find((e) => e.kind === 'breach.record');
    expect(recorded?.data).toMatchObject({ actor: DPO.actor, breach: 1, categories: ['payment-card'] });
    expect(log).not.toContain('payments table was exposed');
    expect(log).not.toContain('tokens revoked');
    expect((await USE_CASES.verifyAudit.run(engine, {}, DPO)).problems).toEqual([]);
  });

  it.each([
    [{ ...CARD, activities: ['no-such-activity'] }, 'E_BREACH_SCOPE', 'activities'],
    [{ ...CARD, categories: ['no-such-category'] }, 'E_BREACH_SCOPE', 'categories'],
    [{ ...CARD, categories: ['browsing'] }, 'E_BREACH_SCOPE', 'categories'],
    [{ ...CARD, rules: ['no-such-rule'] }, 'E_BREACH_SCOPE', 'rules'],
    [{ ...CARD, records: [], categories: [] }, 'E_BREACH_SCOPE', 'activities'],
    [{ ...CARD, discoveredAt: '2026-12-07T09:30:00Z' }, 'E_USAGE', 'discoveredAt'],
    [{ ...CARD, discoveredAt: '2026-02-30T09:30:00Z' }, 'E_USAGE', 'discoveredAt'],
    [{ ...CARD, discoveredAt: '2026-12-05' }, 'E_USAGE', 'discoveredAt'],
    [{ ...CARD, occurredAt: '2026-12-05T10:00:00Z' }, 'E_USAGE', 'occurredAt'],
    [{ ...CARD, kinds: [] }, 'E_USAGE', 'kinds'],
    [{ ...CARD, nature: '  ' }, 'E_USAGE', 'nature'],
  ])('refuses a breach recorded wrong: %#', async (input, code, path) => {
    await expect(USE_CASES.recordBreach.run(engine, input, DPO)).rejects.toMatchObject({
      code,
      path: [path],
    });
  });

  it('refuses decisions that are wrong, and names an unknown breach', async () => {
    await expect(USE_CASES.showBreach.run(engine, { id: 99 }, DPO)).rejects.toMatchObject({
      code: 'E_BREACH_NOT_FOUND',
    });
    await expect(
      USE_CASES.decideBreach.run(engine, { id: 99, notify: false, reason: 'x' }, DPO),
    ).rejects.toMatchObject({ code: 'E_BREACH_NOT_FOUND' });
    await expect(USE_CASES.decideBreach.run(engine, { id: 1, notify: false }, DPO)).rejects.toMatchObject({
      code: 'E_USAGE',
      path: ['reason'],
    });
    await expect(USE_CASES.decideBreach.run(engine, { id: 1, notify: true }, DPO)).rejects.toMatchObject({
      code: 'E_USAGE',
      path: ['notifiedAt'],
    });
    await expect(
      USE_CASES.decideBreach.run(engine, { id: 1, notify: true, notifiedAt: '2026-12-01T00:00:00Z' }, DPO),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['notifiedAt'] });
    await expect(USE_CASES.informBreach.run(engine, { id: 1, inform: false }, DPO)).rejects.toMatchObject({
      code: 'E_USAGE',
      path: ['reason'],
    });
    await expect(
      USE_CASES.exportBreachRegister.run(engine, { format: 'pdf' as 'csv' }, DPO),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['format'] });
  });

  it('the command line records, lists, shows, decides, informs and exports', async () => {
    const outText: string[] = [];
    const errText: string[] = [];
    const io = { out: (t: string) => outText.push(t), err: (t: string) => errText.push(t) };
    const run = async (...args: string[]) => {
      outText.length = 0;
      errText.length = 0;
      const code = await main(['--config', config, 'breach', ...args], io);
      return { code, out: outText.join(''), err: errText.join('') };
    };
    now = new Date();
    const discovered = new Date(Date.now() - 3_600_000).toISOString();
    const recorded = await run(
      'record',
      '--discovered',
      discovered,
      '--kind',
      'confidentiality',
      '--record',
      'payments',
      '--category',
      'payment-card',
      '--what',
      'Une sauvegarde exposée',
      '--what-en',
      'An exposed backup',
      '--consequences',
      'Fraude possible',
      '--measures',
      'Serveur fermé',
    );
    expect(recorded.err).toBe('');
    expect(recorded.code).toBe(0);
    expect(recorded.out).toMatch(/^breach 3 recorded: \d+ people, \d+ records; notify the CNIL by /);
    const listed = await run('list');
    expect(listed.out).toMatch(/^3 to-decide/m);
    const shown = await run('show', '3', '--letter', 'en');
    expect(shown.out).toContain('An exposed backup');
    const decided = await run('decide', '3', '--no-notify', '--reason', 'tokens only, revoked at once');
    expect(decided.code).toBe(0);
    expect(decided.out).toContain('breach 3: not notified');
    const bad = await run('decide', '3', '--no-notify');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('`--reason`'.replaceAll('`', ''));
    const informed = await run('inform', '3', '--inform');
    expect(informed.out).toContain('breach 3: the people are to be told');
    const exported = await run('export', '--format', 'csv', '--out', `${out}/breaches.csv`);
    expect(exported.code).toBe(0);
    expect(exported.out).toContain('breaches.csv');
  });
});
