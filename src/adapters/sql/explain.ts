/**
 * `explain`: why a record is still here, or why it is due. The record and the related records its
 * rules read are loaded, evaluated by the pure evaluator, and its holds looked up in the store.
 */
import { columnOf, columnOfField, isAnonymisedValue, tableOfRecord } from '../../core/datamap/columns.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import { identitySpellings, normaliseEmail, personHash } from '../../core/identity.js';
import { findRecord } from '../../core/register/register-model.js';
import type { DateExpr, Keep } from '../../core/register/register-schema.js';
import type { Explanation } from '../../core/retention/results.js';
import { type EvaluateOptions, evaluateRecord, type HoldReason } from '../../core/retention/retention.js';
import type { Connection, Dialect } from './connect.js';
import { identitySql } from './dialect.js';
import { listTables } from './introspect.js';
import { sql } from './kysely.js';
import { loadRecord, loadRows } from './records.js';
import { holdChecks, type RetentionSqlContext } from './retention-sql.js';

export type { ExplainedPurpose, Explanation } from '../../core/retention/results.js';

export function formatKeep(keep: Keep): string {
  return typeof keep === 'string'
    ? keep
    : (Object.entries(keep).map(([unit, path]) => `${path} ${unit}`)[0] ?? '');
}

/** A date expression written compactly: `latest(created_at, max(orders.placed_at))`. */
export function formatDateExpr(expr: DateExpr): string {
  if (typeof expr === 'string') return expr;
  if ('latest' in expr) return `latest(${expr.latest.map(formatDateExpr).join(', ')})`;
  if ('earliest' in expr) return `earliest(${expr.earliest.map(formatDateExpr).join(', ')})`;
  if ('financialYearEnd' in expr) return `financialYearEnd(${formatDateExpr(expr.financialYearEnd)})`;
  if ('from' in expr) return `${formatDateExpr(expr.from)} + ${formatKeep(expr.add)}`;
  return 'max' in expr ? `max(${expr.max})` : `min(${expr.min})`;
}

function reasonText(ctx: RetentionSqlContext, holdId: string): string {
  const reason = ctx.register.holds.find((h) => h.id === holdId)?.reason;
  return typeof reason === 'string' ? reason : (reason?.en ?? reason?.fr ?? holdId);
}

/** The data-driven holds on one record, found in the store. */
async function holdsOf(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
  id: unknown,
): Promise<HoldReason[]> {
  const found: HoldReason[] = [];
  for (const check of holdChecks(ctx, table.record as string, 't')) {
    if (found.some((h) => h.hold === check.hold)) continue;
    const { rows } =
      await sql`SELECT 1 AS one FROM ${sql.table(table.name)} AS t WHERE ${sql.ref(`t.${table.primaryKey}`)} = ${id} AND ${check.held}`.execute(
        conn.db,
      );
    if (rows.length) found.push({ hold: check.hold, reason: reasonText(ctx, check.hold) });
  }
  return found;
}

export async function explainRecord(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  table: TableMap,
  id: string,
  at: string,
  /** Manual holds by record key (`record:key`): this record's, and those of what it follows. */
  manualHoldsOf: (recordKey: string) => readonly HoldReason[] = () => [],
  /** For a consent-based rule: whether the record's subject lost the consent (the ledger). */
  consentLost?: EvaluateOptions['consentLost'],
): Promise<Explanation> {
  const recordId = table.record;
  if (!recordId)
    throw new RegistreError(
      'E_NO_RECORD',
      `table "${table.name}" holds no register record: no rule applies to it`,
    );
  const view = await loadRecord(conn, ctx, recordId, id);
  if (!view)
    throw new RegistreError(
      'E_RECORD_NOT_FOUND',
      `table "${table.name}" has no record with ${table.primaryKey} = ${id}`,
    );
  const holds = [...manualHoldsOf(view.key), ...(await holdsOf(conn, ctx, table, id))];
  const verdict = evaluateRecord(ctx.register, view, at, {
    holds,
    holdsOf: (key) => (key === view.key ? [] : manualHoldsOf(key)),
    // As `plan` and the sweep see it: a record already anonymised as its rule wants is done.
    isAnonymised: (record, fields) => anonymisedIn(table, record, fields),
    ...(consentLost ? { consentLost } : {}),
  });
  const purposes = verdict.rules.flatMap((r) => {
    const rule = ctx.register.retention.find((x) => x.id === r.rule);
    const anchor =
      rule?.follows !== undefined
        ? `follows ${rule.follows}`
        : rule?.anchor
          ? formatDateExpr(rule.anchor)
          : null;
    return r.purposes.map((purpose) => ({
      purpose,
      rule: r.rule,
      anchor,
      anchorDate: r.anchorDate,
      deadline: r.deadline,
      ...(r.noConsent ? { reason: 'no consent' as const, consent: r.noConsent } : {}),
    }));
  });
  const processor = ctx.register.activities.some(
    (a) => a.role === 'processor' && a.purposes.some((p) => purposes.some((x) => x.purpose === p.id)),
  );
  return {
    store: store.id,
    table: table.name,
    id,
    status: verdict.status,
    deadline: verdict.deadline,
    archiveFrom: verdict.archiveFrom,
    action: verdict.action,
    rule: verdict.rule,
    processor,
    purposes,
    holds: verdict.holds,
  };
}

/** Whether each of `fields` holds what its column's anonymisation leaves (the SQL of `plan`, in TypeScript). */
export function anonymisedIn(
  table: TableMap,
  view: { get(field: string): unknown },
  fields: readonly string[],
): boolean {
  return (
    fields.length > 0 &&
    fields.every((field) => {
      const column = columnOfField(table, field) ?? field;
      const spec = table.columns[column];
      return isAnonymisedValue(spec === undefined ? undefined : columnOf(spec).anonymise, view.get(field));
    })
  );
}

export { normaliseEmail } from '../../core/identity.js';

export interface PersonRecord {
  readonly table: TableMap;
  readonly id: string;
  /** Found in the archive store (its account was archived), with the archive's rule and deadline. */
  readonly archived?: { readonly rule: string; readonly deadline: string; readonly archivedAt: string };
}

/** An identity column compared after normalisation, on the column's side too (in SQL). */
export function normalisedIdentity(dialect: Dialect, column: string) {
  return sql.raw(identitySql(dialect, column));
}

/**
 * The rows of `table` whose `column` holds `address` (normalised): looked up by the spellings an
 * index finds (`identitySpellings`), then checked exactly against the normalisation in TypeScript.
 */
export async function rowsOfAddress(
  conn: Connection,
  table: string,
  column: string,
  address: string,
): Promise<Record<string, unknown>[]> {
  const spellings = identitySpellings(address);
  const rows: Record<string, unknown>[] = [];
  if (spellings === undefined)
    // Too many spellings (many non-ASCII letters): the whole column is read.
    // Row by row: a whole table spread into push() overflows the stack past some 100,000 rows.
    for (const row of (await conn.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[])
      rows.push(row);
  else
    for (let i = 0; i < spellings.length; i += 256)
      rows.push(
        ...((await conn.db
          .selectFrom(table)
          .selectAll()
          .where(normalisedIdentity(conn.dialect, column), 'in', spellings.slice(i, i + 256))
          .execute()) as Record<string, unknown>[]),
      );
  return rows.filter((r) => typeof r[column] === 'string' && normaliseEmail(r[column]) === address);
}

/** Whether a row holds the person's address (or its keyed hash) in one of its identity columns. */
function holdsAddress(
  table: TableMap,
  row: Record<string, unknown>,
  address: string,
  hmacKey?: Buffer,
): boolean {
  return Object.entries(table.columns).some(([column, spec]) => {
    const c = columnOf(spec);
    const value = row[column];
    if (c.identity !== 'email' || typeof value !== 'string') return false;
    if (c.hashed) return hmacKey !== undefined && value === personHash(hmacKey, address);
    return normaliseEmail(value) === address;
  });
}

/**
 * Every record of one person in a store: the rows whose e-mail identity column holds the address
 * (both sides normalised: trimmed, lower-cased; a keyed-hash column by its HMAC when a key is
 * given), the records of theirs in the archive store, then everything reached from them through
 * to-many relations (a customer's orders, their payments…), never up into shared rows.
 */
export async function findPerson(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  email: string,
  hmacKey?: Buffer,
  archive?: Connection,
  /** A visitor id the person gave (their browser's): the records keyed by it too (web visits). */
  visitor?: string,
): Promise<PersonRecord[]> {
  const address = normaliseEmail(email);
  const seen = new Map<string, PersonRecord>();
  const queue: { table: TableMap; row: Record<string, unknown>; archived?: PersonRecord['archived'] }[] = [];
  const archiveTables = archive ? new Map((await listTables(archive)).map((t) => [t.name, t])) : new Map();
  for (const table of store.tables) {
    for (const [column, spec] of Object.entries(table.columns)) {
      const c = columnOf(spec);
      // A visitor id is compared exactly, as it was set in the browser.
      if (c.identity === 'visitor-id' && visitor !== undefined)
        for (const row of await loadRows(conn, table.name, column, visitor)) queue.push({ table, row });
      if (c.identity !== 'email') continue;
      if (c.hashed) {
        if (!hmacKey) continue;
        const value = personHash(hmacKey, address);
        for (const row of await loadRows(conn, table.name, column, value)) queue.push({ table, row });
        continue;
      }
      for (const row of await rowsOfAddress(conn, table.name, column, address)) queue.push({ table, row });
      const archived = archiveTables.get(`${store.id}__${table.name}`);
      if (archive && archived?.columns.some((col: { name: string }) => col.name === column)) {
        const found = await rowsOfAddress(archive, archived.name, column, address);
        for (const row of found)
          queue.push({
            table,
            row: { ...row, [table.primaryKey]: row.record_key },
            archived: {
              rule: String(row.rule),
              deadline: String(row.deadline),
              archivedAt: String(row.archived_at),
            },
          });
      }
    }
  }
  while (queue.length > 0) {
    const { table, row, archived } = queue.shift() as (typeof queue)[number];
    const id = String(row[table.primaryKey]);
    const key = `${archived ? 'archive:' : ''}${table.name}:${id}`;
    if (seen.has(key)) continue;
    seen.set(key, { table, id, ...(archived ? { archived } : {}) });
    // An archived row's key may since name someone else's live row (a reused id): what hangs
    // from that key in the live tables is then theirs, not this person's (issue 18, item 7).
    if (archived) {
      const [live] = await loadRows(conn, table.name, table.primaryKey, row[table.primaryKey]);
      if (live && !holdsAddress(table, live, address, hmacKey)) continue;
    }
    const record = table.record ? findRecord(ctx.register, table.record) : undefined;
    for (const [rel, relation] of Object.entries(record?.relations ?? {})) {
      if (!relation.many) continue;
      const binding = table.relations?.[rel];
      const target = tableOfRecord(ctx.datamap, relation.to);
      if (!binding || !target || target.store.id !== store.id) continue;
      for (const child of await loadRows(conn, target.table.name, binding.remote, row[binding.local]))
        queue.push({ table: target.table, row: child });
    }
  }
  return [...seen.values()];
}
