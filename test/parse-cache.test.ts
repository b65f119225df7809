/**
 * The parse cache (src/adapters/files/parse-cache.ts): a cached parse says exactly what a fresh
 * one says (the content, every issue, every position `locate` gives), a changed file is never
 * answered from an old entry, a damaged or unwritable cache is done without, a command that only
 * reads starts without the YAML parser and the schemas, and a sweep never reads the cache.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_DATAMAP, BUNDLED_REGISTER } from '../src/adapters/files/bundled.js';
import { loadDataMap, loadRegister } from '../src/adapters/files/config-files.js';
import { loadDataMapCached, loadRegisterCached } from '../src/adapters/files/parse-cache.js';
import { byFileName } from '../src/adapters/files/register-files.js';
import { datamapFromSnapshot, datamapSnapshot } from '../src/core/datamap/datamap-snapshot.js';
import type { Register } from '../src/core/register/register-load.js';
import { registerFromSnapshot, registerSnapshot } from '../src/core/register/register-snapshot.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'registre.js');
const temp = () => mkdtempSync(join(tmpdir(), 'registre-cache-'));

/** Through JSON, as the cache keeps it. */
const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every place `locate` can be asked about: each located item, alone and with subpaths that exist or not. */
function placesOf(register: Register) {
  const items: object[] = [
    register.organisation,
    ...register.dataCategories,
    ...register.records,
    ...register.activities,
    ...register.activities.flatMap((a) => a.purposes),
    ...register.retention,
    ...register.holds,
  ];
  const subpaths: (string | number)[][] = [
    [],
    ['id'],
    ['keep'],
    ['anchor'],
    ['purposes', 0, 'legalBasis'],
    ['nope', 3],
  ];
  return items.flatMap((item) => subpaths.map((sub) => register.locate(item, ...sub)));
}

/** A copy of the bundled register with one error and one more warning in it. */
function brokenRegister(dir: string): string {
  const folder = join(dir, 'reg');
  cpSync(BUNDLED_REGISTER, folder, { recursive: true });
  const file = join(folder, 'newsletter.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8')
      .replace('legalBasis: consent', 'legalBasis: consentment')
      .replace(/keep: [^\n]+/, 'keep: 13 moons'),
  );
  return folder;
}

describe('a snapshot says what the parse said', () => {
  it('the bundled register: the same content, issues and positions', () => {
    const fresh = loadRegister(BUNDLED_REGISTER);
    const restored = registerFromSnapshot(viaJson(registerSnapshot(fresh)));
    const a = fresh.register as Register;
    const b = restored.register as Register;
    expect(b).not.toBeNull();
    // Strictly: not a key more or less (an undefined one included), not a value of another type.
    const { locate: _a, ...content } = a;
    const { locate: _b, ...again } = b;
    expect(again).toStrictEqual(content);
    expect(restored.issues).toEqual(fresh.issues);
    expect(fresh.issues.length).toBeGreaterThan(0);
    const places = placesOf(a);
    expect(placesOf(b)).toEqual(places);
    // Positions, not just paths: every place has a line, and they are not all the same.
    expect(places.every((p) => typeof p.line === 'number')).toBe(true);
    expect(new Set(places.map((p) => `${p.file}:${p.line}`)).size).toBeGreaterThan(50);
  });

  it('a register with errors: the same issues, at the same lines and columns', () => {
    const fresh = loadRegister(brokenRegister(temp()), '/');
    expect(fresh.issues.some((i) => i.severity === 'error')).toBe(true);
    const restored = registerFromSnapshot(viaJson(registerSnapshot(fresh)));
    expect(restored.issues).toEqual(fresh.issues);
  });

  it('the bundled data map: the same stores, issues and positions', () => {
    const register = loadRegister(BUNDLED_REGISTER).register as Register;
    const fresh = loadDataMap(BUNDLED_DATAMAP, register);
    const restored = datamapFromSnapshot(viaJson(datamapSnapshot(fresh)));
    expect(restored.datamap?.stores).toStrictEqual(fresh.datamap?.stores);
    expect(restored.issues).toEqual(fresh.issues);
    const where = (d: typeof fresh.datamap) =>
      (d?.stores ?? []).flatMap((s) => [
        d?.locate(s, 'id'),
        ...s.tables.flatMap((t) => [d?.locate(t), d?.locate(t, 'columns', 'email'), d?.locate(t, 'none')]),
      ]);
    expect(where(restored.datamap)).toEqual(where(fresh.datamap));
  });
});

describe('the cache on disk', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = temp();
    process.env.REGISTRE_CACHE_DIR = join(dir, 'cache');
    delete process.env.REGISTRE_CACHE;
  });
  afterEach(() => {
    process.env = { ...saved };
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });
  const entries = () => readdirSync(join(dir, 'cache')).sort();

  it('a second read comes from the entry the first wrote, and says the same', async () => {
    const first = await loadRegisterCached(BUNDLED_REGISTER);
    expect(entries()).toEqual([`register-${first.key}.json`]);
    const second = await loadRegisterCached(BUNDLED_REGISTER);
    expect(second.key).toBe(first.key);
    expect(second.result.issues).toEqual(first.result.issues);
    expect(placesOf(second.result.register as Register)).toEqual(placesOf(first.result.register as Register));
    const register = first.result.register as Register;
    const map = await loadDataMapCached(BUNDLED_DATAMAP, register, first.key);
    const again = await loadDataMapCached(BUNDLED_DATAMAP, register, first.key);
    expect(again.datamap?.stores).toEqual(map.datamap?.stores);
    expect(entries()).toHaveLength(2);
  });

  it('a changed file is read afresh, never answered from the old entry', async () => {
    const folder = join(dir, 'reg');
    cpSync(BUNDLED_REGISTER, folder, { recursive: true });
    const before = await loadRegisterCached(folder);
    expect(before.result.issues.some((i) => i.severity === 'error')).toBe(false);
    const file = join(folder, 'newsletter.yaml');
    // One byte: the same size, the same second.
    writeFileSync(file, readFileSync(file, 'utf8').replace('legalBasis: consent', 'legalBasis: consenT'));
    const after = await loadRegisterCached(folder);
    expect(after.key).not.toBe(before.key);
    expect(after.result.issues.filter((i) => i.severity === 'error').map((i) => i.file)).toEqual([
      expect.stringContaining('newsletter.yaml'),
    ]);
  });

  it('a damaged entry is parsed afresh and replaced', async () => {
    const { key, result } = await loadRegisterCached(BUNDLED_REGISTER);
    const entry = join(dir, 'cache', `register-${key}.json`);
    for (const damage of [
      '{"format":1,"key":"',
      '',
      JSON.stringify({ format: 1, key: 'another', value: {} }),
    ]) {
      writeFileSync(entry, damage);
      const again = await loadRegisterCached(BUNDLED_REGISTER);
      expect(again.result.issues).toEqual(result.issues);
      expect(JSON.parse(readFileSync(entry, 'utf8')).key).toBe(key);
    }
  });

  it('a cache that cannot be written, or is turned off, is done without', async () => {
    mkdirSync(join(dir, 'cache'));
    chmodSync(join(dir, 'cache'), 0o500);
    const readOnly = await loadRegisterCached(BUNDLED_REGISTER);
    expect(readOnly.result.register).not.toBeNull();
    chmodSync(join(dir, 'cache'), 0o700);
    // root writes anyway: the point is that nothing failed; off writes nothing at all.
    rmSync(join(dir, 'cache'), { recursive: true, force: true });
    process.env.REGISTRE_CACHE = 'off';
    const off = await loadRegisterCached(BUNDLED_REGISTER);
    expect(off.result.issues).toEqual(readOnly.result.issues);
    expect(() => readdirSync(join(dir, 'cache'))).toThrow();
  });
});

describe('file order', () => {
  it('plain names sort by code point exactly as the locale sorts them', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789.-';
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Mostly the characters where orders differ elsewhere: '.', '-', digits.
    const name = () =>
      Array.from({ length: 1 + Math.floor(random() * 8) }, () =>
        random() < 0.5
          ? (alphabet[Math.floor(random() * alphabet.length)] as string)
          : '.-0a'[Math.floor(random() * 4)],
      ).join('');
    for (let i = 0; i < 20_000; i++) {
      const a = name();
      const b = name();
      expect([a, b, Math.sign(byFileName(a, b))]).toEqual([a, b, Math.sign(a.localeCompare(b))]);
    }
    // Other names keep the locale's order.
    expect(['b.yaml', 'A.yaml', 'a_b.yaml', 'a-b.yaml'].sort(byFileName)).toEqual(
      ['b.yaml', 'A.yaml', 'a_b.yaml', 'a-b.yaml'].sort((x, y) => x.localeCompare(y)),
    );
  });
});

/** Runs the command with a hook that writes every module it loads to `log`. */
function registreLoading(args: string[], env: NodeJS.ProcessEnv, log: string) {
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { register } from 'node:module';
    import { appendFileSync } from 'node:fs';
    register('data:text/javascript,' + encodeURIComponent(\`
      import { appendFileSync } from 'node:fs';
      export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\\\n'); return r; }
    \`));
  `)}`;
  return spawnSync(process.execPath, ['--import', hook, BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

describe('a command that only reads', () => {
  it('validate and explain, once their parse is cached, load neither the YAML parser nor zod', () => {
    const dir = temp();
    const shop = join(dir, 'shop');
    const env = { REGISTRE_CACHE_DIR: join(dir, 'cache') };
    expect(
      spawnSync(process.execPath, [BIN, 'demo', '--out', shop, '--customers', '30', '--seed', '1'], {
        encoding: 'utf8',
      }).status,
    ).toBe(0);
    const commands = [
      ['validate', 'registers/negomarkets'],
      ['explain', '--config', join(shop, 'registre.yaml'), '--table', 'customers', '--id', '5'],
    ];
    for (const args of commands) {
      const cold = join(dir, `cold-${args[0]}.log`);
      const warm = join(dir, `warm-${args[0]}.log`);
      const first = registreLoading(args, env, cold);
      const second = registreLoading(args, env, warm);
      expect(second.status).toBe(first.status);
      expect(second.stdout).toBe(first.stdout);
      expect(second.stderr).toBe(first.stderr);
      const loaded = (log: string) => readFileSync(log, 'utf8');
      // The first run parsed: it did load them (the hook sees what it should).
      expect(loaded(cold)).toMatch(/node_modules\/yaml\//);
      expect(loaded(cold)).toMatch(/node_modules\/zod\//);
      expect(loaded(warm)).not.toMatch(/node_modules\/(yaml|zod)\//);
    }
  });
});

describe('a command that changes data', () => {
  it('a sweep never reads the cache: a forged entry changes what plan says, not what a sweep does', () => {
    const dir = temp();
    const shop = join(dir, 'shop');
    const env = { ...process.env, REGISTRE_CACHE_DIR: join(dir, 'cache') };
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args, '--config', join(shop, 'registre.yaml')], {
        encoding: 'utf8',
        env,
      });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout);
    };
    spawnSync(process.execPath, [BIN, 'demo', '--out', shop, '--customers', '60', '--seed', '3'], { env });
    const dueOf = (lines: { rule: string; due?: number; count?: number; action?: string }[]) =>
      lines.filter((l) => l.rule === 'web-visits').reduce((n, l) => n + (l.due ?? l.count ?? 0), 0);
    const plan = run(['plan', '--json']);
    const due = dueOf(plan.rules);
    // Web visits kept one day instead of 13 months, in the cached register only.
    const [entry] = readdirSync(join(dir, 'cache')).filter((f) => f.startsWith('register-'));
    const path = join(dir, 'cache', entry as string);
    const cached = JSON.parse(readFileSync(path, 'utf8'));
    const rule = cached.value.value.retention.find((r: { id: string }) => r.id === 'web-visits');
    rule.keep = '1 day';
    writeFileSync(path, JSON.stringify(cached));
    const forged = run(['plan', '--json']);
    expect(dueOf(forged.rules)).toBeGreaterThan(due);
    const sweep = run(['sweep', '--dry-run', '--json']);
    expect(dueOf(sweep.lines)).toBe(due);
  });
});

describe('the cache folder', () => {
  it('keeps the 64 newest entries, and clears what a killed writer left', async () => {
    const dir = temp();
    const saved = process.env.REGISTRE_CACHE_DIR;
    process.env.REGISTRE_CACHE_DIR = dir;
    try {
      const old = Date.now() / 1000 - 7200;
      for (let i = 0; i < 70; i++) {
        const file = join(dir, `register-${String(i).padStart(64, '0')}.json`);
        writeFileSync(file, '{}');
        utimesSync(file, old + i, old + i);
      }
      const stale = join(dir, 'register-x.json.123.abc.tmp');
      const fresh = join(dir, 'register-y.json.456.def.tmp');
      writeFileSync(stale, '{');
      utimesSync(stale, old, old);
      writeFileSync(fresh, '{');
      const { key } = await loadRegisterCached(BUNDLED_REGISTER);
      const left = readdirSync(dir);
      expect(left.filter((n) => n.endsWith('.json'))).toHaveLength(64);
      expect(left).toContain(`register-${key}.json`);
      // The oldest went first.
      expect(left).not.toContain(`register-${'0'.repeat(64)}.json`);
      expect(left).not.toContain('register-x.json.123.abc.tmp');
      // A writer of a minute ago may still be writing.
      expect(left).toContain('register-y.json.456.def.tmp');
    } finally {
      process.env.REGISTRE_CACHE_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
