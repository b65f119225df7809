// The fastest hand-written sweep we know for the reference shop and the bundled register: what a
// good engineer who knows this schema and its data would write by hand, and the floor `npm run
// bench` holds registre to. Everything registre's sweep does to the shop is done here too, and
// nothing more: the same rows deleted, anonymised and archived, the suppression list filled with
// the same keyed hashes, the same media files removed, the same rows returned to the distributors
// that asked for them. No audit log, no batches, no holds other than the data's own.
//
// How: each rule's deadline is `column + constant`, so the cut-off date is computed once, here in
// JavaScript (month arithmetic clamped to the month's end), and each statement compares the raw
// column with it, which its index serves; the records the open disputes hold are put in temporary
// tables first; then one DELETE or UPDATE per rule, all in one transaction. The comparisons rely
// on what this engineer knows of the data: dates stored as 'YYYY-MM-DD HH:MM:SS' (UTC), all valid.
//
// Improve it if you can: a faster baseline makes the benchmark's ratio more honest.
import { createHmac } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const pad = (n, w = 2) => String(n).padStart(w, '0');
const iso = (d) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const parse = (s) => new Date(`${s.slice(0, 10)}T00:00:00Z`);
const lastDay = (y, m) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();

/** date + months, clamped to the month's end (2025-01-31 + 1 month = 2025-02-28). */
export function addMonths(date, months) {
  const d = parse(date);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const y = Math.floor(total / 12);
  const m = total % 12;
  return iso(new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay(y, m)))));
}
export const addDays = (date, days) => iso(new Date(parse(date).getTime() + days * 86_400_000));

/**
 * The first day that is NOT due: a record whose date is before it has `date + months <= at`.
 * `column < cutoff(at, months)` then selects exactly the due rows (the deadline grows with the date).
 */
export function cutoff(at, months) {
  let d = addMonths(at, -months);
  while (addMonths(addDays(d, 1), months) <= at) d = addDays(d, 1);
  while (addMonths(d, months) > at) d = addDays(d, -1);
  return addDays(d, 1);
}

/** Invoices: 10 years after the end of the financial year (31 December) of the issue date. */
function invoiceCutoff(at) {
  let year = Number(at.slice(0, 4));
  while (addMonths(`${year}-12-31`, 120) > at) year--;
  return `${year + 1}-01-01`;
}

/** The SQL that differs between the dialects, and nothing else. */
function dialectOf(kind) {
  const temp = kind === 'mysql' ? 'CREATE TEMPORARY TABLE' : 'CREATE TEMP TABLE';
  // The latest of dates, NULLs aside (MySQL's GREATEST and SQLite's max give NULL for any NULL).
  const latest = (...xs) =>
    kind === 'postgres'
      ? `GREATEST(${xs.join(', ')})`
      : `${kind === 'sqlite' ? 'max' : 'GREATEST'}(${xs.map((x) => `COALESCE(${x}, '0001-01-01')`).join(', ')})`;
  return { kind, temp, latest };
}

/**
 * Customers whose active phase may have ended (closed, or two years without activity), not held:
 * the key, the end of the relationship (the latest of five dates, two of them over related rows),
 * the closure.
 */
function endedCustomers(kind, at, notHeld) {
  const anchor = dialectOf(kind).latest(
    'c.created_at',
    'c.last_login_at',
    'c.closed_at',
    '(SELECT max(o.placed_at) FROM orders o WHERE o.customer_id = c.id)',
    '(SELECT max(s.created_at) FROM support_tickets s WHERE s.customer_id = c.id)',
  );
  const two = `'${cutoff(at, 24)}'`;
  // Two years without activity: no order and no ticket since the cut-off either (an anti-join on
  // their indexes keeps the latest-of-five for the customers who are past it, a third of them).
  return `SELECT c.id, ${anchor} AS anchor, c.closed_at FROM customers c
     WHERE (c.closed_at < '${addDays(at, 1)}' OR (c.created_at < ${two} AND (c.last_login_at IS NULL OR c.last_login_at < ${two})
         AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.placed_at >= ${two})
         AND NOT EXISTS (SELECT 1 FROM support_tickets s WHERE s.customer_id = c.id AND s.created_at >= ${two})))
       AND ${notHeld}`;
}

/**
 * The records the open disputes hold (rules' holds: an order, its payments, invoices, customer;
 * a distributor's order), in temporary tables `${prefix}held_orders`, `…held_customers` and
 * `…held_dorders`. Returns the function that makes such a table: keys indexed, with fresh
 * statistics (PostgreSQL keeps none of its own for them).
 */
async function heldTables(db, prefix) {
  const { temp, kind } = dialectOf(db.kind);
  const tempTable = async (name, select) => {
    await db.exec(`${temp} ${name} AS ${select}`);
    await db.exec(`CREATE INDEX ${name}_id ON ${name} (id)`);
    if (kind === 'postgres') await db.exec(`ANALYZE ${name}`);
  };
  await tempTable(
    `${prefix}held_orders`,
    `SELECT DISTINCT order_id AS id FROM claims WHERE kind = 'dispute' AND resolved_at IS NULL`,
  );
  await tempTable(
    `${prefix}held_customers`,
    `SELECT DISTINCT o.customer_id AS id FROM orders o JOIN claims h ON h.order_id = o.id WHERE h.kind = 'dispute' AND h.resolved_at IS NULL`,
  );
  await tempTable(
    `${prefix}held_dorders`,
    `SELECT DISTINCT distributor_order_id AS id FROM supplier_disputes WHERE resolved_at IS NULL`,
  );
  return tempTable;
}

/** The statements and the steps between them, in the order registre's sweep visits the tables. */
export async function fastSweep(db, { at, key, mediaDir, returnsDir, visitsAlso }) {
  const { temp, kind } = dialectOf(db.kind);
  const next = addDays(at, 1);
  const c = (months) => `'${cutoff(at, months)}'`;
  const unlinkLater = [];
  const returns = [];
  let touched = 0;
  const run = async (text) => {
    touched += await db.run(text);
  };
  await db.begin();
  const tempTable = await heldTables(db, '');

  // With the consent ledger: the visits of visitors without consent too, in the same pass.
  await run(`DELETE FROM web_visits WHERE occurred_at < ${c(13)}${visitsAlso ? ` OR ${visitsAlso}` : ''}`);
  await run(
    `DELETE FROM prospects WHERE collected_at < ${c(36)} AND (last_contact_at IS NULL OR last_contact_at < ${c(36)})`,
  );

  // Customers: the end of the relationship is the latest of five dates, two of them over related
  // rows; computed once per candidate into a temporary table (the key, that date, the closure).
  await tempTable(
    'ended',
    endedCustomers(db.kind, at, 'NOT EXISTS (SELECT 1 FROM held_customers h WHERE h.id = c.id)'),
  );
  // Past the 5 years: deleted. Past the 2 years (or closed): into the archive, then deleted.
  const entering = `FROM customers c JOIN ended e ON e.id = c.id WHERE e.anchor >= ${c(60)} AND (e.anchor < ${c(24)} OR e.closed_at < '${next}')`;
  let archived = 0;
  if (kind === 'postgres') {
    // The archive on the same server: one INSERT … SELECT, the deadline (the end of the
    // relationship + 5 years, clamped to the month's end as PostgreSQL's interval is) and the
    // texts (as JavaScript's toISOString writes them) computed there.
    const iso = (x) => `to_char(${x} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    archived = await db.run(
      `INSERT INTO archive_customers (record_key, rule, deadline, email, first_name, last_name, created_at, closed_at)
       SELECT c.id::text, 'customer-accounts', to_char((e.anchor AT TIME ZONE 'UTC')::date + interval '60 months', 'YYYY-MM-DD'),
              c.email, c.first_name, c.last_name, ${iso('c.created_at')}, ${iso('c.closed_at')} ${entering}`,
    );
  } else {
    const toArchive = await db.all(
      `SELECT c.id, c.email, c.first_name, c.last_name, c.created_at, c.closed_at, e.anchor ${entering}`,
    );
    await db.insert(
      'archive_customers',
      ['record_key', 'rule', 'deadline', 'email', 'first_name', 'last_name', 'created_at', 'closed_at'],
      toArchive.map((r) => [
        String(r.id),
        'customer-accounts',
        addMonths(dateText(r.anchor), 60),
        r.email,
        r.first_name,
        r.last_name,
        dateText(r.created_at),
        dateText(r.closed_at),
      ]),
    );
    archived = toArchive.length;
  }
  await run(
    `DELETE FROM customers WHERE id IN (SELECT id FROM ended WHERE anchor < ${c(24)} OR closed_at < '${next}')`,
  );

  const notHeld = (column) => `NOT EXISTS (SELECT 1 FROM held_orders h WHERE h.id = ${column})`;
  await run(
    `UPDATE orders SET shipping_name = NULL, shipping_address = NULL, shipping_postal_code = substr(shipping_postal_code, 1, 2), shipping_city = NULL, shipping_country = NULL, shipping_phone = NULL
     WHERE placed_at < ${c(60)} AND (delivered_at IS NULL OR delivered_at < ${c(60)}) AND ${notHeld('orders.id')}
       AND NOT (shipping_name IS NULL AND shipping_address IS NULL AND (shipping_postal_code IS NULL OR length(shipping_postal_code) <= 2) AND shipping_city IS NULL AND shipping_country IS NULL AND shipping_phone IS NULL)`,
  );
  await run(
    `UPDATE payments SET card_last4 = NULL, card_token = NULL, card_expiry = NULL
     WHERE ((NOT deferred_debit AND debited_at < ${c(13)}) OR (deferred_debit AND debited_at < ${c(15)})) AND ${notHeld('payments.order_id')}
       AND NOT (card_last4 IS NULL AND card_token IS NULL AND card_expiry IS NULL)`,
  );
  await run(
    `DELETE FROM invoices WHERE issued_at < '${invoiceCutoff(at)}' AND ${notHeld('invoices.order_id')}`,
  );
  await run(
    `DELETE FROM support_tickets WHERE created_at < ${c(60)} AND (closed_at IS NULL OR closed_at < ${c(60)})`,
  );
  await run(`DELETE FROM claims WHERE resolved_at < ${c(60)}`);
  await run(`DELETE FROM satisfaction_calls WHERE called_at < ${c(36)}`);

  const ambassadorsDue = `(status = 'rejected' AND decided_at < ${c(3)}) OR (status = 'applicant' AND applied_at < ${c(12)}) OR (status IN ('selected', 'active', 'ended') AND contract_ended_at < ${c(60)})`;
  for (const r of await db.all(`SELECT video_path AS p FROM ambassadors WHERE ${ambassadorsDue}`))
    if (r.p) unlinkLater.push(join(mediaDir, r.p));
  await run(`DELETE FROM ambassadors WHERE ${ambassadorsDue}`);
  await run(`DELETE FROM ambassador_shipments WHERE shipped_at < ${c(60)}`);

  // The newsletter: the people who unsubscribed go on the suppression list, as keyed hashes.
  const subscribersDue = `(subscribed_at < ${c(36)} AND (last_click_at IS NULL OR last_click_at < ${c(36)})) OR unsubscribed_at < '${next}'`;
  const hashes = new Set();
  for (const r of await db.all(
    `SELECT email FROM newsletter_subscribers WHERE (${subscribersDue}) AND unsubscribed_at < '${next}'`,
  ))
    if (typeof r.email === 'string' && r.email.trim() !== '')
      hashes.add(createHmac('sha256', key).update(r.email.trim().toLowerCase()).digest('hex'));
  if (hashes.size) {
    await db.exec(`${temp} new_hashes (h varchar(64) PRIMARY KEY)`);
    await db.insert(
      'new_hashes',
      ['h'],
      [...hashes].map((h) => [h]),
    );
    const [{ m }] = await db.all('SELECT COALESCE(MAX(id), 0) AS m FROM suppression_list');
    const fresh = (
      await db.all('SELECT h FROM new_hashes WHERE h NOT IN (SELECT email_hmac FROM suppression_list)')
    ).map((r) => r.h);
    await db.insert(
      'suppression_list',
      ['id', 'email_hmac', 'reason', 'added_at'],
      fresh.map((h, i) => [Number(m) + 1 + i, h, 'unsubscribe', `${at} 00:00:00`]),
    );
  }
  await run(`DELETE FROM newsletter_subscribers WHERE ${subscribersDue}`);
  await run(`DELETE FROM suppression_list WHERE added_at < ${c(36)}`);

  const candidatesDue = `(status IN ('hired', 'rejected', 'withdrawn') AND NOT talent_pool_consent AND process_ended_at < ${c(3)}) OR (status IN ('applied', 'interviewing') AND NOT talent_pool_consent AND last_contact_at < ${c(24)}) OR (talent_pool_consent AND last_contact_at < ${c(24)})`;
  for (const r of await db.all(`SELECT cv_path AS p FROM candidates WHERE ${candidatesDue}`))
    if (r.p) unlinkLater.push(join(mediaDir, r.p));
  await run(`DELETE FROM candidates WHERE ${candidatesDue}`);

  // Processor data: each distributor's own period (its retention_months, read once), or 30 days
  // after its contract ended; the supplier disputes go with their order.
  const { distributors, due: dordersDue } = await distributorOrdersDue(db, at);
  await tempTable(
    'dorders_due',
    `SELECT id, distributor_id FROM distributor_orders WHERE (${dordersDue}) AND NOT EXISTS (SELECT 1 FROM held_dorders h WHERE h.id = distributor_orders.id)`,
  );
  const returning = distributors.filter((d) => d.end_of_contract === 'return').map((d) => Number(d.id));
  if (returning.length) {
    const rows = await db.all(
      `SELECT o.* FROM distributor_orders o JOIN dorders_due d ON d.id = o.id WHERE o.distributor_id IN (${returning.join(', ')}) ORDER BY o.id`,
    );
    const byDistributor = new Map();
    for (const r of rows) {
      const id = Number(r.distributor_id);
      byDistributor.set(id, [...(byDistributor.get(id) ?? []), r]);
    }
    for (const [id, list] of byDistributor) {
      const dir = join(returnsDir, `distributor-${id}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `distributor_orders-${list[0].id}`);
      writeFileSync(`${file}.json`, `${JSON.stringify(list, null, 2)}\n`);
      const columns = Object.keys(list[0]);
      const cell = (v) =>
        v === null ? '' : `"${String(v instanceof Date ? v.toISOString() : v).replaceAll('"', '""')}"`;
      writeFileSync(
        `${file}.csv`,
        `${[columns.join(','), ...list.map((r) => columns.map((k) => cell(r[k])).join(','))].join('\n')}\n`,
      );
      returns.push(...list.map((r) => Number(r.id)));
    }
  }
  await run('DELETE FROM supplier_disputes WHERE distributor_order_id IN (SELECT id FROM dorders_due)');
  await run('DELETE FROM distributor_orders WHERE id IN (SELECT id FROM dorders_due)');
  await db.commit();
  for (const path of unlinkLater) rmSync(path, { force: true });
  for (const t of ['held_orders', 'held_customers', 'held_dorders', 'ended', 'dorders_due', 'new_hashes'])
    await db.exec(`DROP ${kind === 'mysql' ? 'TEMPORARY ' : ''}TABLE IF EXISTS ${t}`);
  return { total: touched, archived, returned: returns.length };
}

const dateText = (v) =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

/** Each distributor's own period (its retention_months), or 30 days after its contract ended. */
async function distributorOrdersDue(db, at) {
  const distributors = await db.all(
    'SELECT id, retention_months, contract_ended_at, end_of_contract FROM distributors',
  );
  const ends = [];
  for (const d of distributors) {
    const months = d.retention_months === null ? null : Number(d.retention_months);
    const ended = d.contract_ended_at !== null && addDays(dateText(d.contract_ended_at), 30) <= at;
    if (ended) ends.push(`distributor_id = ${Number(d.id)}`);
    else if (months !== null)
      ends.push(`(distributor_id = ${Number(d.id)} AND placed_at < '${cutoff(at, months)}')`);
  }
  return { distributors, due: ends.length ? ends.join(' OR ') : '1 = 0' };
}

/** The same selections as COUNTs (due and archive), for `plan`. */
export async function fastCount(db, at) {
  const dordersDue = `(${(await distributorOrdersDue(db, at)).due}) AND NOT EXISTS (SELECT 1 FROM supplier_disputes h WHERE h.distributor_order_id = distributor_orders.id AND h.resolved_at IS NULL)`;
  const next = addDays(at, 1);
  const c = (months) => `'${cutoff(at, months)}'`;
  const heldOrder = (column) =>
    `NOT EXISTS (SELECT 1 FROM claims h WHERE h.order_id = ${column} AND h.kind = 'dispute' AND h.resolved_at IS NULL)`;
  const ended = endedCustomers(
    db.kind,
    at,
    `c.id NOT IN (SELECT o.customer_id FROM orders o JOIN claims h ON h.order_id = o.id WHERE h.kind = 'dispute' AND h.resolved_at IS NULL)`,
  );
  const statements = {
    due: [
      `SELECT COUNT(*) AS n FROM web_visits WHERE occurred_at < ${c(13)}`,
      `SELECT COUNT(*) AS n FROM prospects WHERE collected_at < ${c(36)} AND (last_contact_at IS NULL OR last_contact_at < ${c(36)})`,
      `SELECT COUNT(*) AS n FROM (${ended}) e WHERE e.anchor < ${c(60)}`,
      `SELECT COUNT(*) AS n FROM orders WHERE placed_at < ${c(60)} AND (delivered_at IS NULL OR delivered_at < ${c(60)}) AND ${heldOrder('orders.id')}
         AND NOT (shipping_name IS NULL AND shipping_address IS NULL AND (shipping_postal_code IS NULL OR length(shipping_postal_code) <= 2) AND shipping_city IS NULL AND shipping_country IS NULL AND shipping_phone IS NULL)`,
      `SELECT COUNT(*) AS n FROM payments WHERE ((NOT deferred_debit AND debited_at < ${c(13)}) OR (deferred_debit AND debited_at < ${c(15)})) AND ${heldOrder('payments.order_id')}
         AND NOT (card_last4 IS NULL AND card_token IS NULL AND card_expiry IS NULL)`,
      `SELECT COUNT(*) AS n FROM invoices WHERE issued_at < '${invoiceCutoff(at)}' AND ${heldOrder('invoices.order_id')}`,
      `SELECT COUNT(*) AS n FROM support_tickets WHERE created_at < ${c(60)} AND (closed_at IS NULL OR closed_at < ${c(60)})`,
      `SELECT COUNT(*) AS n FROM claims WHERE resolved_at < ${c(60)}`,
      `SELECT COUNT(*) AS n FROM satisfaction_calls WHERE called_at < ${c(36)}`,
      `SELECT COUNT(*) AS n FROM ambassadors WHERE (status = 'rejected' AND decided_at < ${c(3)}) OR (status = 'applicant' AND applied_at < ${c(12)}) OR (status IN ('selected', 'active', 'ended') AND contract_ended_at < ${c(60)})`,
      `SELECT COUNT(*) AS n FROM ambassador_shipments WHERE shipped_at < ${c(60)}`,
      `SELECT COUNT(*) AS n FROM newsletter_subscribers WHERE (subscribed_at < ${c(36)} AND (last_click_at IS NULL OR last_click_at < ${c(36)})) OR unsubscribed_at < '${next}'`,
      `SELECT COUNT(*) AS n FROM suppression_list WHERE added_at < ${c(36)}`,
      `SELECT COUNT(*) AS n FROM candidates WHERE (status IN ('hired', 'rejected', 'withdrawn') AND NOT talent_pool_consent AND process_ended_at < ${c(3)}) OR (status IN ('applied', 'interviewing') AND NOT talent_pool_consent AND last_contact_at < ${c(24)}) OR (talent_pool_consent AND last_contact_at < ${c(24)})`,
      `SELECT COUNT(*) AS n FROM distributor_orders WHERE ${dordersDue}`,
      `SELECT COUNT(*) AS n FROM supplier_disputes WHERE distributor_order_id IN (SELECT id FROM distributor_orders WHERE ${dordersDue})`,
    ],
    archive: [
      `SELECT COUNT(*) AS n FROM (${ended}) e WHERE e.anchor >= ${c(60)} AND (e.anchor < ${c(24)} OR e.closed_at < '${next}')`,
    ],
  };
  const count = async (list) => {
    let n = 0;
    for (const text of list) n += Number((await db.all(text))[0].n);
    return n;
  };
  return { due: await count(statements.due), archive: await count(statements.archive) };
}

/**
 * What `plan` prints, by hand: for every rule, how many of its records are active, in archive,
 * due, held or already anonymised (none is restricted or invalid in a demo shop), one statement
 * per table, each record counted once under the rule that applies to it. The same knowledge of
 * the data as above (valid dates, stored as text that sorts as dates), the held keys in indexed
 * temporary tables.
 */
export async function fastPlan(db, at) {
  const { kind, latest } = dialectOf(db.kind);
  const next = addDays(at, 1);
  const c = (months) => `'${cutoff(at, months)}'`;
  await heldTables(db, 'plan_');
  const held = (table, column) => `EXISTS (SELECT 1 FROM ${table} h WHERE h.id = ${column})`;
  // Due when every date that is there is before the cut-off, and one is there.
  const allBefore = (columns, months) =>
    `((${columns.map((x) => `${x} IS NOT NULL`).join(' OR ')}) AND ${columns.map((x) => `(${x} IS NULL OR ${x} < ${c(months)})`).join(' AND ')})`;
  const { due: dordersDue } = await distributorOrdersDue(db, at);
  // Per table: [rule id or a CASE choosing it, status CASE], over FROM.
  const tables = [
    ['web_visits', `'web-visits'`, `CASE WHEN occurred_at < ${c(13)} THEN 'due' ELSE 'active' END`],
    [
      'prospects',
      `'prospects'`,
      `CASE WHEN ${allBefore(['collected_at', 'last_contact_at'], 36)} THEN 'due' ELSE 'active' END`,
    ],
    [
      `(SELECT c.id, c.closed_at, ${latest(
        'c.created_at',
        'c.last_login_at',
        'c.closed_at',
        '(SELECT max(o.placed_at) FROM orders o WHERE o.customer_id = c.id)',
        '(SELECT max(s.created_at) FROM support_tickets s WHERE s.customer_id = c.id)',
      )} AS anchor FROM customers c) customers`,
      `'customer-accounts'`,
      `CASE WHEN ${held('plan_held_customers', 'customers.id')} THEN 'held' WHEN anchor < ${c(60)} THEN 'due'
         WHEN anchor < ${c(24)} OR closed_at < '${next}' THEN 'archive' ELSE 'active' END`,
    ],
    [
      'orders',
      `'orders'`,
      `CASE WHEN ${held('plan_held_orders', 'orders.id')} THEN 'held'
         WHEN shipping_name IS NULL AND shipping_address IS NULL AND (shipping_postal_code IS NULL OR length(shipping_postal_code) <= 2) AND shipping_city IS NULL AND shipping_country IS NULL AND shipping_phone IS NULL THEN 'anonymised'
         WHEN ${allBefore(['placed_at', 'delivered_at'], 60)} THEN 'due' ELSE 'active' END`,
    ],
    [
      'payments',
      `CASE WHEN deferred_debit THEN 'payments-deferred' WHEN NOT deferred_debit THEN 'payments' END`,
      `CASE WHEN ${held('plan_held_orders', 'payments.order_id')} THEN 'held'
         WHEN card_last4 IS NULL AND card_token IS NULL AND card_expiry IS NULL THEN 'anonymised'
         WHEN (NOT deferred_debit AND debited_at < ${c(13)}) OR (deferred_debit AND debited_at < ${c(15)}) THEN 'due' ELSE 'active' END`,
    ],
    [
      'invoices',
      `'invoices'`,
      `CASE WHEN ${held('plan_held_orders', 'invoices.order_id')} THEN 'held' WHEN issued_at < '${invoiceCutoff(at)}' THEN 'due' ELSE 'active' END`,
    ],
    [
      'support_tickets',
      `'support-tickets'`,
      `CASE WHEN ${allBefore(['created_at', 'closed_at'], 60)} THEN 'due' ELSE 'active' END`,
    ],
    [
      'claims',
      `'claims'`,
      `CASE WHEN kind = 'dispute' AND resolved_at IS NULL THEN 'held' WHEN resolved_at < ${c(60)} THEN 'due' ELSE 'active' END`,
    ],
    [
      'satisfaction_calls',
      `'satisfaction-calls'`,
      `CASE WHEN called_at < ${c(36)} THEN 'due' ELSE 'active' END`,
    ],
    [
      'ambassadors',
      `CASE WHEN status = 'rejected' THEN 'ambassadors-rejected' WHEN status = 'applicant' THEN 'ambassadors-undecided' WHEN status IN ('selected', 'active', 'ended') THEN 'ambassador-contracts' END`,
      `CASE WHEN (status = 'rejected' AND decided_at < ${c(3)}) OR (status = 'applicant' AND applied_at < ${c(12)}) OR (status IN ('selected', 'active', 'ended') AND contract_ended_at < ${c(60)}) THEN 'due' ELSE 'active' END`,
    ],
    [
      'ambassador_shipments',
      `'ambassador-shipments'`,
      `CASE WHEN shipped_at < ${c(60)} THEN 'due' ELSE 'active' END`,
    ],
    [
      'newsletter_subscribers',
      `'newsletter-subscribers'`,
      `CASE WHEN ${allBefore(['subscribed_at', 'last_click_at'], 36)} OR unsubscribed_at < '${next}' THEN 'due' ELSE 'active' END`,
    ],
    ['suppression_list', `'suppression-list'`, `CASE WHEN added_at < ${c(36)} THEN 'due' ELSE 'active' END`],
    [
      'candidates',
      `CASE WHEN talent_pool_consent THEN 'talent-pool' WHEN NOT talent_pool_consent AND status IN ('hired', 'rejected', 'withdrawn') THEN 'candidates-closed' WHEN NOT talent_pool_consent AND status IN ('applied', 'interviewing') THEN 'candidates-in-progress' END`,
      `CASE WHEN (status IN ('hired', 'rejected', 'withdrawn') AND NOT talent_pool_consent AND process_ended_at < ${c(3)}) OR (status IN ('applied', 'interviewing') AND NOT talent_pool_consent AND last_contact_at < ${c(24)}) OR (talent_pool_consent AND last_contact_at < ${c(24)}) THEN 'due' ELSE 'active' END`,
    ],
    [
      'distributor_orders',
      `'distributor-orders'`,
      `CASE WHEN ${held('plan_held_dorders', 'distributor_orders.id')} THEN 'held' WHEN ${dordersDue} THEN 'due' ELSE 'active' END`,
    ],
    [
      `(SELECT d.id, d.resolved_at, d.distributor_order_id, ${dordersDue.replaceAll('distributor_id', 'o.distributor_id').replaceAll('placed_at', 'o.placed_at')} AS order_due FROM supplier_disputes d JOIN distributor_orders o ON o.id = d.distributor_order_id) supplier_disputes`,
      `'supplier-disputes'`,
      // Held by itself (unresolved), or through its order (held by another of its disputes).
      `CASE WHEN resolved_at IS NULL OR ${held('plan_held_dorders', 'supplier_disputes.distributor_order_id')} THEN 'held' WHEN order_due THEN 'due' ELSE 'active' END`,
    ],
  ];
  const lines = {};
  for (const [from, rule, status] of tables)
    for (const row of await db.all(
      `SELECT rule, status, COUNT(*) AS n FROM (SELECT ${rule} AS rule, ${status} AS status FROM ${from}) s WHERE rule IS NOT NULL GROUP BY rule, status`,
    )) {
      lines[row.rule] ??= { active: 0, archive: 0, due: 0, held: 0, anonymised: 0 };
      lines[row.rule][row.status] += Number(row.n);
    }
  for (const t of ['plan_held_orders', 'plan_held_customers', 'plan_held_dorders'])
    await db.exec(`DROP ${kind === 'mysql' ? 'TEMPORARY ' : ''}TABLE IF EXISTS ${t}`);
  return lines;
}

/**
 * The consent ledger by hand (SQLite): the state store attached, the visitors whose latest
 * audience-statistics choice on `at` is a refusal, a withdrawal, or a consent given 13 months ago
 * or more (expired), in an indexed temporary table; returns the condition that adds their visits
 * to fastSweep's one DELETE of web_visits.
 */
export async function fastConsentVisitors(db, stateFile, at) {
  if (db.kind !== 'sqlite') throw new Error('the consent baseline is written for SQLite');
  const next = addDays(at, 1);
  await db.exec(`ATTACH DATABASE '${stateFile}' AS st`);
  await db.exec(
    `CREATE TEMP TABLE lost_visitors (v TEXT PRIMARY KEY) WITHOUT ROWID;
     INSERT INTO lost_visitors SELECT subject FROM (
       SELECT subject, choice, at, ROW_NUMBER() OVER (PARTITION BY subject ORDER BY at DESC, id DESC) AS rn
       FROM st.consent_events
       WHERE subject_kind = 'visitor' AND purpose = 'audience-statistics' AND at < '${next}T00:00:00.000Z'
     ) WHERE rn = 1 AND (choice <> 'given' OR substr(at, 1, 10) < '${cutoff(at, 13)}');
     DETACH DATABASE st;`,
  );
  return 'visitor_id IN (SELECT v FROM lost_visitors)';
}
