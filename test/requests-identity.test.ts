/**
 * How a person is found and named (issue 18, items 5, 7, 10, 17 and the one keyed hash), on every
 * dialect: one normalisation in TypeScript and SQL (non-ASCII capitals, tabs, NBSP), compared
 * exactly (MariaDB's `_general_ci` took `jerome` for `jérôme`), an archived key reused by a new
 * customer, and the suppression list entry of an unsubscribed address renewed, not expired.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySql } from '../src/adapters/sql/dialect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { withShop } from './shop-helpers.js';
import {
  openRequest,
  runCheck,
  runDemo,
  runExplain,
  runHoldAdd,
  runRequest,
  runSweep,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const AT = '2026-11-27';
const KEY = 'identity-key-0123456789-abcdefghijklmnopqrs';
const hmac = (email: string) => createHmac('sha256', KEY).update(email).digest('hex');
const ts = (d: string) => `${d} 10:00:00`;
const day = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);

const customer = (id: number, email: string, created: string) => ({
  id,
  email,
  first_name: 'F',
  last_name: `L${id}`,
  address_line: `${id} rue A`,
  created_at: ts(created),
});
const order = (id: number, customerId: number, placed: string) => ({
  id,
  customer_id: customerId,
  channel: 'shop',
  placed_at: ts(placed),
  status: 'delivered',
  total_cents: 1000,
  shipping_name: `N${customerId}`,
  shipping_address: `${customerId} rue A`,
});

describe.each(DIALECTS)('how a person is found and named on $name (issue 18)', (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  const found = async (email: string) =>
    (await runExplain(config, { email, at: AT }))
      .map((r) => `${r.table}:${r.id}${r.status === 'archive' ? '@archive' : ''}`)
      .sort();

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    dir = mkdtempSync(join(tmpdir(), `registre-identity-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_IDENTITY_HMAC_KEY = KEY;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_IDENTITY_HMAC_KEY'),
    );
    await withShop(config, async (conn) => {
      await conn.db
        .insertInto('customers')
        .values([
          customer(1, 'ÉLODIE.MARTIN@Example.org', '2026-01-01'),
          customer(2, 'tab.person@example.org\t', '2026-01-01'),
          customer(3, '\u00a0nbsp.person@example.org\u00a0', '2026-01-01'),
          customer(4, 'jérôme.dupont@example.org', '2026-01-01'),
          customer(5, 'jerome.dupont@example.org', '2026-01-01'),
          // No activity since 2023: the sweep moves the account to the archive.
          customer(7, 'old.customer@example.org', '2023-01-10'),
        ])
        .execute();
      await conn.db
        .insertInto('orders')
        .values([order(1, 1, '2026-02-01'), order(4, 4, '2026-02-01'), order(5, 5, '2026-02-01')])
        .execute();
      await conn.db
        .insertInto('newsletter_subscribers')
        .values([
          {
            id: 1,
            email: 'Unsub.Person@example.org\t',
            source: 'footer',
            subscribed_at: ts('2019-06-01'),
            consent_text_version: 'v3',
            unsubscribed_at: ts('2026-05-09'),
          },
        ])
        .execute();
      // The address's old entry, 2020: the list's own 3 years ran out long ago.
      await conn.db
        .insertInto('suppression_list')
        .values([
          {
            id: 1,
            email_hmac: hmac('unsub.person@example.org'),
            reason: 'unsubscribe',
            added_at: ts('2020-01-01'),
          },
        ])
        .execute();
    });
    await runSweep(config, { at: AT, today: AT });
    // After the archive, the shop reuses the key 7 for a new customer (max + 1 after a restore).
    await withShop(config, async (conn) => {
      await conn.db
        .insertInto('customers')
        .values([customer(7, 'new.customer@example.org', '2026-06-01')])
        .execute();
      await conn.db
        .insertInto('orders')
        .values([order(70, 7, '2026-07-01')])
        .execute();
    });
  });
  afterAll(() => drop());

  it('18.17 an address with non-ASCII capitals is found under every spelling', async () => {
    for (const spelling of [
      'élodie.martin@example.org',
      'ÉLODIE.MARTIN@EXAMPLE.ORG',
      'Élodie.Martin@example.org',
      '\u00a0élodie.martin@example.org\t',
    ])
      expect(await found(spelling), spelling).toEqual(['customers:1', 'orders:1']);
  });

  it('18.17 a trailing tab or NBSP on either side does not hide a row', async () => {
    expect(await found('tab.person@example.org')).toEqual(['customers:2']);
    expect(await found('nbsp.person@example.org')).toEqual(['customers:3']);
    expect(await found('nbsp.person@example.org\u00a0')).toEqual(['customers:3']);
  });

  it('18.5 identities are compared exactly: jerome is not jérôme', async () => {
    expect(await found('jerome.dupont@example.org')).toEqual(['customers:5', 'orders:5']);
    expect(await found('JÉRÔME.Dupont@example.org')).toEqual(['customers:4', 'orders:4']);
    const opened = await openRequest(config, {
      type: 'access',
      email: 'jerome.dupont@example.org',
      today: AT,
    });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    const out = join(dir, 'access-jerome');
    await runRequest(config, opened.id, { at: AT, out, today: AT });
    const pkg = JSON.parse(readFileSync(join(out, 'access.json'), 'utf8'));
    expect(pkg.records.map((r: { table: string; id: string }) => `${r.table}:${r.id}`).sort()).toEqual([
      'customers:5',
      'orders:5',
    ]);
    expect(JSON.stringify(pkg)).not.toContain('jérôme');
  });

  it('18.7 an archived customer whose key a new customer took does not reach the new one', async () => {
    expect(await found('old.customer@example.org')).toEqual(['customers:7@archive']);
    expect(await found('new.customer@example.org')).toEqual(['customers:7', 'orders:70']);
  });

  it('18.10 the sweep renews the old suppression entry of an address that unsubscribed', async () => {
    const rows = await withShop(config, (conn) =>
      conn.db.selectFrom('suppression_list').selectAll().execute(),
    );
    expect(rows.map((r) => ({ hash: r.email_hmac, day: day(r.added_at) }))).toEqual([
      { hash: hmac('unsub.person@example.org'), day: AT },
    ]);
    expect(await found('unsub.person@example.org')).toEqual(['suppression_list:1']);
  });

  it('18 one keyed hash names a person: hold, request and suppression list agree', async () => {
    const hold = await runHoldAdd(config, {
      email: ' ÉLODIE.MARTIN@example.org\u00a0',
      reason: 'a dispute',
      today: AT,
    });
    expect(hold.person).toBe(hmac('élodie.martin@example.org'));
    const opened = await openRequest(config, {
      type: 'access',
      email: 'Élodie.Martin@example.org',
      today: AT,
    });
    expect((await showRequest(config, opened.id, AT)).person).toBe(hold.person);
  });

  // MariaDB has no expression indexes.
  it.skipIf(database.name === 'mysql')('18.17 the index check asks for serves the search', async () => {
    expect((await runCheck(config)).issues.filter((i) => i.code === 'W_MISSING_INDEX')).toEqual([]);
    const plan = await withShop(config, async (conn) => {
      const query = `SELECT id FROM customers WHERE ${identitySql(conn.dialect, 'email')} IN ('élodie.martin@example.org')`;
      if (conn.dialect === 'sqlite')
        return JSON.stringify((await sql.raw(`EXPLAIN QUERY PLAN ${query}`).execute(conn.db)).rows);
      return conn.db.transaction().execute(async (trx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        return JSON.stringify((await sql.raw(`EXPLAIN ${query}`).execute(trx)).rows);
      });
    });
    expect(plan).toContain('customers_email_norm_idx');
  });
});
