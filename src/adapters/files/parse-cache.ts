/**
 * The parse cache: the configuration, register and data map as a command last read them, kept on
 * disk so that a command that only reads (validate, explain, plan, forecast) starts without the
 * YAML parser and the schemas (about 0.4 s of its start). An entry is named by a SHA-256 of the
 * files' names and texts, of registre's own code that reads and checks them, and of the versions
 * of the YAML parser and of zod: a changed byte in the files, a rebuilt module or another version
 * of either is another entry, never a stale one. A missing, unreadable or damaged entry is parsed
 * afresh; a cache that cannot be written is done without. Commands that change data (sweep,
 * requests, holds, archive) never read it: they parse the files themselves.
 *
 * Where: REGISTRE_CACHE_DIR, else $XDG_CACHE_HOME/registre, else ~/.cache/registre;
 * REGISTRE_CACHE=off turns it off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataMapResult } from '../../core/datamap/datamap-load.js';
import {
  type DataMapData,
  datamapFromSnapshot,
  datamapSnapshot,
} from '../../core/datamap/datamap-snapshot.js';
import type { LoadResult, Register, RegisterSource } from '../../core/register/register-load.js';
import {
  type RegisterData,
  registerFromSnapshot,
  registerSnapshot,
} from '../../core/register/register-snapshot.js';
import type { Snapshot } from '../../core/source-locator.js';
import { configSource, type LoadedConfig } from './config-paths.js';
import { readRegisterSources } from './register-files.js';

/** The shape of an entry; a change of it is a change of every key. */
const FORMAT = 1;
/** Entries kept; past it, the oldest go. */
const MAX_ENTRIES = 64;

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.REGISTRE_CACHE === 'off') return null;
  if (env.REGISTRE_CACHE_DIR) return env.REGISTRE_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'registre');
}

let code: string | undefined;

/**
 * What computes a cached result: every module of registre's core and of this folder (the readers
 * and checkers of files), each known by its path, size, inode and modification time to the
 * nanosecond (a build rewrites them all), and the YAML parser's and zod's versions. Once per
 * process.
 */
function codeIdentity(): string {
  if (code !== undefined) return code;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const hash = createHash('sha256').update(`format ${FORMAT}\n`);
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(js|ts)$/.test(entry.name) && !/\.(d|test)\.ts$/.test(entry.name)) {
        const s = statSync(path, { bigint: true });
        hash.update(`${relative(root, path)} ${s.size} ${s.ino} ${s.mtimeNs}\n`);
      }
    }
  };
  visit(join(root, 'core'));
  visit(join(root, 'adapters', 'files'));
  const require = createRequire(import.meta.url);
  for (const pkg of ['yaml', 'zod'])
    hash.update(`${pkg} ${(require(`${pkg}/package.json`) as { version: string }).version}\n`);
  code = hash.digest('hex');
  return code;
}

/** The key of a parse: what is parsed, its files, and what it depends on (`extra`). */
function keyOf(kind: string, sources: readonly RegisterSource[], extra = ''): string {
  const hash = createHash('sha256').update(`${codeIdentity()}\n${kind}\n${extra}\n`);
  for (const s of sources) hash.update(`${s.file}\u0000${s.text}\u0000`);
  return hash.digest('hex');
}

interface Entry<T> {
  readonly format: number;
  readonly key: string;
  readonly value: T;
}

function read<T>(kind: string, key: string): T | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    const entry = JSON.parse(readFileSync(join(dir, `${kind}-${key}.json`), 'utf8')) as Entry<T>;
    return entry.format === FORMAT && entry.key === key ? entry.value : undefined;
  } catch {
    return undefined;
  }
}

function write<T>(kind: string, key: string, value: T): void {
  const dir = cacheDir();
  if (!dir) return;
  const file = join(dir, `${kind}-${key}.json`);
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written whole under another name, then renamed: a reader sees the old entry or the new one.
    writeFileSync(temporary, JSON.stringify({ format: FORMAT, key, value } satisfies Entry<T>), {
      mode: 0o600,
      flag: 'wx',
    });
    renameSync(temporary, file);
    prune(dir);
  } catch {
    rmSync(temporary, { force: true });
  }
}

/** The oldest entries past MAX_ENTRIES go, and what a killed writer left (a .tmp file of over an hour). */
function prune(dir: string): void {
  const names = readdirSync(dir);
  const hourAgo = Date.now() - 3_600_000;
  for (const name of names.filter((n) => n.endsWith('.tmp')))
    if (statSync(join(dir, name)).mtimeMs < hourAgo) rmSync(join(dir, name), { force: true });
  const entries = names.filter((name) => name.endsWith('.json'));
  if (entries.length <= MAX_ENTRIES) return;
  const byAge = entries
    .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime);
  for (const { name } of byAge.slice(0, entries.length - MAX_ENTRIES))
    rmSync(join(dir, name), { force: true });
}

/** The configuration a command reads (see readConfig), from the cache when it holds it. */
export async function readConfigCached(
  file: string | undefined,
  cwd: string = process.cwd(),
): Promise<LoadedConfig> {
  const source = configSource(file, cwd);
  if (!source) return { file: null, dir: cwd, config: {} };
  const key = keyOf('config', [{ file: source.path, text: source.text }]);
  const config = read<LoadedConfig['config']>('config', key);
  if (config) return { file: source.path, dir: dirname(source.path), config };
  const { parseConfig } = await import('./config-files.js');
  const loaded = parseConfig(source);
  write('config', key, loaded.config);
  return loaded;
}

/** A register read and validated (see loadRegister), from the cache when it holds it; `key` names it. */
export async function loadRegisterCached(
  path: string,
  cwd?: string,
): Promise<{ result: LoadResult; key: string }> {
  const sources = readRegisterSources(path, cwd);
  const key = keyOf('register', sources);
  const snapshot = read<Snapshot<RegisterData>>('register', key);
  if (snapshot) return { result: registerFromSnapshot(snapshot), key };
  const { checkRegister } = await import('./config-files.js');
  const result = checkRegister(sources);
  write('register', key, registerSnapshot(result));
  return { result, key };
}

/** A data map read and checked against its register (the one `registerKey` names), from the cache when it holds it. */
export async function loadDataMapCached(
  path: string,
  register: Register,
  registerKey: string,
  cwd?: string,
): Promise<DataMapResult> {
  const sources = readRegisterSources(path, cwd);
  const key = keyOf('datamap', sources, registerKey);
  const snapshot = read<Snapshot<DataMapData>>('datamap', key);
  if (snapshot) return datamapFromSnapshot(snapshot);
  const { checkDataMap } = await import('./config-files.js');
  const result = checkDataMap(sources, register);
  write('datamap', key, datamapSnapshot(result));
  return result;
}
