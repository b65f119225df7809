/**
 * The overview a DPO reads first (the console's dashboard, GET /api/overview): whether any record
 * is past its deadline, what the coming months will delete, the open requests (overdue first),
 * the last sweep and the next, the audit log's last verification, the holds in force, the
 * breaches whose notification is still to decide. One call,
 * from what is kept: today's figures, the state store's runs and requests; nothing is counted
 * afresh here (figures are counted after each sweep and at the service's start).
 */
import { Cron } from 'croner';
import { holdCases } from '../adapters/state/state-store.js';
import { scheduleOf } from '../core/config.js';
import { isOpen } from '../core/requests/requests.js';
import type { HoldCase, SweepRun } from '../core/retention/results.js';
import { listBreaches } from './breaches.js';
import type { Context, Engine } from './engine.js';
import { forecastFigures, planFigures } from './figures.js';
import { NoInput, parseInput } from './input.js';
import { listRequests } from './requests/lifecycle.js';
import type { RequestView } from './requests/shared.js';
import { listScheduledRuns, type ScheduledRunView } from './scheduled.js';

export interface Overview {
  readonly today: string;
  /** Records whose deadline has passed and that are not held: the sweep's work. 0 when promises are kept. */
  readonly pastDeadline: {
    readonly total: number;
    readonly rules: readonly { readonly rule: string; readonly table: string; readonly due: number }[];
    readonly computedAt: string;
  };
  /** Records reaching their deadline in each of the next twelve months, all rules together. */
  readonly forecast: {
    readonly months: readonly { readonly month: string; readonly records: number }[];
    readonly computedAt: string;
  };
  /** Open requests, overdue first, then by due date. */
  readonly requests: readonly RequestView[];
  readonly sweeps: {
    readonly last: SweepRun | null;
    /** When the scheduler runs the next sweep (null: no schedule). */
    readonly next: string | null;
    readonly timeZone: string;
  };
  /** The last scheduled check (it verifies the audit log), if one ran. */
  readonly lastCheck: ScheduledRunView | null;
  readonly holds: readonly HoldCase[];
  /** Breaches whose notification to the CNIL is still to decide, and those of them past their 72 hours. */
  readonly breaches: { readonly toDecide: number; readonly overdue: number };
}

export async function overview(engine: Engine, input: NoInput, ctx: Context): Promise<Overview> {
  parseInput(NoInput, input);
  const project = await engine.project({ cached: true });
  const schedule = scheduleOf(project.loaded.config);
  const [plan, forecast, requests, checks, breaches] = await Promise.all([
    planFigures(engine, {}, ctx),
    forecastFigures(engine, { months: 12 }, ctx),
    listRequests(engine, {}, ctx),
    listScheduledRuns(engine, { job: 'check', limit: 1 }, ctx),
    listBreaches(engine, {}, ctx),
  ]);
  const undecided = breaches.filter((b) => b.status === 'to-decide' || b.status === 'overdue');
  const state = await engine.state('read');
  const [runs, holds] = [await state.runs(1), await state.holds({ at: engine.today() })];
  let next: string | null = null;
  if (schedule.enabled) {
    try {
      next =
        new Cron(schedule.sweep, { timezone: schedule.timeZone, paused: true }).nextRun()?.toISOString() ??
        null;
    } catch {
      next = null;
    }
  }
  return {
    today: engine.today(),
    pastDeadline: {
      total: plan.totals.due,
      rules: plan.rules.filter((r) => r.due > 0).map((r) => ({ rule: r.rule, table: r.table, due: r.due })),
      computedAt: plan.figures.computedAt,
    },
    forecast: {
      months: forecast.months.map((month) => ({
        month,
        records: forecast.rules.reduce((sum, r) => sum + (r.months[month] ?? 0), 0),
      })),
      computedAt: forecast.figures.computedAt,
    },
    requests: requests
      .filter((r) => isOpen(r.status))
      .sort((a, b) => Number(b.overdue) - Number(a.overdue) || a.due.localeCompare(b.due) || a.id - b.id),
    sweeps: { last: runs[0] ?? null, next, timeZone: schedule.timeZone },
    lastCheck: checks[0] ?? null,
    holds: holdCases(holds),
    breaches: {
      toDecide: undecided.length,
      overdue: undecided.filter((b) => b.status === 'overdue').length,
    },
  };
}
