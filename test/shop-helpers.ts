/** A generated reference shop, its configuration, and ways to look at its rows, for the SQL tests. */

import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readConfig } from '../src/adapters/files/config-files.js';
import { connect, resolveUrl } from '../src/adapters/sql/connect.js';
import { runDemo } from '../src/cli/demo-command.js';
import { SHOP_TABLES } from '../src/core/demo/shop-model.js';

export const AT = '2026-11-27';
export const KEY = 'test-hmac-key-0123456789-abcdefghijklmnopq';
process.env.REGISTRE_TEST_HMAC_KEY = KEY;
export const ROOT = resolve(import.meta.dirname, '..');

export async function shop(customers: number, seed: number, store?: string) {
  const out = mkdtempSync(join(tmpdir(), 'registre-sweep-'));
  const report = await runDemo({ out, customers, seed, at: AT, ...(store ? { store } : {}) });
  // The tests know the key: the suppression list's hashes are checked against it.
  writeFileSync(
    report.config,
    readFileSync(report.config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_TEST_HMAC_KEY'),
  );
  return { out, config: report.config };
}

export async function withShop<T>(
  config: string,
  f: (conn: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  const loaded = readConfig(config);
  const conn = await connect('shop', resolveUrl('shop', loaded.config.stores?.shop?.url as string), {
    baseDir: loaded.dir,
  });
  try {
    return await f(conn);
  } finally {
    await conn.close();
  }
}

/** Every row of every shop table, by `table:key`, as comparable text. */
export async function snapshot(config: string): Promise<Map<string, string>> {
  return withShop(config, async (conn) => {
    const rows = new Map<string, string>();
    for (const table of SHOP_TABLES) {
      for (const row of (await conn.db.selectFrom(table.name).selectAll().execute()) as Record<
        string,
        unknown
      >[]) {
        const values = table.columns.map((c) => {
          const v = row[c.name];
          return v instanceof Date ? v.toISOString() : typeof v === 'boolean' ? Number(v) : v;
        });
        rows.set(`${table.name}:${String(row.id)}`, JSON.stringify(values));
      }
    }
    return rows;
  });
}

export const hmac = (email: string) =>
  createHmac('sha256', KEY).update(email.trim().toLowerCase()).digest('hex');
