import { createHash } from 'node:crypto';
/** What most commands start from: the configuration, a valid register and data map, the stores. */
import { resolve } from 'node:path';
import { datamapPathOf, type LoadedConfig, registerPathOf } from '../adapters/files/config-paths.js';
import { loadDataMapCached, loadRegisterCached, readConfigCached } from '../adapters/files/parse-cache.js';
import { sourcesStamp } from '../adapters/files/register-files.js';
import type { DataMap } from '../core/datamap/datamap-load.js';
import { RegistreError } from '../core/errors.js';
import { hasErrors, RegisterError } from '../core/issues.js';
import type { Register } from '../core/register/register-load.js';

export interface Project {
  readonly loaded: LoadedConfig;
  readonly register: Register;
  readonly datamap: DataMap;
}

/** Parsed projects, by configuration file and way of reading, with the fingerprint of what they were parsed from. */
const parsed = new Map<string, { fingerprint: string; project: Project }>();

export interface OpenOptions {
  /**
   * Read the configuration, register and data map through the parse cache (parse-cache.ts): for
   * the commands that only read. A command that changes data parses the files itself.
   */
  readonly cached?: boolean;
}

/**
 * Loads the project; a register or data map with errors throws them all (RegisterError). In one
 * process (a script, the service) a project whose configuration, register and data map files are
 * unchanged (same size and modification time, to the nanosecond) is parsed once: a request pays a
 * few stat calls, not a YAML parse.
 */
export async function openProject(
  configFile: string | undefined,
  options: OpenOptions = {},
): Promise<Project> {
  const cached = options.cached === true;
  const loaded = cached
    ? await readConfigCached(configFile)
    : (await import('../adapters/files/config-files.js')).readConfig(configFile);
  const key = `${cached}\u0000${loaded.file ?? ''}\u0000${loaded.dir}`;
  const datamapPath = datamapPathOf(loaded);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(loaded.config))
    .update(sourcesStamp(registerPathOf(loaded)))
    .update(sourcesStamp(datamapPath))
    .digest('hex');
  const memo = parsed.get(key);
  if (memo?.fingerprint === fingerprint) return { ...memo.project, loaded };
  const project = await parseProject(loaded, cached);
  if (parsed.size >= 16) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, { fingerprint, project });
  return project;
}

async function parseProject(loaded: LoadedConfig, cached: boolean): Promise<Project> {
  const registerFile = registerPathOf(loaded);
  const files = cached ? null : await import('../adapters/files/config-files.js');
  const read = files
    ? { result: files.loadRegister(registerFile), key: '' }
    : await loadRegisterCached(registerFile);
  const { register, issues } = read.result;
  if (!register || hasErrors(issues)) throw new RegisterError(issues.filter((i) => i.severity === 'error'));
  const path = datamapPathOf(loaded);
  if (!path)
    throw new RegistreError(
      'E_CONFIG',
      `${loaded.file ?? 'no configuration file'}: name the data map ("datamap: …") that binds the register to its stores`,
    );
  const { datamap, issues: mapIssues } = files
    ? files.loadDataMap(path, register)
    : await loadDataMapCached(path, register, read.key);
  if (!datamap || hasErrors(mapIssues))
    throw new RegisterError(mapIssues.filter((i) => i.severity === 'error'));
  return { loaded, register, datamap };
}

/** The folders file columns are relative to, by name, as absolute paths. */
export function foldersOf(project: Project): Record<string, string> {
  return Object.fromEntries(
    Object.entries(project.loaded.config.files ?? {}).map(([k, v]) => [k, resolve(project.loaded.dir, v)]),
  );
}

/** Where the files of archived records are moved. */
export function archiveFilesDir(project: Project): string {
  return resolve(project.loaded.dir, project.loaded.config.archiveFiles ?? '.registre/archive-files');
}
