/** `registre plan`: what each rule holds on a date, counted in the databases. */

import { z } from 'zod';
import { forecastStore, listRecords, planStore } from '../adapters/sql/plan.js';
import { RegistreError } from '../core/errors.js';
import { addDuration, LAST_DATE } from '../core/retention/calendar.js';
import type { ForecastLine, ListedRecord, PlanLine } from '../core/retention/results.js';
import { RECORD_STATUSES, type RecordStatus } from '../core/retention/statuses.js';
import { withConsentGate } from './consent-gate.js';
import type { Context, Engine } from './engine.js';
import { calendarDate, parseInput, retentionDate, wholeNumber } from './input.js';

export interface Plan {
  readonly at: string;
  readonly rules: readonly PlanLine[];
  readonly totals: {
    readonly active: number;
    readonly archive: number;
    readonly due: number;
    readonly held: number;
    readonly restricted: number;
    readonly anonymised: number;
    readonly invalid: number;
  };
}

type KeysByStore = Map<string, Map<string, string[]>>;

/**
 * The keys under a manual hold in force on `at`, by store then table (`held`), and those of them
 * under a restriction of processing, art. 18 (`restricted`): one read of the state store.
 */
export async function heldKeysByStore(
  engine: Engine,
  at: string,
): Promise<{ held: KeysByStore; restricted: KeysByStore }> {
  const state = await engine.state('read');
  {
    const held: KeysByStore = new Map();
    const restricted: KeysByStore = new Map();
    const add = (byStore: KeysByStore, store: string, table: string, key: string) => {
      const tables = byStore.get(store) ?? new Map<string, string[]>();
      const keys = tables.get(table);
      if (keys) keys.push(key);
      else tables.set(table, [key]);
      byStore.set(store, tables);
    };
    for (const h of await state.holds({ at })) {
      add(held, h.store, h.table, h.key);
      if (h.kind === 'restriction') add(restricted, h.store, h.table, h.key);
    }
    return { held, restricted };
  }
}

export const PlanInput = z.strictObject({ at: retentionDate });
export type PlanInput = z.input<typeof PlanInput>;

/** What each rule holds on a date, counted in the stores. */
export async function plan(engine: Engine, input: PlanInput, _ctx: Context): Promise<Plan> {
  const { at } = parseInput(PlanInput, input);
  const project = await engine.project({ cached: true });
  const rules: PlanLine[] = [];
  const { held: holds, restricted: restrictions } = await heldKeysByStore(engine, at);
  const archive = await engine.archive({ create: false });
  for (const store of project.datamap.stores) {
    const heldKeys = holds.get(store.id) ?? new Map<string, string[]>();
    const restrictedKeys = restrictions.get(store.id) ?? new Map<string, string[]>();
    rules.push(
      ...(await withConsentGate(engine, store, at, (conn, ctx) =>
        planStore(conn, project.register, project.datamap, store, at, {
          heldKeys,
          restrictedKeys,
          archive: archive ?? null,
          ...(ctx.consent ? { consent: ctx.consent } : {}),
        }),
      )),
    );
  }
  const totals = { active: 0, archive: 0, due: 0, held: 0, restricted: 0, anonymised: 0, invalid: 0 };
  for (const line of rules)
    for (const k of ['active', 'archive', 'due', 'held', 'restricted', 'anonymised', 'invalid'] as const)
      totals[k] += line[k];
  return { at, rules, totals };
}

export interface PlanListing {
  readonly at: string;
  readonly rule: string;
  readonly store: string;
  readonly table: string;
  readonly status: readonly RecordStatus[];
  /** What the rule does to a due record. */
  readonly action: 'delete' | 'anonymise';
  /** Records per page. */
  readonly limit: number;
  readonly records: readonly ListedRecord[];
  /** The key to pass as --after for the next page; null on the last page. */
  readonly next: string | null;
}

export const PlanListInput = z.strictObject({
  at: retentionDate,
  /** The rule whose records are listed. */
  rule: z.string(),
  /** The statuses listed (default: due). */
  status: z
    .array(
      z.enum(RECORD_STATUSES, {
        error: (issue) =>
          `must be one or more of ${RECORD_STATUSES.join(', ')}, comma-separated (got "${String(issue.input)}")`,
      }),
    )
    .min(1)
    .default(['due']),
  /** Records per page. */
  limit: wholeNumber(1, 100_000).default(100),
  /** The key of the last record of the page before. */
  after: z.string().optional(),
});
export type PlanListInput = z.input<typeof PlanListInput>;

/** One page of the records of a rule in some statuses (default: due), for plan --list. */
export async function planList(engine: Engine, input: PlanListInput, _ctx: Context): Promise<PlanListing> {
  const options = parseInput(PlanListInput, input);
  const { at, status, limit } = options;
  const project = await engine.project({ cached: true });
  const ruleIndex = project.register.retention.findIndex((r) => r.id === options.rule);
  const rule = project.register.retention[ruleIndex];
  if (!rule)
    throw new RegistreError(
      'E_USAGE',
      `there is no retention rule "${options.rule}"; the rules are ${project.register.retention.map((r) => r.id).join(', ')}`,
      { path: ['rule'] },
    );
  const store = project.datamap.stores.find((s) => s.tables.some((t) => t.record === rule.record));
  const table = store?.tables.find((t) => t.record === rule.record);
  if (!store || !table)
    throw new RegistreError(
      'E_USAGE',
      `rule "${rule.id}" applies to record "${rule.record}", which no store maps`,
    );
  const { held: holds, restricted: restrictions } = await heldKeysByStore(engine, at);
  const records = await withConsentGate(engine, store, at, (conn, ctx) =>
    listRecords(conn, ctx, table, at, {
      ruleIndex,
      statuses: status,
      limit,
      heldKeys: holds.get(store.id) ?? new Map(),
      restrictedKeys: restrictions.get(store.id) ?? new Map(),
      ...(options.after !== undefined ? { after: options.after } : {}),
    }),
  );
  return {
    at,
    rule: rule.id,
    store: store.id,
    table: table.name,
    status,
    action: rule.then === undefined || rule.then === 'delete' ? 'delete' : 'anonymise',
    limit,
    records,
    next: records.length === limit ? (records[records.length - 1]?.key ?? null) : null,
  };
}

export interface Forecast {
  readonly from: string;
  readonly months: readonly string[];
  readonly rules: readonly ForecastLine[];
}

export const ForecastInput = z.strictObject({
  /** The first month counted is this date's. */
  from: calendarDate,
  /** How many months. */
  months: wholeNumber(1, 240).default(12),
});
export type ForecastInput = z.input<typeof ForecastInput>;

/** The records each rule will make due, month by month. */
export async function forecast(engine: Engine, input: ForecastInput, _ctx: Context): Promise<Forecast> {
  const { from, months: count } = parseInput(ForecastInput, input);
  const first = `${from.slice(0, 7)}-01`;
  const months = Array.from({ length: count }, (_, i) =>
    (addDuration(first, { amount: i, unit: 'months' }) ?? LAST_DATE).slice(0, 7),
  );
  const until = addDuration(first, { amount: count, unit: 'months' }) ?? LAST_DATE;
  const project = await engine.project({ cached: true });
  const rules: ForecastLine[] = [];
  for (const store of project.datamap.stores)
    rules.push(
      ...(await forecastStore(
        await engine.store(store),
        project.register,
        project.datamap,
        store,
        from,
        until,
      )),
    );
  return { from, months, rules };
}
