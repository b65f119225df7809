/**
 * What a newcomer and a DPO trip over (issue 10): each item of the issue, as a real process run
 * of the built command, with its exit code and its message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, EXAMPLES, leafCommands } from '../src/cli/main.js';
import { AT, ROOT, shop } from './shop-helpers.js';

const BIN = join(ROOT, 'bin', 'registre.js');

function registre(args: string[], cwd = ROOT) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const temp = () => mkdtempSync(join(tmpdir(), 'registre-newcomer-'));

describe('1. every command is documented, with an example', () => {
  const program = buildProgram({ out: () => {}, err: () => {} }, () => {});
  const commands = leafCommands(program);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(
    readme.indexOf('## The CLI'),
    readme.indexOf('\n## ', readme.indexOf('## The CLI') + 5),
  );

  it('the README lists every command of the program, each with its example', () => {
    expect(commands.length).toBeGreaterThanOrEqual(19);
    for (const { path } of commands) {
      expect(table, `README row of "registre ${path}"`).toContain(`\`registre ${path}`);
      const example = EXAMPLES[path];
      expect(example, `example of "registre ${path}"`).toBeDefined();
      expect(table, `README example of "registre ${path}"`).toContain(example as string);
    }
    expect(Object.keys(EXAMPLES).sort()).toEqual(commands.map((c) => c.path).sort());
  });

  it("a subcommand's help shows --config, marks required options and gives the example", () => {
    const { code, stdout } = registre(['hold', 'add', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--config <file>');
    expect(stdout).toMatch(/--reason <text> +why .*\(required\)/);
    expect(stdout).not.toMatch(/--until <date>.*\(required\)/);
    expect(stdout).toContain(`Example:\n  ${EXAMPLES['hold add']}`);
  });

  it('every example parses: its command and options exist', () => {
    for (const [path, example] of Object.entries(EXAMPLES)) {
      const parsed = buildProgram({ out: () => {}, err: () => {} }, () => {});
      // Parse only: replace every action by a no-op.
      for (const { command } of leafCommands(parsed)) command.action(() => {});
      const args = [...example.matchAll(/"[^"]*"|\S+/g)].map((m) => m[0].replace(/^"|"$/g, '')).slice(1);
      expect(() => parsed.parse(args, { from: 'user' }), `${path}: ${example}`).not.toThrow();
    }
  });

  it('the program is a commander Command (the README check reads the real one)', () => {
    expect(program).toBeInstanceOf(Command);
  });
});

describe('9. docs says what it prints in the other language', () => {
  it('a text without English: docs names it, with its file and line, and still writes the documents', () => {
    const dir = temp();
    spawnSync('cp', ['-r', join(ROOT, 'registers/negomarkets'), join(dir, 'reg')]);
    const file = join(dir, 'reg', 'newsletter.yaml');
    const text = readFileSync(file, 'utf8');
    const edited = text.replace(/\n {10}en: "Send the newsletter to the subscribers who asked for it"/, '');
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    const { code, stderr } = registre(['docs', 'reg', '--out', 'out'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(
      /^reg\/newsletter\.yaml:\d+:\d+ warning: activities\.0\.purposes\.0\.recordName has no English text; the en documents print it in French$/m,
    );
    expect(stderr).not.toMatch(/has no French text/);
    expect(readFileSync(join(dir, 'out', 'art30-controller.en.csv'), 'utf8').charCodeAt(0)).toBe(0xfeff);
  });
});

describe('a demo shop', () => {
  let config: string;
  let out: string;
  beforeAll(async () => {
    ({ config, out } = await shop(150, 3));
  });

  it("5. a store without the data map's tables: says so and points at check (exit 1)", () => {
    const dir = temp();
    writeFileSync(join(dir, 'empty.sqlite'), '');
    writeFileSync(
      join(dir, 'registre.yaml'),
      'register: bundled:negomarkets\ndatamap: bundled:negomarkets\nstores:\n  shop:\n    url: sqlite:empty.sqlite\n',
    );
    for (const args of [['plan'], ['explain', '--table', 'customers', '--id', '1'], ['sweep', '--dry-run']]) {
      const { code, stderr } = registre(args, dir);
      expect(code, args.join(' ')).toBe(1);
      expect(stderr).toMatch(
        /store "shop" \(sqlite:empty\.sqlite\) does not match the data map: it has no table web_visits, .* and \d+ more; run registre check/,
      );
      expect(stderr).not.toContain('unexpected error');
    }
  });

  it('4. the demo writes a configuration a sweep can use: a key file of its own (0600), named by hmacKey', () => {
    const dir = temp();
    expect(registre(['demo', '--out', 'shop', '--customers', '5'], dir).code).toBe(0);
    const text = readFileSync(join(dir, 'shop', 'registre.yaml'), 'utf8');
    expect(text).toMatch(/^hmacKey: file:\.registre\/hmac\.key$/m);
    expect((statSync(join(dir, 'shop', '.registre', 'hmac.key')).mode & 0o777).toString(8)).toBe('600');
    const sweep = registre(['sweep', '--config', 'shop/registre.yaml'], dir);
    expect(sweep.code, sweep.stderr).toBe(0);
  });

  it('6. usage errors exit 2 with the expected form, everywhere', () => {
    for (const [args, message] of [
      [
        ['hold', 'add', '--table', 'customers', '--id', '1', '--reason', 'x', '--until', '31/01/2027'],
        '--until must be a date written YYYY-MM-DD, a real calendar day with a four-digit year (got "31/01/2027")',
      ],
      [['plan', '--at', '27/11/2026'], '--at must be a date written YYYY-MM-DD'],
      [['hold', 'release', 'abc'], 'a hold is named by its number, as hold list shows it (got "abc")'],
      [['sweep', '--at', '2030-01-01'], 'a later date is allowed only with --dry-run'],
      [['sweep', '--batch-size', '0'], '--batch-size must be a whole number from 1 to 1,000,000'],
      [['sweep', '--batch-size', '1000001'], '--batch-size must be a whole number from 1 to 1,000,000'],
      [['sweep', '--batch-size', '2e4'], '--batch-size must be a whole number from 1 to 1,000,000'],
      [['plan', '--list', 'web-visits', '--limit', 'ten'], '--limit must be a whole number'],
      [['hold', 'add', '--table', 'customers', '--reason', 'x'], 'give either --table and --id, or --email'],
    ] as const) {
      const { code, stderr } = registre(['--config', config, ...args]);
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(2);
      expect(stderr).toContain(message);
      expect(stderr).not.toContain('unexpected error');
    }
  });

  it('8. a dry run, plan, explain, status and hold list create no state or archive store', () => {
    const registreDir = join(out, '.registre');
    const before = readdirSync(registreDir).sort();
    expect(before.some((f) => f.endsWith('.sqlite'))).toBe(false);
    for (const args of [
      ['sweep', '--dry-run', '--at', AT],
      ['plan', '--at', AT],
      ['explain', '--table', 'customers', '--id', '1', '--at', AT],
      ['status'],
      ['hold', 'list'],
      ['plan', '--list', 'web-visits', '--at', AT],
    ]) {
      const { code, stderr } = registre(['--config', config, ...args]);
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(0);
    }
    const nobody = registre(['--config', config, 'explain', '--email', 'nobody@example.org', '--at', AT]);
    expect(nobody.stderr).toContain('no record of this person');
    expect(readdirSync(registreDir).sort()).toEqual(before);
    expect(existsSync(join(out, 'returns'))).toBe(false);
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

  it('7. a hold by e-mail is one hold: listed with its records, released as one', () => {
    const db = new Database(join(out, 'shop.sqlite'), { readonly: true });
    const { email } = db
      .prepare(
        'SELECT c.email FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING count(*) >= 2 ORDER BY c.id LIMIT 1',
      )
      .get() as { email: string };
    db.close();
    const heldCount = () =>
      JSON.parse(registre(['--config', config, 'explain', '--email', email, '--json']).stdout).records.filter(
        (r: { status: string }) => r.status === 'held',
      ).length as number;
    const before = heldCount();
    const add = registre([
      '--config',
      config,
      'hold',
      'add',
      '--email',
      email.toUpperCase(),
      '--reason',
      'case 2026-9',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const [, id, count] = /^hold (\d+): (\d+) records held\n/.exec(add.stdout) ?? [];
    expect(Number(count)).toBeGreaterThanOrEqual(3);
    expect(add.stdout).toMatch(/^ {2}shop\.customers \d+$/m);
    expect(add.stdout).toMatch(/^ {2}shop\.orders \d+, \d+/m);
    const list = JSON.parse(registre(['--config', config, 'hold', 'list', '--json']).stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: Number(id), reason: 'case 2026-9', releasedAt: null });
    expect(list[0].records).toHaveLength(Number(count));
    expect(registre(['--config', config, 'hold', 'list']).stdout).toMatch(
      new RegExp(`^hold ${id}: case 2026-9, ${count} records\n {2}shop\\.customers`),
    );
    expect(registre(['--config', config, 'status']).stdout).toContain('1 hold(s) in force');
    expect(heldCount()).toBe(Number(count));
    const member = list[0].records[1].hold as number;
    const wrong = registre(['--config', config, 'hold', 'release', String(member)]);
    expect(wrong.code).toBe(1);
    // A row's id is no hold's number (issue 18 item 26): said so, naming no other hold.
    expect(wrong.stderr).toContain(`no hold ${member}: registre hold list --all shows every hold`);
    const release = registre(['--config', config, 'hold', 'release', id as string]);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stdout).toMatch(new RegExp(`^hold ${id} released: ${count} records\n`));
    expect(registre(['--config', config, 'hold', 'list']).stdout).toBe('no hold\n');
    expect(heldCount()).toBe(before);
    expect(registre(['--config', config, 'audit', 'verify']).code).toBe(0);
  });
});

describe('a hold on a record a sweep deleted meanwhile', () => {
  it('is named as gone, not reported as held; an archived record still counts as there', async () => {
    const { config, out } = await shop(30, 5);
    const { openArchive } = await import('./use-cases.js');
    const { vanished } = await import('../src/app/holds.js');
    const { openProject } = await import('../src/app/project.js');
    const db = new Database(join(out, 'shop.sqlite'));
    const [first, second] = db.prepare('SELECT id FROM web_visits ORDER BY id LIMIT 2').all() as {
      id: number;
    }[];
    db.prepare('DELETE FROM web_visits WHERE id = ?').run(first?.id);
    db.close();
    const project = await openProject(config);
    const { createEngine } = await import('../src/app/engine.js');
    const engine = createEngine({ config });
    const archive = (await engine.archive()) as Awaited<ReturnType<typeof openArchive>>;
    try {
      const gone = await vanished(engine, project, archive, [
        { store: 'shop', table: 'web_visits', id: String(first?.id), archived: false },
        { store: 'shop', table: 'web_visits', id: String(second?.id), archived: false },
        { store: 'shop', table: 'customers', id: '999999', archived: true },
      ]);
      expect(gone).toEqual([`shop.web_visits ${first?.id}`]);
    } finally {
      await engine.close();
    }
  });
});
