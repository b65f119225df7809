/**
 * Holds: what a hold keeps (the record and what follows it), a hold added while a sweep runs, holds
 * by e-mail, ended holds, and holds at random moments of a concurrent sweep.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { StateStore } from '../src/adapters/state/state-store.js';
import { openProject } from '../src/app/project.js';
import { DIALECTS } from './dialects.js';
import {
  AT,
  auditCount,
  BIN,
  cli,
  compareVerdicts,
  customerEmails,
  exists,
  registre,
  shop,
  sleep,
  snapshot,
  sweepProcess,
  verdicts,
  withShop,
} from './shop-helpers.js';
import { runExplain, runHoldAdd, runHoldList, runPlan, runStatus, runSweep } from './use-cases.js';

const temp = () => mkdtempSync(join(tmpdir(), 'registre-dpo-'));

describe('1. holds added while a sweep runs (a second process)', () => {
  it('no batch committed after hold add returns touches the held records', async () => {
    const { out, config } = await shop(1500, 31);
    const due = (await verdicts(config)).filter((v) => v.status === 'due');
    // The sweep goes table by table: holds on every table, early and late ones.
    expect(due.length).toBeGreaterThan(1000);
    const stateFile = join(out, '.registre', 'state.sqlite');
    const sweep = sweepProcess(config, ['--batch-size', '20']);
    for (let i = 0; i < 400 && auditCount(stateFile, 'sweep.batch') < 3; i++) await sleep(20);
    const held: { table: string; id: string }[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 16; i++) {
      const pick = due[Math.floor(random() * due.length)] as (typeof due)[number];
      try {
        await runHoldAdd(config, { table: pick.table, id: pick.id, reason: `case ${i}` });
        held.push(pick);
      } catch (error) {
        // Swept already, before the hold: nothing to hold any more.
        expect((error as Error).message).toContain('has no record');
      }
      await sleep(Math.floor(random() * 80));
    }
    expect(await sweep.done).toBe(0);
    expect(held.length).toBeGreaterThan(4);
    for (const h of held) expect(await exists(config, h.table, h.id), `${h.table} ${h.id}`).toBe(true);
  }, 120_000);
});

describe('1. a hold on a record holds what follows it', () => {
  it('a supplier dispute stays with its held order: plan, explain and sweep agree', async () => {
    const { config } = await shop(400, 33);
    const all = await verdicts(config);
    const dueOrders = new Set(
      all.filter((v) => v.table === 'distributor_orders' && v.status === 'due').map((v) => v.id),
    );
    const dispute = await withShop(config, async (conn) =>
      (await conn.db.selectFrom('supplier_disputes').select(['id', 'distributor_order_id']).execute()).find(
        (d) => dueOrders.has(String(d.distributor_order_id)),
      ),
    );
    if (!dispute) throw new Error('the generated shop has no dispute on a due order');
    expect(all.find((v) => v.table === 'supplier_disputes' && v.id === String(dispute.id))?.status).toBe(
      'due',
    );
    await runHoldAdd(config, {
      table: 'distributor_orders',
      id: String(dispute.distributor_order_id),
      reason: 'case 5',
    });
    const [explained] = await runExplain(config, {
      table: 'supplier_disputes',
      id: String(dispute.id),
      at: AT,
    });
    expect(explained?.status).toBe('held');
    const plan = await runPlan(config, AT);
    expect(plan.rules.find((l) => l.rule === 'supplier-disputes')?.held).toBeGreaterThanOrEqual(1);
    await runSweep(config, { at: AT, today: AT });
    expect(await exists(config, 'supplier_disputes', dispute.id)).toBe(true);
    expect(await exists(config, 'distributor_orders', Number(dispute.distributor_order_id))).toBe(true);
  });
});

describe('2, 3. dates are parsed strictly; a sweep never runs ahead of today', () => {
  it('a hold whose end is past is refused; an expired hold is not in force', async () => {
    const { config } = await shop(20, 5);
    await expect(
      runHoldAdd(config, { table: 'web_visits', id: '1', reason: 'x', until: '2026-11-26', today: AT }),
    ).rejects.toThrow('is already past');
    await runHoldAdd(config, { table: 'web_visits', id: '1', reason: 'x', until: '2026-12-01', today: AT });
    expect(await runHoldList(config, false, '2026-12-01')).toHaveLength(1);
    expect(await runHoldList(config, false, '2026-12-02')).toHaveLength(0);
    expect((await runStatus(config, '2026-12-02')).holds).toBe(0);
    expect(await runHoldList(config, true, '2026-12-02')).toHaveLength(1);
  });
});

describe('a demo shop', () => {
  let config: string;
  let out: string;
  beforeAll(async () => {
    ({ config, out } = await shop(150, 3));
  });

  it('7. a hold by e-mail is one hold: listed with its records, released as one', () => {
    const db = new Database(join(out, 'shop.sqlite'), { readonly: true });
    const { email } = db
      .prepare(
        'SELECT c.email FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING count(*) >= 2 ORDER BY c.id LIMIT 1',
      )
      .get() as { email: string };
    db.close();
    const heldCount = () =>
      JSON.parse(registre(['--config', config, 'explain', '--email', email, '--json']).stdout).records.filter(
        (r: { status: string }) => r.status === 'held',
      ).length as number;
    const before = heldCount();
    const add = registre([
      '--config',
      config,
      'hold',
      'add',
      '--email',
      email.toUpperCase(),
      '--reason',
      'case 2026-9',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const [, id, count] = /^hold (\d+): (\d+) records held\n/.exec(add.stdout) ?? [];
    expect(Number(count)).toBeGreaterThanOrEqual(3);
    expect(add.stdout).toMatch(/^ {2}shop\.customers \d+$/m);
    expect(add.stdout).toMatch(/^ {2}shop\.orders \d+, \d+/m);
    const list = JSON.parse(registre(['--config', config, 'hold', 'list', '--json']).stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: Number(id), reason: 'case 2026-9', releasedAt: null });
    expect(list[0].records).toHaveLength(Number(count));
    expect(registre(['--config', config, 'hold', 'list']).stdout).toMatch(
      new RegExp(`^hold ${id}: case 2026-9, ${count} records\n {2}shop\\.customers`),
    );
    expect(registre(['--config', config, 'status']).stdout).toContain('1 hold(s) in force');
    expect(heldCount()).toBe(Number(count));
    const member = list[0].records[1].hold as number;
    const wrong = registre(['--config', config, 'hold', 'release', String(member)]);
    expect(wrong.code).toBe(1);
    // A row's id is no hold's number (issue 18 item 26): said so, naming no other hold.
    expect(wrong.stderr).toContain(`no hold ${member}: registre hold list --all shows every hold`);
    const release = registre(['--config', config, 'hold', 'release', id as string]);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stdout).toMatch(new RegExp(`^hold ${id} released: ${count} records\n`));
    expect(registre(['--config', config, 'hold', 'list']).stdout).toBe('no hold\n');
    expect(heldCount()).toBe(before);
    expect(registre(['--config', config, 'audit', 'verify']).code).toBe(0);
  });
});

describe('a hold on a record a sweep deleted meanwhile', () => {
  it('is named as gone, not reported as held; an archived record still counts as there', async () => {
    const { config, out } = await shop(30, 5);
    const { openArchive } = await import('./use-cases.js');
    const { vanished } = await import('../src/app/holds.js');
    const { openProject } = await import('../src/app/project.js');
    const db = new Database(join(out, 'shop.sqlite'));
    const [first, second] = db.prepare('SELECT id FROM web_visits ORDER BY id LIMIT 2').all() as {
      id: number;
    }[];
    db.prepare('DELETE FROM web_visits WHERE id = ?').run(first?.id);
    db.close();
    const project = await openProject(config);
    const { createEngine } = await import('../src/app/engine.js');
    const engine = createEngine({ config });
    const archive = (await engine.archive()) as Awaited<ReturnType<typeof openArchive>>;
    try {
      const gone = await vanished(engine, project, archive, [
        { store: 'shop', table: 'web_visits', id: String(first?.id), archived: false },
        { store: 'shop', table: 'web_visits', id: String(second?.id), archived: false },
        { store: 'shop', table: 'customers', id: '999999', archived: true },
      ]);
      expect(gone).toEqual([`shop.web_visits ${first?.id}`]);
    } finally {
      await engine.close();
    }
  });
});

describe('property: holds at random moments of a concurrent sweep, random dates, invalid values', () => {
  it('nothing held and nothing not yet due is touched; the evaluator and the SQL agree on every record', async () => {
    const odd = fc.constantFrom<unknown>(
      '2459000',
      2459000,
      'jean.dupont@example.fr',
      '2026-02-30 00:00:00',
      ' 2020-01-01',
      '2020-01-01T23:30:00-05:00',
      '0000-01-01',
      null,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 2500 }),
        fc.array(
          fc.record({
            target: fc.constantFrom(
              ['web_visits', 'occurred_at'],
              ['customers', 'created_at'],
              ['customers', 'closed_at'],
              ['candidates', 'last_contact_at'],
              ['distributors', 'retention_months'],
            ),
            id: fc.integer({ min: 1, max: 30 }),
            value: odd,
            amount: fc.constantFrom<unknown>(1.5, -3, 2147483647, 100_000, '12', 0),
          }),
          { maxLength: 8 },
        ),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 3, maxLength: 7 }),
        async (seed, daysBack, injections, delays) => {
          const at = new Date(Date.parse(`${AT}T00:00:00Z`) - daysBack * 86_400_000)
            .toISOString()
            .slice(0, 10);
          const { config } = await shop(40, seed);
          await withShop(config, async (conn) => {
            for (const { target, id, value, amount } of injections) {
              const [table, column] = target as [string, string];
              const v = column === 'retention_months' ? amount : value;
              // Columns declared NOT NULL keep a value: an odd one, not a missing one.
              if (v === null && column !== 'closed_at') continue;
              await conn.db
                .updateTable(table)
                .set({ [column]: v })
                .where('id', '=', id)
                .execute();
            }
          });
          const project = await openProject(config);
          const compared = await withShop(config, (conn) =>
            compareVerdicts(
              conn,
              { register: project.register, datamap: project.datamap, dialect: conn.dialect },
              at,
            ),
          );
          for (const c of compared) expect(c.sql, `${c.table} ${c.id}`).toEqual(c.pure);
          const before = await snapshot(config);
          const touchable = compared.filter((c) => c.pure.status === 'due' || c.pure.status === 'archive');
          const sweep = spawn(
            process.execPath,
            [BIN, 'sweep', '--at', at, '--batch-size', '7', '--config', config],
            { stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
          );
          let sweepErrors = '';
          for (const stream of [sweep.stdout, sweep.stderr])
            stream?.on('data', (chunk) => {
              sweepErrors += String(chunk);
            });
          const done = new Promise<number>((r) => sweep.once('exit', (code) => r(code ?? -1)));
          // A sweep that does not end is a failure to diagnose, not a test that times out silently.
          const watchdog = setTimeout(async () => {
            const status = await runStatus(config).catch((e) => String(e));
            console.error(
              `sweep still running after 120 s at ${at}, seed ${seed}: ${JSON.stringify(status)}`,
            );
            sweep.kill('SIGKILL');
          }, 120_000);
          done.finally(() => clearTimeout(watchdog));
          const held: string[] = [];
          for (const [i, delay] of delays.entries()) {
            await sleep(delay);
            const pick = touchable[(seed + i * 7919) % Math.max(1, touchable.length)];
            if (!pick) break;
            try {
              await runHoldAdd(config, { table: pick.table, id: pick.id, reason: `case ${i}` });
              held.push(`${pick.table}:${pick.id}`);
            } catch (error) {
              expect((error as Error).message).toContain('has no record');
            }
          }
          expect(await done, `the sweep at ${at}: ${sweepErrors}`).toBe(0);
          const after = await snapshot(config);
          for (const c of compared) {
            const key = `${c.table}:${c.id}`;
            if (c.pure.status !== 'due' && c.pure.status !== 'archive')
              expect(after.get(key), `${key} (${c.pure.status})`).toBe(before.get(key));
          }
          for (const key of held) expect(after.get(key), `${key} (held)`).toBe(before.get(key));
        },
      ),
      { numRuns: 4, seed: 2026 },
    );
  }, 300_000);
});

describe.each(DIALECTS)('18.26 hold numbers on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('18.26 each hold case has its own number (1, 2, 3), not its first row id; an unknown or released one is "no hold N" and names no other hold', async () => {
    const { url, drop } = await database.create();
    drops.push(drop);
    const dir = temp();
    const state = await StateStore.open(url, dir, {
      key: Buffer.from('dpo-key-0123456789abcdefghijklmnopqrstuvw'),
    });
    try {
      const records = (n: number, from: number) =>
        Array.from({ length: n }, (_, i) => ({ store: 'shop', table: 'orders', key: String(from + i) }));
      const log = (added: { case: number; ids: readonly number[] }) => ({
        case: added.case,
        holds: added.ids,
      });
      const first = await state.addHolds(records(10, 1), { reason: 'case A' }, log);
      const second = await state.addHolds(records(1, 100), { reason: 'case B' }, log);
      const third = await state.addHolds(records(3, 200), { reason: 'case C' }, log);
      // Before: 1, 11, 12 (the first row's id). Now each case its own number.
      expect([first.case, second.case, third.case]).toEqual([1, 2, 3]);
      expect(second.ids).toEqual([11]);
      expect((await state.holdCase(2))?.records.map((r) => r.key)).toEqual(['100']);
      expect((await state.auditEntries(['hold.add'])).map((e) => e.data.case)).toEqual([1, 2, 3]);
      // Hold 11 is a row of case 2, not a hold: "no hold 11", never "release hold 2".
      const failure = (e: unknown) => e as Error & { code: string };
      const unknown = await state.releaseHold(11).then(() => null, failure);
      expect(unknown).toMatchObject({ code: 'E_HOLD_NOT_FOUND' });
      expect(unknown?.message).toBe('no hold 11: registre hold list --all shows every hold');
      await state.releaseHold(3);
      const again = await state.releaseHold(3).then(() => null, failure);
      expect(again).toMatchObject({ code: 'E_HOLD_RELEASED' });
      expect(again?.message).toMatch(/^no hold 3 in force: it was released on \d{4}-\d{2}-\d{2}$/);
      // Cases 1 and 2 are untouched.
      expect((await state.holds()).map((h) => h.caseId)).toEqual([...Array(10).fill(1), 2]);
      // The next case after a released one is 4, not a reused 3.
      expect((await state.addHolds(records(1, 300), { reason: 'case D' })).case).toBe(4);
    } finally {
      await state.close();
    }
  });

  it('18.26 0007_hold_case_numbers: a store of before keeps the numbers it showed, and numbers the rows of before hold cases by their id', async () => {
    const { url, drop } = await database.create();
    drops.push(drop);
    const dir = temp();
    const state = await StateStore.open(url, dir);
    await state.addHolds([{ store: 'shop', table: 'orders', key: '1' }], { reason: 'old row' });
    await state.addHolds(
      [
        { store: 'shop', table: 'orders', key: '2' },
        { store: 'shop', table: 'orders', key: '3' },
      ],
      { reason: 'old case' },
    );
    // As a store of before left them: a row without a case, a case named by its first row's id.
    await sql`UPDATE holds SET case_id = NULL WHERE id = 1`.execute(state.conn.db);
    await sql`UPDATE holds SET case_id = 2 WHERE id IN (2, 3)`.execute(state.conn.db);
    // …at version 0006: the migrations after it not yet run (each runs again safely).
    await sql`DELETE FROM registre_migrations WHERE name >= '0007'`.execute(state.conn.db);
    await state.close();
    const again = await StateStore.open(url, dir);
    try {
      expect((await again.holds()).map((h) => [h.id, h.caseId])).toEqual([
        [1, 1],
        [2, 2],
        [3, 2],
      ]);
      expect(
        (await again.addHolds([{ store: 'shop', table: 'orders', key: '4' }], { reason: 'new' })).case,
      ).toBe(3);
    } finally {
      await again.close();
    }
  });
});

describe('18.26 hold release by the command', () => {
  it('18.26 hold release of a row id, an unknown number or a released hold says "no hold N", exit 1, and releases nothing', async () => {
    const { config } = await shop(30, 3);
    const [a, b] = await customerEmails(config, 2);
    const add = await cli([
      '--config',
      config,
      'hold',
      'add',
      '--email',
      a?.email as string,
      '--reason',
      'case 1',
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^hold 1: \d+ records held/);
    const rows = Number(/^hold 1: (\d+) records/.exec(add.stdout)?.[1]);
    expect(rows).toBeGreaterThan(2);
    const next = await cli([
      '--config',
      config,
      'hold',
      'add',
      '--email',
      b?.email as string,
      '--reason',
      'case 2',
    ]);
    expect(next.stdout).toMatch(/^hold 2: /);
    const row = await cli(['--config', config, 'hold', 'release', '3']);
    expect(row.code).toBe(1);
    expect(row.stderr).toBe('registre: no hold 3: registre hold list --all shows every hold\n');
    expect((await cli(['--config', config, 'hold', 'release', '2'])).code).toBe(0);
    const released = await cli(['--config', config, 'hold', 'release', '2']);
    expect(released.code).toBe(1);
    expect(released.stderr).toMatch(/^registre: no hold 2 in force: it was released on /);
    const list = JSON.parse((await cli(['--config', config, 'hold', 'list', '--json'])).stdout);
    expect(list.map((h: { id: number }) => h.id)).toEqual([1]);
    expect(list[0].records).toHaveLength(rows);
    expect((await cli(['--config', config, 'audit', 'verify'])).code).toBe(0);
  });
});
