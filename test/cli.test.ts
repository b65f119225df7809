import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AT, shop } from './shop-helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'registre.js');

function registre(args: string[], cwd = ROOT) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const temp = () => mkdtempSync(join(tmpdir(), 'registre-cli-'));

describe('registre --help', () => {
  it('lists the commands', () => {
    const { code, stdout } = registre(['--help']);
    expect(code).toBe(0);
    for (const command of ['validate', 'docs', 'import-notice', 'schema']) expect(stdout).toContain(command);
  });

  it('an unknown command is a usage error (exit 2)', () => {
    const { code, stderr } = registre(['sweeep']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'sweeep'");
  });

  it("--version prints package.json's version, read beside the built command", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(registre(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    // A copy of the package whose package.json says another version prints that one.
    const dir = temp();
    try {
      for (const folder of ['bin', 'dist'])
        cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const copy = { name: 'registre', version: '9.8.7', type: 'module' };
      writeFileSync(join(dir, 'package.json'), JSON.stringify(copy));
      const run = spawnSync(process.execPath, [join(dir, 'bin', 'registre.js'), '--version'], {
        encoding: 'utf8',
      });
      expect(run.stdout).toBe('9.8.7\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registre schema', () => {
  it.each(['register', 'datamap', 'config'])(
    'the published JSON Schema of %s files is the one the code generates',
    (kind) => {
      const { stdout } = registre(['schema', '--kind', kind]);
      expect(JSON.parse(stdout)).toEqual(
        JSON.parse(readFileSync(join(ROOT, `schema/${kind}.schema.json`), 'utf8')),
      );
      expect(JSON.parse(stdout).title).toBe(`registre ${kind} file`);
    },
  );
});

describe('registre demo and registre check', () => {
  it('a generated shop passes its check; an undeclared column makes it fail, named', () => {
    const dir = temp();
    const demo = registre(
      ['demo', '--out', 'shop', '--customers', '300', '--seed', '5', '--at', '2026-11-27'],
      dir,
    );
    expect(demo.code).toBe(0);
    expect(demo.stderr).toMatch(
      /^\d+ rows and \d+ files written in [\d.]+ s \(\d+ rows\/s\) to sqlite:shop\.sqlite$/m,
    );
    expect(readFileSync(join(dir, 'shop', 'registre.yaml'), 'utf8')).toContain('url: "sqlite:shop.sqlite"');
    const ok = registre(['check', '--config', 'shop/registre.yaml'], dir);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('check: 0 errors, 0 warnings — the data map matches the databases');
    const add = spawnSync(
      process.execPath,
      [
        '-e',
        "new (require('better-sqlite3'))('shop/shop.sqlite').exec('ALTER TABLE prospects ADD COLUMN linkedin text')",
      ],
      {
        cwd: dir,
        env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      },
    );
    expect(add.status).toBe(0);
    const bad = registre(['check', '--config', 'shop/registre.yaml', '--json'], dir);
    expect(bad.code).toBe(1);
    const json = JSON.parse(bad.stdout);
    expect(json.issues.map((i: { code: string; message: string }) => [i.code, i.message])).toEqual([
      [
        'E_UNDECLARED_COLUMN',
        'column "shop.prospects.linkedin" exists in the database but not in the data map: say which data category it holds, or "none"',
      ],
    ]);
  });

  it('refuses to overwrite a shop without --replace, and bad options are usage errors', () => {
    const dir = temp();
    expect(registre(['demo', '--out', '.', '--customers', '0'], dir).code).toBe(0);
    const again = registre(['demo', '--out', '.', '--customers', '0'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('pass --replace');
    expect(registre(['demo', '--out', '.', '--customers', '0', '--replace'], dir).code).toBe(0);
    expect(registre(['demo', '--out', '.', '--customers', 'many'], dir)).toMatchObject({ code: 2 });
    expect(registre(['demo', '--out', '.', '--at', '2026-13-01'], dir).stderr).toContain(
      '--at must be a date written YYYY-MM-DD',
    );
    expect(registre(['demo', '--out', '.', '--store', 'oracle://x'], dir).stderr).toContain(
      'unknown database type "oracle:"',
    );
  });

  it('check without a data map for a custom register says what to add', () => {
    const dir = temp();
    spawnSync('cp', ['-r', join(ROOT, 'registers/negomarkets'), join(dir, 'reg')]);
    writeFileSync(join(dir, 'registre.yaml'), 'register: reg\n');
    const { code, stderr } = registre(['check'], dir);
    expect(code).toBe(1);
    expect(stderr).toContain('name the data map ("datamap: …")');
  });
});

describe('2, 3. dates are parsed strictly; a sweep never runs ahead of today', () => {
  it('every date option refuses what is not YYYY-MM-DD, with exit 2 and the expected form', async () => {
    const { config } = await shop(20, 5);
    for (const args of [
      ['hold', 'add', '--table', 'web_visits', '--id', '1', '--reason', 'x', '--until', '12/31/2027'],
      ['plan', '--at', '12'],
      ['plan', '--at', '2026'],
      ['plan', '--at', '2026-02-30 00:00'],
      ['sweep', '--dry-run', '--at', '+010000-01-01'],
      ['explain', '--table', 'web_visits', '--id', '1', '--at', '27/11/2026'],
      ['forecast', '--from', '2026-11'],
    ]) {
      const { code, stderr } = registre([...args, '--config', config]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toContain('must be a date written YYYY-MM-DD');
    }
    const release = registre(['hold', 'release', 'abc', '--config', config]);
    expect(release.code).toBe(2);
    expect(release.stderr).not.toContain('NaN');
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
});
