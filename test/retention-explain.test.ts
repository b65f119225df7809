/** The examples of negomarkets-policy.md, through `explain`, on every dialect. */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { connect, resolveUrl } from '../src/adapters/sql/connect.js';
import { DIALECTS } from './dialects.js';
import { runDemo, runExplain, runForecast, runPlan, runSweep } from './use-cases.js';

const AT = '2026-11-27';

/** Builders with defaults, in the shop's columns. */
const given = {
  webVisit: (id: number, occurred_at: string) => ({
    id,
    visitor_id: `v${id}`,
    ip_address: '192.0.2.1',
    occurred_at,
  }),
  prospect: (id: number, over: Record<string, unknown>) => ({
    id,
    email: `p${id}@example.org`,
    collected_at: '2022-01-01',
    ...over,
  }),
  customer: (id: number, over: Record<string, unknown>) => ({
    id,
    email: `c${id}@example.org`,
    created_at: '2020-01-10 10:00:00',
    ...over,
  }),
  order: (id: number, customer_id: number, placed_at: string) => ({
    id,
    customer_id,
    channel: 'shop',
    placed_at,
    status: 'delivered',
    total_cents: 1000,
  }),
  invoice: (id: number, order_id: number, customer_id: number, issued_at: string) => ({
    id,
    number: `F-${id}`,
    order_id,
    customer_id,
    issued_at,
    total_cents: 1000,
  }),
  subscriber: (id: number, over: Record<string, unknown>) => ({
    id,
    email: `n${id}@example.org`,
    subscribed_at: '2025-01-04',
    ...over,
  }),
  claim: (id: number, order_id: number, over: Record<string, unknown>) => ({
    id,
    order_id,
    kind: 'dispute',
    opened_at: '2021-12-01',
    ...over,
  }),
};

describe.each(DIALECTS)('the policy examples on $name', (database) => {
  let config = '';
  let drop = async () => {};
  const explain = async (table: string, id: number) =>
    (await runExplain(config, { table, id: String(id), at: AT }))[0];

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    const out = mkdtempSync(join(tmpdir(), `registre-policy-${database.name}-`));
    config = (await runDemo({ out, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_POLICY_HMAC_KEY = 'policy-key-0123456789-abcdefghijklmnopqrst';
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_POLICY_HMAC_KEY'),
    );
    const loaded = readConfig(config);
    const conn = await connect('shop', resolveUrl('shop', loaded.config.stores?.shop?.url as string), {
      baseDir: loaded.dir,
    });
    const insert = (table: string, rows: Record<string, unknown>[]) =>
      conn.db.insertInto(table).values(rows).execute();
    await insert('web_visits', [
      given.webVisit(1, '2025-10-27 08:00:00'),
      given.webVisit(2, '2025-10-28 00:00:00'),
    ]);
    await insert('prospects', [
      given.prospect(1, { collected_at: '2022-05-02', last_contact_at: '2023-11-28' }),
    ]);
    await insert('customers', [given.customer(1, {}), given.customer(2, {})]);
    await insert('orders', [
      given.order(1, 1, '2021-11-26 15:00:00'),
      given.order(2, 2, '2021-11-26 15:00:00'),
    ]);
    await insert('invoices', [given.invoice(1, 1, 1, '2016-03-01 09:00:00')]);
    await insert('claims', [given.claim(1, 2, { resolved_at: null })]);
    await insert('newsletter_subscribers', [given.subscriber(1, { unsubscribed_at: '2026-11-20 09:12:00' })]);
    await conn.close();
  });
  afterAll(() => drop());

  it('a web visit at 2025-10-27 08:00:00 is due (deadline 2026-11-27); one at 2025-10-28 is active until 2026-11-28', async () => {
    expect(await explain('web_visits', 1)).toMatchObject({
      status: 'due',
      deadline: '2026-11-27',
      action: 'delete',
    });
    expect(await explain('web_visits', 2)).toMatchObject({ status: 'active', deadline: '2026-11-28' });
  });

  it('a prospect collected 2022-05-02, last contact 2023-11-28, is active (deadline 2026-11-28)', async () => {
    expect(await explain('prospects', 1)).toMatchObject({ status: 'active', deadline: '2026-11-28' });
  });

  it('an invoice issued 2016-03-01 is active until 2026-12-31', async () => {
    expect(await explain('invoices', 1)).toMatchObject({ status: 'active', deadline: '2026-12-31' });
  });

  it('a subscriber who unsubscribed on 2026-11-20 is due', async () => {
    expect(await explain('newsletter_subscribers', 1)).toMatchObject({
      status: 'due',
      deadline: '2026-11-20',
      action: 'delete',
    });
  });

  it('a customer whose latest activity is an order of 2021-11-26 is due on 2026-11-26, archived since 2023-11-26', async () => {
    const customer = await explain('customers', 1);
    expect(customer).toMatchObject({
      status: 'due',
      deadline: '2026-11-26',
      archiveFrom: '2023-11-26',
      rule: 'customer-accounts',
    });
    expect(customer?.purposes[0]).toMatchObject({ anchorDate: '2021-11-26', deadline: '2026-11-26' });
    expect((await runExplain(config, { table: 'customers', id: '1', at: '2025-01-01' }))[0]?.status).toBe(
      'archive',
    );
  });

  it('with an unresolved dispute on that order, the customer is held, and so are the order and the claim', async () => {
    expect(await explain('customers', 2)).toMatchObject({
      status: 'held',
      deadline: '2026-11-26',
      holds: [{ hold: 'open-dispute' }],
    });
    expect(await explain('orders', 2)).toMatchObject({ status: 'held' });
    expect(await explain('claims', 1)).toMatchObject({ status: 'held', deadline: null });
  });

  it('explain --email finds every record of the person, whatever the case and spaces', async () => {
    const records = await runExplain(config, { email: '  C2@Example.ORG ', at: AT });
    expect(records.map((r) => `${r.table}:${r.id}`).sort()).toEqual(['claims:1', 'customers:2', 'orders:2']);
  });

  it('an unknown table, id or person is a clear error', async () => {
    await expect(runExplain(config, { table: 'clients', id: '1', at: AT })).rejects.toThrow(
      /^no table "clients" in the data map \(tables: web_visits, /,
    );
    await expect(runExplain(config, { table: 'customers', id: '999', at: AT })).rejects.toThrow(
      'table "customers" has no record with id = 999',
    );
    await expect(runExplain(config, { email: 'nobody@example.org', at: AT })).rejects.toThrow(
      'no record of this person',
    );
    await expect(
      runExplain(config, { email: 'x@example.org', table: 'customers', id: '1', at: AT }),
    ).rejects.toThrow('give either');
  });

  it('plan and forecast agree with explain', async () => {
    const plan = await runPlan(config, AT);
    const line = (rule: string) => plan.rules.find((l) => l.rule === rule);
    expect(line('web-visits')).toMatchObject({ active: 1, due: 1, held: 0 });
    expect(line('customer-accounts')).toMatchObject({ due: 1, held: 1, active: 0, archive: 0 });
    expect(line('claims')).toMatchObject({ held: 1 });
    const forecast = await runForecast(config, AT, '2');
    expect(forecast.months).toEqual(['2026-11', '2026-12']);
    expect(forecast.rules.find((l) => l.rule === 'web-visits')?.months).toEqual({ '2026-11': 2 });
    expect(forecast.rules.find((l) => l.rule === 'invoices')?.months).toEqual({ '2026-12': 1 });
  });

  it('the sweep on that date deletes what is due, keeps the rest, and remembers the unsubscribed address', async () => {
    const report = await runSweep(config, { at: AT, today: AT });
    expect(report.total).toBe(3);
    const loaded = readConfig(config);
    const conn = await connect('shop', resolveUrl('shop', loaded.config.stores?.shop?.url as string), {
      baseDir: loaded.dir,
    });
    try {
      const ids = async (table: string) =>
        (await conn.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => Number(r.id));
      expect(await ids('web_visits')).toEqual([2]);
      expect(await ids('prospects')).toEqual([1]);
      expect(await ids('invoices')).toEqual([1]);
      expect(await ids('customers')).toEqual([2]);
      expect(await ids('orders')).toEqual([1, 2]);
      expect(await ids('newsletter_subscribers')).toEqual([]);
      const hash = createHmac('sha256', 'policy-key-0123456789-abcdefghijklmnopqrst')
        .update('n1@example.org')
        .digest('hex');
      expect(
        (await conn.db.selectFrom('suppression_list').select('email_hmac').execute()).map(
          (r) => r.email_hmac,
        ),
      ).toEqual([hash]);
    } finally {
      await conn.close();
    }
    expect((await runSweep(config, { at: AT, today: AT })).total).toBe(0);
  });
});
