// People's requests on a demo shop in PostgreSQL, in one process: access and erasure per person
// against the hand-written SQL (node-postgres, prepared by name) that reads or changes the same
// rows. Usage: node bench/requests-pg-worker.js DIR URL PEOPLE
import { join } from 'node:path';
import pg from 'pg';
import { identitySql } from '../dist/adapters/sql/dialect.js';
import { createEngine } from '../dist/app/engine.js';
import { openRequest, runRequest, verifyRequest } from '../dist/app/requests/index.js';

// The hand-written statements compare the address as the shop's index stores it (the expression
// of its `_norm_idx` indexes): written otherwise, they would scan every row and flatter registre.
const norm = (column) => identitySql('postgres', column);

const [dir, url, peopleText] = process.argv.slice(2);
const people = Number(peopleText);
const config = join(dir, 'registre.yaml');
const at = new Date().toISOString().slice(0, 10);
// One engine for the process, as the service holds one: the stores opened once.
const ctx = { actor: 'bench:requests' };
const engine = createEngine({ config });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const client = new pg.Client({ connectionString: url });
await client.connect();
const q = async (name, text, values) => (await client.query({ name, text, values })).rows;

const total = Number((await q('count', 'SELECT count(*) AS n FROM customers', [])).at(0).n);
const pick = async (count, offset) => {
  const out = [];
  for (let i = 0; i < count; i++) {
    const id = 1 + ((offset + i * Math.floor(total / (count + 1))) % total);
    const [row] = await q(
      'pick',
      `SELECT ${norm('email')} AS e FROM customers WHERE id >= $1 ORDER BY id LIMIT 1`,
      [id],
    );
    if (row) out.push(row.e);
  }
  return out;
};

async function verified(type, email) {
  const opened = await openRequest(engine, { type, email }, ctx);
  await verifyRequest(engine, { id: opened.id, manual: true, reason: 'bench' }, ctx);
  return opened.id;
}

/** The hand-written reads of one person's rows: arrays bound as one value, as a good engineer would. */
async function rawAccess(email) {
  const customers = await q('a1', `SELECT * FROM customers WHERE ${norm('email')} = $1`, [email]);
  const cids = customers.map((c) => c.id);
  const orders = await q('a2', 'SELECT * FROM orders WHERE customer_id = ANY($1)', [cids]);
  const oids = orders.map((o) => o.id);
  const ambassadors = await q('a3', `SELECT * FROM ambassadors WHERE ${norm('email')} = $1`, [email]);
  const dorders = await q('a4', `SELECT * FROM distributor_orders WHERE ${norm('end_customer_email')} = $1`, [
    email,
  ]);
  const rows = [
    customers,
    orders,
    ambassadors,
    dorders,
    await q('a5', 'SELECT * FROM payments WHERE order_id = ANY($1)', [oids]),
    await q('a6', 'SELECT * FROM invoices WHERE order_id = ANY($1) OR customer_id = ANY($2)', [oids, cids]),
    await q('a7', 'SELECT * FROM claims WHERE order_id = ANY($1)', [oids]),
    await q('a8', `SELECT * FROM support_tickets WHERE customer_id = ANY($1) OR ${norm('email')} = $2`, [
      cids,
      email,
    ]),
    await q('a9', 'SELECT * FROM satisfaction_calls WHERE customer_id = ANY($1)', [cids]),
    await q('a10', `SELECT * FROM newsletter_subscribers WHERE ${norm('email')} = $1`, [email]),
    await q('a11', `SELECT * FROM prospects WHERE ${norm('email')} = $1`, [email]),
    await q('a12', `SELECT * FROM candidates WHERE ${norm('email')} = $1`, [email]),
    await q('a13', 'SELECT * FROM ambassador_shipments WHERE ambassador_id = ANY($1)', [
      ambassadors.map((a) => a.id),
    ]),
    await q('a14', 'SELECT * FROM supplier_disputes WHERE distributor_order_id = ANY($1)', [
      dorders.map((d) => d.id),
    ]),
  ];
  return JSON.stringify(rows).length;
}

/** The hand-written erasure of the same person: one transaction, set-based statements. */
async function rawErase(email) {
  await client.query('BEGIN');
  const cids = (await q('e1', `SELECT id FROM customers WHERE ${norm('email')} = $1`, [email])).map(
    (r) => r.id,
  );
  const oids = (await q('e2', 'SELECT id FROM orders WHERE customer_id = ANY($1)', [cids])).map((r) => r.id);
  await q(
    'e3',
    'UPDATE orders SET shipping_name = NULL, shipping_address = NULL, shipping_postal_code = NULL, shipping_city = NULL, shipping_country = NULL, shipping_phone = NULL WHERE id = ANY($1)',
    [oids],
  );
  await q(
    'e4',
    'UPDATE payments SET card_last4 = NULL, card_token = NULL, card_expiry = NULL WHERE order_id = ANY($1)',
    [oids],
  );
  await q('e5', 'DELETE FROM claims WHERE resolved_at IS NOT NULL AND order_id = ANY($1)', [oids]);
  await q('e6', 'DELETE FROM satisfaction_calls WHERE customer_id = ANY($1)', [cids]);
  await q('e7', `DELETE FROM support_tickets WHERE customer_id = ANY($1) OR ${norm('email')} = $2`, [
    cids,
    email,
  ]);
  await q(
    'e8',
    `DELETE FROM ambassador_shipments WHERE ambassador_id IN (SELECT id FROM ambassadors WHERE ${norm('email')} = $1)`,
    [email],
  );
  for (const t of ['ambassadors', 'candidates', 'prospects', 'newsletter_subscribers'])
    await q(`e9${t}`, `DELETE FROM ${t} WHERE ${norm('email')} = $1`, [email]);
  await q('e10', 'DELETE FROM customers WHERE id = ANY($1)', [cids]);
  await client.query('COMMIT');
}

const access = [];
const rawAccessMs = [];
for (const email of await pick(people, 7)) {
  const id = await verified('access', email);
  let start = performance.now();
  await runRequest(engine, { id, at, out: join(dir, 'bench-access', String(id)) }, ctx);
  access.push(performance.now() - start);
  start = performance.now();
  await rawAccess(email);
  rawAccessMs.push(performance.now() - start);
}
const erase = [];
const rawEraseMs = [];
for (const [i, email] of (await pick(people * 2, 13)).entries()) {
  const start = performance.now();
  if (i % 2 === 0) {
    const id = await verified('erasure', email);
    const begin = performance.now();
    await runRequest(engine, { id, at }, ctx);
    erase.push(performance.now() - begin);
  } else {
    await rawErase(email);
    rawEraseMs.push(performance.now() - start);
  }
}
await client.end();
await engine.close();
console.log(
  JSON.stringify({
    customers: total,
    access: { medianMs: median(access), rawMedianMs: median(rawAccessMs) },
    erasure: { medianMs: median(erase), rawMedianMs: median(rawEraseMs) },
  }),
);
