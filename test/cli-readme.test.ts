/**
 * The README's quick tour, run command after command as it is written (with `npx registre`
 * being this checkout's command), in an empty folder, as a newcomer would.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildProgram, EXAMPLES, leafCommands } from '../src/cli/main.js';
import { ROOT, registre } from './shop-helpers.js';

const BIN = join(ROOT, 'bin', 'registre.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The shell blocks of a README section, as lists of commands (comments and blank lines left out). */
function blocks(section: string): string[][] {
  const start = README.indexOf(`## ${section}`);
  const end = README.indexOf('\n## ', start + 3);
  const text = README.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    (m[1] ?? '')
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

/** A command line's words, with "…" kept together, as the shell splits it. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

function run(line: string, cwd: string) {
  const [program, ...args] = words(line);
  const argv = program === 'npx' && args[0] === 'registre' ? [BIN, ...args.slice(1)] : null;
  expect(argv, `${line}: only "npx registre …" lines are run here`).not.toBeNull();
  const result = spawnSync(process.execPath, argv as string[], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the README quick tour', () => {
  const [tour, postgres] = blocks('Try it on the reference shop');

  it('runs as written: every command exits 0', () => {
    expect(tour?.length).toBeGreaterThanOrEqual(8);
    const dir = mkdtempSync(join(tmpdir(), 'registre-readme-'));
    const outputs: string[] = [];
    for (const line of tour ?? []) {
      const { code, stdout, stderr } = run(line, dir);
      expect(code, `${line}\n${stderr}`).toBe(0);
      outputs.push(stdout);
    }
    // What the tour says happens: the held order is listed, the log verifies.
    expect(outputs.join('\n')).toContain('shop.orders 12');
  });

  it.runIf(process.env.REGISTRE_TEST_POSTGRES_URL)(
    'the PostgreSQL part runs as written, in a database of its own',
    async () => {
      const base = process.env.REGISTRE_TEST_POSTGRES_URL as string;
      expect(postgres?.[0]).toMatch(/^createdb registre_demo$/);
      const name = `registre_demo_${process.pid}_${Date.now() % 100000}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        const url = new URL(base);
        url.pathname = `/${name}`;
        const dir = mkdtempSync(join(tmpdir(), 'registre-readme-pg-'));
        for (const line of postgres?.slice(1) ?? []) {
          const { code, stderr } = run(
            line.replace('postgres://localhost/registre_demo', url.toString()),
            dir,
          );
          expect(code, `${line}\n${stderr}`).toBe(0);
        }
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    },
  );
});

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
