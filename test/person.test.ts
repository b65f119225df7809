/**
 * Finding a person by e-mail address (src/adapters/sql/person.ts): normalised on both sides, archived
 * accounts followed, and the index the search needs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { DIALECTS } from './dialects.js';
import { AT, exists, shop, shopIn, withShop } from './shop-helpers.js';
import { runCheck, runExplain, runHoldAdd, runSweep } from './use-cases.js';

describe.each(DIALECTS)('4, 5. finding a person on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('matches identities after normalisation on both sides, and follows archived accounts', async () => {
    const { config } = await shopIn(database, 40, 12, drops);
    // A customer typed with capitals and spaces, her 2 orders, her newsletter row in lower case.
    await withShop(config, async (conn) => {
      await conn.db
        .insertInto('customers')
        .values({
          id: 900_001,
          email: '  Alice.Mixed@Example.COM ',
          first_name: 'Alice',
          last_name: 'Mixed',
          created_at: '2015-01-10 10:00:00',
          closed_at: '2023-06-01 10:00:00',
        })
        .execute();
      for (const id of [900_001, 900_002])
        await conn.db
          .insertInto('orders')
          .values({
            id,
            customer_id: 900_001,
            channel: 'web',
            placed_at: '2023-05-01 10:00:00',
            status: 'delivered',
            total_cents: 1000,
          })
          .execute();
      await conn.db
        .insertInto('newsletter_subscribers')
        .values({ id: 900_001, email: 'alice.mixed@example.com', subscribed_at: '2026-01-04 10:00:00' })
        .execute();
    });
    const found = await runExplain(config, { email: 'ALICE.mixed@example.com', at: AT });
    const tables = found.map((r) => `${r.store}.${r.table}`).sort();
    expect(tables).toEqual(['shop.customers', 'shop.newsletter_subscribers', 'shop.orders', 'shop.orders']);
    // Her account goes to the archive (closed 2023: 2 years active, 5 of proof); her orders stay.
    await runSweep(config, { at: AT, today: AT });
    expect(await exists(config, 'customers', 900_001)).toBe(false);
    const after = await runExplain(config, { email: 'alice.mixed@example.com', at: AT });
    expect(after.map((r) => `${r.store}.${r.table}`).sort()).toEqual([
      'archive.customers',
      'shop.newsletter_subscribers',
      'shop.orders',
      'shop.orders',
    ]);
    const { records: ids } = await runHoldAdd(config, {
      email: ' Alice.MIXED@example.com',
      reason: 'case 2026-77',
    });
    expect(ids).toHaveLength(4);
    for (const r of await runExplain(config, { email: 'alice.mixed@example.com', at: AT }))
      expect(r.status, `${r.store}.${r.table} ${r.id}`).toBe('held');
  }, 180_000);
});

describe('4. the index a search by normalised address needs', () => {
  it('check names the expression index when it is missing', async () => {
    const { config } = await shop(5, 3);
    expect((await runCheck(config)).issues.filter((i) => i.code === 'W_MISSING_INDEX')).toEqual([]);
    await withShop(config, (conn) => sql`DROP INDEX customers_email_norm_idx`.execute(conn.db));
    const warnings = (await runCheck(config)).issues.filter((i) => i.code === 'W_MISSING_INDEX');
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining(
        'CREATE INDEX "customers_email_norm_idx" ON "customers" (lower(trim("email", char(9, 10,',
      ),
    ]);
  });
});
