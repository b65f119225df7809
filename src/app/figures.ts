/**
 * The plan's and the forecast's figures as the service serves them: counting a large shop takes
 * seconds, so the figures of today are kept in the state store once counted (by a call, by the
 * scheduled sweep) and served with the time they were counted; `fresh` counts again. A plan for
 * another day, or a forecast of other months, is counted as asked, never cached.
 */
import { z } from 'zod';
import type { Context, Engine } from './engine.js';
import { calendarDate, parseInput, retentionDate, wholeNumber } from './input.js';
import { type Forecast, forecast, type Plan, plan } from './plan.js';

/** How the answer was made: counted now, or the figures of `computedAt` (today's). */
export interface FiguresOf {
  readonly cached: boolean;
  readonly computedAt: string;
}

export const PlanFiguresInput = z.strictObject({
  /** The day (default today: served from today's figures when they were counted). */
  at: retentionDate.optional(),
  /** Count again, even when today's figures are kept. */
  fresh: z.boolean().default(false),
});
export type PlanFiguresInput = z.input<typeof PlanFiguresInput>;

export const ForecastFiguresInput = z.strictObject({
  /** The first month counted is this date's (default: today's month). */
  from: calendarDate.optional(),
  months: wholeNumber(1, 240).default(12),
  fresh: z.boolean().default(false),
});
export type ForecastFiguresInput = z.input<typeof ForecastFiguresInput>;

async function figures<T>(
  engine: Engine,
  name: string,
  today: boolean,
  fresh: boolean,
  count: () => Promise<T>,
): Promise<T & { figures: FiguresOf }> {
  const day = engine.today();
  if (today && !fresh) {
    const state = await engine.state('read');
    const kept = await state.figures.get(name);
    if (kept && kept.at === day)
      return { ...(kept.body as T), figures: { cached: true, computedAt: kept.computedAt } };
  }
  const counted = await count();
  const computedAt = engine.clock.now().toISOString();
  if (today) {
    const state = await engine.state('write', { wholeWithinMs: 10_000 });
    await state.figures.put(name, day, computedAt, counted);
  }
  return { ...counted, figures: { cached: false, computedAt } };
}

/** What each rule holds on a day; today's from its kept figures unless `fresh`. */
export async function planFigures(
  engine: Engine,
  input: PlanFiguresInput,
  ctx: Context,
): Promise<Plan & { figures: FiguresOf }> {
  const { at, fresh } = parseInput(PlanFiguresInput, input);
  const day = engine.today();
  return figures(engine, 'plan', at === undefined || at === day, fresh, () =>
    plan(engine, { at: at ?? day }, ctx),
  );
}

/** The records each rule makes due month by month; from this month's kept figures unless `fresh`. */
export async function forecastFigures(
  engine: Engine,
  input: ForecastFiguresInput,
  ctx: Context,
): Promise<Forecast & { figures: FiguresOf }> {
  const { from, months, fresh } = parseInput(ForecastFiguresInput, input);
  const day = engine.today();
  const thisMonth = from === undefined || from.slice(0, 7) === day.slice(0, 7);
  return figures(engine, `forecast-${months}`, thisMonth, fresh, () =>
    forecast(engine, { from: from ?? day, months }, ctx),
  );
}

/** Counts today's plan and the year's forecast again and keeps them (after a sweep). */
export async function refreshFigures(engine: Engine, ctx: Context): Promise<void> {
  await planFigures(engine, { fresh: true }, ctx);
  await forecastFigures(engine, { fresh: true }, ctx);
}
