import { readHmacKey, readHmacKeyIfAvailable, readPreviousKeys } from '../adapters/files/config-paths.js';
import { type Connection, connect, localStoreMissing, resolveUrl } from '../adapters/sql/connect.js';
import { StateStore } from '../adapters/state/state-store.js';
import { openProject, type Project } from './project.js';

export const todayUtc = () => new Date().toISOString().slice(0, 10);

export async function openArchive(project: Project, options: { create?: boolean } = {}): Promise<Connection> {
  const url = project.loaded.config.archive?.url ?? 'sqlite:.registre/archive.sqlite';
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
  const url = project.loaded.config.state?.url ?? 'sqlite:.registre/state.sqlite';
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
  const url = project.loaded.config.archive?.url ?? 'sqlite:.registre/archive.sqlite';
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
