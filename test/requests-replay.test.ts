/**
 * Issue 18, items 1, 8 and 9: erasure replay and instructions act on a record proven still the
 * person's (its fingerprint), never on a key now someone else's; what an erasure kept for a hold
 * is erased once the hold ends; replay covers the archive and reads hashes through the key ring.
 * On every dialect.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveTableName } from '../src/adapters/sql/sweep.js';
import { openProject } from '../src/app/project.js';
import { DIALECTS } from './dialects.js';
import { withShop } from './shop-helpers.js';
import {
  openArchive,
  openRequest,
  replayErasures,
  runAuditVerify,
  runDemo,
  runHoldAdd,
  runHoldRelease,
  runKeyRotate,
  runRequest,
  runSweep,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const AT = '2026-11-27';
const KEY = 'replay-key-0123456789-abcdefghijklmnopqrstu';
const NEW_KEY = 'replay-new-key-0123456789-abcdefghijklmnopq';
const hmac = (key: string, email: string) => createHmac('sha256', key).update(email).digest('hex');
const ts = (d: string) => `${d} 10:00:00`;

type Row = Record<string, unknown>;

async function fill(config: string): Promise<void> {
  await withShop(config, async (conn) => {
    const insert = (table: string, rows: Row[]) => conn.db.insertInto(table).values(rows).execute();
    const customer = (id: number, email: string, created: string) => ({
      id,
      email,
      first_name: 'F',
      last_name: `L${id}`,
      address_line: `${id} rue A`,
      created_at: ts(created),
    });
    await insert('customers', [
      customer(1, 'jeanne@example.org', '2025-01-10'),
      customer(2, 'paul@example.org', '2024-01-01'),
      customer(3, 'claire@example.org', '2025-01-01'),
      customer(4, 'marc@example.org', '2025-02-01'),
      customer(9, 'lea@example.org', '2019-01-10'),
    ]);
    const order = (id: number, customer_id: number, placed: string) => ({
      id,
      customer_id,
      channel: 'shop',
      placed_at: ts(placed),
      status: 'delivered',
      total_cents: 1000,
      shipping_name: `N${customer_id}`,
      shipping_address: `${customer_id} rue A`,
    });
    await insert('orders', [
      order(1, 1, '2026-06-01'),
      order(3, 2, '2026-03-01'),
      order(5, 3, '2026-01-01'),
      order(9, 9, '2023-06-01'),
    ]);
    await insert('claims', [
      { id: 2, order_id: 3, kind: 'dispute', opened_at: ts('2026-04-01'), resolved_at: null },
    ]);
    await insert('satisfaction_calls', [{ id: 1, customer_id: 1, called_at: ts('2026-07-01'), score: 4 }]);
    await insert('prospects', [{ id: 1, email: 'jeanne@example.org', collected_at: ts('2025-06-01') }]);
    await insert('distributors', [
      {
        id: 101,
        name: 'Distrib A',
        contract_started_at: ts('2020-01-01'),
        retention_months: 60,
        end_of_contract: 'delete',
      },
    ]);
    await insert('distributor_orders', [
      {
        id: 2,
        distributor_id: 101,
        end_customer_email: 'end@example.org',
        placed_at: ts('2026-06-01'),
        status: 'delivered',
      },
    ]);
  });
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

function lastCode(dir: string): string {
  const outbox = join(dir, '.registre', 'outbox');
  const newest = readdirSync(outbox).sort().pop() as string;
  const match = /verification code is (\d{6})/.exec(readFileSync(join(outbox, newest), 'utf8'));
  if (!match) throw new Error('no code in the outbox');
  return match[1] as string;
}

/** The archive store's rows of a shop table. */
async function withArchive<T>(
  config: string,
  table: string,
  f: (db: Awaited<ReturnType<typeof openArchive>>['db'], name: string) => Promise<T>,
): Promise<T> {
  const project = await openProject(config);
  const store = project.datamap.stores[0] as (typeof project.datamap.stores)[number];
  const archive = await openArchive(project);
  try {
    return await f(archive.db, archiveTableName(store, store.tables.find((t) => t.name === table) as never));
  } finally {
    await archive.close();
  }
}

describe.each(DIALECTS)('erasure replay and instructions (issue 18) on $name', (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  const verified = async (type: string, email: string) => {
    const opened = await openRequest(config, { type, email, today: AT });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    return opened.id;
  };

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    dir = mkdtempSync(join(tmpdir(), `registre-replay-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_REPLAY_KEY = KEY;
    process.env.REGISTRE_REPLAY_NEW_KEY = NEW_KEY;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_REPLAY_KEY'),
    );
    await fill(config);
    // Léa's account has had no activity since 2023: the sweep moves it to the archive.
    await runSweep(config, { at: AT, today: AT });
    expect(await ids(config, 'customers')).toEqual([1, 2, 3, 4]);
  });
  afterAll(() => drop());

  it("18.1 replay leaves a key that now holds another customer's record (satisfaction call, order)", async () => {
    const id = await verified('erasure', 'jeanne@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect((result.erased ?? []).map((e) => `${e.table}:${e.id}:${e.action}`).sort()).toEqual([
      'customers:1:delete',
      'orders:1:anonymise',
      'prospects:1:delete',
      'satisfaction_calls:1:delete',
    ]);
    // A restore of an older copy, then new records for Claire that take the freed ids.
    await withShop(config, async (conn) => {
      await conn.db.deleteFrom('orders').where('id', '=', 1).execute();
      await conn.db
        .insertInto('orders')
        .values({
          id: 1,
          customer_id: 3,
          channel: 'shop',
          placed_at: ts('2026-11-20'),
          status: 'placed',
          total_cents: 500,
          shipping_name: 'Claire',
          shipping_address: '3 rue A',
        })
        .execute();
      await conn.db
        .insertInto('satisfaction_calls')
        .values({ id: 1, customer_id: 3, called_at: ts('2026-11-20'), score: 5 })
        .execute();
      // And Jeanne's prospect row is back as it was.
      await conn.db
        .insertInto('prospects')
        .values({ id: 1, email: 'jeanne@example.org', collected_at: ts('2025-06-01') })
        .execute();
    });
    const replay = await replayErasures(config, { today: AT });
    expect(replay.redone.map((r) => `${r.table}:${r.id}`)).toEqual(['prospects:1']);
    expect(replay.skipped.map((s) => `${s.table}:${s.id}:${s.why}`).sort()).toEqual([
      'orders:1:the key now holds another record',
      'satisfaction_calls:1:the key now holds another record',
    ]);
    expect(await ids(config, 'satisfaction_calls')).toEqual([1]);
    expect((await rowOf(config, 'orders', 1))?.shipping_name).toBe('Claire');
    expect(await ids(config, 'prospects')).toEqual([]);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });

  it("18.1 an instruction leaves a forwarded order's id now holding another end customer's order", async () => {
    const id = await verified('erasure', 'end@example.org');
    const forwarded = await runRequest(config, id, { at: AT, today: AT });
    expect(forwarded.forwarded?.map((f) => `${f.table}:${f.id}`)).toEqual(['distributor_orders:2']);
    await withShop(config, async (conn) => {
      await conn.db.deleteFrom('distributor_orders').where('id', '=', 2).execute();
      await conn.db
        .insertInto('distributor_orders')
        .values({
          id: 2,
          distributor_id: 101,
          end_customer_email: 'other@example.org',
          placed_at: ts('2026-11-20'),
          status: 'placed',
        })
        .execute();
    });
    const done = await runRequest(config, id, { at: AT, today: AT, onBehalfOf: '101' });
    expect(done.erased).toEqual([]);
    expect(done.skipped).toEqual([
      { table: 'distributor_orders', id: '2', why: 'the key now holds another record' },
    ]);
    expect(await ids(config, 'distributor_orders')).toEqual([2]);
  });

  it('18.8 a customer kept for a dispute is erased by the sweep once the dispute is resolved; request show says so', async () => {
    const id = await verified('erasure', 'paul@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect((result.kept ?? []).map((k) => `${k.table}:${k.id}:${k.basis}:${k.afterHold}`).sort()).toEqual([
      'claims:2:17(3)(e):delete',
      'customers:2:17(3)(e):delete',
      'orders:3:17(3)(e):anonymise',
    ]);
    // The dispute is open: the sweep leaves them.
    await runSweep(config, { at: AT, today: AT });
    expect(await ids(config, 'customers')).toContain(2);
    await withShop(config, (conn) =>
      conn.db
        .updateTable('claims')
        .set({ resolved_at: ts('2026-11-26') })
        .where('id', '=', 2)
        .execute(),
    );
    const sweep = await runSweep(config, { at: AT, today: AT });
    expect(sweep.afterHold).toBe(3);
    expect(await ids(config, 'customers')).not.toContain(2);
    expect(await ids(config, 'claims')).toEqual([]);
    expect((await rowOf(config, 'orders', 3))?.shipping_name).toBeNull();
    const shown = await showRequest(config, id, AT);
    const kept = (shown.outcome as { kept: { table: string; erasedOn?: string }[] }).kept;
    expect(kept.map((k) => `${k.table}:${k.erasedOn}`).sort()).toEqual([
      `claims:${AT}`,
      `customers:${AT}`,
      `orders:${AT}`,
    ]);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  });

  it('18.8 a customer kept for a manual hold is erased by erasure replay once the hold is released', async () => {
    const hold = await runHoldAdd(config, { table: 'customers', id: '4', reason: 'litigation', today: AT });
    const id = await verified('erasure', 'marc@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect((result.kept ?? []).map((k) => `${k.table}:${k.id}:${k.afterHold}`)).toEqual([
      'customers:4:delete',
    ]);
    expect((await replayErasures(config, { today: AT })).afterHold).toBeUndefined();
    expect(await ids(config, 'customers')).toContain(4);
    await runHoldRelease(config, hold.id);
    const replay = await replayErasures(config, { today: AT });
    expect(replay.afterHold?.map((r) => `${r.table}:${r.id}:${r.action}`)).toEqual(['customers:4:delete']);
    expect(await ids(config, 'customers')).not.toContain(4);
  });

  it('18.9 replay erases a restored archived record, and after key rotate proves and suppresses with the key in force', async () => {
    const archived = await withArchive(config, 'customers', (db, name) =>
      db.selectFrom(name).selectAll().where('record_key', '=', '9').execute(),
    );
    expect(archived).toHaveLength(1);
    const id = await verified('erasure', 'lea@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.erased?.map((e) => `${e.table}:${e.id}${e.archived ? '@archive' : ''}`)).toContain(
      'customers:9@archive',
    );
    // The key is rotated; then the archive store and the shop are restored from before the erasure.
    await runKeyRotate(config, 'env:REGISTRE_REPLAY_NEW_KEY');
    await withArchive(config, 'customers', (db, name) => db.insertInto(name).values(archived).execute());
    await withShop(config, (conn) => conn.db.deleteFrom('suppression_list').execute());
    const replay = await replayErasures(config, { today: AT });
    expect(replay.redone.map((r) => `${r.table}:${r.id}${r.archived ? '@archive' : ''}`)).toContain(
      'customers:9@archive',
    );
    expect(replay.skipped.filter((s) => s.request === id)).toEqual([]);
    const left = await withArchive(config, 'customers', (db, name) =>
      db.selectFrom(name).select('record_key').where('record_key', '=', '9').execute(),
    );
    expect(left).toEqual([]);
    await withShop(config, async (conn) => {
      const listed = (await conn.db.selectFrom('suppression_list').select('email_hmac').execute()).map(
        (r) => r.email_hmac,
      );
      expect(listed).toContain(hmac(NEW_KEY, 'lea@example.org'));
      expect(listed).not.toContain(hmac(KEY, 'lea@example.org'));
      expect(listed).not.toContain(hmac(KEY, 'jeanne@example.org'));
    });
  });
});
