import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { verdictQuery } from '../src/adapters/sql/plan.js';
import { type RetentionSqlContext, retentionContext } from '../src/adapters/sql/retention-sql.js';
import { recordHold } from '../src/app/holds.js';
import { openProject } from '../src/app/project.js';
import type { TableMap } from '../src/core/datamap/datamap-schema.js';
import { DIALECTS } from './dialects.js';

import { AT, hmac, ROOT, shop, shopIn, snapshot, withShop } from './shop-helpers.js';
import { runAuditVerify, runHoldAdd, runHoldRelease, runPlan, runSweep, withState } from './use-cases.js';

describe.each(DIALECTS)('sweep on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('applies exactly what plan reports, then nothing; an unsubscribed address ends on the suppression list', async () => {
    const { config } = await shopIn(database, 60, 4, drops);
    await withShop(config, (conn) =>
      conn.db
        .insertInto('newsletter_subscribers')
        .values({
          id: 900_001,
          email: ' Jeanne.Example@Mail.fr ',
          subscribed_at: '2025-01-04 10:00:00',
          unsubscribed_at: '2026-11-20 09:12:00',
        })
        .execute(),
    );
    // Rule 13: three years without a click end the subscription, but nobody objected: not listed.
    await withShop(config, (conn) =>
      conn.db
        .insertInto('newsletter_subscribers')
        .values({ id: 900_002, email: 'lapsed@example.org', subscribed_at: '2022-01-04 10:00:00' })
        .execute(),
    );
    const before = await runPlan(config, AT);
    const dry = await runSweep(config, { at: AT, dryRun: true, today: AT });
    const run = await runSweep(config, { at: AT, today: AT, batchSize: 37 });
    expect(dry.total).toBe(before.totals.due + before.totals.archive);
    expect(run.total).toBe(dry.total);
    expect(run.total).toBeGreaterThan(100);
    // Where the time went: choosing per table, changing and logging per rule and action that acted.
    for (const line of run.lines.filter((l) => l.count > 0))
      expect(run.timings).toContainEqual(
        expect.objectContaining({ table: line.table, rule: line.rule, action: line.action }),
      );
    const chosen = run.timings.filter((t) => t.rule === null).map((t) => t.table);
    expect(chosen).toEqual(expect.arrayContaining([...new Set(run.lines.map((l) => l.table))]));
    for (const t of run.timings)
      for (const ms of [t.select, t.write, t.audit]) expect(ms).toBeGreaterThanOrEqual(0);
    expect(run.timings.reduce((n, t) => n + t.write, 0)).toBeGreaterThan(0);
    const after = await runPlan(config, AT);
    expect(after.totals.due).toBe(0);
    expect(after.totals.held).toBe(before.totals.held);
    expect(after.totals.archive).toBe(before.totals.archive);
    expect((await runSweep(config, { at: AT, today: AT })).total).toBe(0);
    await withShop(config, async (conn) => {
      expect(
        await conn.db.selectFrom('newsletter_subscribers').select('id').where('id', '=', 900_001).execute(),
      ).toEqual([]);
      const listed = await conn.db
        .selectFrom('suppression_list')
        .select(['email_hmac', 'reason'])
        .where('email_hmac', '=', hmac('jeanne.example@mail.fr'))
        .execute();
      expect(listed).toEqual([{ email_hmac: hmac('jeanne.example@mail.fr'), reason: 'unsubscribe' }]);
      expect(
        await conn.db.selectFrom('newsletter_subscribers').select('id').where('id', '=', 900_002).execute(),
      ).toEqual([]);
      expect(
        await conn.db
          .selectFrom('suppression_list')
          .select('id')
          .where('email_hmac', '=', hmac('lapsed@example.org'))
          .execute(),
      ).toEqual([]);
    });
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });
});

describe.each(DIALECTS)('sweep on $name, record by record', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('removes exactly the due records, never a held one: manual holds on due records of every table, holds from the data, batches of 16', async () => {
    const { config } = await shopIn(database, 80, 5, drops);
    // Open disputes on the orders of old invoices: they hold the order, its payments and invoices.
    await withShop(config, async (conn) => {
      const old = await conn.db
        .selectFrom('invoices')
        .select('order_id')
        .where('issued_at', '<', '2016-01-01')
        .orderBy('id')
        .limit(2)
        .execute();
      expect(old).toHaveLength(2);
      for (const [i, o] of old.entries())
        await conn.db
          .insertInto('claims')
          .values({
            id: 900_100 + i,
            order_id: o.order_id,
            kind: 'dispute',
            opened_at: '2026-01-05 10:00:00',
            resolved_at: null,
            notes: 'litige',
          })
          .execute();
    });
    const project = await openProject(config);
    const verdicts = await withShop(config, async (conn) => {
      const ctx = await retentionContext(conn, project.register, project.datamap);
      const all = new Map<string, { table: string; id: string; status: string; action: string }>();
      for (const table of project.datamap.stores[0]?.tables ?? []) {
        if (!project.register.retention.some((r) => r.record === table.record)) continue;
        const { rows } = await sql<{ k: unknown; rule_index: unknown; status: string }>`${verdictQuery(
          ctx,
          table,
          AT,
        )}`.execute(conn.db);
        for (const r of rows) {
          const rule = project.register.retention[Number(r.rule_index)];
          all.set(`${table.name}:${String(r.k)}`, {
            table: table.name,
            id: String(r.k),
            status: r.status,
            action: rule?.then === undefined || rule.then === 'delete' ? 'delete' : 'anonymise',
          });
        }
      }
      return all;
    });
    // Two due records of each table held by hand (the first and the last due, across batches),
    // as one hold case.
    const held = new Set<string>();
    const records: { store: string; table: string; key: string }[] = [];
    const statuses = new Set<string>();
    for (const table of new Set([...verdicts.values()].map((v) => v.table))) {
      const due = [...verdicts.entries()].filter(([, v]) => v.table === table && v.status === 'due');
      for (const [key, v] of [due[0], due.at(-1)].filter((x) => x !== undefined)) {
        if (held.has(key)) continue;
        records.push({ store: 'shop', table: v.table, key: v.id });
        held.add(key);
      }
    }
    for (const v of verdicts.values()) statuses.add(v.status);
    await withState(config, 'write', (state) =>
      recordHold(state, records, { reason: 'case 2026-077', actor: 'test:suite' }),
    );
    expect(held.size).toBeGreaterThan(12);
    // Holds from the data too (open disputes, the orders they hold and their payments and invoices).
    expect([...statuses].sort()).toEqual(expect.arrayContaining(['active', 'due', 'held']));
    const before = await snapshot(config);
    const run = await runSweep(config, { at: AT, today: AT, batchSize: 16 });
    expect(run.total).toBeGreaterThan(100);
    const after = await snapshot(config);
    for (const [key, row] of before) {
      const v = verdicts.get(key);
      const now = after.get(key);
      if (!v || held.has(key) || !['due', 'archive'].includes(v.status))
        expect(now, `${key} (${v?.status})`).toBe(row);
      else if (v.status === 'due' && v.action === 'anonymise') {
        expect(now, key).toBeDefined();
        expect(now, key).not.toBe(row);
      } else expect(now, `${key} (${v.status})`).toBeUndefined();
    }
    for (const key of after.keys()) if (!before.has(key)) expect(key).toMatch(/^suppression_list:/);
    expect((await runSweep(config, { at: AT, today: AT })).total).toBe(0);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });
});

describe.each(DIALECTS.filter((d) => d.name !== 'sqlite'))('sweep on $name with text keys', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('deletes exactly the due visits when their key is text (MySQL orders it by collation: the usual path)', async () => {
    const { config } = await shopIn(database, 20, 6, drops);
    await withShop(config, (conn) =>
      sql
        .raw(
          conn.dialect === 'postgres'
            ? 'ALTER TABLE web_visits ALTER COLUMN id TYPE text'
            : 'ALTER TABLE web_visits MODIFY id varchar(20) NOT NULL',
        )
        .execute(conn.db),
    );
    const project = await openProject(config);
    const due = await withShop(config, async (conn) => {
      const ctx = await retentionContext(conn, project.register, project.datamap);
      const table = project.datamap.stores[0]?.tables.find((t) => t.name === 'web_visits');
      if (!table) throw new Error('no web_visits');
      const { rows } = await sql<{ k: unknown; status: string }>`${verdictQuery(ctx, table, AT)}`.execute(
        conn.db,
      );
      return new Set(rows.filter((r) => r.status === 'due').map((r) => String(r.k)));
    });
    const before = await withShop(config, (conn) => conn.db.selectFrom('web_visits').select('id').execute());
    expect(due.size).toBeGreaterThan(20);
    expect(due.size).toBeLessThan(before.length);
    const run = await runSweep(config, { at: AT, today: AT, batchSize: 7 });
    expect(run.lines.find((l) => l.table === 'web_visits')?.count).toBe(due.size);
    const left = await withShop(config, (conn) => conn.db.selectFrom('web_visits').select('id').execute());
    expect(left.map((r) => String(r.id)).sort()).toEqual(
      before
        .map((r) => String(r.id))
        .filter((id) => !due.has(id))
        .sort(),
    );
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });
});

describe.each(DIALECTS.filter((d) => d.name !== 'sqlite'))(
  'sweep in place on $name, a row refused',
  (database) => {
    const drops: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const d of drops) await d();
    });

    it('a visit the database refuses to delete is skipped and logged; the batch goes on row by row, the other due visits go', async () => {
      const { config } = await shopIn(database, 20, 8, drops);
      const project = await openProject(config);
      const due = await withShop(config, async (conn) => {
        const ctx = await retentionContext(conn, project.register, project.datamap);
        const table = project.datamap.stores[0]?.tables.find((t) => t.name === 'web_visits') as TableMap;
        const { rows } = await sql<{ k: unknown; status: string }>`${verdictQuery(ctx, table, AT)}`.execute(
          conn.db,
        );
        return rows.filter((r) => r.status === 'due').map((r) => String(r.k));
      });
      expect(due.length).toBeGreaterThan(20);
      const refused = due[Math.floor(due.length / 2)] as string;
      await withShop(config, async (conn) => {
        if (conn.dialect === 'postgres') {
          await sql
            .raw(
              `CREATE FUNCTION refuse_visit() RETURNS trigger AS $$ BEGIN IF OLD.id = ${Number(refused)} THEN RAISE EXCEPTION 'refused'; END IF; RETURN OLD; END $$ LANGUAGE plpgsql`,
            )
            .execute(conn.db);
          await sql
            .raw(
              'CREATE TRIGGER refuse BEFORE DELETE ON web_visits FOR EACH ROW EXECUTE FUNCTION refuse_visit()',
            )
            .execute(conn.db);
        } else
          await sql
            .raw(
              `CREATE TRIGGER refuse BEFORE DELETE ON web_visits FOR EACH ROW BEGIN IF OLD.id = ${Number(refused)} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END`,
            )
            .execute(conn.db);
      });
      const run = await runSweep(config, { at: AT, today: AT, batchSize: 50 });
      expect(run.skipped.map((x) => `${x.table}:${x.key}`)).toEqual([`web_visits:${refused}`]);
      expect(run.lines.find((l) => l.table === 'web_visits')?.count).toBe(due.length - 1);
      const left = await withShop(config, (conn) => conn.db.selectFrom('web_visits').select('id').execute());
      const ids = new Set(left.map((r) => String(r.id)));
      expect(due.filter((k) => ids.has(k))).toEqual([refused]);
      expect((await runAuditVerify(config)).problems).toEqual([]);
    });
  },
);

describe('sweep invariants (fast-check, SQLite)', () => {
  it('removes exactly the due records, never a held one, never one before its deadline; a second run changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 3000 }),
        async (seed, daysBack) => {
          const at = new Date(Date.parse(`${AT}T00:00:00Z`) - daysBack * 86_400_000)
            .toISOString()
            .slice(0, 10);
          const { config } = await shop(25, seed);
          const project = await openProject(config);
          const verdicts = await withShop(config, async (conn) => {
            const ctx: RetentionSqlContext = {
              register: project.register,
              datamap: project.datamap,
              dialect: conn.dialect,
            };
            const all = new Map<string, { status: string; action: string }>();
            for (const table of project.datamap.stores[0]?.tables ?? []) {
              if (!project.register.retention.some((r) => r.record === table.record)) continue;
              const { rows } = await sql<{
                k: unknown;
                rule_index: unknown;
                status: string;
              }>`${verdictQuery(ctx, table, at)}`.execute(conn.db);
              for (const r of rows) {
                const rule = project.register.retention[Number(r.rule_index)];
                all.set(`${table.name}:${String(r.k)}`, {
                  status: r.status,
                  action: rule?.then === undefined || rule.then === 'delete' ? 'delete' : 'anonymise',
                });
              }
            }
            return all;
          });
          const before = await snapshot(config);
          await runSweep(config, { at, today: AT, batchSize: 16 });
          const after = await snapshot(config);
          for (const [key, row] of before) {
            const v = verdicts.get(key);
            const now = after.get(key);
            if (!v || v.status === 'active' || v.status === 'held' || v.status === 'anonymised')
              expect(now, key).toBe(row);
            else if (v.status === 'due' && v.action === 'anonymise') {
              expect(now, key).toBeDefined();
              expect(now, key).not.toBe(row);
            } else expect(now, `${key} (${v.status})`).toBeUndefined();
          }
          for (const key of after.keys()) if (!before.has(key)) expect(key).toMatch(/^suppression_list:/);
          expect((await runSweep(config, { at, today: AT })).total).toBe(0);
          expect(await snapshot(config)).toEqual(after);
        },
      ),
      { numRuns: 5, seed: 7 },
    );
  });
});

describe('holds, files, return packages, audit (SQLite)', () => {
  it('a manual hold keeps a due record until it is released; both are in the audit log', async () => {
    const { config } = await shop(10, 3);
    const due = await withShop(config, (conn) =>
      conn.db
        .selectFrom('web_visits')
        .select('id')
        .where('occurred_at', '<', '2020-01-01')
        .orderBy('id')
        .limit(1)
        .executeTakeFirstOrThrow(),
    );
    const { id: hold } = await runHoldAdd(config, {
      table: 'web_visits',
      id: String(due.id),
      reason: 'case 2026-041',
    });
    expect((await runPlan(config, AT)).rules.find((l) => l.rule === 'web-visits')?.held).toBe(1);
    await runSweep(config, { at: AT, today: AT });
    const kept = await withShop(config, (conn) =>
      conn.db.selectFrom('web_visits').select('id').where('id', '=', due.id).execute(),
    );
    expect(kept).toHaveLength(1);
    await runHoldRelease(config, hold as number);
    expect((await runSweep(config, { at: AT, today: AT })).total).toBe(1);
    const audit = readFileSync(join(readConfig(config).dir, '.registre', 'state.sqlite'));
    expect(audit.length).toBeGreaterThan(0);
    expect((await runAuditVerify(config)).problems).toEqual([]);
    await expect(runHoldRelease(config, hold as number)).rejects.toThrow(/was released/);
    await expect(runHoldAdd(config, { table: 'web_visits', id: '999999', reason: 'x' })).rejects.toThrow(
      'no record with id = 999999',
    );
  });

  it('files named by a deleted record go with it; a distributor that chose "return" gets its data first', async () => {
    const { out, config } = await shop(400, 9);
    const project = await openProject(config);
    const files = await withShop(config, async (conn) => {
      const ctx: RetentionSqlContext = {
        register: project.register,
        datamap: project.datamap,
        dialect: conn.dialect,
      };
      const table = project.datamap.stores[0]?.tables.find((t) => t.name === 'candidates');
      if (!table) throw new Error('no candidates');
      const { rows } = await sql<{ k: number; status: string }>`${verdictQuery(ctx, table, AT)}`.execute(
        conn.db,
      );
      const dueIds = rows.filter((r) => r.status === 'due').map((r) => r.k);
      const paths = await conn.db
        .selectFrom('candidates')
        .select('cv_path')
        .where('id', 'in', dueIds)
        .where('cv_path', 'is not', null)
        .execute();
      return paths.map((p) => join(out, 'media', String(p.cv_path)));
    });
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(f)).toBe(true);
    await runSweep(config, { at: AT, today: AT });
    for (const f of files) expect(existsSync(f)).toBe(false);
    const returns = join(out, 'returns');
    const packages = readdirSync(returns);
    expect(packages.length).toBeGreaterThan(0);
    const first = join(returns, packages[0] as string);
    const names = readdirSync(first);
    expect(names.some((n) => n.endsWith('.json'))).toBe(true);
    // The house CSV, as every CSV of registre: a byte order mark, ";" between cells, CRLF.
    const csv = readFileSync(join(first, names.find((n) => n.endsWith('.csv')) as string), 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv.split('\r\n')[0]).toContain(';end_customer_email;');
    const data = JSON.parse(
      readFileSync(join(first, names.find((n) => n.endsWith('.json')) as string), 'utf8'),
    );
    expect(data[0]).toHaveProperty('end_customer_email');
  });
});

/** Kills a sweep once it has logged `batches` batches (and is in the middle of more). */
async function killAfterBatches(child: ChildProcess, stateFile: string, batches: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    await new Promise((r) => setTimeout(r, 25));
    if (!existsSync(stateFile)) continue;
    const db = new Database(stateFile, { readonly: true, fileMustExist: true });
    try {
      const n = (
        db.prepare(`SELECT count(*) AS n FROM audit_log WHERE kind = 'sweep.batch'`).get() as { n: number }
      ).n;
      if (n >= batches) break;
    } catch {
      // the table is not there yet
    } finally {
      db.close();
    }
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

/** The kinds of the state store's audit entries, in order. */
function auditKinds(stateFile: string): string[] {
  const db = new Database(stateFile, { readonly: true });
  try {
    return (db.prepare('SELECT kind FROM audit_log ORDER BY position').all() as { kind: string }[]).map(
      (r) => r.kind,
    );
  } finally {
    db.close();
  }
}

describe('a sweep killed with SIGKILL and run again', () => {
  it('ends in the state of an uninterrupted sweep, and its audit log tells what happened', async () => {
    const a = await shop(1500, 21);
    const b = await shop(1500, 21);
    expect(await snapshot(b.config)).toEqual(await snapshot(a.config));
    await runSweep(a.config, { at: AT, today: AT, batchSize: 25 });
    const bin = join(ROOT, 'bin', 'registre.js');
    const child: ChildProcess = spawn(
      process.execPath,
      [bin, 'sweep', '--at', AT, '--batch-size', '25', '--config', b.config],
      { stdio: 'ignore', env: process.env },
    );
    const stateFile = join(b.out, '.registre', 'state.sqlite');
    await killAfterBatches(child, stateFile, 8);
    const partial = await snapshot(b.config);
    expect(partial).not.toEqual(await snapshot(a.config));
    await runSweep(b.config, { at: AT, today: AT, batchSize: 25 });
    const [sa, sb] = [await snapshot(a.config), await snapshot(b.config)];
    const differ = [...new Set([...sa.keys(), ...sb.keys()])].filter((k) => sa.get(k) !== sb.get(k));
    expect(differ.slice(0, 5).map((k) => [k, sa.get(k), sb.get(k)])).toEqual([]);
    expect(sb).toEqual(sa);
    const archived = (dir: string) => {
      const db = new Database(join(dir, '.registre', 'archive.sqlite'), { readonly: true });
      const rows = db
        .prepare(
          'SELECT record_key, rule, deadline, email, first_name, last_name, created_at, closed_at FROM shop__customers ORDER BY record_key',
        )
        .all();
      db.close();
      return rows;
    };
    expect(archived(b.out)).toEqual(archived(a.out));
    expect(archived(a.out).length).toBeGreaterThan(10);
    const media = (dir: string) => readdirSync(join(dir, 'media', 'cv')).sort();
    expect(media(b.out)).toEqual(media(a.out));
    const verify = await runAuditVerify(b.config);
    expect(verify.problems).toEqual([]);
    const kinds = auditKinds(stateFile);
    expect(kinds).toContain('sweep.interrupted');
    expect(kinds.filter((k) => k === 'sweep.start')).toHaveLength(2);
    expect(kinds[kinds.length - 1]).toBe('sweep.done');
  }, 120_000);
});

describe.each(DIALECTS.filter((d) => d.name === 'postgres' || d.name === 'mysql'))(
  'a sweep in place on $name killed with SIGKILL and run again',
  (database) => {
    const drops: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const d of drops) await d();
    });

    it('ends in the state of an uninterrupted sweep, and its audit log tells what happened', async () => {
      const a = await shopIn(database, 600, 22, drops);
      const b = await shopIn(database, 600, 22, drops);
      expect(await snapshot(b.config)).toEqual(await snapshot(a.config));
      await runSweep(a.config, { at: AT, today: AT, batchSize: 25 });
      const child: ChildProcess = spawn(
        process.execPath,
        [join(ROOT, 'bin', 'registre.js'), 'sweep', '--at', AT, '--batch-size', '25', '--config', b.config],
        { stdio: 'ignore', env: process.env },
      );
      const stateFile = join(b.out, '.registre', 'state.sqlite');
      await killAfterBatches(child, stateFile, 8);
      expect(await snapshot(b.config)).not.toEqual(await snapshot(a.config));
      await runSweep(b.config, { at: AT, today: AT, batchSize: 25 });
      const [sa, sb] = [await snapshot(a.config), await snapshot(b.config)];
      const differ = [...new Set([...sa.keys(), ...sb.keys()])].filter((k) => sa.get(k) !== sb.get(k));
      expect(differ.slice(0, 5).map((k) => [k, sa.get(k), sb.get(k)])).toEqual([]);
      expect((await runAuditVerify(b.config)).problems).toEqual([]);
      const kinds = auditKinds(stateFile);
      expect(kinds).toContain('sweep.interrupted');
      expect(kinds[kinds.length - 1]).toBe('sweep.done');
    }, 120_000);
  },
);

describe.runIf(process.env.REGISTRE_TEST_POSTGRES_URL)('a database that goes away mid-sweep', () => {
  it('stops the sweep with a clear error naming the store, and leaves no batch half-applied', async () => {
    const base = process.env.REGISTRE_TEST_POSTGRES_URL as string;
    const database = DIALECTS.find((d) => d.name === 'postgres');
    if (!database) throw new Error('REGISTRE_TEST_POSTGRES_URL is set, DIALECTS should have postgres');
    const created = await database.create();
    const app = `registre_sweep_${process.pid}`;
    const url = `${created.url}&application_name=${app}`;
    const { config } = await shop(400, 13, url);
    const before = await snapshot(config);
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    const stateFile = join(readConfig(config).dir, '.registre', 'state.sqlite');
    let killed = false;
    const killer = (async () => {
      // Once 3 batches are in, the server ends the sweep's connections again and again: an idle one
      // the pool just replaces, so it is the one a query is running on that stops the sweep.
      for (let i = 0; i < 6000 && !killed; i++) {
        await new Promise((r) => setTimeout(r, 10));
        if (!existsSync(stateFile)) continue;
        const db = new Database(stateFile, { readonly: true });
        let n = 0;
        try {
          n = (
            db.prepare(`SELECT count(*) AS n FROM audit_log WHERE kind = 'sweep.batch'`).get() as {
              n: number;
            }
          ).n;
        } catch {
          n = 0;
        } finally {
          db.close();
        }
        if (n >= 3)
          await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
            [app],
          );
      }
    })();
    const error = await runSweep(config, { at: AT, today: AT, batchSize: 10 }).catch((e: Error) => e);
    killed = true;
    await killer;
    await admin.end();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^store "shop" \(postgres:\/\/.*\) failed during the sweep: /);
    // Every batch the log says was applied is applied whole; the others not at all.
    const after = await snapshot(config);
    const changed = [...before.keys()].filter((k) => after.get(k) !== before.get(k)).length;
    const db = new Database(stateFile, { readonly: true });
    const logged = (
      db.prepare(`SELECT data FROM audit_log WHERE kind = 'sweep.batch'`).all() as { data: string }[]
    ).reduce((n, r) => n + (JSON.parse(r.data).count as number), 0);
    const entries = db.prepare('SELECT kind, data FROM audit_log ORDER BY position').all() as {
      kind: string;
      data: string;
    }[];
    const kinds = entries.map((r) => r.kind);
    db.close();
    // A connection ended during COMMIT leaves the last intent applied whole or not at all.
    const lastIntent = entries.filter((e) => e.kind === 'sweep.intent').pop();
    const pending =
      kinds.lastIndexOf('sweep.intent') > kinds.lastIndexOf('sweep.batch') && lastIntent
        ? (JSON.parse(lastIntent.data).count as number)
        : 0;
    expect([logged, logged + pending]).toContain(changed);
    expect(kinds[kinds.length - 1]).toBe('sweep.failed');
    // Run again with the database back: it finishes the work.
    await runSweep(config, { at: AT, today: AT });
    expect((await runPlan(config, AT)).totals.due).toBe(0);
    await created.drop();
  }, 180_000);
});

describe('the lock, the status, holds by e-mail, archive reads (SQLite)', () => {
  it('a second sweep is refused while one holds the lock, and status shows who holds it', async () => {
    const { config } = await shop(5, 6);
    const { openState } = await import('./use-cases.js');
    const { runStatus } = await import('./use-cases.js');
    const state = await openState(await openProject(config), 'write');
    const lock = await state.lock('sweep:shop');
    await expect(runSweep(config, { at: AT, today: AT })).rejects.toThrow(
      /^another sweep is running \(.* pid \d+, since /,
    );
    expect((await runStatus(config)).locks).toMatchObject([{ name: 'sweep:shop', holder: lock.holder }]);
    await lock.release();
    await state.close();
    expect((await runSweep(config, { at: AT, today: AT })).run).toBe(1);
    const status = await runStatus(config);
    expect(status.locks).toEqual([]);
    expect(status.runs[0]).toMatchObject({ id: 1, at: AT, status: 'done' });
  });

  it('a sweep after today is refused unless it is a dry run; a dry run changes nothing', async () => {
    const { config } = await shop(5, 6);
    await expect(runSweep(config, { at: '2027-01-01', today: AT })).rejects.toThrow(
      '--at 2027-01-01 is after today (2026-11-27)',
    );
    const before = await snapshot(config);
    expect((await runSweep(config, { at: AT, today: AT, dryRun: true })).total).toBeGreaterThan(0);
    expect(await snapshot(config)).toEqual(before);
    expect((await runSweep(config, { at: '2027-01-01', today: AT, dryRun: true })).total).toBeGreaterThan(0);
  });

  it('hold add --email holds every record of the person; an archive read is logged', async () => {
    const { config } = await shop(30, 8);
    const email = await withShop(config, async (conn) => {
      const row = await conn.db
        .selectFrom('customers')
        .innerJoin('orders', 'orders.customer_id', 'customers.id')
        .select('customers.email')
        .where('orders.placed_at', '<', '2020-01-01')
        .limit(1)
        .executeTakeFirstOrThrow();
      return String(row.email);
    });
    const { records: ids } = await runHoldAdd(config, {
      email: ` ${email.toUpperCase()} `,
      reason: 'case 77',
      until: '2030-01-01',
    });
    expect(ids.length).toBeGreaterThan(1);
    const { runExplain } = await import('./use-cases.js');
    for (const record of await runExplain(config, { email, at: AT }))
      expect(record.status, `${record.table} ${record.id}`).toBe('held');
    await runSweep(config, { at: AT, today: AT });
    const { runArchiveRead, runAuditExport } = await import('./use-cases.js');
    const archived = await runArchiveRead(config, 'customers', undefined, 'audit of the archive, ticket 12');
    expect(Array.isArray(archived)).toBe(true);
    const log = await runAuditExport(config);
    expect(log).toContain('"kind":"hold.add"');
    expect(log).toContain('"kind":"archive.read"');
    expect(log).not.toContain(email);
    expect(log.toLowerCase()).not.toContain(email.toLowerCase());
    await expect(runArchiveRead(config, 'customers', undefined, ' ')).rejects.toThrow(
      '--reason must say why',
    );
  });
});
