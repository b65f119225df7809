/** `registre plan`: what each rule holds on a date, counted in the databases. */
import {
  type ForecastLine,
  forecastStore,
  type ListedRecord,
  listRecords,
  type PlanLine,
  planStore,
} from '../adapters/sql/plan.js';
import { retentionContext } from '../adapters/sql/retention-sql.js';
import { RegistreError } from '../core/errors.js';
import {
  addDuration,
  LAST_DATE,
  requireDateInput,
  requireRetentionDate,
} from '../core/retention/calendar.js';
import { RECORD_STATUSES, type RecordStatus } from '../core/retention/statuses.js';
import { connectStore, openProject, type Project } from './project.js';
import { openState, personArchive } from './stores.js';

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
async function heldKeysByStore(
  project: Project,
  at: string,
): Promise<{ held: KeysByStore; restricted: KeysByStore }> {
  const state = await openState(project);
  try {
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
  } finally {
    await state.close();
  }
}

export async function runPlan(configFile: string | undefined, atText: string): Promise<Plan> {
  const at = requireRetentionDate('--at', atText);
  const project = await openProject(configFile, { cached: true });
  const rules: PlanLine[] = [];
  const { held: holds, restricted: restrictions } = await heldKeysByStore(project, at);
  const archive = await personArchive(project);
  try {
    for (const store of project.datamap.stores) {
      const heldKeys = holds.get(store.id) ?? new Map<string, string[]>();
      const restrictedKeys = restrictions.get(store.id) ?? new Map<string, string[]>();
      const conn = await connectStore(project, store);
      try {
        rules.push(
          ...(await planStore(conn, project.register, project.datamap, store, at, {
            heldKeys,
            restrictedKeys,
            archive: archive ?? null,
          })),
        );
      } finally {
        await conn.close();
      }
    }
  } finally {
    await archive?.close();
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

/** One page of the records of a rule in some statuses (default: due), for plan --list. */
export async function runPlanList(
  configFile: string | undefined,
  options: { at: string; rule: string; status?: string; limit?: string; after?: string },
): Promise<PlanListing> {
  const at = requireRetentionDate('--at', options.at);
  const status = (options.status ?? 'due').split(',').map((s) => s.trim());
  for (const s of status)
    if (!RECORD_STATUSES.includes(s as RecordStatus))
      throw new RegistreError(
        'E_USAGE',
        `--status must be one or more of ${RECORD_STATUSES.join(', ')}, comma-separated (got "${s}")`,
      );
  const limitText = options.limit ?? '100';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100_000)
    throw new RegistreError('E_USAGE', `--limit must be a whole number from 1 to 100,000 (got ${limitText})`);
  const project = await openProject(configFile, { cached: true });
  const ruleIndex = project.register.retention.findIndex((r) => r.id === options.rule);
  const rule = project.register.retention[ruleIndex];
  if (!rule)
    throw new RegistreError(
      'E_USAGE',
      `there is no retention rule "${options.rule}"; the rules are ${project.register.retention.map((r) => r.id).join(', ')}`,
    );
  const store = project.datamap.stores.find((s) => s.tables.some((t) => t.record === rule.record));
  const table = store?.tables.find((t) => t.record === rule.record);
  if (!store || !table)
    throw new RegistreError(
      'E_USAGE',
      `rule "${rule.id}" applies to record "${rule.record}", which no store maps`,
    );
  const { held: holds, restricted: restrictions } = await heldKeysByStore(project, at);
  const conn = await connectStore(project, store);
  try {
    const records = await listRecords(
      conn,
      await retentionContext(conn, project.register, project.datamap),
      table,
      at,
      {
        ruleIndex,
        statuses: status as RecordStatus[],
        limit,
        heldKeys: holds.get(store.id) ?? new Map(),
        restrictedKeys: restrictions.get(store.id) ?? new Map(),
        ...(options.after !== undefined ? { after: options.after } : {}),
      },
    );
    return {
      at,
      rule: rule.id,
      store: store.id,
      table: table.name,
      status: status as RecordStatus[],
      action: rule.then === undefined || rule.then === 'delete' ? 'delete' : 'anonymise',
      limit,
      records,
      next: records.length === limit ? (records[records.length - 1]?.key ?? null) : null,
    };
  } finally {
    await conn.close();
  }
}

export interface Forecast {
  readonly from: string;
  readonly months: readonly string[];
  readonly rules: readonly ForecastLine[];
}

export async function runForecast(
  configFile: string | undefined,
  fromText: string,
  monthsText: string,
): Promise<Forecast> {
  const from = requireDateInput('--from', fromText);
  const count = Number(monthsText);
  if (!Number.isInteger(count) || count < 1 || count > 240)
    throw new RegistreError('E_USAGE', `--months must be a whole number from 1 to 240 (got ${monthsText})`);
  const first = `${from.slice(0, 7)}-01`;
  const months = Array.from({ length: count }, (_, i) =>
    (addDuration(first, { amount: i, unit: 'months' }) ?? LAST_DATE).slice(0, 7),
  );
  const until = addDuration(first, { amount: count, unit: 'months' }) ?? LAST_DATE;
  const project = await openProject(configFile, { cached: true });
  const rules: ForecastLine[] = [];
  for (const store of project.datamap.stores) {
    const conn = await connectStore(project, store);
    try {
      rules.push(...(await forecastStore(conn, project.register, project.datamap, store, from, until)));
    } finally {
      await conn.close();
    }
  }
  return { from, months, rules };
}
