// The hand-written SQLite baseline for the retention benchmarks: the same rules as the bundled
// register, written by hand (month arithmetic clamped to the month's end, as the rules require),
// for counting (plan) and for deleting and anonymising exactly the same rows (sweep).

const addMonths = (date, months) =>
  `min(date(${date}, 'start of month', '+' || (${months}) || ' months', '+' || (CAST(strftime('%d', ${date}) AS INTEGER) - 1) || ' days'), date(${date}, 'start of month', '+' || (${months}) || ' months', '+1 month', '-1 day'))`;
const d = (c) => `date(${c})`;
const latest = (...xs) =>
  `NULLIF(max(${xs.map((x) => `COALESCE(${x}, '0001-01-01')`).join(', ')}), '0001-01-01')`;
const openDispute = (orderId) =>
  `EXISTS (SELECT 1 FROM claims h WHERE h.order_id = ${orderId} AND h.kind = 'dispute' AND h.resolved_at IS NULL)`;
const customerHeld = `EXISTS (SELECT 1 FROM orders o JOIN claims h ON h.order_id = o.id WHERE o.customer_id = customers.id AND h.kind = 'dispute' AND h.resolved_at IS NULL)`;
const customerAnchor = latest(
  d('created_at'),
  d('last_login_at'),
  d('closed_at'),
  `(SELECT max(date(placed_at)) FROM orders o WHERE o.customer_id = customers.id)`,
  `(SELECT max(date(created_at)) FROM support_tickets s WHERE s.customer_id = customers.id)`,
);
const distributorDeadline = (o) =>
  `NULLIF(min(COALESCE(${addMonths(`date(${o}.placed_at)`, `(SELECT CASE WHEN x.retention_months >= 0 THEN x.retention_months END FROM distributors x WHERE x.id = ${o}.distributor_id)`)}, '9999-12-31'), COALESCE((SELECT date(x.contract_ended_at, '+30 days') FROM distributors x WHERE x.id = ${o}.distributor_id), '9999-12-31')), '9999-12-31')`;
const orderDisputeOpen = (o) =>
  `EXISTS (SELECT 1 FROM supplier_disputes h WHERE h.distributor_order_id = ${o}.id AND h.resolved_at IS NULL)`;

/** Per rule: the table, the due condition (on the table's own row), and what happens. */
export function rawRules(at) {
  const due = (deadline) => `(${deadline}) <= '${at}'`;
  return [
    {
      rule: 'supplier-disputes',
      table: 'supplier_disputes',
      where: `resolved_at IS NOT NULL AND EXISTS (SELECT 1 FROM distributor_orders o WHERE o.id = supplier_disputes.distributor_order_id AND ${due(distributorDeadline('o'))} AND NOT ${orderDisputeOpen('o')})`,
      action: 'delete',
    },
    {
      rule: 'web-visits',
      table: 'web_visits',
      where: due(addMonths(d('occurred_at'), 13)),
      action: 'delete',
    },
    {
      rule: 'prospects',
      table: 'prospects',
      where: due(addMonths(latest(d('collected_at'), d('last_contact_at')), 36)),
      action: 'delete',
    },
    {
      rule: 'customer-accounts',
      table: 'customers',
      where: `${due(addMonths(customerAnchor, 60))} AND NOT ${customerHeld}`,
      action: 'delete',
    },
    {
      rule: 'customer-accounts',
      table: 'customers',
      where: `NOT ${due(addMonths(customerAnchor, 60))} AND NULLIF(min(COALESCE(${addMonths(customerAnchor, 24)}, '9999-12-31'), COALESCE(${d('closed_at')}, '9999-12-31')), '9999-12-31') <= '${at}' AND NOT ${customerHeld}`,
      action: 'archive',
    },
    {
      rule: 'orders',
      table: 'orders',
      where: `${due(addMonths(latest(d('placed_at'), d('delivered_at')), 60))} AND NOT ${openDispute('orders.id')} AND NOT (shipping_name IS NULL AND shipping_address IS NULL AND (shipping_postal_code IS NULL OR length(shipping_postal_code) <= 2) AND shipping_city IS NULL AND shipping_country IS NULL AND shipping_phone IS NULL)`,
      action: 'anonymise-orders',
    },
    {
      rule: 'payments',
      table: 'payments',
      where: `((deferred_debit = 0 AND ${due(addMonths(d('debited_at'), 13))}) OR (deferred_debit = 1 AND ${due(addMonths(d('debited_at'), 15))})) AND NOT ${openDispute('payments.order_id')} AND NOT (card_last4 IS NULL AND card_token IS NULL AND card_expiry IS NULL)`,
      action: 'anonymise-payments',
    },
    {
      rule: 'invoices',
      table: 'invoices',
      where: `(CAST(strftime('%Y', issued_at) AS INTEGER) + 10) || '-12-31' <= '${at}' AND NOT ${openDispute('invoices.order_id')}`,
      action: 'delete',
    },
    {
      rule: 'support-tickets',
      table: 'support_tickets',
      where: due(addMonths(latest(d('created_at'), d('closed_at')), 60)),
      action: 'delete',
    },
    {
      rule: 'claims',
      table: 'claims',
      where: `resolved_at IS NOT NULL AND ${due(addMonths(d('resolved_at'), 60))}`,
      action: 'delete',
    },
    {
      rule: 'satisfaction-calls',
      table: 'satisfaction_calls',
      where: due(addMonths(d('called_at'), 36)),
      action: 'delete',
    },
    {
      rule: 'ambassadors',
      table: 'ambassadors',
      where: `((status = 'rejected' AND ${due(addMonths(d('decided_at'), 3))}) OR (status = 'applicant' AND ${due(addMonths(d('applied_at'), 12))}) OR (status IN ('selected', 'active', 'ended') AND ${due(addMonths(d('contract_ended_at'), 60))}))`,
      action: 'delete',
    },
    {
      rule: 'ambassador-shipments',
      table: 'ambassador_shipments',
      where: due(addMonths(d('shipped_at'), 60)),
      action: 'delete',
    },
    {
      rule: 'newsletter-subscribers',
      table: 'newsletter_subscribers',
      where: `NULLIF(min(COALESCE(${addMonths(latest(d('subscribed_at'), d('last_click_at')), 36)}, '9999-12-31'), COALESCE(${d('unsubscribed_at')}, '9999-12-31')), '9999-12-31') <= '${at}'`,
      action: 'delete',
    },
    {
      rule: 'suppression-list',
      table: 'suppression_list',
      where: due(addMonths(d('added_at'), 36)),
      action: 'delete',
    },
    {
      rule: 'candidates',
      table: 'candidates',
      where: `((status IN ('hired', 'rejected', 'withdrawn') AND talent_pool_consent = 0 AND ${due(addMonths(d('process_ended_at'), 3))}) OR (status IN ('applied', 'interviewing') AND talent_pool_consent = 0 AND ${due(addMonths(d('last_contact_at'), 24))}) OR (talent_pool_consent = 1 AND ${due(addMonths(d('last_contact_at'), 24))}))`,
      action: 'delete',
    },
    {
      rule: 'distributor-orders',
      table: 'distributor_orders',
      where: `${due(distributorDeadline('distributor_orders'))} AND NOT ${orderDisputeOpen('distributor_orders')}`,
      action: 'delete',
    },
  ];
}

const ACTIONS = {
  delete: (t, w) => [`DELETE FROM ${t} WHERE ${w}`],
  'anonymise-orders': (t, w) => [
    `UPDATE ${t} SET shipping_name = NULL, shipping_address = NULL, shipping_postal_code = substr(shipping_postal_code, 1, 2), shipping_city = NULL, shipping_country = NULL, shipping_phone = NULL WHERE ${w}`,
  ],
  'anonymise-payments': (t, w) => [
    `UPDATE ${t} SET card_last4 = NULL, card_token = NULL, card_expiry = NULL WHERE ${w}`,
  ],
  archive: (t, w) => [
    `CREATE TABLE IF NOT EXISTS arch.shop__customers (record_key TEXT PRIMARY KEY, rule TEXT, archived_at TEXT, deadline TEXT, email TEXT, first_name TEXT, last_name TEXT, created_at TEXT, closed_at TEXT)`,
    `INSERT OR IGNORE INTO arch.shop__customers SELECT id, 'customer-accounts', datetime('now'), ${addMonths(customerAnchor, 60)}, email, first_name, last_name, created_at, closed_at FROM ${t} WHERE ${w}`,
    `DELETE FROM ${t} WHERE ${w}`,
  ],
};

/** The statements of the hand-written sweep, in the order the rules must run. */
export function rawSweepStatements(at) {
  return rawRules(at).flatMap((r) => ACTIONS[r.action](r.table, r.where));
}

/** One COUNT per rule. */
export function rawCountStatements(at) {
  return rawRules(at).map((r) => `SELECT COUNT(*) AS n FROM ${r.table} WHERE ${r.where}`);
}
