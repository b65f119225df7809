/**
 * Connections to the stores, through Kysely: SQLite (better-sqlite3), PostgreSQL (pg), PGlite
 * (in-process PostgreSQL, for tests) and MySQL/MariaDB (mysql2). The only module that knows
 * which driver is which; the dialect differences the rest needs are in `dialect.ts`.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { RegistreError } from '../../core/errors.js';
import { safeMessage } from '../../core/safe-message.js';
import { parseStoreUrl, serverLabel } from '../../core/store-url.js';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from './kysely.js';

// The drivers of the other databases load when a store of theirs is opened: a command on SQLite
// does not pay for pg, mysql2 and PGlite's WebAssembly (start-up, issue 9).

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export interface Connection {
  readonly store: string;
  readonly dialect: Dialect;
  /** The store as it may appear in a message: a file's path, or scheme://host:port/database (no user, no password). */
  readonly label: string;
  // biome-ignore lint/suspicious/noExplicitAny: tables are the data map's, known only at run time
  readonly db: Kysely<any>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Relative SQLite and PGlite paths are resolved from here (the configuration's folder). */
  readonly baseDir?: string;
  /** Create the database file if it does not exist (demo); a check never creates one. */
  readonly create?: boolean;
  /** A bulk load of generated data: SQLite skips fsync (a crash means generating again). */
  readonly bulk?: boolean;
  /** The engine's own files (state, archive): created readable by their owner only. */
  readonly private?: boolean;
}

/**
 * Whether `rawUrl` names a local database (a SQLite file, a PGlite folder) that does not exist:
 * opening it would create it, which a command that only reads must not do.
 */
export function localStoreMissing(store: string, rawUrl: string, baseDir: string): boolean {
  const url = parseStoreUrl(store, resolveUrl(store, rawUrl));
  if (url.kind !== 'sqlite' && url.kind !== 'pglite') return false;
  if (url.path === null || url.path === ':memory:') return false;
  return !existsSync(resolve(baseDir, url.path));
}

/**
 * The files of a local database (a SQLite file and its -wal and -shm, a PGlite folder) that exist
 * and can be read or written by others than their owner, with their mode: empty for a server.
 */
export function localStoreOpenToOthers(
  store: string,
  rawUrl: string,
  baseDir: string,
): { path: string; mode: number; folder: boolean }[] {
  if (process.platform === 'win32') return [];
  const url = parseStoreUrl(store, resolveUrl(store, rawUrl));
  if (url.kind !== 'sqlite' && url.kind !== 'pglite') return [];
  if (url.path === null || url.path === ':memory:') return [];
  const main = resolve(baseDir, url.path);
  const paths = url.kind === 'sqlite' ? [main, `${main}-wal`, `${main}-shm`] : [main];
  return paths.flatMap((path) => {
    try {
      const stat = statSync(path);
      const mode = stat.mode & 0o777;
      return mode & 0o077 ? [{ path, mode, folder: stat.isDirectory() }] : [];
    } catch {
      return [];
    }
  });
}

/** Resolves `env:NAME` against the environment. */
export function resolveUrl(store: string, url: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!url.startsWith('env:')) return url;
  const name = url.slice(4);
  const value = env[name];
  if (!value)
    throw new RegistreError(
      'E_ENV_UNSET',
      `store "${store}": its URL is read from the environment variable ${name}, which is not set`,
    );
  return value;
}

function unreachable(store: string, label: string, cause: unknown): RegistreError {
  // The driver's code and a fixed text: a server's own message names the user (a refused login)
  // and may quote more.
  return new RegistreError(
    'E_STORE_UNREACHABLE',
    `store "${store}" (${label}) cannot be reached: ${safeMessage(cause)}`,
    {
      cause,
    },
  );
}

/**
 * better-sqlite3 prepares every statement Kysely sends; the same SQL text (a batch of a sweep,
 * a bulk insert) reuses its prepared statement instead. Kysely runs one query at a time per
 * connection, so a cached statement is never busy when it is reused.
 */
function withStatementCache(database: Database.Database, limit = 64): Database.Database {
  // Least recently used first out: a sweep's DELETE … IN (…) lists vary in length, and each
  // prepared statement with thousands of parameters holds memory; the hot ones stay.
  const cache = new Map<string, Database.Statement>();
  return new Proxy(database, {
    get(target, property) {
      if (property !== 'prepare') {
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (text: string) => {
        let statement = cache.get(text);
        if (statement) cache.delete(text);
        else {
          statement = target.prepare(text);
          if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
        }
        cache.set(text, statement);
        return statement;
      };
    },
  });
}

export async function connect(
  store: string,
  rawUrl: string,
  options: ConnectOptions = {},
): Promise<Connection> {
  const url = parseStoreUrl(store, rawUrl);
  const base = options.baseDir ?? process.cwd();
  if (url.kind === 'sqlite') {
    const path = url.path === ':memory:' ? url.path : resolve(base, url.path);
    const label = `sqlite:${url.path}`;
    let database: Database.Database;
    try {
      if (options.create && path !== ':memory:') {
        mkdirSync(dirname(path), { recursive: true, ...(options.private ? { mode: 0o700 } : {}) });
        // SQLite gives its -wal and -shm files the main file's mode: create that one 0600 first.
        if (options.private && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      }
      database = new Database(path, { fileMustExist: !options.create });
      // Writers wait for each other (a sweep's batch, a hold added meanwhile): 30 s, so that a
      // loaded machine makes a command slower, not fail with SQLITE_BUSY.
      database.pragma('busy_timeout = 30000');
      if (options.bulk) {
        // A load of generated data: no journal, no fsync (a crash means generating again).
        database.pragma('journal_mode = OFF');
        database.pragma('synchronous = OFF');
        database.pragma('cache_size = -65536');
      } else {
        // WAL with NORMAL sync: a commit survives a crash of the process; only a power cut may lose the last ones.
        database.pragma('journal_mode = WAL');
        database.pragma('synchronous = NORMAL');
      }
    } catch (cause) {
      throw unreachable(store, label, cause);
    }
    const db = new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    return { store, dialect: 'sqlite', label, db, close: () => db.destroy() };
  }
  if (url.kind === 'pglite') {
    const label = url.path ? `pglite:${url.path}` : 'pglite:memory';
    let database: PGlite;
    try {
      if (url.path && options.private) mkdirSync(resolve(base, url.path), { recursive: true, mode: 0o700 });
      const { PGlite } = await import('@electric-sql/pglite');
      database = url.path ? new PGlite(resolve(base, url.path)) : new PGlite();
      await database.waitReady;
      await database.exec("SET TIME ZONE 'UTC'");
    } catch (cause) {
      throw unreachable(store, label, cause);
    }
    const { pglitePool } = await import('./pglite-pool.js');
    const db = new Kysely({ dialect: new PostgresDialect({ pool: pglitePool(database) }) });
    return { store, dialect: 'postgres', label, db, close: () => db.destroy() };
  }
  const label = serverLabel(url.url);
  // biome-ignore lint/suspicious/noExplicitAny: see Connection.db
  let db: Kysely<any>;
  if (url.kind === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url.url, max: 4, connectionTimeoutMillis: 5000 });
    pool.on('connect', (client) => {
      // A connection the server ends is reported by the next query on it; its 'error' event must not crash us.
      client.on('error', () => {});
      // UTC, and no JIT: a verdict query's cost estimate is far above JIT's thresholds, and
      // compiling it took a third of a plan's time (issue 9); registre runs scans and lookups.
      // One statement, and a server without JIT (before PostgreSQL 11) still gets its time zone.
      client
        .query(
          "SELECT set_config('TimeZone', 'UTC', false), CASE WHEN current_setting('jit', true) IS NOT NULL THEN set_config('jit', 'off', false) END",
        )
        .catch(() => {});
    });
    pool.on('error', () => {});
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  } else {
    const { createPool } = await import('mysql2');
    const pool = createPool({
      uri: url.url,
      connectionLimit: 4,
      timezone: 'Z',
      dateStrings: true,
      connectTimeout: 5000,
    });
    pool.on('connection', (conn) => {
      conn.query("SET time_zone = '+00:00'");
    });
    db = new Kysely({ dialect: new MysqlDialect({ pool }) });
  }
  const connection: Connection = { store, dialect: url.kind, label, db, close: () => db.destroy() };
  try {
    await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
  } catch (cause) {
    await db.destroy().catch(() => {});
    throw unreachable(store, label, cause);
  }
  return connection;
}
