/**
 * Calendar dates as the retention rules see them: UTC dates written `YYYY-MM-DD`, which compare
 * correctly as strings. Adding months or years clamps to the end of the month
 * (2025-01-31 + 1 month = 2025-02-28), the rule every SQL dialect must reproduce.
 */
import { RegistreError } from '../errors.js';

export type CalendarDate = string;

export type DurationUnit = 'days' | 'months' | 'years';

export interface Duration {
  readonly amount: number;
  readonly unit: DurationUnit;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The one form a stored date may take, the same in the evaluator and in every dialect's SQL
 * (dialect.ts): `YYYY-MM-DD`, optionally a time `HH:MM[:SS[.fff…]]` after a space or `T`, and
 * then optionally `Z` or `±HH:MM`; a real calendar day, years 0001 to 9999. Anything else (a
 * number, `2459000`, which SQLite would read as a Julian day, `2026-02-30`, surrounding spaces)
 * is invalid: it never makes a record due.
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?$/;

/** The latest date a deadline can take; beyond it, there is no deadline. */
export const LAST_DATE = '9999-12-31';

/** The UTC calendar date of a stored timestamp (a Date, or text of the one valid form), else null. */
export function toCalendarDate(value: unknown): CalendarDate | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    const text = value.toISOString();
    return /^\d{4}-/.test(text) && !text.startsWith('0000') ? text.slice(0, 10) : null;
  }
  if (typeof value !== 'string') return null;
  const match = TIMESTAMP.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || !isValidDate(year, month, day)) return null;
  const date = value.slice(0, 10);
  const zone = match[7];
  if (zone === undefined || zone === 'Z') return date;
  // An offset can move the instant to the day before or after in UTC.
  const ms = Date.parse(`${date}T${match[4]}:${match[5]}:${match[6] ?? '00'}${zone}`);
  if (Number.isNaN(ms)) return null;
  const utc = new Date(ms).toISOString();
  return /^\d{4}-/.test(utc) && !utc.startsWith('0000') ? utc.slice(0, 10) : null;
}

/** The largest amount a duration read from the data may have (`retention_months`…), in any unit. */
export const MAX_AMOUNT = 100_000;

/**
 * An amount read from the data (a controller's `retention_months`): a whole number from 0 to
 * MAX_AMOUNT, as a number or as decimal digits (PostgreSQL returns numeric columns as text).
 * Anything else (1.5, -3, 2147483647, "12 months") is invalid: no deadline.
 */
export function toAmount(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint'
        ? Number(value)
        : typeof value === 'string' && /^\d+(\.0+)?$/.test(value)
          ? Number(value)
          : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= MAX_AMOUNT ? n : null;
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
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
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

/**
 * Adds calendar units; months and years clamp to the month's last day. Past 9999-12-31 there is
 * no date (null): SQLite's and MySQL's date functions stop there too.
 */
export function addDuration(date: CalendarDate, duration: Duration): CalendarDate | null {
  const [year, month, day] = split(date);
  let result: CalendarDate;
  if (duration.unit === 'days') {
    const d = new Date(0);
    // setUTCFullYear takes years below 100 as they are (Date.UTC would read 0099 as 1999).
    d.setUTCFullYear(year, month - 1, day + duration.amount);
    const text = d.toISOString();
    if (!/^\d{4}-/.test(text)) return null;
    result = text.slice(0, 10);
  } else {
    const months = duration.unit === 'years' ? duration.amount * 12 : duration.amount;
    const index = year * 12 + (month - 1) + months;
    const newYear = Math.floor(index / 12);
    const newMonth = (index % 12) + 1;
    if (newYear > 9999) return null;
    result = format(newYear, newMonth, Math.min(day, daysInMonth(newYear, newMonth)));
  }
  return result > LAST_DATE ? null : result;
}

/**
 * The last day of the financial year that contains `date`, for a year ending on `yearEnd`
 * (`MM-DD`, e.g. `12-31` or `06-30`). A year end of `02-29` means the last day of February.
 * Past 9999-12-31 there is none (null), as in SQL: a date of 9999 after a June year end has no
 * year end (it was `10000-06-30`, which sorts before every date as text: due at once).
 */
export function financialYearEnd(date: CalendarDate, yearEnd: string): CalendarDate | null {
  const [year] = split(date);
  const endMonth = Number(yearEnd.slice(0, 2));
  const endDay = Number(yearEnd.slice(3, 5));
  const endIn = (y: number) => format(y, endMonth, Math.min(endDay, daysInMonth(y, endMonth)));
  const thisYear = endIn(year);
  if (date <= thisYear) return thisYear;
  return year >= 9999 ? null : endIn(year + 1);
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

/**
 * The date a plan, sweep or explanation is asked for: a date (requireDateInput) before
 * 9999-12-31, which stands for "never" in the databases' arithmetic (a record with no deadline
 * sorts there): on that day every such record would count as due.
 */
export function requireRetentionDate(option: string, value: string): CalendarDate {
  const date = requireDateInput(option, value);
  if (date >= LAST_DATE)
    throw new RegistreError(
      'E_USAGE',
      `${option} ${date}: the last day of the calendar stands for "never" in the databases; ask for 9999-12-30 at the latest`,
    );
  return date;
}

function dayNumber(date: CalendarDate): number {
  const [year, month, day] = split(date);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / 86_400_000);
}

function dateOfDay(n: number): CalendarDate {
  const d = new Date(n * 86_400_000);
  return format(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * The latest date `x` with `f(x) <= limit`, for an `f` that never decreases (a deadline computed
 * from a date: add a duration, go to the end of the financial year); `f` null means past the last
 * date. Null when no date qualifies. Lets a rule's "deadline <= D" become "date <= cut-off", a
 * comparison an index serves.
 */
export function latestWithin(
  f: (date: CalendarDate) => CalendarDate | null,
  limit: CalendarDate,
): CalendarDate | null {
  const within = (n: number) => {
    const value = f(dateOfDay(n));
    return value !== null && value <= limit;
  };
  let low = dayNumber('0001-01-01');
  let high = dayNumber(LAST_DATE);
  if (!within(low)) return null;
  if (within(high)) return LAST_DATE;
  // within(low) and not within(high): the last day that is, by halves.
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (within(mid)) low = mid;
    else high = mid;
  }
  return dateOfDay(low);
}
