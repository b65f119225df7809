import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { connect, resolveUrl } from '../src/adapters/sql/connect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { SHOP_TABLES } from '../src/core/demo/shop-model.js';
import { DEFAULT_SHOP_URL } from '../src/core/store-url.js';
import { ALL_DIALECTS } from './dialects.js';
import { runCheck, runDemo } from './use-cases.js';

const AT = '2026-11-27';
const CUSTOMERS = 150;

function normalise(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().slice(0, 19).replace('T', ' ');
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(value))
    return value.slice(0, 19).replace('T', ' ');
  return value;
}

/** A digest of every row of every table of the shop, read back through the store's own driver. */
async function digestOf(configFile: string): Promise<{ digest: string; counts: Record<string, number> }> {
  const loaded = readConfig(configFile);
  const url = loaded.config.stores?.shop?.url as string;
  const conn = await connect('shop', resolveUrl('shop', url), { baseDir: loaded.dir });
  const hash = createHash('sha256');
  const counts: Record<string, number> = {};
  try {
    for (const table of SHOP_TABLES) {
      const rows = await conn.db.selectFrom(table.name).selectAll().orderBy('id').execute();
      counts[table.name] = rows.length;
      for (const row of rows) hash.update(JSON.stringify(table.columns.map((c) => normalise(row[c.name]))));
    }
  } finally {
    await conn.close();
  }
  return { digest: hash.digest('hex'), counts };
}

async function alter(configFile: string, statement: string): Promise<void> {
  const loaded = readConfig(configFile);
  const conn = await connect('shop', resolveUrl('shop', loaded.config.stores?.shop?.url as string), {
    baseDir: loaded.dir,
  });
  try {
    await sql.raw(statement).execute(conn.db);
  } finally {
    await conn.close();
  }
}

let reference: { digest: string; counts: Record<string, number> };

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'registre-shop-ref-'));
  const report = await runDemo({ out, customers: CUSTOMERS, seed: 7, at: AT });
  reference = await digestOf(report.config);
});

describe.each(ALL_DIALECTS)('the reference shop on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  async function demo(customers = CUSTOMERS, seed = 7) {
    const { url, drop } = await database.create();
    drops.push(drop);
    const out = mkdtempSync(join(tmpdir(), `registre-shop-${database.name}-`));
    return runDemo({ out, customers, seed, at: AT, store: url });
  }

  it('holds the same rows as on SQLite, and the data map matches it', async () => {
    const report = await demo();
    const { digest, counts } = await digestOf(report.config);
    expect(counts).toEqual(reference.counts);
    expect(digest).toBe(reference.digest);
    expect(counts.customers).toBe(CUSTOMERS);
    expect(report.rows).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
    const check = await runCheck(report.config);
    expect(check.issues).toEqual([]);
  });

  it('an undeclared column, a missing table and a missing index are reported', async () => {
    const report = await demo(20);
    await alter(report.config, 'ALTER TABLE customers ADD COLUMN birth_date text');
    await alter(report.config, 'DROP TABLE satisfaction_calls');
    await alter(
      report.config,
      database.name === 'mysql'
        ? 'DROP INDEX orders_placed_at_idx ON orders'
        : 'DROP INDEX orders_placed_at_idx',
    );
    const { issues } = await runCheck(report.config);
    expect(
      issues.map((i) => `${i.severity} ${i.code} ${i.message.split(' ').slice(0, 2).join(' ')}`).sort(),
    ).toEqual([
      'error E_MISSING_TABLE table "shop.satisfaction_calls"',
      'error E_UNDECLARED_COLUMN column "shop.customers.birth_date"',
      'warning W_MISSING_INDEX column "shop.orders.placed_at"',
    ]);
    expect(issues.find((i) => i.code === 'E_MISSING_TABLE')).toMatchObject({
      file: expect.stringContaining('negomarkets.datamap.yaml'),
    });
  });

  it('with no customers: the empty schema, and a check that passes', async () => {
    const report = await demo(0);
    expect(report.rows).toBe(20);
    expect((await runCheck(report.config)).issues).toEqual([]);
  });
});

describe('the generator', () => {
  it('is deterministic: the same seed gives the same shop, another seed another', async () => {
    const out = mkdtempSync(join(tmpdir(), 'registre-shop-again-'));
    expect(await digestOf((await runDemo({ out, customers: CUSTOMERS, seed: 7, at: AT })).config)).toEqual(
      reference,
    );
    const other = mkdtempSync(join(tmpdir(), 'registre-shop-other-'));
    expect(
      (await digestOf((await runDemo({ out: other, customers: CUSTOMERS, seed: 8, at: AT })).config)).digest,
    ).not.toBe(reference.digest);
  });

  it('keeps the proportions of shop-schema.md, and writes the media files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'registre-shop-big-'));
    const report = await runDemo({ out, customers: 2000, seed: 3, at: AT });
    const { counts } = await digestOf(report.config);
    const per = (t: string) => (counts[t] ?? 0) / 2000;
    expect(per('orders')).toBeCloseTo(3, 0);
    expect(per('web_visits')).toBe(10);
    expect(per('distributor_orders')).toBe(1);
    expect(per('prospects')).toBeCloseTo(0.5, 1);
    expect(per('newsletter_subscribers')).toBeCloseTo(0.3, 1);
    expect(per('claims')).toBeCloseTo(0.05, 1);
    expect(counts.distributors).toBe(20);
    expect(report.files).toBeGreaterThan(50);
    const conn = await connect('shop', DEFAULT_SHOP_URL, { baseDir: out });
    const one = async (q: string) =>
      Object.values((await sql.raw<Record<string, number>>(q).execute(conn.db)).rows[0] ?? {})[0];
    try {
      expect(
        await one(`SELECT count(*) FROM claims WHERE kind = 'dispute' AND resolved_at IS NULL`),
      ).toBeGreaterThan(0);
      expect(await one('SELECT count(*) FROM distributors WHERE contract_ended_at IS NOT NULL')).toBe(2);
      expect(
        await one('SELECT count(*) FROM newsletter_subscribers WHERE unsubscribed_at IS NOT NULL'),
      ).toBeGreaterThan(0);
      expect(await one(`SELECT count(*) FROM web_visits WHERE occurred_at >= '2025-10-27'`)).toBeGreaterThan(
        0,
      );
      expect(await one(`SELECT count(*) FROM web_visits WHERE occurred_at < '2025-10-27'`)).toBeGreaterThan(
        0,
      );
      expect(await one(`SELECT min(occurred_at) >= '2014-11-27' FROM web_visits`)).toBe(1);
      expect(await one(`SELECT max(placed_at) < '${AT}' FROM orders`)).toBe(1);
      const cv = (
        await sql<{
          cv_path: string;
        }>`SELECT cv_path FROM candidates WHERE cv_path IS NOT NULL LIMIT 1`.execute(conn.db)
      ).rows[0];
      expect(readFileSync(join(out, 'media', cv?.cv_path as string), 'utf8')).toContain('%PDF');
    } finally {
      await conn.close();
    }
  });
});

describe('bad input', () => {
  it('a store of an unknown type', async () => {
    await expect(connect('shop', 'oracle://db/x')).rejects.toThrow(
      'store "shop": unknown database type "oracle:"; expected one of sqlite:, pglite:, postgres://, postgresql://, mysql://, mariadb://',
    );
  });

  it.each([
    [
      'postgres://root@127.0.0.1:1/test',
      /^store "shop" \(postgres:\/\/127\.0\.0\.1:1\/test\) cannot be reached: .*ECONNREFUSED/,
    ],
    [
      'mysql://root:secret@127.0.0.1:1/test',
      /^store "shop" \(mysql:\/\/127\.0\.0\.1:1\/test\) cannot be reached: /,
    ],
    ['sqlite:/nowhere/shop.sqlite', /^store "shop" \(sqlite:\/nowhere\/shop\.sqlite\) cannot be reached: /],
  ])('an unreachable database: %s', async (url, message) => {
    await expect(connect('shop', url)).rejects.toThrow(message);
  });

  it('an unset environment variable', () => {
    expect(() => resolveUrl('shop', 'env:REGISTRE_NOT_SET', {})).toThrow(
      'store "shop": its URL is read from the environment variable REGISTRE_NOT_SET, which is not set',
    );
  });

  it('check names the store it cannot reach, without a stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'registre-unreachable-'));
    writeFileSync(
      join(dir, 'registre.yaml'),
      'stores:\n  shop: { url: "postgres://root@127.0.0.1:1/test" }\n',
    );
    const { issues } = await runCheck(join(dir, 'registre.yaml'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'E_STORE_UNREACHABLE', severity: 'error' });
  });

  it('a data map whose identity column is not in the table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'registre-identity-'));
    const report = await runDemo({ out, customers: 5, seed: 1, at: AT });
    const map = readFileSync(
      new URL('../registers/negomarkets.datamap.yaml', import.meta.url),
      'utf8',
    ).replace(
      '          email: { category: contact-details, identity: email, normalise: email }\n          password_hash',
      '          email: { category: contact-details, identity: email, normalise: email }\n          login_email: { category: contact-details, identity: email, normalise: email }\n          password_hash',
    );
    writeFileSync(join(out, 'map.yaml'), map);
    writeFileSync(
      report.config,
      readFileSync(report.config, 'utf8').replace('datamap: bundled:negomarkets', 'datamap: map.yaml'),
    );
    const { issues } = await runCheck(report.config);
    expect(issues.map((i) => [i.code, i.message])).toEqual([
      ['E_MISSING_COLUMN', 'column "shop.customers.login_email" is in the data map but not in the database'],
    ]);
    expect(issues[0]).toMatchObject({ file: join(out, 'map.yaml'), line: 44 });
  });
});
