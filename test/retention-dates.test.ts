/**
 * One definition of a stored date and of an amount: the evaluator (core/calendar.ts) and each
 * dialect's SQL (dateOf, amountOf) read thousands of odd values, near-dates and garbage, the same.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../src/adapters/sql/connect.js';
import { amountOf, dateOf, dateText } from '../src/adapters/sql/dialect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { toAmount, toCalendarDate } from '../src/core/retention/calendar.js';
import { DIALECTS } from './dialects.js';

const digit = fc.constantFrom(...'0123456789');
const two = fc.tuple(digit, digit).map((d) => d.join(''));
const part = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min, max }).map((n) => String(n).padStart(2, '0')),
    two,
  );
/** Near-dates: the valid forms, with a part out of range, missing, doubled or misplaced now and then. */
const nearDate = fc
  .record({
    year: fc.oneof(
      fc.integer({ min: 1, max: 9999 }).map((n) => String(n).padStart(4, '0')),
      fc.constantFrom('0000', '10000', '99'),
    ),
    month: part(1, 12),
    day: part(1, 31),
    sep: fc.constantFrom(' ', 'T', 't', '  ', ''),
    hour: part(0, 24),
    minute: part(0, 60),
    second: part(0, 60),
    fraction: fc.constantFrom('', '.1', '.123', '.123456789', '.', '.x'),
    zone: fc.constantFrom('', 'Z', 'z', '+01:00', '-05:30', '+0100', '+24:00', '-00:00', '+01'),
    shape: fc.constantFrom('date', 'minutes', 'seconds', 'full', 'zone-only'),
    pad: fc.constantFrom('', ' ', '\t'),
  })
  .map((p) => {
    const date = `${p.year}-${p.month}-${p.day}`;
    const body =
      p.shape === 'date'
        ? date
        : p.shape === 'zone-only'
          ? `${date}${p.zone}`
          : p.shape === 'minutes'
            ? `${date}${p.sep}${p.hour}:${p.minute}${p.zone}`
            : p.shape === 'seconds'
              ? `${date}${p.sep}${p.hour}:${p.minute}:${p.second}${p.zone}`
              : `${date}${p.sep}${p.hour}:${p.minute}:${p.second}${p.fraction}${p.zone}`;
    return `${p.pad}${body}`;
  });
const garbage = fc.string({ unit: fc.constantFrom(...'0123456789-: TZ+.x'), maxLength: 30 });
const values = fc.array(
  fc.oneof(nearDate, nearDate, garbage, fc.constantFrom('2459000', '2026-02-29', '2024-02-29 23:59:59')),
  {
    minLength: 300,
    maxLength: 300,
  },
);

/** The values through one dialect's expression, in one query: `SELECT … FROM (SELECT … UNION ALL …)`. */
async function throughSql(
  conn: Connection,
  texts: readonly unknown[],
  f: (v: ReturnType<typeof sql.ref>) => ReturnType<typeof sql>,
) {
  const rows = sql.join(
    texts.map((t, i) => sql`SELECT ${sql.lit(i)} AS i, ${t} AS v`),
    sql` UNION ALL `,
  );
  const { rows: out } = await sql<{
    i: number;
    d: unknown;
  }>`SELECT i, ${f(sql.ref('s.v'))} AS d FROM (${rows}) s ORDER BY i`.execute(conn.db);
  return out.map((r) => (r.d === null || r.d === undefined ? null : String(r.d)));
}

describe.each(DIALECTS)('one definition of a date and an amount on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('dateOf reads every odd text as toCalendarDate does; amountOf every odd number as toAmount', async () => {
    const created = await database.create();
    drops.push(created.drop);
    const conn = await connect('dates', created.url, {
      baseDir: mkdtempSync(join(tmpdir(), 'registre-dates-')),
      create: true,
    });
    try {
      await fc.assert(
        fc.asyncProperty(values, async (texts) => {
          // MySQL's DATE() takes no offset: text dates with one are invalid there (and in PostgreSQL
          // and SQLite, read with it). Stored DATETIMEs, MySQL's usual dates, have none.
          const wanted = texts.map((t) =>
            conn.dialect === 'mysql' && /[+-]\d\d:\d\d$/.test(t) ? null : toCalendarDate(t),
          );
          const got = await throughSql(conn, texts, (v) => dateText(conn.dialect, dateOf(conn.dialect, v)));
          const diff = texts.flatMap((t, i) =>
            got[i] !== wanted[i] ? [{ t, sql: got[i], js: wanted[i] }] : [],
          );
          expect(diff.slice(0, 5)).toEqual([]);
        }),
        { numRuns: 8, seed: 42 },
      );
      const amounts: unknown[] = [
        0,
        1,
        12,
        100_000,
        100_001,
        -1,
        1.5,
        2147483647,
        '12',
        '12.0',
        '1.5',
        '',
        ' 12',
        '1e3',
        'x',
      ];
      const sqlAmounts = await throughSql(conn, amounts, (v) => amountOf(conn.dialect, v));
      expect(sqlAmounts).toEqual(
        amounts.map((a) => {
          const n = toAmount(a);
          return n === null ? null : String(n);
        }),
      );
    } finally {
      await conn.close();
    }
  }, 180_000);
});
