import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  financialYearEnd,
  latestWithin,
  parseDateInput,
  parseDuration,
  requireRetentionDate,
  toAmount,
  toCalendarDate,
} from './calendar.js';

describe('addDuration', () => {
  it.each([
    ['2025-01-31', 1, 'months', '2025-02-28'],
    ['2024-01-31', 1, 'months', '2024-02-29'],
    ['2024-02-29', 1, 'years', '2025-02-28'],
    ['2024-02-29', 4, 'years', '2028-02-29'],
    ['2025-10-27', 13, 'months', '2026-11-27'],
    ['2025-03-31', 1, 'months', '2025-04-30'],
    ['2025-12-31', 2, 'months', '2026-02-28'],
    ['2025-08-31', 6, 'months', '2026-02-28'],
    ['2023-11-26', 3, 'years', '2026-11-26'],
    ['2026-11-20', 0, 'days', '2026-11-20'],
    ['2026-12-15', 30, 'days', '2027-01-14'],
    ['2024-02-28', 1, 'days', '2024-02-29'],
    ['2016-12-31', 10, 'years', '2026-12-31'],
  ] as const)('%s + %i %s = %s', (date, amount, unit, expected) => {
    expect(addDuration(date, { amount, unit })).toBe(expected);
  });
});

describe('financialYearEnd', () => {
  it.each([
    ['2016-03-01', '12-31', '2016-12-31'],
    ['2016-12-31', '12-31', '2016-12-31'],
    ['2024-07-01', '06-30', '2025-06-30'],
    ['2024-06-30', '06-30', '2024-06-30'],
    ['2024-01-15', '06-30', '2024-06-30'],
    ['2023-03-01', '02-29', '2024-02-29'],
    ['2025-02-10', '02-29', '2025-02-28'],
    ['9999-06-30', '06-30', '9999-06-30'],
    ['9999-07-01', '06-30', null],
    ['9999-12-31', '12-31', '9999-12-31'],
  ])('FY-end(%s) with year end %s = %s', (date, yearEnd, expected) => {
    expect(financialYearEnd(date, yearEnd)).toBe(expected);
  });
});

describe('toCalendarDate', () => {
  it.each([
    ['2025-10-27 08:00:00', '2025-10-27'],
    ['2025-10-27T23:59:59Z', '2025-10-27'],
    ['2025-10-27T23:59:59.123Z', '2025-10-27'],
    ['2025-10-27T23:30:00-02:00', '2025-10-28'],
    ['2025-10-27T00:30:00+02:00', '2025-10-26'],
    ['2025-10-27', '2025-10-27'],
  ])('%s is %s', (value, expected) => {
    expect(toCalendarDate(value)).toBe(expected);
  });

  it('reads a Date in UTC', () => {
    expect(toCalendarDate(new Date(Date.UTC(2025, 0, 31, 23, 0)))).toBe('2025-01-31');
  });

  it.each([
    null,
    undefined,
    '',
    'yesterday',
    '2025-02-30',
    42,
    2459000,
    '2459000',
    ' 2026-01-01',
    '2026-01-01 ',
    '2026-1-01',
    '2026-01-01 25:00:00',
    '2026-01-01 10:61',
    '2026-01-01Z',
    '2026-01-01 10:00:00+0100',
    '0000-01-01',
    '10000-01-01',
    '+010000-01-01',
    'jean.dupont@example.fr',
  ])('gives null for %s (one definition of a date, in the evaluator and in SQL)', (value) => {
    expect(toCalendarDate(value)).toBeNull();
  });

  it('past 9999-12-31 there is no deadline', () => {
    expect(addDuration('9999-12-31', { amount: 1, unit: 'days' })).toBeNull();
    expect(addDuration('2026-01-01', { amount: 100_000, unit: 'years' })).toBeNull();
    expect(addDuration('0099-02-28', { amount: 1, unit: 'days' })).toBe('0099-03-01');
  });

  it('an amount read from the data is a whole number from 0 to 100,000', () => {
    expect([12, '12', '12.0', 0].map(toAmount)).toEqual([12, 12, 12, 0]);
    expect([1.5, '1.5', -1, 2147483647, '12 months', '', null, true].map(toAmount)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['13 months', { amount: 13, unit: 'months' }],
    ['3 years', { amount: 3, unit: 'years' }],
    ['1 year', { amount: 1, unit: 'years' }],
    ['30 days', { amount: 30, unit: 'days' }],
    ['2 weeks', { amount: 14, unit: 'days' }],
    ['13 mois', { amount: 13, unit: 'months' }],
    ['P13M', { amount: 13, unit: 'months' }],
    ['P10Y', { amount: 10, unit: 'years' }],
    ['0 days', { amount: 0, unit: 'days' }],
  ])('%s', (text, duration) => {
    expect(parseDuration(text)).toEqual({ ok: true, duration });
  });

  it.each([
    ['-3 months', 'E_NEGATIVE_DURATION'],
    ['13', 'E_DURATION_UNIT'],
    ['13 fortnights', 'E_DURATION_UNIT'],
    ['thirteen months', 'E_DURATION_SYNTAX'],
    ['', 'E_DURATION_SYNTAX'],
  ])('refuses %j with %s', (text, code) => {
    expect(parseDuration(text)).toEqual({ ok: false, code });
  });
});

describe('calendar properties (fast-check)', () => {
  const dates = fc
    .date({ min: new Date(Date.UTC(1990, 0, 1)), max: new Date(Date.UTC(2090, 11, 31)), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));

  it('adding months keeps the day, or clamps it to the last day of the month', () => {
    fc.assert(
      fc.property(dates, fc.integer({ min: 0, max: 240 }), (date, months) => {
        const result = addDuration(date, { amount: months, unit: 'months' });
        const [y, m, d] = date.split('-').map(Number) as [number, number, number];
        const [ry, rm, rd] = (result as string).split('-').map(Number) as [number, number, number];
        expect(ry * 12 + rm - (y * 12 + m)).toBe(months);
        expect(rd).toBe(Math.min(d, new Date(Date.UTC(ry, rm, 0)).getUTCDate()));
        expect(toCalendarDate(result)).toBe(result);
      }),
    );
  });

  it('n years are 12n months, and a deadline never comes before its anchor', () => {
    fc.assert(
      fc.property(dates, fc.integer({ min: 0, max: 20 }), (date, years) => {
        const byYears = addDuration(date, { amount: years, unit: 'years' });
        expect(byYears).toBe(addDuration(date, { amount: years * 12, unit: 'months' }));
        expect((byYears as string) >= date).toBe(true);
      }),
    );
  });

  it('the financial-year end is the first year-end on or after the date', () => {
    fc.assert(
      fc.property(dates, fc.constantFrom('12-31', '06-30', '03-31', '02-29'), (date, yearEnd) => {
        const end = financialYearEnd(date, yearEnd);
        // None past 9999-12-31: only for a date of 9999 after the year end.
        if (end === null) return expect(date > `9999-${yearEnd}`).toBe(true);
        expect(end >= date).toBe(true);
        expect((addDuration(end, { amount: -12, unit: 'months' }) as string) < date).toBe(true);
      }),
    );
  });
});

describe('dates a person types (parseDateInput)', () => {
  it.each(['2026-11-27', '2024-02-29', '0001-01-01', '9999-12-31'])('takes %s', (text) => {
    expect(parseDateInput(text)).toBe(text);
  });
  it.each([
    '12',
    '2026',
    '12/31/2027',
    '31/01/2027',
    '2026-02-30',
    '2026-02-30 00:00',
    '2026-01-01 00:00',
    '+010000-01-01',
    '2023-02-29',
    ' 2026-01-01',
    '0000-01-01',
    '2026-13-01',
  ])('refuses %s', (text) => {
    expect(parseDateInput(text)).toBeNull();
  });
});

describe('the date a plan or sweep is asked for (requireRetentionDate)', () => {
  it('takes a date up to 9999-12-30 and refuses 9999-12-31, which stands for never', () => {
    expect(requireRetentionDate('--at', '9999-12-30')).toBe('9999-12-30');
    expect(() => requireRetentionDate('--at', '9999-12-31')).toThrow(/stands for "never"/);
    expect(() => requireRetentionDate('--at', '2026-02-30')).toThrow(/real calendar day/);
  });
});

describe('latestWithin: the cut-off of a deadline that grows with its date', () => {
  const months = (n: number) => (d: string) => addDuration(d, { amount: n, unit: 'months' });
  it('finds the last date whose deadline is on or before the limit', () => {
    expect(latestWithin(months(13), '2026-11-27')).toBe('2025-10-27');
    // Clamped month ends: 31 January + 1 month is 28 February, so 31 January is within.
    expect(latestWithin(months(1), '2026-02-28')).toBe('2026-01-31');
    expect(
      latestWithin(
        (d) => addDuration(financialYearEnd(d, '12-31') as string, { amount: 10, unit: 'years' }),
        '2026-11-27',
      ),
    ).toBe('2015-12-31');
  });
  it('says when no date or every date qualifies', () => {
    expect(latestWithin(months(24), '0001-06-30')).toBeNull();
    expect(latestWithin((d) => d, '9999-12-31')).toBe('9999-12-31');
  });
  it('agrees with a walk over the days on random limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * 365 }), fc.integer({ min: 0, max: 150 }), (offset, n) => {
        const limit = addDuration('2000-01-01', { amount: offset, unit: 'days' }) as string;
        const cut = latestWithin(months(n), limit) as string;
        const next = addDuration(cut, { amount: 1, unit: 'days' }) as string;
        expect((months(n)(cut) as string) <= limit).toBe(true);
        expect((months(n)(next) as string) > limit).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
