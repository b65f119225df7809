/**
 * The engine's own state: manual holds, sweep runs, the sweep lock and the audit log. SQLite next
 * to the configuration by default, PostgreSQL when configured; versioned migrations (Kysely's
 * Migrator) are applied whenever it is opened.
 */
import { createHash, createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { type AuditEntry, GENESIS, type Hasher, sealEntry } from '../../core/audit-chain.js';
import { RegistreError } from '../../core/errors.js';
import { type Connection, connect, resolveUrl } from '../sql/connect.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001_state': {
    // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_log')
        .addColumn('position', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('holds')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('store', 'varchar(128)', (c) => c.notNull())
        .addColumn('table_name', 'varchar(128)', (c) => c.notNull())
        .addColumn('record_key', 'varchar(128)', (c) => c.notNull())
        .addColumn('person', 'varchar(64)')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('until', 'varchar(10)')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('released_at', 'varchar(32)')
        .execute();
      await db.schema
        .createIndex('holds_record_idx')
        .on('holds')
        .columns(['store', 'table_name', 'record_key'])
        .execute();
      await db.schema
        .createTable('sweep_runs')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('at_date', 'varchar(10)', (c) => c.notNull())
        .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('finished_at', 'varchar(32)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('summary', 'text')
        .execute();
      await db.schema
        .createTable('locks')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(256)', (c) => c.notNull())
        .addColumn('acquired_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('heartbeat_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
};

export interface HoldRow {
  readonly id: number;
  readonly store: string;
  readonly table: string;
  readonly key: string;
  readonly person: string | null;
  readonly reason: string;
  readonly until: string | null;
  readonly createdAt: string;
  readonly releasedAt: string | null;
}

const now = () => new Date().toISOString();

export class StateStore {
  private constructor(
    readonly conn: Connection,
    private readonly hasher: Hasher,
  ) {}

  /** Opens (creating it if needed) and migrates the state store. */
  static async open(url: string, baseDir: string, hmacKey?: Buffer): Promise<StateStore> {
    const conn = await connect('state', resolveUrl('state', url), { baseDir, create: true });
    const migrator = new Migrator({
      db: conn.db,
      provider: { getMigrations: async () => MIGRATIONS },
      migrationTableName: 'registre_migrations',
      migrationLockTableName: 'registre_migrations_lock',
    });
    const { error } = await migrator.migrateToLatest();
    if (error) {
      await conn.close();
      throw new RegistreError(
        'E_STATE_MIGRATION',
        `the state store (${conn.label}) could not be migrated: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // With a key, the chain is keyed (HMAC): rewriting it whole needs the key too.
    const hasher: Hasher = hmacKey
      ? (text) => createHmac('sha256', hmacKey).update(text).digest('hex')
      : (text) => createHash('sha256').update(text).digest('hex');
    return new StateStore(conn, hasher);
  }

  get hash(): Hasher {
    return this.hasher;
  }

  async close(): Promise<void> {
    await this.conn.close();
  }

  /** Appends one entry to the audit log, chained to the last one, in a transaction. */
  async audit(kind: string, data: Record<string, unknown>): Promise<AuditEntry> {
    return this.conn.db.transaction().execute(async (trx) => {
      const last = await trx
        .selectFrom('audit_log')
        .select(['seq', 'hash', 'position'])
        .orderBy('position', 'desc')
        .limit(1)
        .executeTakeFirst();
      const entry = sealEntry(
        {
          seq: last ? Number(last.seq) + 1 : 1,
          at: now(),
          kind,
          data,
          prevHash: last ? String(last.hash) : GENESIS,
        },
        this.hasher,
      );
      await trx
        .insertInto('audit_log')
        .values({
          position: last ? Number(last.position) + 1 : 1,
          seq: entry.seq,
          at: entry.at,
          kind,
          data: JSON.stringify(data),
          prev_hash: entry.prevHash,
          hash: entry.hash,
        })
        .execute();
      return entry;
    });
  }

  /** The audit log in storage order. */
  async auditEntries(): Promise<AuditEntry[]> {
    const rows = await this.conn.db.selectFrom('audit_log').selectAll().orderBy('position').execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: String(r.at),
      kind: String(r.kind),
      data: JSON.parse(String(r.data)) as Record<string, unknown>,
      prevHash: String(r.prev_hash),
      hash: String(r.hash),
    }));
  }

  async addHold(hold: {
    store: string;
    table: string;
    key: string;
    person?: string;
    reason: string;
    until?: string;
  }): Promise<number> {
    const last = await this.conn.db
      .selectFrom('holds')
      .select(sql<number>`max(id)`.as('m'))
      .executeTakeFirst();
    const id = Number(last?.m ?? 0) + 1;
    await this.conn.db
      .insertInto('holds')
      .values({
        id,
        store: hold.store,
        table_name: hold.table,
        record_key: hold.key,
        person: hold.person ?? null,
        reason: hold.reason,
        until: hold.until ?? null,
        created_at: now(),
        released_at: null,
      })
      .execute();
    return id;
  }

  async releaseHold(id: number): Promise<HoldRow> {
    const hold = (await this.holds(true)).find((h) => h.id === id);
    if (!hold) throw new RegistreError('E_NOT_FOUND', `there is no hold ${id}`);
    if (hold.releasedAt)
      throw new RegistreError('E_ALREADY_RELEASED', `hold ${id} was released on ${hold.releasedAt}`);
    await this.conn.db.updateTable('holds').set({ released_at: now() }).where('id', '=', id).execute();
    return hold;
  }

  async holds(includeReleased = false): Promise<HoldRow[]> {
    let query = this.conn.db.selectFrom('holds').selectAll().orderBy('id');
    if (!includeReleased) query = query.where('released_at', 'is', null);
    return (await query.execute()).map((r) => ({
      id: Number(r.id),
      store: String(r.store),
      table: String(r.table_name),
      key: String(r.record_key),
      person: r.person === null ? null : String(r.person),
      reason: String(r.reason),
      until: r.until === null ? null : String(r.until),
      createdAt: String(r.created_at),
      releasedAt: r.released_at === null ? null : String(r.released_at),
    }));
  }

  /**
   * Takes the named lock, or says who holds it. A lock whose holder stopped sending heartbeats
   * (killed) for `staleAfterMs` is taken over.
   */
  async lock(
    name: string,
    staleAfterMs = 60_000,
  ): Promise<{ holder: string; release: () => Promise<void>; beat: () => Promise<void> }> {
    const holder = `${hostname()} pid ${process.pid}`;
    const at = now();
    const existing = await this.conn.db
      .selectFrom('locks')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing) {
      const age = Date.now() - Date.parse(String(existing.heartbeat_at));
      const sameHostDead =
        String(existing.holder).startsWith(`${hostname()} pid `) &&
        !alive(Number(String(existing.holder).split('pid ')[1]));
      if (age < staleAfterMs && !sameHostDead)
        throw new RegistreError(
          'E_LOCKED',
          `another sweep is running (${existing.holder}, since ${existing.acquired_at}); registre status shows it`,
        );
      await this.conn.db
        .deleteFrom('locks')
        .where('name', '=', name)
        .where('holder', '=', String(existing.holder))
        .execute();
    }
    try {
      await this.conn.db
        .insertInto('locks')
        .values({ name, holder, acquired_at: at, heartbeat_at: at })
        .execute();
    } catch (cause) {
      throw new RegistreError('E_LOCKED', 'another sweep took the lock at the same moment', { cause });
    }
    return {
      holder,
      beat: async () => {
        await this.conn.db
          .updateTable('locks')
          .set({ heartbeat_at: now() })
          .where('name', '=', name)
          .where('holder', '=', holder)
          .execute();
      },
      release: async () => {
        await this.conn.db
          .deleteFrom('locks')
          .where('name', '=', name)
          .where('holder', '=', holder)
          .execute();
      },
    };
  }

  async locks(): Promise<{ name: string; holder: string; acquiredAt: string; heartbeatAt: string }[]> {
    return (await this.conn.db.selectFrom('locks').selectAll().execute()).map((r) => ({
      name: String(r.name),
      holder: String(r.holder),
      acquiredAt: String(r.acquired_at),
      heartbeatAt: String(r.heartbeat_at),
    }));
  }

  async startRun(at: string): Promise<number> {
    const last = await this.conn.db
      .selectFrom('sweep_runs')
      .select(sql<number>`max(id)`.as('m'))
      .executeTakeFirst();
    const id = Number(last?.m ?? 0) + 1;
    await this.conn.db
      .insertInto('sweep_runs')
      .values({ id, at_date: at, started_at: now(), finished_at: null, status: 'running', summary: null })
      .execute();
    return id;
  }

  async finishRun(id: number, status: 'done' | 'failed', summary: unknown): Promise<void> {
    await this.conn.db
      .updateTable('sweep_runs')
      .set({ finished_at: now(), status, summary: JSON.stringify(summary) })
      .where('id', '=', id)
      .execute();
  }

  async runs(
    limit = 10,
  ): Promise<{ id: number; at: string; startedAt: string; finishedAt: string | null; status: string }[]> {
    return (
      await this.conn.db.selectFrom('sweep_runs').selectAll().orderBy('id', 'desc').limit(limit).execute()
    ).map((r) => ({
      id: Number(r.id),
      at: String(r.at_date),
      startedAt: String(r.started_at),
      finishedAt: r.finished_at === null ? null : String(r.finished_at),
      status: String(r.status),
    }));
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
