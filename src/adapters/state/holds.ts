/** Manual holds and restrictions: cases over records, added and released with their log entry. */
import { RegistreError } from '../../core/errors.js';
import type { HoldCase } from '../../core/retention/results.js';
import { sql } from '../sql/kysely.js';
import { type HoldsTable, now, type StateDb } from './schema.js';
import type { Transaction } from './transaction.js';

export type { HoldCase } from '../../core/retention/results.js';

export interface HoldRow {
  readonly id: number;
  /** The number of the hold case this row belongs to (the one people see and release). */
  readonly caseId: number;
  readonly store: string;
  readonly table: string;
  readonly key: string;
  readonly person: string | null;
  readonly reason: string;
  readonly reasonHash: string | null;
  readonly actor: string | null;
  readonly until: string | null;
  readonly createdAt: string;
  readonly releasedAt: string | null;
  /** `restriction` for a restriction of processing (art. 18), else a hold. */
  readonly kind: 'hold' | 'restriction';
}

/** A hold case just added: its number and its rows' ids. */
export interface HoldsAdded {
  readonly case: number;
  readonly ids: readonly number[];
}

export interface NewHold {
  person?: string;
  reason: string;
  reasonHash?: string;
  actor?: string;
  until?: string;
  kind?: 'hold' | 'restriction';
}

export function holdCases(rows: readonly HoldRow[]): HoldCase[] {
  const cases = new Map<number, HoldCase & { records: HoldCase['records'][number][] }>();
  for (const h of rows) {
    const c = cases.get(h.caseId) ?? {
      id: h.caseId,
      reason: h.reason,
      until: h.until,
      actor: h.actor,
      person: h.person,
      createdAt: h.createdAt,
      releasedAt: h.releasedAt,
      records: [],
    };
    c.records.push({ hold: h.id, store: h.store, table: h.table, key: h.key });
    cases.set(h.caseId, c);
  }
  return [...cases.values()];
}

const orNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

function holdOf(r: HoldsTable): HoldRow {
  return {
    id: Number(r.id),
    caseId: r.case_id === null || r.case_id === undefined ? Number(r.id) : Number(r.case_id),
    store: String(r.store),
    table: String(r.table_name),
    key: String(r.record_key),
    person: orNull(r.person),
    reason: String(r.reason),
    reasonHash: orNull(r.reason_hash),
    actor: orNull(r.actor),
    until: orNull(r.until),
    createdAt: String(r.created_at),
    releasedAt: orNull(r.released_at),
    kind: r.kind === 'restriction' ? 'restriction' : 'hold',
  };
}

export class Holds {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
  ) {}

  /**
   * Adds one hold case over `records`, all its rows in one transaction (a crash adds all or
   * none), with its log entry (`log`) when given; returns the case's number (the next one:
   * 1, 2, 3) and its rows' ids.
   */
  async add(
    records: readonly { store: string; table: string; key: string }[],
    hold: NewHold,
    log?: (added: HoldsAdded) => Record<string, unknown>,
  ): Promise<HoldsAdded> {
    return this.transaction(log ? ['holds', 'audit_log'] : ['holds'], async (tx) => {
      // Both from one statement, under the holds table's lock: two cases never share a number.
      const last = await tx.db
        .selectFrom('holds')
        .select([sql<number>`max(id)`.as('m'), sql<number>`max(coalesce(case_id, id))`.as('c')])
        .executeTakeFirst();
      const first = Number(last?.m ?? 0) + 1;
      const number = Number(last?.c ?? 0) + 1;
      const created = now();
      const ids = records.map((_, i) => first + i);
      for (let i = 0; i < records.length; i += 500)
        await tx.db
          .insertInto('holds')
          .values(
            records.slice(i, i + 500).map((r, j) => ({
              id: first + i + j,
              case_id: number,
              store: r.store,
              table_name: r.table,
              record_key: r.key,
              person: hold.person ?? null,
              reason: hold.reason,
              reason_hash: hold.reasonHash ?? null,
              actor: hold.actor ?? null,
              until: hold.until ?? null,
              created_at: created,
              released_at: null,
              ...(hold.kind === 'restriction' ? { kind: 'restriction' } : {}),
            })),
          )
          .execute();
      const added = { case: number, ids };
      if (log) await tx.audit('hold.add', log(added));
      return added;
    });
  }

  /** Releases a hold case: every record it holds, and logs it (`log`) in the same transaction. */
  async release(id: number, log?: (released: HoldCase) => Record<string, unknown>): Promise<HoldCase> {
    const found = await this.holdCase(id);
    // Named by its own number only: never another hold's, whose rows' ids may be this number.
    if (!found)
      throw new RegistreError('E_HOLD_NOT_FOUND', `no hold ${id}: registre hold list --all shows every hold`);
    if (found.releasedAt)
      throw new RegistreError(
        'E_HOLD_RELEASED',
        `no hold ${id} in force: it was released on ${found.releasedAt.slice(0, 10)}`,
      );
    await this.transaction(log ? ['holds', 'audit_log'] : ['holds'], async (tx) => {
      await tx.db.updateTable('holds').set({ released_at: now() }).where('case_id', '=', id).execute();
      if (log) await tx.audit('hold.release', log(found));
    });
    return found;
  }

  /** One hold case with its records, released or not; undefined when there is none. */
  async holdCase(id: number): Promise<HoldCase | undefined> {
    return holdCases(await this.list({ includeReleased: true, caseId: id }))[0];
  }

  /**
   * The holds: by default those in force on `at` (not released, and not ended before it: a hold
   * until D holds on D itself); `includeReleased` lists every hold ever added;
   * `caseId` and `id` narrow it to one case, one row.
   */
  async list(
    options: { includeReleased?: boolean; at?: string; caseId?: number; id?: number } = {},
  ): Promise<HoldRow[]> {
    let query = this.db.selectFrom('holds').selectAll().orderBy('id');
    if (options.id !== undefined) query = query.where('id', '=', options.id);
    if (options.caseId !== undefined) query = query.where('case_id', '=', options.caseId);
    if (!options.includeReleased) {
      query = query.where('released_at', 'is', null);
      if (options.at !== undefined) {
        const at = options.at;
        query = query.where((eb) => eb.or([eb('until', 'is', null), eb('until', '>=', at)]));
      }
    }
    return (await query.execute()).map(holdOf);
  }

  /**
   * The keys of some tables under a manual hold in force on `at`, by table, and the highest hold
   * id read (every table read up to the same one).
   */
  async heldKeys(
    store: string,
    tables: readonly string[],
    at: string,
  ): Promise<{ byTable: Map<string, string[]>; seen: number }> {
    const seen = await this.maxId();
    const byTable = new Map<string, string[]>(tables.map((t) => [t, []]));
    if (tables.length === 0) return { byTable, seen };
    const rows = await this.db
      .selectFrom('holds')
      .select(['table_name', 'record_key'])
      .where('store', '=', store)
      .where('table_name', 'in', tables)
      .where('released_at', 'is', null)
      .where('id', '<=', seen)
      .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>=', at)]))
      .execute();
    for (const r of rows) byTable.get(String(r.table_name))?.push(String(r.record_key));
    return { byTable, seen };
  }

  async maxId(): Promise<number> {
    const row = await this.db.selectFrom('holds').select(sql<number>`max(id)`.as('m')).executeTakeFirst();
    return Number(row?.m ?? 0);
  }
}
