/**
 * Consent-gated retention for plan, sweep and explain: the ledger's verdicts on a day, brought to
 * the store in bulk (consent-gate.ts in adapters/sql) for set-based SQL, or looked up for one
 * record (explain). A visitor's records are met by their visitor id; an address's records by their
 * key, found by hashing the table's addresses once (the ledger keeps no address), and only when the
 * ledger holds a lost consent of an address for that rule.
 */
import { readHmacKeyIfAvailable, readPreviousKeys } from '../adapters/files/config-paths.js';
import type { Connection } from '../adapters/sql/connect.js';
import { type GateRow, openGate } from '../adapters/sql/consent-gate.js';
import type { ConsentGateContext, RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import type { StateStore } from '../adapters/state/state-store.js';
import type { ConsentEvent } from '../core/consent/consent.js';
import { type GatedRule, gatedRules, lostConsents } from '../core/consent/gate.js';
import type { StoreMap, TableMap } from '../core/datamap/datamap-schema.js';
import { personHash } from '../core/identity.js';
import type { RetentionRule } from '../core/register/register-schema.js';
import type { ConsentLoss, RecordView } from '../core/retention/retention.js';
import type { Engine } from './engine.js';
import type { Project } from './project.js';

/** Rows of an address table read per statement while hashing. */
const HASH_PAGE = 10_000;

/** The keys an address may be hashed with in the ledger: the one in force, then those of before. */
function keysOf(project: Project): Buffer[] {
  const key = readHmacKeyIfAvailable(project.loaded);
  return [...(key ? [key] : []), ...readPreviousKeys(project.loaded)];
}

/**
 * The gate's rows of one rule, from the latest event of each subject and purpose: a visitor's
 * lost consent met by their visitor id; an address's by the key of each record, its events under
 * every key it may be hashed with taken together (one person: a consent given again after a key
 * rotation overtakes a withdrawal recorded under the old key).
 */
async function gateRowsOf(
  conn: Connection,
  project: Project,
  gated: GatedRule,
  latest: readonly ConsentEvent[],
  at: string,
): Promise<GateRow[]> {
  const register = project.register;
  if (gated.kind === 'visitor')
    return lostConsents(register, gated.rule, latest, at).map((l) => ({
      rule: gated.rule.id,
      k: l.subject,
      ended: l.ended,
      event: l.event,
    }));
  // Only when some address lost the consent is the table read and hashed.
  if (lostConsents(register, gated.rule, latest, at).length === 0) return [];
  const keys = keysOf(project);
  if (keys.length === 0) return [];
  const byHash = new Map<string, ConsentEvent[]>();
  for (const e of latest) {
    const list = byHash.get(e.subject.id) ?? [];
    list.push(e);
    byHash.set(e.subject.id, list);
  }
  const table = gated.table;
  const out: GateRow[] = [];
  let after: unknown;
  for (;;) {
    let query = conn.db
      .selectFrom(table.name)
      .select([`${table.primaryKey} as k`, `${gated.column} as s`])
      .orderBy(table.primaryKey)
      .limit(HASH_PAGE);
    if (after !== undefined) query = query.where(table.primaryKey, '>', after);
    const rows = (await query.execute()) as { k: unknown; s: unknown }[];
    for (const r of rows) {
      if (typeof r.s !== 'string') continue;
      const events: ConsentEvent[] = [];
      for (const key of keys) for (const e of byHash.get(personHash(key, r.s)) ?? []) events.push(e);
      if (events.length === 0) continue;
      const [lost] = lostConsents(register, gated.rule, asOneSubject(events), at);
      if (lost) out.push({ rule: gated.rule.id, k: String(r.k), ended: lost.ended, event: lost.event });
    }
    if (rows.length < HASH_PAGE) break;
    after = rows[rows.length - 1]?.k;
  }
  return out;
}

/** One person's events under several ids (an address under several keys), as one subject's. */
function asOneSubject(events: readonly ConsentEvent[]): ConsentEvent[] {
  return events.map((e) => ({ ...e, subject: { kind: e.subject.kind, id: 'subject' } }));
}

/**
 * Runs `f` with the store's retention context extended by the ledger's verdicts on `at`: a gate
 * table in the store while it runs, dropped after. Without a gated rule, or a lost consent, `f`
 * runs on the context as it is (nothing written to the store).
 */
export async function withConsentGate<T>(
  engine: Engine,
  store: StoreMap,
  at: string,
  f: (conn: Connection, ctx: RetentionSqlContext) => Promise<T>,
): Promise<T> {
  const { conn, ctx } = await engine.retention(store);
  const gated = gatedRules(ctx.register, store);
  if (gated.length === 0) return f(conn, ctx);
  const project = await engine.project({ cached: true });
  const state = await engine.state('read');
  const rows: GateRow[] = [];
  for (const g of gated) {
    const latest = await state.consents.latest(g.kind, g.rule.purposes ?? [], at);
    // One by one: a spread of 200,000 rows into push() overflows the stack (a million customers).
    for (const row of await gateRowsOf(conn, project, g, latest, at)) rows.push(row);
  }
  if (rows.length === 0) return f(conn, ctx);
  const gate = await openGate(conn, rows);
  const consent: ConsentGateContext = {
    table: gate.table,
    rules: new Map(
      gated.map((g) => [
        g.rule.id,
        g.kind === 'visitor'
          ? { column: g.column, byKey: false }
          : { column: g.table.primaryKey, byKey: true },
      ]),
    ),
  };
  try {
    return await f(conn, { ...ctx, consent });
  } finally {
    await gate.close();
  }
}

/**
 * For one record (explain): whether its subject lost the consent a gated rule stands on, on `at`,
 * read from the subject's own events.
 */
export async function consentLossOf(
  project: Project,
  state: StateStore,
  store: StoreMap,
  table: TableMap,
  row: Record<string, unknown>,
  at: string,
): Promise<(rule: RetentionRule, view: RecordView) => ConsentLoss | undefined> {
  const gated = gatedRules(project.register, store).filter((g) => g.table.name === table.name);
  const found = new Map<string, ConsentLoss>();
  for (const g of gated) {
    const value = row[g.column];
    if (typeof value !== 'string') continue;
    const ids = g.kind === 'visitor' ? [value] : keysOf(project).map((k) => personHash(k, value));
    if (ids.length === 0) continue;
    const events = await state.consents.ofSubjects(g.kind, ids);
    // As the ledger's latest per purpose of `at` or before sees them (one subject: under any key).
    const [lost] = lostConsents(project.register, g.rule, asOneSubject(events), at);
    if (lost) found.set(g.rule.id, { ended: lost.ended, event: lost.event, state: lost.state });
  }
  return (rule) => found.get(rule.id);
}
