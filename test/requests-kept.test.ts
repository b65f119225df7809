/**
 * Issue 18, hardening of items 1, 4, 8, 9, 15 and 19 (and the errors of 18): a remembered record
 * is changed again only once proven still the person's, through ONE proof shared by erasure
 * replay, instructions and records kept for a hold (its fingerprint, then its identity or its
 * parent chain); keys are handed out again the way each database does after a restore (SQLite's
 * max + 1, a PostgreSQL sequence reset, MariaDB's AUTO_INCREMENT reset). Also: a restriction
 * added while a rectification waits to commit, a store failing during an erasure, what a
 * rectification leaves in the state store, and connection errors. On every dialect.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../src/adapters/sql/connect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { StateStore } from '../src/adapters/state/state-store.js';
import { ANOTHER_PERSON, NOT_THE_RECORD } from '../src/app/requests/proof.js';
import { formatReplay, formatRequestDetail } from '../src/cli/format/requests.js';
import { formatSweep } from '../src/cli/format/sweep.js';
import { DIALECTS, type TestDatabase } from './dialects.js';
import { lastCode } from './outbox.js';
import { AT, KEY, shop, withShop } from './shop-helpers.js';
import {
  openRequest,
  replayErasures,
  runAuditVerify,
  runHoldAdd,
  runHoldRelease,
  runRequest,
  runSweep,
  showRequest,
  verifyRequest,
  withState,
} from './use-cases.js';

const ts = (d: string) => `${d} 10:00:00`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Row = Record<string, unknown>;
type Conn = Parameters<Parameters<typeof withShop>[1]>[0];

/**
 * Inserts `row` under the key the database hands out next after a restore: SQLite gives
 * max(id) + 1 by itself (an INTEGER PRIMARY KEY without AUTOINCREMENT); on PostgreSQL the key's
 * sequence is reset to the restored rows' max (what restoring an older dump does); on MariaDB the
 * AUTO_INCREMENT counter is reset to max + 1 (as a restart does). Returns the key it got.
 */
async function insertReissued(conn: Conn, table: string, row: Row): Promise<number> {
  if (conn.dialect === 'sqlite') {
    await conn.db.insertInto(table).values(row).execute();
  } else if (conn.dialect === 'postgres') {
    const seq = `${table}_id_seq`;
    await sql.raw(`CREATE SEQUENCE IF NOT EXISTS ${seq} OWNED BY ${table}.id`).execute(conn.db);
    await sql.raw(`ALTER TABLE ${table} ALTER COLUMN id SET DEFAULT nextval('${seq}')`).execute(conn.db);
    await sql
      .raw(`SELECT setval('${seq}', (SELECT coalesce(max(id), 0) + 1 FROM ${table}), false)`)
      .execute(conn.db);
    await conn.db.insertInto(table).values(row).execute();
  } else {
    await sql.raw(`ALTER TABLE ${table} MODIFY id INT NOT NULL AUTO_INCREMENT`).execute(conn.db);
    await sql.raw(`ALTER TABLE ${table} AUTO_INCREMENT = 1`).execute(conn.db);
    await conn.db.insertInto(table).values(row).execute();
  }
  const got = await conn.db.selectFrom(table).select(sql<number>`max(id)`.as('m')).executeTakeFirst();
  return Number(got?.m);
}

async function ids(config: string, table: string): Promise<number[]> {
  return withShop(config, async (conn) =>
    (await conn.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => Number(r.id)),
  );
}

async function rowOf(config: string, table: string, id: number): Promise<Row | undefined> {
  return withShop(config, (conn) =>
    conn.db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst(),
  );
}

const customer = (id: number | undefined, email: string, created = '2025-01-10') => ({
  ...(id === undefined ? {} : { id }),
  email,
  first_name: 'F',
  last_name: `L${id ?? 'new'}`,
  address_line: `${id ?? 'new'} rue A`,
  created_at: ts(created),
});

describe.each(DIALECTS)("records proven still the person's (issue 18) on $name", (database: TestDatabase) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop().catch(() => {});
  });

  async function fresh(fill: (conn: Conn) => Promise<void>) {
    const created = await database.create();
    drops.push(created.drop);
    const made = await shop(0, 1, created.url);
    await withShop(made.config, fill);
    const verified = async (type: string, email: string, extra: Record<string, unknown> = {}) => {
      const opened = await openRequest(made.config, { type, email, today: AT, ...extra });
      await verifyRequest(made.config, opened.id, { code: lastCode(made.out) }, { today: AT });
      return opened.id;
    };
    return { config: made.config, dir: made.out, verified };
  }

  it(`18.1 replay skips a restored key now held by another customer (${database.name === 'sqlite' ? 'SQLite max+1' : database.name === 'mysql' ? 'AUTO_INCREMENT reset' : 'sequence reset on PostgreSQL'})`, async () => {
    const { config, verified } = await fresh(async (conn) => {
      await conn.db
        .insertInto('customers')
        .values([customer(1, 'jeanne@example.org'), customer(2, 'marc@example.org')])
        .execute();
      await conn.db
        .insertInto('satisfaction_calls')
        .values([
          { id: 1, customer_id: 1, called_at: ts('2026-07-01'), score: 4 },
          { id: 2, customer_id: 2, called_at: ts('2026-07-01'), score: 3 },
        ])
        .execute();
      await conn.db
        .insertInto('prospects')
        .values({ id: 1, email: 'marc@example.org', collected_at: ts('2025-06-01') })
        .execute();
    });
    const id = await verified('erasure', 'marc@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect((result.erased ?? []).map((e) => `${e.table}:${e.id}:${e.action}`).sort()).toEqual([
      'customers:2:delete',
      'prospects:1:delete',
      'satisfaction_calls:2:delete',
    ]);
    // After a restore, the database hands Marc's keys to Noémie, a new customer, and to her call,
    // whose fingerprint (its id, its customer's id, an empty comment) is the one Marc's call had.
    const reissued = await withShop(config, async (conn) => {
      const c = await insertReissued(
        conn,
        'customers',
        customer(undefined, 'noemie@example.org', '2026-11-20'),
      );
      const s = await insertReissued(conn, 'satisfaction_calls', {
        customer_id: c,
        called_at: ts('2026-11-21'),
        score: 5,
      });
      // And Marc's prospect row comes back as it was.
      await conn.db
        .insertInto('prospects')
        .values({ id: 1, email: 'marc@example.org', collected_at: ts('2025-06-01') })
        .execute();
      return { c, s };
    });
    expect(reissued).toEqual({ c: 2, s: 2 });
    const replay = await replayErasures(config, { today: AT });
    expect(replay.redone.map((r) => `${r.table}:${r.id}`)).toEqual(['prospects:1']);
    expect(replay.skipped.map((s) => `${s.table}:${s.id}:${s.why}`).sort()).toEqual([
      `customers:2:${NOT_THE_RECORD}`,
      `satisfaction_calls:2:${ANOTHER_PERSON}`,
    ]);
    expect(await ids(config, 'customers')).toEqual([1, 2]);
    expect(await ids(config, 'satisfaction_calls')).toEqual([1, 2]);
    expect(await ids(config, 'prospects')).toEqual([]);
    // erasure replay lists what it left.
    const text = formatReplay(replay, false);
    expect(text).toContain(`left satisfaction_calls 2 (request ${id}): ${ANOTHER_PERSON}`);
    expect(text).toContain(`left customers 2 (request ${id}): ${NOT_THE_RECORD}`);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });

  it("18.1 an instruction skips a forwarded dispute whose order's id now holds another end customer's order", async () => {
    const { config, verified } = await fresh(async (conn) => {
      await conn.db
        .insertInto('distributors')
        .values({
          id: 101,
          name: 'Distrib A',
          contract_started_at: ts('2020-01-01'),
          retention_months: 60,
          end_of_contract: 'delete',
        })
        .execute();
      await conn.db
        .insertInto('distributor_orders')
        .values({
          id: 1,
          distributor_id: 101,
          end_customer_email: 'end@example.org',
          placed_at: ts('2026-06-01'),
          status: 'delivered',
        })
        .execute();
      await conn.db
        .insertInto('supplier_disputes')
        .values({ id: 1, distributor_order_id: 1, supplier: 'S', opened_at: ts('2026-06-10') })
        .execute();
    });
    const id = await verified('erasure', 'end@example.org');
    const forwarded = await runRequest(config, id, { at: AT, today: AT });
    expect(forwarded.forwarded?.map((f) => `${f.table}:${f.id}`).sort()).toEqual([
      'distributor_orders:1',
      'supplier_disputes:1',
    ]);
    // The distributor's copy is restored from before the order; its keys are handed out again.
    const reissued = await withShop(config, async (conn) => {
      await conn.db.deleteFrom('supplier_disputes').execute();
      await conn.db.deleteFrom('distributor_orders').execute();
      const o = await insertReissued(conn, 'distributor_orders', {
        distributor_id: 101,
        end_customer_email: 'other@example.org',
        placed_at: ts('2026-11-20'),
        status: 'placed',
      });
      const d = await insertReissued(conn, 'supplier_disputes', {
        distributor_order_id: o,
        supplier: 'S',
        opened_at: ts('2026-11-21'),
      });
      return { o, d };
    });
    expect(reissued).toEqual({ o: 1, d: 1 });
    const done = await runRequest(config, id, { at: AT, today: AT, onBehalfOf: '101' });
    expect(done.erased).toEqual([]);
    expect(done.skipped).toEqual(
      expect.arrayContaining([
        { table: 'distributor_orders', id: '1', why: NOT_THE_RECORD },
        { table: 'supplier_disputes', id: '1', why: ANOTHER_PERSON },
      ]),
    );
    expect(await ids(config, 'distributor_orders')).toEqual([1]);
    expect(await ids(config, 'supplier_disputes')).toEqual([1]);
  });

  it("18.8 a record kept for a dispute whose customer's key now holds another person is left once the dispute ends: the sweep reports it, the request shows it as not proven erased", async () => {
    const { config, verified } = await fresh(async (conn) => {
      await conn.db
        .insertInto('customers')
        .values([customer(1, 'jeanne@example.org'), customer(2, 'paul@example.org', '2024-01-01')])
        .execute();
      await conn.db
        .insertInto('orders')
        .values({
          id: 3,
          customer_id: 2,
          channel: 'shop',
          placed_at: ts('2026-03-01'),
          status: 'delivered',
          total_cents: 1000,
          shipping_name: 'Paul',
          shipping_address: '2 rue A',
        })
        .execute();
      await conn.db
        .insertInto('claims')
        .values({ id: 2, order_id: 3, kind: 'dispute', opened_at: ts('2026-04-01'), resolved_at: null })
        .execute();
    });
    const id = await verified('erasure', 'paul@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect((result.kept ?? []).map((k) => `${k.table}:${k.id}:${k.afterHold}`).sort()).toEqual([
      'claims:2:delete',
      'customers:2:delete',
      'orders:3:anonymise',
    ]);
    // A restore of a copy from before Paul's account: his key goes to Zoé; the order and its
    // dispute (restored as they were: the same fingerprint) now lead to her.
    await withShop(config, async (conn) => {
      await conn.db.deleteFrom('customers').where('id', '=', 2).execute();
      expect(
        await insertReissued(conn, 'customers', customer(undefined, 'zoe@example.org', '2026-11-01')),
      ).toBe(2);
      await conn.db
        .updateTable('claims')
        .set({ resolved_at: ts('2026-11-26') })
        .where('id', '=', 2)
        .execute();
    });
    const sweep = await runSweep(config, { at: AT, today: AT });
    expect(sweep.afterHold).toBeUndefined();
    expect((sweep.afterHoldSkipped ?? []).map((s) => `${s.table}:${s.id}:${s.why}`).sort()).toEqual([
      `claims:2:${ANOTHER_PERSON}`,
      `customers:2:${NOT_THE_RECORD}`,
      `orders:3:${ANOTHER_PERSON}`,
    ]);
    expect(formatSweep(sweep)).toContain(
      `left orders 3 of erasure request ${id} (not that person's any more): ${ANOTHER_PERSON}`,
    );
    expect((await rowOf(config, 'orders', 3))?.shipping_name).toBe('Paul');
    expect(await ids(config, 'claims')).toEqual([2]);
    expect((await rowOf(config, 'customers', 2))?.email).toBe('zoe@example.org');
    // Remembered on the erasure and shown by the request: what could not be proven erased.
    const erasure = await withState(config, 'read', async (state) =>
      (await state.erasures()).find((e) => e.requestId === id),
    );
    expect(
      erasure?.records
        .filter((r) => r.unproven)
        .map((r) => `${r.table}:${r.key}:${r.unproven?.on}`)
        .sort(),
    ).toEqual([`claims:2:${AT}`, `customers:2:${AT}`, `orders:3:${AT}`]);
    const shown = await showRequest(config, id, AT);
    expect(formatRequestDetail(shown)).toContain(
      `orders 3, kept for a hold: not proven erased, left on ${AT}: ${ANOTHER_PERSON}`,
    );
    // Reported once by the sweep; erasure replay (after a restore) looks at them again.
    expect((await runSweep(config, { at: AT, today: AT })).afterHoldSkipped).toBeUndefined();
    const replay = await replayErasures(config, { today: AT });
    expect(replay.afterHoldSkipped?.map((s) => `${s.table}:${s.id}`).sort()).toEqual([
      'claims:2',
      'customers:2',
      'orders:3',
    ]);
    expect(formatReplay(replay, false)).toContain('left claims 2 of erasure request');
    expect((await rowOf(config, 'orders', 3))?.shipping_name).toBe('Paul');
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });

  it('18.8 a kept order whose customer the erasure deleted is proven through the erasure and anonymised by replay once its hold is released', async () => {
    const { config, verified } = await fresh(async (conn) => {
      await conn.db
        .insertInto('customers')
        .values(customer(7, 'ines@example.org', '2024-01-01'))
        .execute();
      await conn.db
        .insertInto('orders')
        .values({
          id: 8,
          customer_id: 7,
          channel: 'shop',
          placed_at: ts('2026-03-01'),
          status: 'delivered',
          total_cents: 1000,
          shipping_name: 'Inès',
          shipping_address: '7 rue A',
        })
        .execute();
    });
    const hold = await runHoldAdd(config, { table: 'orders', id: '8', reason: 'litigation', today: AT });
    const id = await verified('erasure', 'ines@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.erased?.map((e) => `${e.table}:${e.id}`)).toEqual(['customers:7']);
    expect(result.kept?.map((k) => `${k.table}:${k.id}:${k.afterHold}`)).toEqual(['orders:8:anonymise']);
    await runHoldRelease(config, hold.id);
    const replay = await replayErasures(config, { today: AT });
    expect(replay.afterHoldSkipped).toBeUndefined();
    expect(replay.afterHold?.map((r) => `${r.table}:${r.id}:${r.action}`)).toEqual(['orders:8:anonymise']);
    expect((await rowOf(config, 'orders', 8))?.shipping_name).toBeNull();
    const shown = await showRequest(config, id, AT);
    expect(formatRequestDetail(shown)).toContain(`orders 8, kept for a hold: erased on ${AT}, once it ended`);
  });

  it('18.4 a restriction added while a rectification is between its decision and its commit: the restricted records are not rewritten', async () => {
    const { config, dir, verified } = await fresh(async (conn) => {
      await conn.db.insertInto('customers').values(customer(5, 'rosa@example.org')).execute();
      await conn.db
        .insertInto('prospects')
        .values({ id: 5, email: 'rosa@example.org', last_name: 'Old', collected_at: ts('2025-06-01') })
        .execute();
    });
    const rectification = await verified('rectification', 'rosa@example.org', { set: ['last_name=Nouveau'] });
    const restriction = await verified('restriction', 'rosa@example.org');
    const pause = mkdtempSync(join(tmpdir(), 'registre-pause-'));
    process.env.REGISTRE_TEST_PAUSE_AT = 'request-before-commit';
    process.env.REGISTRE_TEST_PAUSE_DIR = pause;
    let rectified: Awaited<ReturnType<typeof runRequest>> | undefined;
    const running = runRequest(config, rectification, { at: AT, today: AT }).then((r) => {
      rectified = r;
    });
    try {
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(pause, 'request-before-commit.paused')) && Date.now() < deadline)
        await sleep(50);
      expect(existsSync(join(pause, 'request-before-commit.paused'))).toBe(true);
      delete process.env.REGISTRE_TEST_PAUSE_AT;
      // The restriction is recorded and waits for the rectification to read it.
      let restricted = false;
      const restricting =
        database.name === 'pglite'
          ? // One PGlite per data folder: the hold a restriction records, then its wait, without the shop.
            withState(config, 'write', async (state) => {
              const { recordHold } = await import('../src/app/holds.js');
              const { ids: held } = await recordHold(
                state,
                [
                  { store: 'shop', table: 'customers', key: '5' },
                  { store: 'shop', table: 'prospects', key: '5' },
                ],
                {
                  reason: `restriction of processing (art. 18), request ${restriction}`,
                  actor: 'test',
                  restriction: { request: restriction },
                },
              );
              await state.waitForSweeps(Math.max(...held));
            })
          : runRequest(config, restriction, { at: AT, today: AT });
      const restrictionDone = restricting.then(() => {
        restricted = true;
      });
      await sleep(800);
      expect(restricted).toBe(false);
      writeFileSync(join(pause, 'request-before-commit.go'), '');
      await Promise.all([running, restrictionDone]);
    } finally {
      delete process.env.REGISTRE_TEST_PAUSE_AT;
      delete process.env.REGISTRE_TEST_PAUSE_DIR;
      writeFileSync(join(pause, 'request-before-commit.go'), '');
      await running.catch(() => {});
    }
    expect(rectified?.rectified).toEqual([]);
    expect(rectified?.unchanged?.map((u) => `${u.table}:${u.id}`).sort()).toEqual([
      'customers:5',
      'prospects:5',
    ]);
    expect((await rowOf(config, 'customers', 5))?.last_name).toBe('L5');
    expect((await rowOf(config, 'prospects', 5))?.last_name).toBe('Old');
    expect(dir).toBeTruthy();
  });

  it('18.15 a store that fails during an erasure: E_STORE_FAILED says the request stays running and how to complete it; that run completes it', async () => {
    const { config, verified } = await fresh(async (conn) => {
      await conn.db.insertInto('customers').values(customer(4, 'fail@example.org')).execute();
      await conn.db
        .insertInto('prospects')
        .values({ id: 4, email: 'fail@example.org', collected_at: ts('2026-01-01') })
        .execute();
      if (conn.dialect === 'sqlite')
        await sql`CREATE TRIGGER refuse BEFORE DELETE ON prospects BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(
          conn.db,
        );
      else if (conn.dialect === 'postgres') {
        await sql
          .raw(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql",
          )
          .execute(conn.db);
        await sql
          .raw('CREATE TRIGGER refuse BEFORE DELETE ON prospects FOR EACH ROW EXECUTE FUNCTION refuse()')
          .execute(conn.db);
      } else
        await sql
          .raw(
            "CREATE TRIGGER refuse BEFORE DELETE ON prospects FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'disk full'",
          )
          .execute(conn.db);
    });
    const id = await verified('erasure', 'fail@example.org');
    const error = await runRequest(config, id, { at: AT, today: AT }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'E_STORE_FAILED' });
    expect((error as Error).message).toContain('rolled back');
    expect((error as Error).message).toContain(
      `the request stays running (its intent is logged): complete it with registre request run ${id}`,
    );
    expect((error as Error).message).not.toContain('fail@example.org');
    expect((await showRequest(config, id, AT)).status).toBe('running');
    expect(await ids(config, 'customers')).toEqual([4]);
    await withShop(config, async (conn) => {
      await sql
        .raw(conn.dialect === 'postgres' ? 'DROP TRIGGER refuse ON prospects' : 'DROP TRIGGER refuse')
        .execute(conn.db);
    });
    const done = await runRequest(config, id, { at: AT, today: AT });
    expect(done.resumed).toBe(true);
    expect(done.erased?.map((e) => `${e.table}:${e.id}`).sort()).toEqual(['customers:4', 'prospects:4']);
    expect((await showRequest(config, id, AT)).status).toBe('done');
  });

  it("18.19 a rectification's corrected values leave the state store once it is done: the fields and a keyed digest stay", async () => {
    const { config, verified } = await fresh(async (conn) => {
      await conn.db.insertInto('customers').values(customer(6, 'lena@example.org')).execute();
    });
    const id = await verified('rectification', 'lena@example.org', {
      set: ['last_name=Delacroix-Nouvelle', 'address_line=12 rue des Lilas'],
    });
    const before = await withState(config, 'read', (state) => state.request(id));
    expect(JSON.stringify(before?.details)).toContain('Delacroix-Nouvelle');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.rectified?.map((r) => `${r.table}:${r.id}:${[...r.fields].sort().join('+')}`)).toEqual([
      'customers:6:address_line+last_name',
    ]);
    expect((await rowOf(config, 'customers', 6))?.last_name).toBe('Delacroix-Nouvelle');
    const { row, log } = await withState(config, 'read', async (state) => ({
      row: await state.request(id),
      log: await state.auditEntries(),
    }));
    const details = row?.details as { set?: unknown; fields?: string[]; values?: string };
    expect(details.set).toBeUndefined();
    expect(details.fields).toEqual(['address_line', 'last_name']);
    // Keyed: the auditor with the key can check a value against it; nobody else can guess it.
    const digest = createHmac('sha256', KEY)
      .update(
        `registre digest\u0000${JSON.stringify([
          ['address_line', '12 rue des Lilas'],
          ['last_name', 'Delacroix-Nouvelle'],
        ])}`,
      )
      .digest('hex');
    expect(details.values).toBe(digest);
    const run = log.filter((e) => e.kind === 'request.run').pop();
    expect(run?.data).toMatchObject({ fields: ['address_line', 'last_name'], values: digest });
    const everything = `${JSON.stringify(row)}${JSON.stringify(log)}`;
    expect(everything).not.toContain('Delacroix-Nouvelle');
    expect(everything).not.toContain('Lilas');
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });
});

describe('errors from outside name no user, password or row', () => {
  it.each([
    [
      'postgres://alice:s3cret@127.0.0.1:1/shopdb?sslmode=disable',
      'postgres://127.0.0.1:1/shopdb',
      'ECONNREFUSED',
    ],
    ['mysql://bob:s3cret@127.0.0.1:1/shopdb', 'mysql://127.0.0.1:1/shopdb', 'ECONNREFUSED'],
    ['postgres://carol@127.0.0.1:1', 'postgres://127.0.0.1:1/', 'ECONNREFUSED'],
  ])(
    "18.18 a connection error names scheme://host:port/db and the driver's code only: %s",
    async (url, label, code) => {
      const error = await connect('shop', url).catch((e: Error) => e);
      expect(error).toMatchObject({ code: 'E_STORE_UNREACHABLE' });
      const message = (error as Error).message;
      expect(message).toBe(
        `store "shop" (${label}) cannot be reached: the server refused the connection (${code})`,
      );
      for (const secret of ['alice', 'bob', 'carol', 's3cret', 'sslmode'])
        expect(message).not.toContain(secret);
    },
  );

  it.skipIf(!process.env.REGISTRE_TEST_POSTGRES_URL)(
    "18.18 a refused login on the real PostgreSQL: the SQLSTATE, not the server's text naming the user",
    async () => {
      const base = new URL(process.env.REGISTRE_TEST_POSTGRES_URL as string);
      base.username = 'nobody_registre_test';
      base.password = 'wrong-password';
      const error = await connect('shop', base.toString()).catch((e: Error) => e);
      const message = (error as Error).message;
      expect(message).toMatch(/^store "shop" \(postgres:\/\/[^@]+\) cannot be reached: .*\(28[0-9A-Z]{3}\)$/);
      expect(message).not.toContain('nobody_registre_test');
      expect(message).not.toContain('wrong-password');
    },
  );

  it.skipIf(!process.env.REGISTRE_TEST_MYSQL_URL)(
    "18.18 a refused login on the real MariaDB: the driver's code, not the server's text naming the user",
    async () => {
      const base = new URL(process.env.REGISTRE_TEST_MYSQL_URL as string);
      base.username = 'nobody_registre_test';
      base.password = 'wrong-password';
      const error = await connect('shop', base.toString()).catch((e: Error) => e);
      const message = (error as Error).message;
      expect(message).toMatch(/^store "shop" \(mysql:\/\/[^@]+\) cannot be reached: .*\(ER_[A-Z_]+\)$/);
      expect(message).not.toContain('nobody_registre_test');
      expect(message).not.toContain('wrong-password');
    },
  );

  it("18.18 the state store's migration error passes no driver message through", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'registre-migrate-'));
    // A table of the state store's name that is not one: the migration's ALTER fails on it.
    const conn = await connect('state', 'sqlite:state.sqlite', { baseDir: dir, create: true });
    await sql`CREATE TABLE registre_migrations (name TEXT PRIMARY KEY, timestamp TEXT NOT NULL)`.execute(
      conn.db,
    );
    await sql`INSERT INTO registre_migrations VALUES ('9999_from_the_future_secret_row', 'x')`.execute(
      conn.db,
    );
    await conn.close();
    const error = await StateStore.open('sqlite:state.sqlite', dir).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'E_STATE_MIGRATION' });
    expect((error as Error).message).toContain('its record of migrations does not match this version');
    expect((error as Error).message).not.toContain('9999_from_the_future_secret_row');
  });
});
