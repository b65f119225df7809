/**
 * What differs between the databases for the state store, one object per dialect (PGlite is
 * PostgreSQL): how a write takes the locks of the tables it appends to, how a read sees one
 * snapshot, which schema the store lives in, and how the checkpoint moves only forward.
 */
import { randomInt } from 'node:crypto';
import { RegistreError } from '../../core/errors.js';
import type { Dialect } from '../sql/connect.js';
import { type Kysely, sql } from '../sql/kysely.js';
import {
  APPEND_KEY,
  type AppendTable,
  CHECKPOINT_TABLE,
  type CheckpointDatabase,
  type StateDb,
} from './schema.js';

/** How many times a transaction ended as a deadlock victim is run again before the error is told. */
export const DEADLOCK_RETRIES = 8;

/** A transaction the server rolled back to break a deadlock (MySQL/MariaDB 1213, PostgreSQL 40P01). */
export function isDeadlock(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.code === '40P01';
}

export type CheckpointRow = CheckpointDatabase['registre_audit_head'];

export interface StateDialect {
  /** The schema the store lives in (PostgreSQL: the first of its search_path); none elsewhere. */
  currentSchema(db: StateDb): Promise<string | undefined>;
  /**
   * A transaction that appends after the last row of each of `tables` (the next position, the
   * next id), locked in that order: writers are serialised, whether a sweep, a `hold add` in
   * another process, or both, append.
   */
  appending<T>(db: StateDb, tables: readonly AppendTable[], f: (trx: StateDb) => Promise<T>): Promise<T>;
  /** A read-only transaction that sees one snapshot, taking no lock writers wait on. */
  snapshot<T>(db: StateDb, f: (trx: StateDb) => Promise<T>): Promise<T>;
  /** Writes the checkpoint in one statement, only forward unless `force`. */
  upsertCheckpoint(db: Kysely<CheckpointDatabase>, row: CheckpointRow, force: boolean): Promise<void>;
}

/**
 * A server transaction run again when the server ended it as a deadlock victim (rolled back
 * whole: what `f` does is all in it), a few times, then told.
 */
async function retryingDeadlocks<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= DEADLOCK_RETRIES || !isDeadlock(error)) throw error;
      await new Promise((r) => setTimeout(r, randomInt(5, 20 * attempt)));
    }
  }
}

/** INSERT … ON CONFLICT (SQLite and PostgreSQL): the row moves only to a higher seq, unless forced. */
async function upsertOnConflict(db: Kysely<CheckpointDatabase>, row: CheckpointRow, force: boolean) {
  await db
    .insertInto(CHECKPOINT_TABLE)
    .values(row)
    .onConflict((oc) => {
      const update = oc.column('name').doUpdateSet((eb) => ({
        seq: eb.ref('excluded.seq'),
        hash: eb.ref('excluded.hash'),
        key_id: eb.ref('excluded.key_id'),
        mac: eb.ref('excluded.mac'),
        at: eb.ref('excluded.at'),
      }));
      return force ? update : update.where(sql.ref(`${CHECKPOINT_TABLE}.seq`), '<', sql.ref('excluded.seq'));
    })
    .execute();
}

const serverSnapshot = <T>(db: StateDb, f: (trx: StateDb) => Promise<T>) =>
  db.transaction().setIsolationLevel('repeatable read').execute(f);

/** SQLite: BEGIN IMMEDIATE takes the database's write lock (a deferred one would fail with SQLITE_BUSY once another commits). */
const sqlite: StateDialect = {
  currentSchema: async () => undefined,
  appending: (db, _tables, f) =>
    db.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        const result = await f(conn);
        await sql`COMMIT`.execute(conn);
        return result;
      } catch (error) {
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw error;
      }
    }),
  snapshot: (db, f) => db.transaction().execute(f),
  upsertCheckpoint: upsertOnConflict,
};

/** PostgreSQL and PGlite: an EXCLUSIVE table lock (reads go on). */
const postgres: StateDialect = {
  currentSchema: async (db) =>
    (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db)).rows[0]?.s,
  appending: (db, tables, f) =>
    retryingDeadlocks(() =>
      db.transaction().execute(async (trx) => {
        for (const table of tables) await sql`LOCK TABLE ${sql.table(table)} IN EXCLUSIVE MODE`.execute(trx);
        return f(trx);
      }),
    ),
  snapshot: serverSnapshot,
  upsertCheckpoint: upsertOnConflict,
};

/**
 * MySQL/MariaDB: writers take turns on a named lock of the database (GET_LOCK), then lock the last
 * row of each table they append to. Locking the last rows alone deadlocked: two writers waiting
 * on an empty table's last row both hold the gap after it, and each one's insert then waits on the
 * other's; with eight writers the deadlock victims' retries deadlocked again. The named lock is
 * the session's, released after the commit (or the rollback), on the same connection.
 */
const mysql: StateDialect = {
  currentSchema: async () => undefined,
  appending: (db, tables, f) =>
    retryingDeadlocks(() =>
      db.connection().execute(async (conn) => {
        const { rows } = await sql<{
          ok: number | null;
        }>`SELECT GET_LOCK(CONCAT('registre-append:', DATABASE()), 60) AS ok`.execute(conn);
        if (Number(rows[0]?.ok) !== 1)
          throw new RegistreError(
            'E_LOCK_HELD',
            'another writer kept the state store for a minute; nothing was written',
          );
        try {
          await sql`START TRANSACTION`.execute(conn);
          try {
            for (const table of tables) {
              const key = sql.ref(APPEND_KEY[table]);
              await sql`SELECT ${key} FROM ${sql.table(table)} ORDER BY ${key} DESC LIMIT 1 FOR UPDATE`.execute(
                conn,
              );
            }
            const result = await f(conn);
            await sql`COMMIT`.execute(conn);
            return result;
          } catch (error) {
            await sql`ROLLBACK`.execute(conn).catch(() => {});
            throw error;
          }
        } finally {
          await sql`SELECT RELEASE_LOCK(CONCAT('registre-append:', DATABASE()))`
            .execute(conn)
            .catch(() => {});
        }
      }),
    ),
  snapshot: serverSnapshot,
  async upsertCheckpoint(db, row, force) {
    const newer = force ? sql`TRUE` : sql`seq < VALUES(seq)`;
    await sql`INSERT INTO ${sql.table(CHECKPOINT_TABLE)} (name, seq, hash, key_id, mac, at)
        VALUES (${row.name}, ${row.seq}, ${row.hash}, ${row.key_id}, ${row.mac}, ${row.at})
        ON DUPLICATE KEY UPDATE hash = IF(${newer}, VALUES(hash), hash), key_id = IF(${newer}, VALUES(key_id), key_id),
          mac = IF(${newer}, VALUES(mac), mac), at = IF(${newer}, VALUES(at), at), seq = IF(${newer}, VALUES(seq), seq)`.execute(
      db,
    );
  },
};

const DIALECTS: Record<Dialect, StateDialect> = { sqlite, postgres, mysql };

export const stateDialect = (dialect: Dialect): StateDialect => DIALECTS[dialect];
