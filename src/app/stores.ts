import type { LoadedConfig } from '../adapters/files/config-paths.js';
import { localStoreOpenToOthers } from '../adapters/sql/connect.js';
import { DEFAULT_ARCHIVE_URL as ARCHIVE_URL, DEFAULT_STATE_URL as STATE_URL } from '../core/store-url.js';
import type { Engine } from './engine.js';

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

/** The warnings of the project's own stores (see storeWarnings), for the engine's configuration. */
export async function runStoreWarnings(engine: Engine): Promise<string[]> {
  const { readConfigCached } = await import('../adapters/files/parse-cache.js');
  return storeWarnings(await readConfigCached(engine.configFile));
}
