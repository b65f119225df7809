/**
 * What a refused or withdrawn consent changes in the records of an address, as the data map's
 * `consent.withdrawn` says (`unsubscribed_at` set to the day of the choice, `talent_pool_consent`
 * cleared): only in the tables whose rules serve a purpose withdrawn, never in a record under a
 * hold or a restriction (reported as kept), never twice (a date already set is left as it is).
 */
import { columnOf } from '../../core/datamap/columns.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import type { Connection } from './connect.js';
import { rowsOfAddress } from './explain.js';
import { sql } from './kysely.js';
import { statusesOf } from './person.js';
import type { RetentionSqlContext } from './retention-sql.js';

/** The value that stands for the day of the choice. */
export const CHOICE_DAY = '$date';

export interface ConsentEffect {
  readonly table: string;
  /** The keys of the records changed. */
  readonly changed: readonly string[];
  /** The records left as they were, and why (held, restricted). */
  readonly kept: readonly { readonly key: string; readonly status: string }[];
  readonly columns: readonly string[];
}

/** The tables of `store` a withdrawal of `purposes` changes: bound to an address, with effects, serving one of them. */
export function effectTables(
  ctx: RetentionSqlContext,
  store: StoreMap,
  purposes: readonly string[],
): TableMap[] {
  return store.tables.filter((t) => {
    const binding = t.consent;
    if (!binding?.withdrawn || !t.record) return false;
    const spec = t.columns[binding.subject];
    if (!spec || columnOf(spec).identity !== 'email') return false;
    return ctx.register.retention.some(
      (r) => r.record === t.record && (r.purposes ?? []).some((p) => purposes.includes(p)),
    );
  });
}

const isSet = (value: unknown) => value !== null && value !== undefined && value !== '';

function sameValue(stored: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'boolean') return Boolean(Number(stored)) === wanted || stored === wanted;
  if (wanted === null) return stored === null || stored === undefined;
  return String(stored) === String(wanted);
}

/** A value as the dialect binds it (SQLite and MySQL store booleans as 0 and 1). */
function bindable(conn: Connection, value: unknown): unknown {
  return typeof value === 'boolean' && conn.dialect !== 'postgres' ? (value ? 1 : 0) : value;
}

export async function applyConsentEffects(
  conn: Connection,
  ctx: RetentionSqlContext,
  store: StoreMap,
  options: {
    readonly address: string;
    readonly purposes: readonly string[];
    /** The day of the choice (YYYY-MM-DD). */
    readonly day: string;
    /** Today: the records' statuses (held, restricted) are today's. */
    readonly at: string;
    readonly heldByTable: ReadonlyMap<string, readonly string[]>;
  },
): Promise<ConsentEffect[]> {
  const out: ConsentEffect[] = [];
  for (const table of effectTables(ctx, store, options.purposes)) {
    const binding = table.consent as NonNullable<TableMap['consent']>;
    const rows = await rowsOfAddress(conn, table.name, binding.subject, options.address);
    if (rows.length === 0) continue;
    const keys = rows.map((r) => String(r[table.primaryKey]));
    const statuses = await statusesOf(conn, ctx, table, options.at, keys, options.heldByTable);
    const changed: string[] = [];
    const kept: { key: string; status: string }[] = [];
    const columns = new Set<string>();
    for (const row of rows) {
      const key = String(row[table.primaryKey]);
      const status = statuses.get(key) ?? 'unknown';
      if (status === 'held' || status === 'restricted') {
        kept.push({ key, status });
        continue;
      }
      const set: Record<string, unknown> = {};
      for (const [column, value] of Object.entries(binding.withdrawn ?? {})) {
        if (value === CHOICE_DAY) {
          // The earliest day stands: a later withdrawal does not move an end already set.
          if (!isSet(row[column])) set[column] = `${options.day} 00:00:00`;
        } else if (!sameValue(row[column], value)) set[column] = bindable(conn, value);
      }
      if (Object.keys(set).length === 0) continue;
      for (const c of Object.keys(set)) columns.add(c);
      await conn.db
        .updateTable(table.name)
        .set(set)
        .where(sql.ref(table.primaryKey), '=', row[table.primaryKey])
        .execute();
      changed.push(key);
    }
    if (changed.length || kept.length) out.push({ table: table.name, changed, kept, columns: [...columns] });
  }
  return out;
}
