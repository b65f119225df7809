import {
  type LoadedConfig,
  readHmacKey,
  readHmacKeyIfAvailable,
  readPreviousKeys,
} from '../adapters/files/config-paths.js';
import {
  type Connection,
  connect,
  localStoreMissing,
  localStoreOpenToOthers,
  resolveUrl,
} from '../adapters/sql/connect.js';
import { StateStore } from '../adapters/state/state-store.js';
import { DEFAULT_ARCHIVE_URL as ARCHIVE_URL, DEFAULT_STATE_URL as STATE_URL } from '../core/store-url.js';
import { openProject, type Project } from './project.js';

export const todayUtc = () => new Date().toISOString().slice(0, 10);

/**
 * Warnings about the engine's own stores: a state or archive store (a SQLite file, a PGlite
 * folder) that others than its owner can read. They hold requests, the audit log and archived
 * records: said, with the fix, but the command goes on (a shared folder may be on purpose).
 * Paths and modes only: never a row.
 */
export function storeWarnings(loaded: LoadedConfig): string[] {
  const stores = [
    {
      name: 'state',
      url: loaded.config.state?.url ?? STATE_URL,
      holds: "people's requests and the audit log",
    },
    {
      name: 'archive',
      url: loaded.config.archive?.url ?? ARCHIVE_URL,
      holds: 'the archived records of people',
    },
  ];
  return stores.flatMap((store) => {
    let open: ReturnType<typeof localStoreOpenToOthers>;
    try {
      open = localStoreOpenToOthers(store.name, store.url, loaded.dir);
    } catch {
      return []; // An unset variable, a bad URL: the command itself says so.
    }
    return open.map(
      (f) =>
        `the ${store.name} store ${f.path} can be read or written by others than its owner (mode ${f.mode.toString(8).padStart(4, '0')}); it holds ${store.holds}: run ${f.folder ? 'chmod -R go-rwx' : 'chmod 600'} ${f.path}`,
    );
  });
}

/** The warnings of the project's own stores (see storeWarnings), for a configuration file. */
export async function runStoreWarnings(configFile: string | undefined): Promise<string[]> {
  const { readConfigCached } = await import('../adapters/files/parse-cache.js');
  return storeWarnings(await readConfigCached(configFile));
}

export async function openArchive(project: Project, options: { create?: boolean } = {}): Promise<Connection> {
  const url = project.loaded.config.archive?.url ?? ARCHIVE_URL;
  return connect('archive', resolveUrl('archive', url), {
    baseDir: project.loaded.dir,
    create: options.create ?? true,
    private: true,
  });
}

/**
 * The state store. `read`: for commands that change nothing (plan, explain, status, hold list, a
 * dry run), which work without the key. `write`: the key when one is configured (strictly), and
 * the checkpoint of the audit log's head kept in the archive store; refused (E_LOG_BROKEN) when
 * the log is not whole up to its checkpoints.
 */
export async function openState(
  project: Project,
  mode: 'read' | 'write' = 'read',
  checkpoint?: Connection,
): Promise<StateStore> {
  const url = project.loaded.config.state?.url ?? STATE_URL;
  const key = mode === 'write' ? readHmacKey(project.loaded) : readHmacKeyIfAvailable(project.loaded);
  const previous = mode === 'write' ? readPreviousKeys(project.loaded) : [];
  if (mode === 'read')
    return StateStore.openForReading(url, project.loaded.dir, key ? { key, previous } : { previous });
  const own = checkpoint === undefined ? await openArchive(project) : undefined;
  let state: StateStore | undefined;
  try {
    state = await StateStore.open(url, project.loaded.dir, {
      ...(key ? { key } : {}),
      previous,
      ...(checkpoint || own ? { checkpoint: (checkpoint ?? own) as Connection } : {}),
      ...(own ? { ownsCheckpoint: true } : {}),
    });
    // Nothing changes data on a log that is not whole up to its checkpoint (E_LOG_BROKEN).
    await state.assertLogWhole();
    return state;
  } catch (error) {
    if (state) await state.close();
    else await own?.close();
    throw error;
  }
}
/**
 * The archive store if it exists (where a person's archived records are searched, what plan and
 * a dry run read); undefined when it was never created: reading creates nothing.
 */
export async function personArchive(project: Project): Promise<Connection | undefined> {
  const url = project.loaded.config.archive?.url ?? ARCHIVE_URL;
  if (localStoreMissing('archive', url, project.loaded.dir)) return undefined;
  return openArchive(project, { create: false });
}

/** Runs `f` with the project's state store open, then closes it. */
export async function withState<T>(
  configFile: string | undefined,
  mode: 'read' | 'write',
  f: (state: StateStore, project: Project) => Promise<T>,
): Promise<T> {
  const project = await openProject(configFile);
  const state = await openState(project, mode);
  try {
    return await f(state, project);
  } finally {
    await state.close();
  }
}
