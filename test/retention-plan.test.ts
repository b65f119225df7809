/**
 * registre plan: counts per rule and table, plan --list a page at a time, invalid values counted
 * and never printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { DIALECTS } from './dialects.js';
import { AT, cli, registre, shop, shopIn, snapshot, withShop } from './shop-helpers.js';
import { runCheck, runPlan, runSweep } from './use-cases.js';

const temp = () => mkdtempSync(join(tmpdir(), 'registre-test-'));

describe('registre plan', () => {
  it('counts per rule and table, in the JSON shape, and the counts add up to the rows', () => {
    const dir = temp();
    expect(
      registre(['demo', '--out', '.', '--customers', '200', '--seed', '2', '--at', '2026-11-27'], dir).code,
    ).toBe(0);
    const { code, stdout } = registre(['plan', '--at', '2026-11-27', '--json'], dir);
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.at).toBe('2026-11-27');
    expect(plan.rules[0]).toEqual({
      rule: 'web-visits',
      table: 'web_visits',
      active: expect.any(Number),
      archive: 0,
      due: expect.any(Number),
      held: 0,
      restricted: 0,
      anonymised: 0,
      invalid: 0,
    });
    const visits = plan.rules[0].active + plan.rules[0].due;
    expect(visits).toBe(2000);
    const sum = (k: string) =>
      plan.rules.reduce((n: number, l: Record<string, number>) => n + (l[k] ?? 0), 0);
    expect(plan.totals).toEqual({
      active: sum('active'),
      archive: sum('archive'),
      due: sum('due'),
      held: sum('held'),
      restricted: sum('restricted'),
      anonymised: sum('anonymised'),
      invalid: sum('invalid'),
    });
    expect(plan.totals.held).toBeGreaterThanOrEqual(0);
    const text = registre(['plan', '--at', '2026-11-27'], dir).stdout;
    expect(text).toMatch(
      /^plan on 2026-11-27\nrule +table +active +archive +due +held +restricted +anonymised +invalid\nweb-visits +web_visits +\d+ +0 +\d+ +0 +0 +0 +0\n/,
    );
  });

  it('a bad date is a usage error; a register with errors is listed, not a stack', () => {
    const dir = temp();
    expect(registre(['plan', '--at', '27/11/2026'], dir)).toMatchObject({ code: 2 });
    writeFileSync(join(dir, 'registre.yaml'), 'register: bad.yaml\n');
    writeFileSync(join(dir, 'bad.yaml'), 'organisation: { name: X }\nactivities: nope\n');
    const { code, stdout, stderr } = registre(['plan'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('bad.yaml:2:13 E_TYPE');
    expect(stderr).toContain('has errors');
  });
});

describe('a demo shop', () => {
  let config: string;
  beforeAll(async () => {
    ({ config } = await shop(150, 3));
  });

  it('8. plan --list shows the keys of what would go, a page at a time, matching the count', () => {
    const plan = JSON.parse(registre(['--config', config, 'plan', '--at', AT, '--json']).stdout);
    const due = plan.rules.find((l: { rule: string }) => l.rule === 'web-visits').due as number;
    expect(due).toBeGreaterThan(10);
    const keys: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const args = [
        '--config',
        config,
        'plan',
        '--at',
        AT,
        '--list',
        'web-visits',
        '--limit',
        '500',
        '--json',
      ];
      const list = JSON.parse(registre([...args, ...(after ? ['--after', after] : [])]).stdout);
      expect(list.records.length).toBeLessThanOrEqual(500);
      for (const r of list.records) {
        expect(r.status).toBe('due');
        expect(r.deadline <= AT).toBe(true);
        keys.push(r.key);
      }
      after = list.next;
      if (!after) break;
    }
    expect(new Set(keys).size).toBe(due);
    const text = registre([
      '--config',
      config,
      'plan',
      '--at',
      AT,
      '--list',
      'web-visits',
      '--limit',
      '2',
    ]).stdout;
    expect(text).toMatch(/^web_visits records of rule web-visits that are due for deletion on 2026-11-27/);
    // The next page keeps every option given (issue 18 item 27).
    expect(text).toContain(
      `more: registre plan --config ${config} --list web-visits --at 2026-11-27 --limit 2 --after ${keys[1]}`,
    );
    const bad = registre(['--config', config, 'plan', '--list', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('there is no retention rule "nope"; the rules are');
    expect(registre(['--config', config, 'plan', '--list', 'web-visits', '--status', 'gone']).code).toBe(2);
  });
});

describe.each(DIALECTS)('19. a text date column holding an address, on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('plan counts the record as invalid and prints no value; check names the column and the key', async () => {
    const { config } = await shopIn(database, 10, 27, drops);
    await withShop(config, async (conn) => {
      if (conn.dialect === 'postgres')
        await sql`ALTER TABLE web_visits ALTER COLUMN occurred_at TYPE text USING to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')`.execute(
          conn.db,
        );
      if (conn.dialect === 'mysql')
        await sql`ALTER TABLE web_visits MODIFY occurred_at varchar(64)`.execute(conn.db);
      await conn.db
        .updateTable('web_visits')
        .set({ occurred_at: 'jean.dupont@example.fr' })
        .where('id', '=', 3)
        .execute();
    });
    const plan = await runPlan(config, AT);
    expect(plan.rules.find((l) => l.rule === 'web-visits')?.invalid).toBe(1);
    const check = await runCheck(config);
    const bad = check.issues.filter((i) => i.code === 'E_DATE_UNPARSEABLE');
    expect(bad).toHaveLength(1);
    expect(bad[0]?.message).toContain('web_visits.occurred_at" holds 1 value');
    expect(bad[0]?.message).toContain('id = 3');
    expect(JSON.stringify(check)).not.toContain('jean.dupont');
    const before = await snapshot(config);
    await runSweep(config, { at: AT, today: AT });
    expect((await snapshot(config)).get('web_visits:3')).toBe(before.get('web_visits:3'));
  }, 180_000);
});

describe('18.27 plan --list, a page at a time', () => {
  it('18.27 the next-page command keeps --config, --at, --status and --limit, and gives the next page; the header reads right for each status', async () => {
    const { config } = await shop(30, 3);
    const first = await cli(['--config', config, 'plan', '--at', AT, '--list', 'web-visits', '--limit', '2']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^web_visits records of rule web-visits that are due for deletion on 2026-11-27/,
    );
    const keys = first.stdout
      .split('\n')
      .slice(2, 4)
      .map((l) => l.split('\t')[0]);
    const more = /^more: registre (.*)$/m.exec(first.stdout)?.[1] as string;
    expect(more).toBe(`plan --config ${config} --list web-visits --at ${AT} --limit 2 --after ${keys[1]}`);
    // The command printed is the next page: two more records, after the last one shown.
    const second = await cli(more.split(' '));
    expect(second.code, second.stderr).toBe(0);
    const next = second.stdout
      .split('\n')
      .slice(2, 4)
      .map((l) => l.split('\t')[0]);
    expect(next).toHaveLength(2);
    expect(Number(next[0])).toBeGreaterThan(Number(keys[1]));
    const statuses = await cli([
      '--config',
      config,
      'plan',
      '--at',
      AT,
      '--list',
      'web-visits',
      '--status',
      'due,archive,held',
      '--limit',
      '1',
    ]);
    expect(statuses.stdout).toMatch(
      /^web_visits records of rule web-visits that are due for deletion or in their archive phase or held on 2026-11-27/,
    );
    expect(statuses.stdout).not.toContain('that are archive');
    expect(statuses.stdout).toMatch(
      new RegExp(
        `^more: registre plan --config ${config} --list web-visits --at ${AT} --status due,archive,held --limit 1 --after \\S+$`,
        'm',
      ),
    );
  });
});
