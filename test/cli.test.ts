import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'registre.js');
const SEED = join(ROOT, 'test', 'fixtures', 'negomarkets-notice.txt');

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

describe('registre validate', () => {
  it('the bundled register is valid, and is the default outside a configured folder', () => {
    // Valid; its warnings are the placeholders and the categories NOTES.md leaves to the DPO.
    const bundled = registre(['validate', 'registers/negomarkets']);
    expect(bundled.code).toBe(0);
    const codes = new Set(
      bundled.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[1]),
    );
    expect([...codes].sort()).toEqual(['W_CATEGORY_NOT_HELD', 'W_PLACEHOLDER']);
    const { code, stderr } = registre(['validate'], temp());
    expect(code).toBe(0);
    expect(stderr).toMatch(/0 errors, \d+ warnings — valid/);
  });

  it('reports an error with file, line, column and code, and exits 1', () => {
    const dir = temp();
    const text = readFileSync(join(ROOT, 'registers/negomarkets/newsletter.yaml'), 'utf8').replace(
      'legalBasis: consent',
      'legalBasis: consentment',
    );
    const folder = join(dir, 'reg');
    spawnSync('cp', ['-r', join(ROOT, 'registers/negomarkets'), folder]);
    writeFileSync(join(folder, 'newsletter.yaml'), text);
    const { code, stdout } = registre(['validate', 'reg'], dir);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^reg\/newsletter\.yaml:\d+:21 E_UNKNOWN_LEGAL_BASIS purpose "newsletter-sending" has legal basis "consentment"; expected one of consent, /m,
    );
  });

  it('warnings pass, unless --strict; --json prints them for machines', () => {
    const dir = temp();
    expect(registre(['import-notice', SEED, '--out', 'draft.yaml'], dir).code).toBe(0);
    expect(registre(['validate', 'draft.yaml'], dir).code).toBe(0);
    expect(registre(['validate', 'draft.yaml', '--strict'], dir).code).toBe(1);
    const json = JSON.parse(registre(['validate', 'draft.yaml', '--json'], dir).stdout);
    expect(json).toMatchObject({ valid: true, errors: 0 });
    expect(json.issues[0]).toMatchObject({ severity: 'warning', file: 'draft.yaml' });
    expect(json.issues[0].line).toBeGreaterThan(0);
  });

  it('a path that does not exist is one clear line, no stack', () => {
    const { code, stderr } = registre(['validate', 'nowhere']);
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^registre: no register at .*nowhere: no such file or folder$/);
  });

  it('the configuration file names the register', () => {
    const dir = temp();
    writeFileSync(join(dir, 'registre.yaml'), 'register: mine.yaml\n');
    writeFileSync(join(dir, 'mine.yaml'), 'organisation: { name: X }\nactivities: nope\n');
    const { code, stdout } = registre(['validate'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('mine.yaml:2:13 E_TYPE');
  });
});

describe('registre docs', () => {
  it('writes the notice, the art. 30 records and the DPV export', async () => {
    const dir = temp();
    const { code, stderr } = registre(['docs', '--out', dir]);
    expect(stderr).toContain('15 documents written');
    expect(code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'art30-controller.en.csv',
      'art30-controller.en.html',
      'art30-controller.fr.csv',
      'art30-controller.fr.html',
      'art30-processor.en.csv',
      'art30-processor.en.html',
      'art30-processor.fr.csv',
      'art30-processor.fr.html',
      'art30.en.xlsx',
      'art30.fr.xlsx',
      'privacy-notice.en.html',
      'privacy-notice.en.md',
      'privacy-notice.fr.html',
      'privacy-notice.fr.md',
      'register.dpv.jsonld',
    ]);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(join(dir, 'art30.fr.xlsx'));
    const names = workbook.worksheets.map((w) => w.name);
    expect(names[0]).toBe('RT Fiche commune');
    expect(names).toContain('T-04 Inscription à la newslette');
    expect(names).toContain('ST Fiche commune');
    expect(workbook.getWorksheet('RT Fiche commune')?.getCell('A1').value).toBe(
      'Registre des activités de traitement de NEGOMARKETS (article 30.1 du RGPD)',
    );
  });

  it('one document kind and one language at a time', () => {
    const dir = temp();
    expect(registre(['docs', '--out', dir, '--only', 'notice', '--lang', 'en']).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['privacy-notice.en.html', 'privacy-notice.en.md']);
    expect(registre(['docs', '--out', dir, '--only', 'pdf']).code).toBe(2);
  });

  it('an invalid register writes nothing', () => {
    const dir = temp();
    writeFileSync(
      join(dir, 'bad.yaml'),
      'organisation: { name: X }\nretention: [{ id: r, record: nope, purposes: [p], anchor: a }]\n',
    );
    const { code, stdout, stderr } = registre(['docs', 'bad.yaml', '--out', 'out'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('E_UNKNOWN_PURPOSE');
    expect(stderr).toContain('no document written');
    expect(readdirSync(dir)).toEqual(['bad.yaml']);
  });
});

describe('registre import-notice', () => {
  it('prints a draft register on standard output', () => {
    const { code, stdout } = registre(['import-notice', SEED]);
    expect(code).toBe(0);
    const draft = parse(stdout);
    expect(draft.activities).toHaveLength(6);
    expect(draft.retention.length).toBeGreaterThan(5);
  });

  it('a missing file is a clear error', () => {
    const { code, stderr } = registre(['import-notice', 'missing.txt']);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('registre: cannot read missing.txt: ENOENT');
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
