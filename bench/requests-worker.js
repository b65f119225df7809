// People's requests on a demo shop, in one process: access and erasure per person against the
// hand-written SQL that reads (or changes) the same rows, then `erasure replay` after a restore.
// Usage: node bench/requests-worker.js DIR PEOPLE REPLAYS
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { identitySql } from '../dist/adapters/sql/dialect.js';
import { createEngine } from '../dist/app/engine.js';
import { openRequest, replayErasures, runRequest, verifyRequest } from '../dist/app/requests/index.js';

// The hand-written statements compare the address as the shop's index stores it (the expression
// of its `_norm_idx` indexes): written otherwise, they would scan every row and flatter registre.
const norm = (column) => identitySql('sqlite', column);

const [dir, peopleText, replaysText] = process.argv.slice(2);
const people = Number(peopleText);
const replays = Number(replaysText);
const config = join(dir, 'registre.yaml');
const shop = join(dir, 'shop.sqlite');
const at = new Date().toISOString().slice(0, 10);
// One engine for the process, as the service holds one: the stores opened once.
const ctx = { actor: 'bench:requests' };
let engine = createEngine({ config });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

const db = new Database(shop);
const total = db.prepare('SELECT count(*) AS n FROM customers').get().n;
// People spread over the table (every one with an account), then others for the erasures.
const pick = (count, offset) =>
  Array.from({ length: count }, (_, i) => {
    const id = 1 + ((offset + i * Math.floor(total / (count + 1))) % total);
    return db.prepare(`SELECT ${norm('email')} AS e FROM customers WHERE id >= ? ORDER BY id LIMIT 1`).get(id)
      ?.e;
  }).filter(Boolean);

async function verified(type, email) {
  const opened = await openRequest(engine, { type, email }, ctx);
  await verifyRequest(engine, { id: opened.id, manual: true, reason: 'bench' }, ctx);
  return opened.id;
}

/** The hand-written reads of one person's rows (the same tables and links as the data map). */
const q = (text) => db.prepare(text);
const byEmail = {
  customers: q(`SELECT * FROM customers WHERE ${norm('email')} = ?`),
  tickets: q(`SELECT * FROM support_tickets WHERE ${norm('email')} = ?`),
  newsletter: q(`SELECT * FROM newsletter_subscribers WHERE ${norm('email')} = ?`),
  prospects: q(`SELECT * FROM prospects WHERE ${norm('email')} = ?`),
  candidates: q(`SELECT * FROM candidates WHERE ${norm('email')} = ?`),
  ambassadors: q(`SELECT * FROM ambassadors WHERE ${norm('email')} = ?`),
  distributor: q(`SELECT * FROM distributor_orders WHERE ${norm('end_customer_email')} = ?`),
};
const inList = (table, column, ids) =>
  ids.length
    ? db.prepare(`SELECT * FROM ${table} WHERE ${column} IN (${ids.map(() => '?').join(',')})`).all(...ids)
    : [];

function rawAccess(email, out) {
  const customers = byEmail.customers.all(email);
  const cids = customers.map((c) => c.id);
  const orders = inList('orders', 'customer_id', cids);
  const oids = orders.map((o) => o.id);
  const ambassadors = byEmail.ambassadors.all(email);
  const dorders = byEmail.distributor.all(email);
  const rows = {
    customers,
    orders,
    payments: inList('payments', 'order_id', oids),
    invoices: [...inList('invoices', 'order_id', oids), ...inList('invoices', 'customer_id', cids)],
    claims: inList('claims', 'order_id', oids),
    support_tickets: [...inList('support_tickets', 'customer_id', cids), ...byEmail.tickets.all(email)],
    satisfaction_calls: inList('satisfaction_calls', 'customer_id', cids),
    newsletter_subscribers: byEmail.newsletter.all(email),
    prospects: byEmail.prospects.all(email),
    candidates: byEmail.candidates.all(email),
    ambassadors,
    ambassador_shipments: inList(
      'ambassador_shipments',
      'ambassador_id',
      ambassadors.map((a) => a.id),
    ),
    distributor_orders: dorders,
    supplier_disputes: inList(
      'supplier_disputes',
      'distributor_order_id',
      dorders.map((d) => d.id),
    ),
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'access.json'), JSON.stringify(rows));
  return Object.values(rows).reduce((n, r) => n + r.length, 0);
}

/** The hand-written erasure of the same person: one transaction, set-based statements. */
function rawErase(email) {
  const ids = (sqlText, ...args) =>
    db
      .prepare(sqlText)
      .all(...args)
      .map((r) => r.id);
  const list = (xs) => xs.map(() => '?').join(',');
  db.exec('BEGIN');
  const cids = ids(`SELECT id FROM customers WHERE ${norm('email')} = ?`, email);
  const oids = cids.length ? ids(`SELECT id FROM orders WHERE customer_id IN (${list(cids)})`, ...cids) : [];
  const aids = ids(`SELECT id FROM ambassadors WHERE ${norm('email')} = ?`, email);
  let n = 0;
  const run = (sqlText, args) => {
    if (args.length === 0) return;
    n += db.prepare(sqlText).run(...args).changes;
  };
  run(
    `UPDATE orders SET shipping_name = NULL, shipping_address = NULL, shipping_postal_code = NULL, shipping_city = NULL, shipping_country = NULL, shipping_phone = NULL WHERE id IN (${list(oids)})`,
    oids,
  );
  run(
    `UPDATE payments SET card_last4 = NULL, card_token = NULL, card_expiry = NULL WHERE order_id IN (${list(oids)})`,
    oids,
  );
  run(`DELETE FROM claims WHERE resolved_at IS NOT NULL AND order_id IN (${list(oids)})`, oids);
  run(`DELETE FROM satisfaction_calls WHERE customer_id IN (${list(cids)})`, cids);
  run(`DELETE FROM support_tickets WHERE customer_id IN (${list(cids)})`, cids);
  n += db.prepare(`DELETE FROM support_tickets WHERE ${norm('email')} = ?`).run(email).changes;
  run(`DELETE FROM ambassador_shipments WHERE ambassador_id IN (${list(aids)})`, aids);
  for (const t of ['ambassadors', 'candidates', 'prospects', 'newsletter_subscribers'])
    n += db.prepare(`DELETE FROM ${t} WHERE ${norm('email')} = ?`).run(email).changes;
  run(`DELETE FROM customers WHERE id IN (${list(cids)})`, cids);
  db.exec('COMMIT');
  return n;
}

const result = { customers: total };

// Access: registre (find, read, package) against the hand-written reads of the same rows.
const accessPeople = pick(people, 7);
const access = [];
const rawAccessMs = [];
const dryAccessMs = [];
for (const [i, email] of accessPeople.entries()) {
  const id = await verified('access', email);
  // The same request as a dry run first: found and explained, nothing written, no audit entry.
  let start = performance.now();
  await runRequest(engine, { id, at, dryRun: true, out: join(dir, 'bench-dry') }, ctx);
  dryAccessMs.push(performance.now() - start);
  start = performance.now();
  const run = await runRequest(engine, { id, at, out: join(dir, 'bench-access', String(i)) }, ctx);
  access.push({ ms: performance.now() - start, found: run.found });
  start = performance.now();
  rawAccess(email, join(dir, 'bench-raw', String(i)));
  rawAccessMs.push(performance.now() - start);
}
result.access = {
  medianMs: median(access.map((a) => a.ms)),
  p90Ms: p90(access.map((a) => a.ms)),
  rawMedianMs: median(rawAccessMs),
  dryMedianMs: median(dryAccessMs),
  records: median(access.map((a) => a.found)),
};

// Erasure: registre on some people, hand-written on others (each person is erased once).
copyFileSync(shop, join(dir, 'before-erasures.sqlite'));
const erasePeople = pick(people * 2, 13);
const erase = [];
const rawEraseMs = [];
for (const [i, email] of erasePeople.entries()) {
  if (i % 2 === 0) {
    const id = await verified('erasure', email);
    const start = performance.now();
    await runRequest(engine, { id, at }, ctx);
    erase.push(performance.now() - start);
  } else {
    const start = performance.now();
    rawErase(email);
    rawEraseMs.push(performance.now() - start);
  }
}
result.erasure = { medianMs: median(erase), p90Ms: p90(erase), rawMedianMs: median(rawEraseMs) };

// Replay: more erasures, a restore of the copy made before them, then one replay of them all.
for (const email of pick(Math.max(0, replays - erase.length), 29)) {
  const id = await verified('erasure', email).catch(() => null);
  if (id !== null) await runRequest(engine, { id, at }, ctx);
}
db.close();
// The restore replaces the shop's file: the engine lets go of it first, a new one opens the copy.
await engine.close();
engine = createEngine({ config });
copyFileSync(join(dir, 'before-erasures.sqlite'), shop);
for (const suffix of ['-wal', '-shm']) rmSync(`${shop}${suffix}`, { force: true });
const start = performance.now();
const replay = await replayErasures(engine, {}, ctx);
await engine.close();
result.replay = {
  seconds: (performance.now() - start) / 1000,
  erasures: replay.erasures,
  redone: replay.redone.length,
};
result.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(result));
