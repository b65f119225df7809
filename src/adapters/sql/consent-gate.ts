/**
 * The consent ledger's verdicts brought to a store in bulk, for one evaluation (a plan, a sweep):
 * a table of the store (`registre_consent_<time>_<random>`) with, per gated rule, the subjects or
 * records whose consent was lost and the day; the rules' SQL meets it by index, never one query per
 * subject. On a server a real table, not a temporary one: a pool's connections all see it, and
 * MySQL cannot read a temporary table twice in one statement (SQLite, one connection, takes a
 * temporary one). Dropped after the evaluation; one left by a process that was killed is dropped
 * by the next evaluation a day later.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Connection } from './connect.js';
import { listTables } from './introspect.js';
import { sql } from './kysely.js';

export interface GateRow {
  readonly rule: string;
  /** The subject (a visitor id) or the record's key, as text. */
  readonly k: string;
  readonly ended: string;
  readonly event: number;
}

const PREFIX = 'registre_consent_';
/** A gate older than this is one a killed process left. */
const STALE_MS = 24 * 3600_000;
const ROWS_PER_INSERT = 500;

export async function openGate(
  conn: Connection,
  rows: readonly GateRow[],
  now = Date.now(),
): Promise<{ readonly table: string; close(): Promise<void> }> {
  // SQLite: one connection, so a temporary table (nothing written to the shop's file, a dry run
  // stays one); a server: a real table, which every connection of the pool sees.
  const temporary = conn.dialect === 'sqlite';
  if (!temporary) await dropStale(conn, now);
  // Its name says when and by which process of which machine: a table of a process that is gone
  // (killed mid-sweep) is dropped by the next evaluation on that machine at once, another machine's
  // once a day old.
  const table = `${PREFIX}${now.toString(36)}_${HOST}_${process.pid.toString(36)}_${randomBytes(3).toString('hex')}`;
  let create = conn.db.schema.createTable(table);
  if (temporary) create = create.temporary();
  await create
    .addColumn('rule', 'varchar(64)', (c) => c.notNull())
    // Compared exactly (a visitor id is case-sensitive), whatever the shop's collation: on MySQL a
    // binary string, which a column of any character set and collation meets without a conflict.
    .addColumn('k', conn.dialect === 'mysql' ? sql`varbinary(255)` : 'varchar(255)', (c) => c.notNull())
    .addColumn('ended', 'varchar(10)', (c) => c.notNull())
    .addColumn('event', 'integer', (c) => c.notNull())
    .execute();
  try {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
      await conn.db
        .insertInto(table)
        .values(rows.slice(i, i + ROWS_PER_INSERT).map((r) => ({ ...r })))
        .execute();
    await conn.db.schema.createIndex(`${table}_k`).on(table).columns(['k', 'rule']).execute();
    if (conn.dialect === 'postgres') await sql`ANALYZE ${sql.table(table)}`.execute(conn.db);
  } catch (error) {
    await conn.db.schema
      .dropTable(table)
      .ifExists()
      .execute()
      .catch(() => {});
    throw error;
  }
  return {
    table,
    close: async () => {
      await conn.db.schema.dropTable(table).ifExists().execute();
    },
  };
}

/** This machine, in a gate's name: a short hash of its host name. */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);

/** Whether process `pid` of this machine is still running. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function dropStale(conn: Connection, now: number): Promise<void> {
  for (const t of await listTables(conn)) {
    if (!t.name.startsWith(PREFIX)) continue;
    const [time, host, pid] = t.name.slice(PREFIX.length).split('_');
    const born = Number.parseInt(time ?? '', 36);
    const gone = host === HOST && pid !== undefined && !running(Number.parseInt(pid, 36));
    if (gone || (Number.isFinite(born) && now - born > STALE_MS))
      await conn.db.schema
        .dropTable(t.name)
        .ifExists()
        .execute()
        .catch(() => {});
  }
}
