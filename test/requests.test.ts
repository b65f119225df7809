/**
 * People's requests on the reference shop (negomarkets-policy.md, "People's rights"), on every
 * dialect: access, erasure (with its legal exceptions, processor data forwarded, the suppression
 * list), replay after a restore, rectification, restriction, objection, portability.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { SHOP_TABLES } from '../src/core/demo/shop-model.js';
import { DIALECTS } from './dialects.js';
import { withShop } from './shop-helpers.js';
import {
  liftRestriction,
  openRequest,
  replayErasures,
  runAuditVerify,
  runDemo,
  runExplain,
  runPlan,
  runRequest,
  runSweep,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const AT = '2026-11-27';
const KEY = 'requests-key-0123456789-abcdefghijklmnopqrs';
const hmac = (email: string) => createHmac('sha256', KEY).update(email).digest('hex');

const ts = (d: string) => `${d} 10:00:00`;

/** The shop of the tests: Jeanne (archived account, everything), Paul (an open dispute), Claire (someone else). */
async function fill(config: string, dir: string): Promise<void> {
  mkdirSync(join(dir, 'media', 'cv'), { recursive: true });
  mkdirSync(join(dir, 'media', 'video'), { recursive: true });
  writeFileSync(join(dir, 'media', 'cv', 'jeanne.pdf'), 'cv');
  writeFileSync(join(dir, 'media', 'video', 'jeanne.mp4'), 'video');
  await withShop(config, async (conn) => {
    const insert = (table: string, rows: Record<string, unknown>[]) =>
      conn.db.insertInto(table).values(rows).execute();
    const customer = (id: number, email: string, created: string) => ({
      id,
      email,
      first_name: 'F',
      last_name: `L${id}`,
      address_line: `${id} rue A`,
      created_at: ts(created),
    });
    await insert('customers', [
      customer(1, ' Jeanne@Example.ORG', '2019-01-10'),
      customer(2, 'paul@example.org', '2024-01-01'),
      customer(3, 'claire@example.org', '2025-01-01'),
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
      order(1, 1, '2023-06-01'),
      order(2, 1, '2022-02-01'),
      order(3, 2, '2026-03-01'),
      order(4, 2, '2026-05-01'),
      order(5, 3, '2026-01-01'),
      order(9, 9, '2023-06-01'),
    ]);
    await insert(
      'payments',
      [1, 2, 3, 4, 5].map((id) => ({
        id,
        order_id: id,
        card_last4: '4242',
        card_token: `tok${id}`,
        card_expiry: '12/29',
        deferred_debit: 0,
        debited_at: ts(
          ['2023-06-01', '2022-02-01', '2026-03-01', '2026-05-01', '2026-01-01'][id - 1] as string,
        ),
      })),
    );
    await insert(
      'invoices',
      [1, 2, 3, 4, 5].map((id) => ({
        id,
        number: `F-${id}`,
        order_id: id,
        customer_id: [1, 1, 2, 2, 3][id - 1],
        issued_at: ts(
          ['2023-06-01', '2022-02-01', '2026-03-01', '2026-05-01', '2026-01-01'][id - 1] as string,
        ),
        billing_name: `B${id}`,
        total_cents: 1000,
      })),
    );
    await insert('support_tickets', [
      {
        id: 1,
        customer_id: 1,
        email: 'jeanne@example.org',
        channel: 'email',
        created_at: ts('2023-05-01'),
        closed_at: ts('2023-05-02'),
      },
      {
        id: 2,
        customer_id: null,
        email: 'JEANNE@example.org ',
        channel: 'form',
        created_at: ts('2026-01-01'),
      },
      { id: 3, customer_id: 3, email: 'claire@example.org', channel: 'form', created_at: ts('2026-02-01') },
    ]);
    await insert('claims', [
      { id: 1, order_id: 2, kind: 'return', opened_at: ts('2022-02-10'), resolved_at: ts('2022-03-01') },
      { id: 2, order_id: 3, kind: 'dispute', opened_at: ts('2026-04-01'), resolved_at: null },
    ]);
    await insert('satisfaction_calls', [{ id: 1, customer_id: 1, called_at: ts('2024-07-01'), score: 4 }]);
    await insert('newsletter_subscribers', [
      {
        id: 1,
        email: 'jeanne@example.org',
        source: 'footer',
        subscribed_at: ts('2025-01-04'),
        consent_text_version: 'v3',
      },
      {
        id: 2,
        email: 'claire@example.org',
        source: 'footer',
        subscribed_at: ts('2025-03-04'),
        consent_text_version: 'v3',
      },
    ]);
    await insert('prospects', [{ id: 1, email: 'jeanne@example.org', collected_at: ts('2025-06-01') }]);
    await insert('candidates', [
      {
        id: 1,
        email: 'jeanne@example.org',
        last_name: 'Martin',
        cv_path: 'cv/jeanne.pdf',
        job_ref: 'J1',
        status: 'applied',
        applied_at: ts('2026-10-01'),
        last_contact_at: ts('2026-10-01'),
        talent_pool_consent: 0,
      },
    ]);
    await insert('ambassadors', [
      {
        id: 1,
        email: 'jeanne@example.org',
        status: 'active',
        applied_at: ts('2025-01-01'),
        contract_started_at: ts('2025-02-01'),
        video_path: 'video/jeanne.mp4',
      },
    ]);
    await insert('ambassador_shipments', [
      { id: 1, ambassador_id: 1, product_sku: 'SKU1', shipped_at: ts('2025-03-01') },
    ]);
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
        id: 1,
        distributor_id: 101,
        end_customer_email: 'jeanne@example.org',
        placed_at: ts('2026-06-01'),
        status: 'delivered',
      },
      {
        id: 2,
        distributor_id: 101,
        end_customer_email: 'end@example.org',
        placed_at: ts('2026-06-01'),
        status: 'delivered',
      },
    ]);
    await insert('supplier_disputes', [
      {
        id: 1,
        distributor_order_id: 1,
        supplier: 'S',
        opened_at: ts('2026-06-10'),
        resolved_at: ts('2026-06-20'),
      },
    ]);
  });
}

/** Every row of every table, by `table:id`, as text: a backup, and what a restore puts back. */
async function backup(config: string): Promise<Map<string, Record<string, unknown>[]>> {
  return withShop(config, async (conn) => {
    const out = new Map<string, Record<string, unknown>[]>();
    for (const t of SHOP_TABLES)
      out.set(t.name, (await conn.db.selectFrom(t.name).selectAll().execute()) as Record<string, unknown>[]);
    return out;
  });
}

async function restore(config: string, copy: Map<string, Record<string, unknown>[]>): Promise<void> {
  await withShop(config, async (conn) => {
    for (const [table, rows] of copy) {
      await conn.db.deleteFrom(table).execute();
      for (let i = 0; i < rows.length; i += 200)
        await conn.db
          .insertInto(table)
          .values(rows.slice(i, i + 200))
          .execute();
    }
  });
}

async function ids(config: string, table: string): Promise<number[]> {
  return withShop(config, async (conn) =>
    (await conn.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => Number(r.id)),
  );
}

/** The code in the newest message of the outbox. */
function lastCode(dir: string): string {
  const outbox = join(dir, '.registre', 'outbox');
  const newest = readdirSync(outbox).sort().pop() as string;
  const match = /verification code is (\d{6})/.exec(readFileSync(join(outbox, newest), 'utf8'));
  if (!match) throw new Error('no code in the outbox');
  return match[1] as string;
}

describe.each(DIALECTS)("people's requests on $name", (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  const verified = async (type: string, email: string, extra: Record<string, unknown> = {}) => {
    const opened = await openRequest(config, { type, email, today: AT, ...extra });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    return opened.id;
  };

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    dir = mkdtempSync(join(tmpdir(), `registre-requests-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_REQUESTS_HMAC_KEY = KEY;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_REQUESTS_HMAC_KEY'),
    );
    await fill(config, dir);
    // Jeanne's account has had no activity since 2023-06-01: the sweep moves it to the archive.
    await runSweep(config, { at: AT, today: AT });
    expect(await ids(config, 'customers')).toEqual([2, 3]);
  });
  afterAll(() => drop());

  it('access lists every record of the person, archive included, and nothing of anybody else', async () => {
    const id = await verified('access', 'Jeanne@example.org');
    const out = join(dir, 'access-1');
    const result = await runRequest(config, id, { at: AT, out, today: AT });
    // The package, then a copy of each file its records name (issue 18 item 22).
    expect(result.files?.map((f) => f.split('/').pop())).toEqual([
      'access.json',
      'access.html',
      'ambassadors-1-video_path-jeanne.mp4',
      'candidates-1-cv_path-jeanne.pdf',
    ]);
    const pkg = JSON.parse(readFileSync(join(out, 'access.json'), 'utf8'));
    const listed = pkg.records
      .map(
        (r: { table: string; id: string; archived: boolean }) =>
          `${r.table}:${r.id}${r.archived ? '@archive' : ''}`,
      )
      .sort();
    expect(listed).toEqual(
      [
        'customers:1@archive',
        'orders:1',
        'orders:2',
        'payments:1',
        'payments:2',
        'invoices:1',
        'invoices:2',
        'support_tickets:1',
        'support_tickets:2',
        'claims:1',
        'satisfaction_calls:1',
        'newsletter_subscribers:1',
        'prospects:1',
        'candidates:1',
        'ambassadors:1',
        'ambassador_shipments:1',
      ].sort(),
    );
    const invoice = pkg.records.find((r: { table: string }) => r.table === 'invoices');
    expect(invoice.purposes.map((p: { legalBasis: string }) => p.legalBasis)).toContain('legal-obligation');
    expect(invoice.deadline).toMatch(/^20\d\d-12-31$/);
    expect(invoice.data).toHaveProperty('billing_name');
    // Every field of the person's record, its amount included (issue 18 item 22); no key.
    expect(invoice.data).toHaveProperty('total_cents');
    expect(invoice.data).not.toHaveProperty('customer_id');
    const text = JSON.stringify(pkg);
    for (const other of ['paul@example.org', 'claire@example.org', 'end@example.org', 'L2', 'L3', 'B3', 'B5'])
      expect(text).not.toContain(other);
    expect(pkg.consents.map((c: { purpose: string; table: string }) => `${c.purpose}:${c.table}`)).toContain(
      'newsletter-sending:newsletter_subscribers',
    );
    expect(
      pkg.consents.find((c: { table: string }) => c.table === 'newsletter_subscribers').proof,
    ).toMatchObject({
      consent_text_version: 'v3',
    });
    expect(pkg.processor).toEqual([
      expect.objectContaining({
        controller: 'Distrib A',
        controllerId: '101',
        table: 'distributor_orders',
        id: '1',
      }),
      expect.objectContaining({
        controller: 'Distrib A',
        controllerId: '101',
        table: 'supplier_disputes',
        id: '1',
      }),
    ]);
    const html = readFileSync(join(out, 'access.html'), 'utf8');
    expect(html).toContain('Vos données personnelles');
    expect(html).toContain('Your personal data');
    expect(html).toContain('Distrib A');
  });

  it('a person with no data gets an honest empty answer', async () => {
    const id = await verified('access', 'nobody@example.org');
    const result = await runRequest(config, id, { at: AT, out: join(dir, 'access-nobody'), today: AT });
    expect(result.message).toBe('we hold no data about you');
    const pkg = JSON.parse(readFileSync(join(dir, 'access-nobody', 'access.json'), 'utf8'));
    expect(pkg.records).toEqual([]);
  });

  it('portability gives what the person provided on consent or contract, as JSON and CSV, not invoices', async () => {
    const id = await verified('portability', 'jeanne@example.org');
    const out = join(dir, 'portability');
    await runRequest(config, id, { at: AT, out, today: AT });
    const data = JSON.parse(readFileSync(join(out, 'portability.json'), 'utf8')).data;
    expect(Object.keys(data)).toContain('orders');
    expect(Object.keys(data)).toContain('newsletter_subscribers');
    expect(Object.keys(data)).not.toContain('invoices');
    const orders = readFileSync(join(out, 'orders.csv'), 'utf8');
    expect(orders.charCodeAt(0)).toBe(0xfeff);
    expect(orders.split('\r\n')[0]).toMatch(/^\uFEFFid;/);
  });

  it('an erasure with an open dispute keeps the disputed order, its payment and invoice, the claim and the account (17(3)(e))', async () => {
    const id = await verified('erasure', 'paul@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    const kept = Object.fromEntries((result.kept ?? []).map((k) => [`${k.table}:${k.id}`, k.basis]));
    expect(kept).toEqual({
      'customers:2': '17(3)(e)',
      'orders:3': '17(3)(e)',
      'payments:3': '17(3)(e)',
      'invoices:3': '17(3)(e)',
      'claims:2': '17(3)(e)',
      'invoices:4': '17(3)(b)',
    });
    expect((result.erased ?? []).map((e) => `${e.table}:${e.id}:${e.action}`).sort()).toEqual([
      'orders:4:anonymise',
      'payments:4:anonymise',
    ]);
    expect(await ids(config, 'customers')).toEqual([2, 3]);
    await withShop(config, async (conn) => {
      const o4 = await conn.db.selectFrom('orders').selectAll().where('id', '=', 4).executeTakeFirstOrThrow();
      expect(o4.shipping_name).toBeNull();
      const o3 = await conn.db.selectFrom('orders').selectAll().where('id', '=', 3).executeTakeFirstOrThrow();
      expect(o3.shipping_name).toBe('N2');
    });
  });

  let beforeErasure = new Map<string, Record<string, unknown>[]>();

  it("Jeanne's erasure: deleted, anonymised, invoices kept (17(3)(b)), processor data forwarded, address suppressed", async () => {
    beforeErasure = await backup(config);
    const id = await verified('erasure', 'jeanne@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(
      (result.erased ?? [])
        .map((e) => `${e.table}:${e.id}:${e.action}${e.archived ? '@archive' : ''}`)
        .sort(),
    ).toEqual([
      'ambassador_shipments:1:delete',
      'ambassadors:1:delete',
      'candidates:1:delete',
      'claims:1:delete',
      'customers:1:delete@archive',
      'newsletter_subscribers:1:delete',
      'orders:1:anonymise',
      'orders:2:anonymise',
      'payments:1:anonymise',
      'payments:2:anonymise',
      'prospects:1:delete',
      'satisfaction_calls:1:delete',
      'support_tickets:1:delete',
      'support_tickets:2:delete',
    ]);
    expect((result.kept ?? []).map((k) => `${k.table}:${k.id}:${k.basis}`).sort()).toEqual([
      'invoices:1:17(3)(b)',
      'invoices:2:17(3)(b)',
    ]);
    expect(result.kept?.every((k) => k.until !== null)).toBe(true);
    expect(result.forwarded).toEqual([
      { controller: 'Distrib A', controllerId: '101', store: 'shop', table: 'distributor_orders', id: '1' },
      { controller: 'Distrib A', controllerId: '101', store: 'shop', table: 'supplier_disputes', id: '1' },
    ]);
    expect(await ids(config, 'support_tickets')).toEqual([3]);
    expect(await ids(config, 'invoices')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids(config, 'distributor_orders')).toEqual([1, 2]);
    expect(await ids(config, 'newsletter_subscribers')).toEqual([2]);
    expect(existsSync(join(dir, 'media', 'cv', 'jeanne.pdf'))).toBe(false);
    expect(existsSync(join(dir, 'media', 'video', 'jeanne.mp4'))).toBe(false);
    await withShop(config, async (conn) => {
      const listed = await conn.db.selectFrom('suppression_list').select(['email_hmac', 'reason']).execute();
      expect(listed).toContainEqual({ email_hmac: hmac('jeanne@example.org'), reason: 'erasure' });
    });
    // The archive no longer knows her; what was kept is still found (the state store remembers it).
    const again = await verified('access', 'jeanne@example.org');
    await runRequest(config, again, { at: AT, out: join(dir, 'access-after'), today: AT });
    const after = JSON.parse(readFileSync(join(dir, 'access-after', 'access.json'), 'utf8'));
    expect(after.records.map((r: { table: string; id: string }) => `${r.table}:${r.id}`).sort()).toEqual([
      'invoices:1',
      'invoices:2',
      expect.stringMatching(/^suppression_list:\d+$/),
    ]);
    expect(after.processor.map((r: { table: string }) => r.table)).toEqual([
      'distributor_orders',
      'supplier_disputes',
    ]);
    // The audit log: the request's steps, the person by keyed hash only.
    const verification = await runAuditVerify(config);
    expect(verification.problems).toEqual([]);
    const log = readFileSync(join(dir, '.registre', 'state.sqlite')).toString('latin1');
    expect(log).not.toContain('jeanne@example.org"');
  });

  it('a restored backup, then erasure replay, removes that customer again', async () => {
    await restore(config, beforeErasure);
    expect(await ids(config, 'prospects')).toEqual([1]);
    const replay = await replayErasures(config, { today: AT });
    expect(replay.redone.map((r) => `${r.table}:${r.id}`)).toContain('prospects:1');
    expect(await ids(config, 'prospects')).toEqual([]);
    expect(await ids(config, 'support_tickets')).toEqual([3]);
    expect(await ids(config, 'invoices')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids(config, 'candidates')).toEqual([]);
    await withShop(config, async (conn) => {
      const o1 = await conn.db.selectFrom('orders').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
      expect(o1.shipping_name).toBeNull();
      const listed = await conn.db.selectFrom('suppression_list').select('email_hmac').execute();
      expect(listed.map((r) => r.email_hmac)).toContain(hmac('jeanne@example.org'));
    });
    // Twice is once.
    expect((await replayErasures(config, { today: AT })).redone).toEqual([]);
  });

  it('an archived account with an open dispute on one of its live orders is kept too (17(3)(e))', async () => {
    // The dispute is opened after the account went to the archive.
    await withShop(config, (conn) =>
      conn.db
        .insertInto('claims')
        .values({ id: 9, order_id: 9, kind: 'dispute', opened_at: ts('2026-11-01'), resolved_at: null })
        .execute(),
    );
    const id = await verified('erasure', 'lea@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.erased).toEqual([]);
    expect((result.kept ?? []).map((k) => `${k.table}:${k.id}:${k.basis}`).sort()).toEqual([
      'claims:9:17(3)(e)',
      'customers:9:17(3)(e)',
      'orders:9:17(3)(e)',
    ]);
    // The sweep, past the archive's deadline (2028-06-01), leaves it too; explain and plan say held.
    const dry = await runSweep(config, { at: '2028-07-01', today: AT, dryRun: true });
    expect(dry.lines.find((l) => l.table === 'customers' && l.action === 'archive-delete')?.count ?? 0).toBe(
      0,
    );
    const explained = await runExplain(config, { email: 'lea@example.org', at: '2028-07-01' });
    expect(explained.find((e) => e.store === 'archive')).toMatchObject({ status: 'held', id: '9' });
  });

  it("a distributor's customer: forwarded, not executed; executed on that distributor's instruction", async () => {
    const id = await verified('erasure', 'end@example.org');
    await expect(runRequest(config, id, { at: AT, today: AT, onBehalfOf: '101' })).rejects.toThrow(
      /run the erasure first/,
    );
    const forwarded = await runRequest(config, id, { at: AT, today: AT });
    expect(forwarded.forwarded).toEqual([
      { controller: 'Distrib A', controllerId: '101', store: 'shop', table: 'distributor_orders', id: '2' },
    ]);
    expect(forwarded.erased).toEqual([]);
    expect(await ids(config, 'distributor_orders')).toEqual([1, 2]);
    await expect(runRequest(config, id, { at: AT, today: AT, onBehalfOf: '7' })).rejects.toThrow(
      'request 11 forwarded nothing to controller 7; it forwarded to Distrib A (101)'.replace(
        '11',
        String(id),
      ),
    );
    const done = await runRequest(config, id, { at: AT, today: AT, onBehalfOf: '101' });
    expect(done.erased).toEqual([{ table: 'distributor_orders', id: '2', action: 'delete' }]);
    expect(await ids(config, 'distributor_orders')).toEqual([1]);
  });

  it('rectification writes every live record holding the field; invoices are reported unchanged', async () => {
    const id = await verified('rectification', 'claire@example.org', { set: ['last_name=Durand'] });
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.rectified).toEqual([{ table: 'customers', id: '3', fields: ['last_name'] }]);
    expect(result.unchanged?.map((u) => `${u.table}:${u.id}`)).toEqual(['invoices:5']);
    await withShop(config, async (conn) => {
      const c = await conn.db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', 3)
        .executeTakeFirstOrThrow();
      expect(c.last_name).toBe('Durand');
      const i = await conn.db
        .selectFrom('invoices')
        .selectAll()
        .where('id', '=', 5)
        .executeTakeFirstOrThrow();
      expect(i.billing_name).toBe('B5');
    });
  });

  it('a restricted record is never touched by a sweep or an erasure, and shows as restricted', async () => {
    const id = await verified('restriction', 'claire@example.org');
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.restricted?.length).toBeGreaterThan(3);
    const explained = await runExplain(config, { table: 'newsletter_subscribers', id: '2', at: AT });
    expect(explained[0]?.status).toBe('restricted');
    const plan = await runPlan(config, AT);
    expect(plan.totals.restricted).toBeGreaterThan(3);
    // A sweep years later leaves her records; an erasure keeps them under art. 18.
    await runSweep(config, { at: AT, today: AT });
    expect(await ids(config, 'newsletter_subscribers')).toEqual([2]);
    const erase = await verified('erasure', 'claire@example.org');
    const erased = await runRequest(config, erase, { at: AT, today: AT });
    expect(erased.erased).toEqual([]);
    expect(new Set(erased.kept?.map((k) => k.basis))).toEqual(new Set(['18']));
    expect(await ids(config, 'customers')).toEqual([2, 3]);
    const lifted = await liftRestriction(config, id);
    expect(lifted.records).toBe(result.restricted?.length);
    expect((await runExplain(config, { table: 'newsletter_subscribers', id: '2', at: AT }))[0]?.status).toBe(
      'active',
    );
  });

  it('an objection to direct marketing deletes what serves only it and suppresses the address', async () => {
    await withShop(config, (conn) =>
      conn.db
        .insertInto('prospects')
        .values({ id: 7, email: 'prospect@example.org', collected_at: ts('2026-01-01') })
        .execute(),
    );
    const id = await verified('objection', 'prospect@example.org', { purpose: 'prospect-follow-up' });
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.erased).toEqual([{ table: 'prospects', id: '7', action: 'delete' }]);
    await withShop(config, async (conn) => {
      const listed = await conn.db
        .selectFrom('suppression_list')
        .select('reason')
        .where('email_hmac', '=', hmac('prospect@example.org'))
        .execute();
      expect(listed).toEqual([{ reason: 'objection' }]);
    });
  });

  // The failure is a SQLite trigger.
  it.runIf(database.name === 'sqlite')(
    'a store that fails midway: nothing of it is changed, the request says so and runs again whole',
    async () => {
      await withShop(config, async (conn) => {
        await conn.db
          .insertInto('customers')
          .values({ id: 11, email: 'fail@example.org', created_at: ts('2026-01-01') })
          .execute();
        await conn.db
          .insertInto('prospects')
          .values({ id: 11, email: 'fail@example.org', collected_at: ts('2026-01-01') })
          .execute();
        await sql`CREATE TRIGGER refuse BEFORE DELETE ON prospects BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(
          conn.db,
        );
      });
      const id = await verified('erasure', 'fail@example.org');
      await expect(runRequest(config, id, { at: AT, today: AT })).rejects.toMatchObject({
        code: 'E_STORE_FAILED',
        message: expect.stringMatching(
          /failed during the erasure: .*rolled back .* stays running .*: complete it with registre request run \d+ once the cause is fixed$/,
        ),
      });
      expect(await ids(config, 'customers')).toContain(11);
      expect(await ids(config, 'prospects')).toContain(11);
      // Its intent was logged before the stores: it is being carried out until a run completes it.
      expect((await showRequest(config, id, AT)).status).toBe('running');
      await withShop(config, (conn) => sql`DROP TRIGGER refuse`.execute(conn.db));
      const done = await runRequest(config, id, { at: AT, today: AT });
      expect(done.erased?.map((e) => `${e.table}:${e.id}`).sort()).toEqual(['customers:11', 'prospects:11']);
      expect(await ids(config, 'prospects')).not.toContain(11);
    },
  );

  it('an objection to satisfaction calls: kept with compelling grounds on record, else those calls end', async () => {
    await withShop(config, async (conn) => {
      await conn.db
        .insertInto('customers')
        .values({ id: 8, email: 'calls@example.org', created_at: ts('2026-01-01') })
        .execute();
      await conn.db
        .insertInto('satisfaction_calls')
        .values({ id: 8, customer_id: 8, called_at: ts('2026-06-01') })
        .execute();
    });
    const grounded = await verified('objection', 'calls@example.org', { purpose: 'satisfaction-calls' });
    const kept = await runRequest(config, grounded, {
      at: AT,
      today: AT,
      grounds: 'a safety recall under way',
    });
    expect(kept.erased).toEqual([]);
    expect(await ids(config, 'satisfaction_calls')).toContain(8);
    const id = await verified('objection', 'calls@example.org', { purpose: 'satisfaction-calls' });
    const result = await runRequest(config, id, { at: AT, today: AT });
    expect(result.erased).toEqual([{ table: 'satisfaction_calls', id: '8', action: 'delete' }]);
    expect(result.kept).toEqual([]);
    expect(await ids(config, 'customers')).toContain(8);
    expect(await ids(config, 'satisfaction_calls')).not.toContain(8);
    await withShop(config, async (conn) => {
      const listed = await conn.db
        .selectFrom('suppression_list')
        .select('id')
        .where('email_hmac', '=', hmac('calls@example.org'))
        .execute();
      expect(listed).toEqual([]);
    });
  });
});
