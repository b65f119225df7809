/** `registre plan`: what each rule holds on a date, counted in the databases. */
import { type ForecastLine, forecastStore, type PlanLine, planStore } from '../adapters/sql/plan.js';
import { addDuration, LAST_DATE, requireDateInput } from '../core/calendar.js';
import { RegistreError } from '../core/errors.js';
import { connectStore, openProject } from './project.js';
import { openArchive, openState } from './sweep-command.js';

export interface Plan {
  readonly at: string;
  readonly rules: readonly PlanLine[];
  readonly totals: {
    readonly active: number;
    readonly archive: number;
    readonly due: number;
    readonly held: number;
    readonly anonymised: number;
    readonly invalid: number;
  };
}

export async function runPlan(configFile: string | undefined, atText: string): Promise<Plan> {
  const at = requireDateInput('--at', atText);
  const project = openProject(configFile);
  const rules: PlanLine[] = [];
  const state = await openState(project);
  const holds = await state.holds({ at });
  await state.close();
  const archive = await openArchive(project);
  try {
    for (const store of project.datamap.stores) {
      const heldKeys = new Map<string, string[]>();
      for (const h of holds)
        if (h.store === store.id && (h.until === null || h.until >= at))
          heldKeys.set(h.table, [...(heldKeys.get(h.table) ?? []), h.key]);
      const conn = await connectStore(project, store);
      try {
        rules.push(
          ...(await planStore(conn, project.register, project.datamap, store, at, { heldKeys, archive })),
        );
      } finally {
        await conn.close();
      }
    }
  } finally {
    await archive.close();
  }
  const totals = { active: 0, archive: 0, due: 0, held: 0, anonymised: 0, invalid: 0 };
  for (const line of rules)
    for (const k of ['active', 'archive', 'due', 'held', 'anonymised', 'invalid'] as const)
      totals[k] += line[k];
  return { at, rules, totals };
}

export function formatPlan(plan: Plan): string {
  const header = ['rule', 'table', 'active', 'archive', 'due', 'held', 'anonymised', 'invalid'];
  const rows = [
    ...plan.rules.map((l) =>
      [l.rule, l.table, l.active, l.archive, l.due, l.held, l.anonymised, l.invalid].map(String),
    ),
    [
      'total',
      '',
      ...(['active', 'archive', 'due', 'held', 'anonymised', 'invalid'] as const).map((k) =>
        String(plan.totals[k]),
      ),
    ],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return `plan on ${plan.at}\n${line(header)}\n${rows.map(line).join('\n')}\n`;
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
  const project = openProject(configFile);
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

export function forecastCsv(forecast: Forecast): string {
  const rows = [
    ['rule', 'table', ...forecast.months],
    ...forecast.rules.map((l) => [l.rule, l.table, ...forecast.months.map((m) => String(l.months[m] ?? 0))]),
  ];
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}

export function formatForecast(forecast: Forecast): string {
  const header = ['rule', ...forecast.months];
  const rows = forecast.rules.map((l) => [l.rule, ...forecast.months.map((m) => String(l.months[m] ?? 0))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return `records reaching their deadline, by month, from ${forecast.from} (holds aside)\n${line(header)}\n${rows.map(line).join('\n')}\n`;
}
