/**
 * The SQL that plans (and will sweep) gives exactly the dates of the pure evaluation, on every
 * dialect: on thousands of random dates (month ends and 29 Februaries included), and on every
 * record of a generated shop, holds included.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../src/adapters/sql/connect.js';
import { dateOf, dateText, nativeDateOf } from '../src/adapters/sql/dialect.js';
import { columnKey } from '../src/adapters/sql/introspect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { statusQuery, verdictQuery } from '../src/adapters/sql/plan.js';
import {
  type RetentionSqlContext,
  relatedJoins,
  retentionContext,
  ruleDates,
  sweepCandidateSql,
} from '../src/adapters/sql/retention-sql.js';
import { openProject } from '../src/app/project.js';
import { parseDataMap } from '../src/core/datamap/datamap-load.js';
import type { TableMap } from '../src/core/datamap/datamap-schema.js';
import { parseRegister, type Register } from '../src/core/register/register-load.js';
import type { RetentionRule } from '../src/core/register/register-schema.js';
import { evaluateRule, viewOf } from '../src/core/retention/retention.js';
import { DIALECTS } from './dialects.js';
import { compareVerdicts } from './shop-helpers.js';
import { runDemo } from './use-cases.js';

const REGISTER = `
organisation: { name: Test, financialYearEnd: "02-29" }
dataSubjects: [{ id: people, name: People }]
records:
  - id: events
    name: Events
    fields: { a: date, b: date, n: integer }
activities:
  - id: act
    name: Activity
    role: controller
    dataSubjects: [people]
    dataCategories: [identity]
    security: [{ kind: other, description: none }]
    purposes: [{ id: p, name: P, legalBasis: contract }]
retention:
  - { id: one-month, record: events, purposes: [p], anchor: a, keep: 1 month }
  - { id: thirteen-months, record: events, purposes: [p], anchor: a, keep: 13 months }
  - { id: one-year, record: events, purposes: [p], anchor: a, keep: 1 year }
  - { id: days, record: events, purposes: [p], anchor: a, keep: 45 days }
  - { id: fy-end, record: events, purposes: [p], anchor: { financialYearEnd: a }, keep: 10 years }
  - { id: latest, record: events, purposes: [p], anchor: { latest: [a, b] }, keep: 3 years }
  - { id: earliest, record: events, purposes: [p], anchor: a, keep: 2 years, until: [b] }
  - { id: from-column, record: events, purposes: [p], anchor: a, keep: { months: n }, until: [{ from: b, add: 30 days }] }
  - { id: archived, record: events, purposes: [p], anchor: b, keep: 2 years, until: [a], archive: { keep: 5 years, fields: [a] } }
`;
const MAP = `
stores:
  - id: s
    tables:
      - { name: events, record: events, primaryKey: id, columns: { id: key, a: none, b: none, n: none } }
`;

const iso = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
const day = fc.integer({ min: Date.UTC(2000, 0, 1) / 86_400_000, max: Date.UTC(2040, 11, 31) / 86_400_000 });
const monthEnd = fc
  .record({ year: fc.integer({ min: 2000, max: 2040 }), month: fc.integer({ min: 0, max: 11 }) })
  .map(({ year, month }) => new Date(Date.UTC(year, month + 1, 0, 13, 30)));
const timestamp = fc.oneof(
  day.map((d) => new Date(d * 86_400_000 + 3_600_000 * 23)),
  monthEnd,
  fc.constantFrom(
    new Date(Date.UTC(2024, 1, 29, 12)),
    new Date(Date.UTC(2020, 1, 29)),
    new Date(Date.UTC(2023, 1, 28, 23, 59, 59)),
  ),
);
/** The edges of the calendar: no year end or deadline past 9999-12-31 (a financial year ending 29 February). */
const edges = [
  { a: new Date(Date.UTC(9999, 2, 1, 12)), b: null, n: 1 },
  {
    a: new Date(Date.UTC(9999, 1, 28, 23, 59, 59)),
    b: new Date(Date.UTC(9999, 11, 30, 23, 59, 59)),
    n: null,
  },
  { a: new Date(Date.UTC(9998, 11, 31)), b: new Date(Date.UTC(9999, 5, 30)), n: 0 },
  { a: new Date(Date.UTC(1000, 0, 1)), b: new Date(Date.UTC(1000, 1, 29)), n: 120 },
];
const rows = fc
  .sample(
    fc.record({
      a: timestamp,
      b: fc.option(timestamp, { freq: 4 }),
      n: fc.option(fc.integer({ min: 0, max: 120 }), { freq: 5 }),
    }),
    { numRuns: 2000, seed: 20261127 },
  )
  .concat(edges);

/** The records the verdict finds due or entering the archive on `at`, with and without the sweep's candidate filter. */
async function actedOn(conn: Connection, ctx: RetentionSqlContext, table: TableMap, at: string) {
  const keys = async (sweepOnly: boolean) =>
    (
      await sql<{ k: unknown; status: string; rule_index: unknown }>`
        SELECT k, status, rule_index FROM (${verdictQuery(ctx, table, at, { sweepOnly })}) s
        WHERE status IN ('due', 'archive') ORDER BY k`.execute(conn.db)
    ).rows.map((r) => `${String(r.k)} ${r.status} ${String(r.rule_index)}`);
  const candidate = sweepCandidateSql(ctx, table.record as string, 't', at);
  const { rows } = await sql<{ n: number | string }>`
    SELECT COUNT(*) AS n FROM ${sql.table(table.name)} AS t WHERE ${candidate ?? sql`1 = 1`}`.execute(
    conn.db,
  );
  return { all: await keys(false), filtered: await keys(true), candidates: Number(rows[0]?.n) };
}

/**
 * Each record's rule and status on `at` (and its deadline when in its archive phase) from the
 * query without deadlines (cut-offs, no date arithmetic) and from the full verdict, as plan counts
 * them and as a sweep chooses (candidates only); null when the table has no such query.
 */
async function statusesBoth(conn: Connection, ctx: RetentionSqlContext, table: TableMap, at: string) {
  if (!statusQuery(ctx, table, at)) return null;
  const rows = async (query: ReturnType<typeof verdictQuery>, where: string) =>
    (
      await sql<{ k: unknown; rule_index: unknown; status: string; deadline: unknown }>`
        SELECT k, rule_index, status, CASE WHEN status = 'archive' THEN deadline END AS deadline
        FROM (${query}) s WHERE ${sql.raw(where)} ORDER BY k`.execute(conn.db)
    ).rows.map((r) => `${String(r.k)} ${String(r.rule_index)} ${r.status} ${String(r.deadline)}`);
  const planned = 'rule_index IS NOT NULL';
  const swept = "status IN ('due', 'archive')";
  return {
    fast: [
      ...(await rows(statusQuery(ctx, table, at) as ReturnType<typeof verdictQuery>, planned)),
      ...(await rows(
        statusQuery(ctx, table, at, { sweepOnly: true }) as ReturnType<typeof verdictQuery>,
        swept,
      )),
    ],
    full: [
      ...(await rows(verdictQuery(ctx, table, at), planned)),
      ...(await rows(verdictQuery(ctx, table, at, { sweepOnly: true }), swept)),
    ],
  };
}

/** Dates a sweep may run on: month ends, 29 February, and far before and after the data. */
const SWEEP_DATES = [
  '1999-12-31',
  '2003-02-28',
  '2012-02-29',
  '2026-11-27',
  '2031-01-31',
  '2041-06-30',
  '2099-12-31',
  '9999-12-30',
];

describe.each(DIALECTS)('retention SQL on $name', (database) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  async function open(url: string, dir: string): Promise<Connection> {
    const conn = await connect('s', url, { baseDir: dir, create: true });
    cleanups.push(() => conn.close());
    return conn;
  }

  it("every construct gives the pure evaluation's deadline on 2,000 random dates", async () => {
    const register = parseRegister([{ file: 'r.yaml', text: REGISTER }]).register as Register;
    const datamap = parseDataMap([{ file: 'm.yaml', text: MAP }]).datamap;
    if (!datamap) throw new Error('bad map');
    const { url, drop } = await database.create();
    cleanups.push(drop);
    const conn = await open(url, mkdtempSync(join(tmpdir(), 'registre-dates-')));
    const ts = conn.dialect === 'sqlite' ? 'text' : conn.dialect === 'postgres' ? 'timestamptz' : 'datetime';
    await conn.db.schema
      .createTable('events')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('a', sql.raw(ts))
      .addColumn('b', sql.raw(ts))
      .addColumn('n', 'integer')
      .execute();
    for (let i = 0; i < rows.length; i += 400) {
      await conn.db
        .insertInto('events')
        .values(
          rows
            .slice(i, i + 400)
            .map((r, j) => ({ id: i + j + 1, a: iso(r.a), b: r.b ? iso(r.b) : null, n: r.n })),
        )
        .execute();
    }
    // As plan and sweep read them: PostgreSQL's and MySQL's columns are native dates here.
    const ctx = await retentionContext(conn, register, datamap);
    expect([...(ctx.dateColumns ?? [])].sort()).toEqual(
      conn.dialect === 'sqlite' ? [] : [columnKey('events', 'a'), columnKey('events', 'b')],
    );
    const columns = register.retention.flatMap((rule, i) => {
      const dates = ruleDates(ctx, rule, 't');
      return [
        sql`${dateText(conn.dialect, dates.deadline)} AS ${sql.id(`d${i}`)}`,
        sql`${dateText(conn.dialect, dates.activeEnd)} AS ${sql.id(`e${i}`)}`,
      ];
    });
    const result = await sql<
      Record<string, string | null>
    >`SELECT t.id, ${sql.join(columns)} FROM events AS t ORDER BY t.id`.execute(conn.db);
    expect(result.rows).toHaveLength(rows.length);
    let compared = 0;
    for (const row of result.rows) {
      const input = rows[Number(row.id) - 1] as (typeof rows)[number];
      const view = viewOf(register, 'events', {
        id: row.id,
        a: iso(input.a),
        b: input.b ? iso(input.b) : null,
        n: input.n,
      });
      for (const [i, rule] of register.retention.entries()) {
        const pure = evaluateRule(register, rule, view);
        const got = {
          rule: rule.id,
          a: iso(input.a),
          b: input.b && iso(input.b),
          n: input.n,
          deadline: row[`d${i}`] ?? null,
          activeEnd: row[`e${i}`] ?? null,
        };
        expect(got).toEqual({ ...got, deadline: pure.deadline, activeEnd: pure.activeEnd });
        compared++;
      }
    }
    expect(compared).toBe(rows.length * register.retention.length);

    // The sweep's candidates (raw columns against cut-offs) leave out no record the exact verdict
    // acts on, whatever the date, also with the stored forms a careless import leaves.
    if (conn.dialect === 'sqlite')
      await conn.db
        .insertInto('events')
        .values(
          [
            ['2020-01-31T23:30:00-05:00', '2020-02-01T01:00:00+05:00'],
            ['2020-02-01T01:00:00+05:00', null],
            ['2020-01-31', '2020-01-31 10:00'],
            ['2020-01-31T10:00:00.123Z', 'garbage'],
            ['2020-02-30 00:00:00', '2020-01-01'],
            [' 2020-01-01', '2019-12-31T23:59:59+23:59'],
            ['2012-02-29T00:30:00+01:00', '2012-02-28T23:30:00-01:00'],
          ].map(([a, b], i) => ({ id: 100_000 + i, a, b, n: i === 1 ? null : 12 })),
        )
        .execute();
    const table = datamap.stores[0]?.tables[0] as TableMap;
    let filteredOut = 0;
    for (const at of SWEEP_DATES) {
      const { all, filtered, candidates } = await actedOn(conn, ctx, table, at);
      expect({ at, filtered }).toEqual({ at, filtered: all });
      expect(candidates).toBeGreaterThanOrEqual(all.length);
      filteredOut += candidates < rows.length ? 1 : 0;
    }
    // The filter does filter: on the early dates most records are not candidates.
    expect(filteredOut).toBeGreaterThan(2);

    // Plan's status without deadlines: each rule alone (the query needs one rule per record), on
    // every date, every record, odd stored forms included, the same rule and status as the verdict.
    const covered: string[] = [];
    for (const rule of register.retention) {
      const alone: RetentionSqlContext = { ...ctx, register: { ...register, retention: [rule] } };
      for (const at of SWEEP_DATES) {
        const both = await statusesBoth(conn, alone, table, at);
        if (!both) continue;
        expect({ rule: rule.id, at, fast: both.fast }).toEqual({ rule: rule.id, at, fast: both.full });
        if (at === '2026-11-27') covered.push(rule.id);
      }
    }
    // Rules that exclude each other by their conditions (at most one applies to a record): the
    // record's rule and status without deadlines; rules that may both apply: the full verdict only.
    const [month, thirteen, fyEnd] = register.retention;
    const withRules = (rules: RetentionRule[]): RetentionSqlContext => ({
      ...ctx,
      register: { ...register, retention: rules },
    });
    const exclusive = withRules([
      { ...(month as RetentionRule), where: { n: [1, 2, 3] } },
      { ...(thirteen as RetentionRule), where: { n: [4, 5, null] } },
      { ...(fyEnd as RetentionRule), where: { n: 6 } },
    ]);
    for (const at of SWEEP_DATES) {
      const both = await statusesBoth(conn, exclusive, table, at);
      expect(both).not.toBeNull();
      expect({ at, fast: both?.fast }).toEqual({ at, fast: both?.full });
    }
    for (const overlapping of [
      [{ n: [1, 2] }, { n: 2 }],
      [{ n: 1 }, {}],
      [{ n: 1 }, { n: { not: 1 } }],
      [{ n: 1 }, { n: 'a' }],
      [{ n: true }, { n: 1 }],
      // MySQL compares text without case and trailing spaces: such values are not trusted to differ.
      [{ n: 'a' }, { n: 'A' }],
      [{ n: 'a' }, { n: 'b ' }],
    ] as const)
      expect(
        statusQuery(
          withRules([
            { ...(month as RetentionRule), where: overlapping[0] as never },
            { ...(thirteen as RetentionRule), where: overlapping[1] as never },
          ]),
          table,
          '2026-11-27',
        ),
      ).toBeNull();

    // Every rule but the one whose duration is read from the data has it.
    expect(covered).toEqual(register.retention.map((r) => r.id).filter((id) => id !== 'from-column'));
  });

  // SQLite has no native date column.
  it.skipIf(database.name === 'sqlite')(
    'a native date column is read without text, exactly as its text would be',
    async () => {
      const { url, drop } = await database.create();
      cleanups.push(drop);
      const conn = await open(url, mkdtempSync(join(tmpdir(), 'registre-native-')));
      const pg = conn.dialect === 'postgres';
      const types = pg ? ['timestamptz', 'timestamp', 'date'] : ['datetime', 'timestamp', 'date'];
      await sql`CREATE TABLE native (id integer PRIMARY KEY, ${sql.raw(types.map((t, i) => `c${i} ${t} NULL`).join(', '))})`.execute(
        conn.db,
      );
      // The edges of the years 1 to 9999, the month ends, time zones across midnight, and what a
      // lax server keeps: infinity, years past 9999 and BC (PostgreSQL); zero and impossible dates (MySQL).
      const values = pg
        ? [
            'infinity',
            '-infinity',
            '10000-01-01 00:00:00+00',
            '9999-12-31 23:59:59.999+00',
            '0001-01-01 00:00:00+00',
            '0001-12-31 23:59:59+00 BC',
            '2024-02-29 23:30:00-05:00',
            '2024-02-29 00:30:00+05:00',
            '2023-12-31 23:59:59.5+00',
          ]
        : [
            '2026-02-30 00:00:00',
            '0000-00-00 00:00:00',
            '2020-00-10 00:00:00',
            '2020-05-00 10:00:00',
            '0000-05-05 00:00:00',
            '1000-01-01 00:00:00',
            '9999-12-31 23:59:59',
            '2024-02-29 23:30:00',
            '1970-01-01 00:00:01',
            '2038-01-19 03:14:07',
          ];
      await conn.db.connection().execute(async (db) => {
        if (!pg) await sql`SET SESSION sql_mode = 'ALLOW_INVALID_DATES'`.execute(db);
        // A value a column type refuses (a year past 9999 in a date, 2026-02-30 in a TIMESTAMP) stays NULL there.
        for (const [id, v] of [...values, null].entries())
          for (const [i] of types.entries())
            await sql`INSERT INTO native (id) SELECT ${id * 10 + i} WHERE 1 = 1`
              .execute(db)
              .then(() =>
                sql`UPDATE native SET ${sql.ref(`c${i}`)} = ${v} WHERE id = ${id * 10 + i}`
                  .execute(db)
                  .catch(() => {}),
              );
        if (!pg) await sql`SET SESSION sql_mode = DEFAULT`.execute(db);
      });
      const read = (f: (v: ReturnType<typeof sql.ref>) => ReturnType<typeof sql.ref>) =>
        sql.join(
          types.map((_, i) => sql`${dateText(conn.dialect, f(sql.ref(`c${i}`)))} AS ${sql.id(`d${i}`)}`),
        );
      const asText = (v: ReturnType<typeof sql.ref>) => (pg ? sql`(${v})::text` : sql`CAST(${v} AS CHAR)`);
      const { rows } = await sql<Record<string, unknown>>`
        SELECT id, ${read((v) => nativeDateOf(conn.dialect, v))}, ${sql.join(
          types.map(
            (_, i) =>
              sql`${dateText(conn.dialect, dateOf(conn.dialect, asText(sql.ref(`c${i}`))))} AS ${sql.id(`t${i}`)}`,
          ),
        )}, ${sql.join(types.map((_, i) => sql`${dateText(conn.dialect, dateOf(conn.dialect, sql.ref(`c${i}`)))} AS ${sql.id(`g${i}`)}`))}
        FROM native ORDER BY id`.execute(conn.db);
      expect(rows.length).toBe((values.length + 1) * types.length);
      let valid = 0;
      for (const row of rows)
        for (const [i] of types.entries()) {
          // The native reading and the one that asks the value's type agree; in MySQL, the reading of
          // its text too (PostgreSQL writes offsets as +00, which the text form does not accept).
          expect({ id: row.id, native: row[`d${i}`] }).toEqual({ id: row.id, native: row[`g${i}`] });
          if (!pg) expect({ id: row.id, native: row[`d${i}`] }).toEqual({ id: row.id, native: row[`t${i}`] });
          if (row[`d${i}`] !== null) valid++;
        }
      // Some are valid dates, and invalid ones were stored (not all refused by the column).
      expect(valid).toBeGreaterThan(10);
      const stored = await sql<{
        n: number | string;
      }>`SELECT COUNT(*) AS n FROM native WHERE c0 IS NOT NULL`.execute(conn.db);
      const validInC0 = rows.filter((r) => r.d0 !== null).length;
      expect(Number(stored.rows[0]?.n) - validInC0).toBeGreaterThanOrEqual(3);
    },
  );

  it("on a generated shop, every record's deadline, archive, rule and status agree with the pure evaluation", async () => {
    const { url, drop } = await database.create();
    cleanups.push(drop);
    const out = mkdtempSync(join(tmpdir(), `registre-verdicts-${database.name}-`));
    const at = '2026-11-27';
    const report = await runDemo({ out, customers: 60, seed: 11, at, store: url });
    const project = await openProject(report.config);
    const conn = await open(url, out);
    // Odd values, as a hurried operator or a bad import leaves them: none may make a record due,
    // and the evaluator and the SQL must read each of them the same way.
    await conn.db
      .updateTable('distributors')
      .set({ retention_months: 2147483647 })
      .where('id', '=', 1)
      .execute();
    // A valid amount whose deadline falls past 9999-12-31: no deadline, on every dialect.
    await conn.db
      .updateTable('distributors')
      .set({ retention_months: 100_000 })
      .where('id', '=', 2)
      .execute();
    if (conn.dialect === 'sqlite') {
      await conn.db.updateTable('distributors').set({ retention_months: 1.5 }).where('id', '=', 3).execute();
      await conn.db.updateTable('distributors').set({ retention_months: '12' }).where('id', '=', 4).execute();
      for (const [id, value] of [
        [1, '2459000'],
        [2, 2459000],
        [3, 'jean.dupont@example.fr'],
        [4, '2026-02-30 00:00:00'],
        [5, ' 2020-01-01'],
        [6, '2020-01-01T10:00:00+01:00'],
        [7, '2020-01-01 24:00:00'],
      ] as const)
        await conn.db.updateTable('web_visits').set({ occurred_at: value }).where('id', '=', id).execute();
    }
    if (conn.dialect === 'mysql')
      // Dates a lax sql_mode lets a DATETIME hold: invalid, never due, read alike by both sides.
      await conn.db.connection().execute(async (db) => {
        await sql`SET SESSION sql_mode = 'ALLOW_INVALID_DATES'`.execute(db);
        for (const [id, value] of [
          [1, '2026-02-30 00:00:00'],
          [2, '0000-00-00 00:00:00'],
          [3, '2020-00-10 00:00:00'],
          [4, '2020-05-00 10:00:00'],
        ] as const)
          await db.updateTable('web_visits').set({ occurred_at: value }).where('id', '=', id).execute();
        await sql`SET SESSION sql_mode = DEFAULT`.execute(db);
      });
    if (conn.dialect === 'postgres')
      // What a timestamptz may hold and no calendar date is: invalid, never due, on both sides.
      for (const [id, value] of [
        [1, 'infinity'],
        [2, '-infinity'],
        [3, '10000-01-01 00:00:00+00'],
        [4, '0001-06-01 00:00:00+00 BC'],
      ] as const)
        await sql`UPDATE web_visits SET occurred_at = ${value}::timestamptz WHERE id = ${id}`.execute(
          conn.db,
        );
    const ctx = await retentionContext(conn, project.register, project.datamap);
    expect(ctx.dateColumns?.has(columnKey('web_visits', 'occurred_at'))).toBe(conn.dialect !== 'sqlite');
    let compared = 0;
    const statuses = new Set<string>();
    for (const { sql: got, pure } of await compareVerdicts(conn, ctx, at)) {
      expect(got).toEqual(pure);
      statuses.add(got.status);
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
    expect([...statuses].sort()).toEqual(['active', 'archive', 'due', 'held', 'invalid']);

    // Values through a relation are joined only on the related table's key (one row at most, as
    // the subquery they replace); on another column a join could repeat a row: subqueries then.
    const orders = project.datamap.stores[0]?.tables.find((t) => t.name === 'distributor_orders') as TableMap;
    const paths = ['distributor.retention_months', 'distributor.contract_ended_at'];
    expect(relatedJoins(ctx, 'distributor_orders', 't', paths)?.values).toHaveLength(2);
    const byName: RetentionSqlContext = {
      ...ctx,
      datamap: {
        ...ctx.datamap,
        stores: ctx.datamap.stores.map((st) => ({
          ...st,
          tables: st.tables.map((t) =>
            t === orders
              ? {
                  ...t,
                  relations: { ...t.relations, distributor: { local: 'distributor_id', remote: 'name' } },
                }
              : t,
          ),
        })),
      },
    };
    expect(relatedJoins(byName, 'distributor_orders', 't', paths)).toBeNull();

    // Plan's status without deadlines, where a table has it: the same rule and status for every record.
    const tables: string[] = [];
    for (const table of project.datamap.stores[0]?.tables ?? []) {
      for (const day of [at, ...SWEEP_DATES]) {
        const both = await statusesBoth(conn, ctx, table, day);
        if (!both) continue;
        expect({ table: table.name, day, fast: both.fast }).toEqual({
          table: table.name,
          day,
          fast: both.full,
        });
        if (day === at) tables.push(table.name);
      }
    }
    // One rule, or rules that exclude each other (a boolean, statuses, both), an archive phase;
    // not distributor_orders (a duration read from the data) nor supplier_disputes (follows).
    expect(tables).toEqual(
      expect.arrayContaining([
        'web_visits',
        'customers',
        'invoices',
        'payments',
        'ambassadors',
        'candidates',
      ]),
    );
    expect(tables).not.toContain('distributor_orders');

    // A sweep examines only candidates: on every table and date, exactly the records it acts on.
    for (const table of project.datamap.stores[0]?.tables ?? []) {
      if (!project.register.retention.some((r) => r.record === table.record)) continue;
      for (const day of SWEEP_DATES) {
        const { all, filtered } = await actedOn(conn, ctx, table, day);
        expect({ table: table.name, day, filtered }).toEqual({ table: table.name, day, filtered: all });
      }
    }
  });
});
