/**
 * Calendar dates as the retention rules see them: UTC dates written `YYYY-MM-DD`, which compare
 * correctly as strings. Adding months or years clamps to the end of the month
 * (2025-01-31 + 1 month = 2025-02-28), the rule every SQL dialect must reproduce.
 */
import { RegistreError } from './errors.js';

export type CalendarDate = string;

export type DurationUnit = 'days' | 'months' | 'years';

export interface Duration {
  readonly amount: number;
  readonly unit: DurationUnit;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/** The UTC calendar date of a timestamp: a Date, `YYYY-MM-DD`, SQLite text or ISO 8601 text. */
export function toCalendarDate(value: unknown): CalendarDate | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly)
    return isValidDate(Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])) ? text : null;
  const iso = text.replace(' ', 'T');
  const ms = Date.parse(HAS_ZONE.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 10);
}

/**
 * A date given by a person (a command-line option, an API field): exactly `YYYY-MM-DD`, a real
 * calendar day, a four-digit year. Anything else is refused (null): `12`, `2026`, `12/31/2027`,
 * `2026-02-30`, `+010000-01-01` and `2026-01-01 00:00` are not dates here.
 */
export function parseDateInput(value: string): CalendarDate | null {
  const match = DATE_ONLY.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return year >= 1 && isValidDate(year, month, day) ? value : null;
}

/** Like toCalendarDate, but throws on a value that is not a date. */
export function parseCalendarDate(value: string): CalendarDate {
  const date = toCalendarDate(value);
  if (date === null) throw new RangeError(`"${value}" is not a date (expected YYYY-MM-DD)`);
  return date;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isValidDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function split(date: CalendarDate): [number, number, number] {
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

function format(year: number, month: number, day: number): CalendarDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Adds calendar units; months and years clamp to the month's last day. */
export function addDuration(date: CalendarDate, duration: Duration): CalendarDate {
  const [year, month, day] = split(date);
  if (duration.unit === 'days') {
    return new Date(Date.UTC(year, month - 1, day + duration.amount)).toISOString().slice(0, 10);
  }
  const months = duration.unit === 'years' ? duration.amount * 12 : duration.amount;
  const index = year * 12 + (month - 1) + months;
  const newYear = Math.floor(index / 12);
  const newMonth = (index % 12) + 1;
  return format(newYear, newMonth, Math.min(day, daysInMonth(newYear, newMonth)));
}

/**
 * The last day of the financial year that contains `date`, for a year ending on `yearEnd`
 * (`MM-DD`, e.g. `12-31` or `06-30`). A year end of `02-29` means the last day of February.
 */
export function financialYearEnd(date: CalendarDate, yearEnd: string): CalendarDate {
  const [year] = split(date);
  const endMonth = Number(yearEnd.slice(0, 2));
  const endDay = Number(yearEnd.slice(3, 5));
  const endIn = (y: number) => format(y, endMonth, Math.min(endDay, daysInMonth(y, endMonth)));
  const thisYear = endIn(year);
  return date <= thisYear ? thisYear : endIn(year + 1);
}

export function latestDate(dates: readonly (CalendarDate | null)[]): CalendarDate | null {
  let best: CalendarDate | null = null;
  for (const d of dates) if (d !== null && (best === null || d > best)) best = d;
  return best;
}

export function earliestDate(dates: readonly (CalendarDate | null)[]): CalendarDate | null {
  let best: CalendarDate | null = null;
  for (const d of dates) if (d !== null && (best === null || d < best)) best = d;
  return best;
}

const UNIT_WORDS: Record<string, DurationUnit> = {
  day: 'days',
  days: 'days',
  jour: 'days',
  jours: 'days',
  week: 'days',
  weeks: 'days',
  month: 'months',
  months: 'months',
  mois: 'months',
  year: 'years',
  years: 'years',
  an: 'years',
  ans: 'years',
  année: 'years',
  années: 'years',
};

export type DurationParse =
  | { readonly ok: true; readonly duration: Duration }
  | { readonly ok: false; readonly code: 'E_NEGATIVE_DURATION' | 'E_DURATION_UNIT' | 'E_DURATION_SYNTAX' };

/** Parses `13 months`, `3 years`, `30 days`, `2 weeks` or ISO 8601 `P13M`, `P3Y`, `P30D`. */
export function parseDuration(text: string): DurationParse {
  const value = text.trim();
  const iso = /^P(\d+)([YMDW])$/i.exec(value);
  if (iso) {
    const amount = Number(iso[1]);
    const letter = (iso[2] ?? '').toUpperCase();
    if (letter === 'W') return { ok: true, duration: { amount: amount * 7, unit: 'days' } };
    const unit: DurationUnit = letter === 'Y' ? 'years' : letter === 'M' ? 'months' : 'days';
    return { ok: true, duration: { amount, unit } };
  }
  const match = /^(-?\d+)\s*([\p{L}]*)$/u.exec(value);
  if (!match) return { ok: false, code: value.startsWith('-') ? 'E_NEGATIVE_DURATION' : 'E_DURATION_SYNTAX' };
  const amount = Number(match[1]);
  if (amount < 0) return { ok: false, code: 'E_NEGATIVE_DURATION' };
  const word = (match[2] ?? '').toLowerCase();
  if (word === '') return { ok: false, code: 'E_DURATION_UNIT' };
  const unit = UNIT_WORDS[word];
  if (!unit) return { ok: false, code: 'E_DURATION_UNIT' };
  return { ok: true, duration: { amount: word.startsWith('week') ? amount * 7 : amount, unit } };
}

/** ISO 8601 form of a duration, as DPV's StorageDuration expects (`P13M`). */
export function isoDuration(duration: Duration): string {
  const letter = duration.unit === 'years' ? 'Y' : duration.unit === 'months' ? 'M' : 'D';
  return `P${duration.amount}${letter}`;
}

/** parseDateInput for a named option: a usage error (E_USAGE) that shows the expected form. */
export function requireDateInput(option: string, value: string): CalendarDate {
  const date = parseDateInput(value);
  if (date === null)
    throw new RegistreError(
      'E_USAGE',
      `${option} must be a date written YYYY-MM-DD, a real calendar day with a four-digit year (got "${value}")`,
    );
  return date;
}
