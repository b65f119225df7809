// One run of the shop generator's benchmark, in its own process so that its peak RSS is its own.
// Usage: node bench/generate-worker.js registre|baseline URL CUSTOMERS DIR
import Database from 'better-sqlite3';
import pg from 'pg';
import { connect } from '../dist/adapters/sql/connect.js';
import { multiRowInsert, rowsPerInsert } from '../dist/adapters/sql/dialect.js';
import { createShopIndexes, createShopSchema, writeShop } from '../dist/adapters/sql/shop-store.js';
import { generateShop } from '../dist/core/demo/generate-shop.js';
import { SHOP_TABLES } from '../dist/core/demo/shop-model.js';

const [variant, url, customersText, dir] = process.argv.slice(2);
const customers = Number(customersText);
const shop = { customers, seed: 1, at: '2026-11-27' };
const conn = await connect('shop', url, { baseDir: dir, create: true, bulk: true });
await createShopSchema(conn, { replace: true });

let rows = 0;
let seconds = 0;
if (variant === 'registre') {
  const start = performance.now();
  rows = await writeShop(conn, generateShop(shop));
  await createShopIndexes(conn);
  seconds = (performance.now() - start) / 1000;
  await conn.close();
} else {
  // The floor: the same rows, already generated (not timed), through the same driver's plain
  // multi-row INSERT with its statement prepared once, one transaction per block, then the same indexes.
  await conn.close();
  const sqlite = url.startsWith('sqlite:');
  const db = sqlite ? new Database(`${dir}/${url.slice(7)}`) : new pg.Client({ connectionString: url });
  if (sqlite) {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -65536');
  } else {
    await db.connect();
    await db.query("SET TIME ZONE 'UTC'");
  }
  const statements = new Map();
  for (const chunk of generateShop(shop)) {
    const started = performance.now();
    if (sqlite) db.exec('BEGIN');
    else await db.query('BEGIN');
    for (const table of SHOP_TABLES) {
      const tableRows = chunk.rows.get(table.name) ?? [];
      const columns = table.columns.map((c) => c.name);
      const bools = table.columns.flatMap((c, i) => (c.type === 'boolean' ? [i] : []));
      const size = rowsPerInsert(columns.length);
      for (let i = 0; i < tableRows.length; i += size) {
        const batch = tableRows.slice(i, i + size);
        if (!sqlite) for (const row of batch) for (const b of bools) row[b] = row[b] === 1;
        const text = multiRowInsert(sqlite ? 'sqlite' : 'postgres', table.name, columns, batch.length);
        if (sqlite) {
          if (!statements.has(text)) statements.set(text, db.prepare(text));
          statements.get(text).run(batch.flat());
        } else await db.query(text, batch.flat());
      }
      rows += tableRows.length;
    }
    if (sqlite) db.exec('COMMIT');
    else await db.query('COMMIT');
    seconds += (performance.now() - started) / 1000;
  }
  if (sqlite) db.close();
  else await db.end();
  const indexes = await connect('shop', url, { baseDir: dir, bulk: true });
  const started = performance.now();
  await createShopIndexes(indexes);
  seconds += (performance.now() - started) / 1000;
  await indexes.close();
}
const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify({ variant, rows, seconds, maxRssMb })}\n`);
