/**
 * The engine's own state: manual holds, sweep runs, the sweep lock and the audit log. SQLite next
 * to the configuration by default, PostgreSQL when configured; versioned migrations (Kysely's
 * Migrator) are applied whenever it is opened.
 */
import { createHash, randomInt } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import {
  type AuditEntry,
  type ChainProblem,
  GENESIS,
  type Hasher,
  type KeyRing,
  sealEntry,
} from '../../core/audit/audit-chain.js';
import { hmacHex, keyIdOf } from '../../core/audit/keys.js';
import { RegistreError } from '../../core/errors.js';
import type { RequestChange } from '../../core/requests/lifecycle.js';
import { safeMessage } from '../../core/safe-message.js';
import { parseStoreUrl } from '../../core/store-url.js';
import { type Connection, connect, localStoreMissing, resolveUrl } from '../sql/connect.js';
import { tableNames } from '../sql/introspect.js';
import { type Kysely, type Migration, Migrator, sql } from '../sql/kysely.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was
type AnyDb = Kysely<any>;

/** How many times a transaction ended as a deadlock victim is run again before the error is told. */
const DEADLOCK_RETRIES = 8;

/** A transaction the server rolled back to break a deadlock (MySQL/MariaDB 1213, PostgreSQL 40P01). */
function isDeadlock(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.code === '40P01';
}

/** Adds a column unless it is there: a migration that stopped halfway can be run again. */
async function addColumnOnce(
  db: AnyDb,
  schema: string | undefined,
  table: string,
  column: string,
  type: 'text' | 'integer' | 'varchar(16)' | 'varchar(64)',
) {
  const tables = await db.introspection.getTables();
  const found = tables.find((t) => t.name === table && (schema === undefined || t.schema === schema));
  if (found?.columns.some((c) => c.name === column)) return;
  await db.schema.alterTable(table).addColumn(column, type).execute();
}

/**
 * Whether the store has run exactly the migrations this version knows: then there is nothing for
 * the migrator to do, and a command need not pay its checks (it reads every table's columns).
 * Any other answer (no table yet, one missing, one unknown) leaves it to the migrator.
 */
async function migrated(conn: Connection): Promise<boolean> {
  try {
    const { rows } = await sql<{ name: string }>`SELECT name FROM registre_migrations`.execute(conn.db);
    const done = new Set(rows.map((r) => r.name));
    const known = Object.keys(migrations(undefined));
    return done.size === known.length && known.every((name) => done.has(name));
  } catch {
    return false;
  }
}

/**
 * Every migration can be run again after a crash in its middle (a full disk, a kill): SQLite and
 * MySQL do not roll DDL back with Kysely's migrator, so each step is "if not exists".
 *
 * `schema`: on PostgreSQL, the schema the store lives in (the first of its search_path), where a
 * column is looked for: another schema of the same server may hold a store of its own.
 */
function migrations(schema: string | undefined): Record<string, Migration> {
  return {
    '0001_state': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('audit_log')
          .ifNotExists()
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
          .ifNotExists()
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
          .ifNotExists()
          .on('holds')
          .columns(['store', 'table_name', 'record_key'])
          .execute();
        await db.schema
          .createTable('sweep_runs')
          .ifNotExists()
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('at_date', 'varchar(10)', (c) => c.notNull())
          .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('finished_at', 'varchar(32)')
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('summary', 'text')
          .execute();
        await db.schema
          .createTable('locks')
          .ifNotExists()
          .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
          .addColumn('holder', 'varchar(256)', (c) => c.notNull())
          .addColumn('acquired_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('heartbeat_at', 'varchar(32)', (c) => c.notNull())
          .execute();
      },
    },
    '0002_trust': {
      async up(db: AnyDb) {
        await addColumnOnce(db, schema, 'audit_log', 'key_id', 'varchar(64)');
        await addColumnOnce(db, schema, 'holds', 'actor', 'text');
        await addColumnOnce(db, schema, 'holds', 'reason_hash', 'varchar(64)');
        // The highest hold id a running sweep has read before its last commit (see waitForSweep).
        await addColumnOnce(db, schema, 'locks', 'holds_seen', 'integer');
        await db.schema
          .createTable('reasons')
          .ifNotExists()
          .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('pending_files')
          .ifNotExists()
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('run', 'integer', (c) => c.notNull())
          .addColumn('store', 'varchar(128)', (c) => c.notNull())
          .addColumn('table_name', 'varchar(128)', (c) => c.notNull())
          .addColumn('record_key', 'varchar(128)', (c) => c.notNull())
          .addColumn('folder', 'varchar(128)', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .execute();
      },
    },
    '0003_hold_cases': {
      async up(db: AnyDb) {
        // The hold a record's row belongs to: a hold by e-mail is one case over many records. Rows
        // of before (case_id null) are each their own case.
        await addColumnOnce(db, schema, 'holds', 'case_id', 'integer');
      },
    },
    '0004_requests': {
      async up(db: AnyDb) {
        // A restriction (art. 18) is a hold of its own kind: never touched, shown as restricted.
        await addColumnOnce(db, schema, 'holds', 'kind', 'varchar(16)');
        await db.schema
          .createTable('requests')
          .ifNotExists()
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('type', 'varchar(16)', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          // The address, to send the code and to find the person; cleared once an erasure is done.
          .addColumn('email', 'text')
          .addColumn('person', 'varchar(64)', (c) => c.notNull())
          .addColumn('received', 'varchar(10)', (c) => c.notNull())
          .addColumn('due', 'varchar(10)', (c) => c.notNull())
          .addColumn('extended_months', 'integer', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('code_hash', 'varchar(64)')
          .addColumn('code_expires_at', 'varchar(32)')
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('requests_person_idx')
          .ifNotExists()
          .on('requests')
          .column('person')
          .execute();
        // What each erasure removed, by key, with the person's keyed hash: replayed after a restore.
        await db.schema
          .createTable('erasures')
          .ifNotExists()
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('request_id', 'integer', (c) => c.notNull())
          .addColumn('person', 'varchar(64)', (c) => c.notNull())
          .addColumn('at_date', 'varchar(10)', (c) => c.notNull())
          .addColumn('records', 'text', (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .execute();
      },
    },
    '0005_h1_request_mac': {
      async up(db: AnyDb) {
        // A request's row and an erasure's carry a keyed MAC, checked before use: a row edited
        // by hand (set to verified, another address) is refused. `version` moves with each
        // change, the condition of the next; `codes`, `code_sent_at`: the limits of new codes;
        // `mail`: how the last code went (smtp, outbox, failed).
        await addColumnOnce(db, schema, 'requests', 'mac', 'text');
        await addColumnOnce(db, schema, 'requests', 'version', 'integer');
        await addColumnOnce(db, schema, 'requests', 'codes', 'integer');
        await addColumnOnce(db, schema, 'requests', 'code_sent_at', 'text');
        await addColumnOnce(db, schema, 'requests', 'mail', 'varchar(16)');
        await addColumnOnce(db, schema, 'erasures', 'mac', 'text');
      },
    },
    '0005_h4_erasure_key': {
      async up(db: AnyDb) {
        // The key an erasure's person hash was made with: after a key rotation, replay puts the
        // hash under the key in force on the suppression list, never an old one.
        await addColumnOnce(db, schema, 'erasures', 'key_id', 'varchar(64)');
      },
    },
    '0006_audit_head': {
      async up(db: AnyDb) {
        // The log's head (last entry and number of entries), sealed, moved in the transaction of
        // each entry: a tail deleted, or a log put back with an older head, is told at once.
        await db.schema
          .createTable('audit_head')
          .ifNotExists()
          .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('hash', 'varchar(64)', (c) => c.notNull())
          .addColumn('entries', 'integer', (c) => c.notNull())
          .addColumn('mac', 'text', (c) => c.notNull())
          .addColumn('at', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('audit_log_seq_idx')
          .ifNotExists()
          .on('audit_log')
          .column('seq')
          .execute();
      },
    },
    '0007_hold_case_numbers': {
      async up(db: AnyDb) {
        // A hold case's number is case_id: from now on consecutive (1, 2, 3), not its first row's
        // id. The cases of before keep the number they were shown and logged with; rows of
        // before hold cases are each their own case, numbered by their id.
        await db.updateTable('holds').set({ case_id: sql`id` }).where('case_id', 'is', null).execute();
        await db.schema.createIndex('holds_case_idx').ifNotExists().on('holds').column('case_id').execute();
      },
    },
  };
}

/** A person's request as the state store keeps it. */
export interface RequestRow {
  readonly id: number;
  readonly type: string;
  readonly status: string;
  readonly email: string | null;
  readonly person: string;
  readonly received: string;
  readonly due: string;
  readonly extendedMonths: number;
  readonly details: Record<string, unknown>;
  readonly codeHash: string | null;
  readonly codeExpiresAt: string | null;
  readonly attempts: number;
  readonly outcome: Record<string, unknown> | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Codes sent (failed sends not counted), the last one's time, and how it went. */
  readonly codes: number;
  readonly codeSentAt: string | null;
  readonly mail: 'smtp' | 'outbox' | 'failed' | null;
  /** Moves with each change: the condition of the next one. */
  readonly version: number;
  /** The keyed MAC of the row (`keyId:hex`), checked each time it is read. */
  readonly mac: string | null;
}

/** The fields a request's MAC covers, in order: every column but the MAC and the timestamps. */
function requestMacText(r: Omit<RequestRow, 'mac' | 'createdAt' | 'updatedAt'>): string {
  return JSON.stringify([
    'registre request',
    r.id,
    r.type,
    r.status,
    r.email,
    r.person,
    r.received,
    r.due,
    r.extendedMonths,
    r.details,
    r.codeHash,
    r.codeExpiresAt,
    r.attempts,
    r.outcome,
    r.codes,
    r.codeSentAt,
    r.mail,
    r.version,
  ]);
}

function erasureMacText(e: Omit<ErasureRow, 'mac'>): string {
  return JSON.stringify(['registre erasure', e.id, e.requestId, e.person, e.at, e.keyId ?? null, e.records]);
}

export interface ErasureRow {
  readonly id: number;
  readonly requestId: number;
  readonly person: string;
  readonly at: string;
  /** The id of the key the person's hash was made with (none: before it was recorded). */
  readonly keyId?: string;
  readonly records: readonly {
    store: string;
    table: string;
    key: string;
    action: string;
    archived?: boolean;
    /** The rule whose anonymisation was applied. */
    rule?: string;
    /** A keyed hash of the row as it was over `cols` (its key, relations, personal columns the change left): proves a row found again is the same record. */
    fp?: string;
    cols?: string[];
    /** keep: why (17(3)(e) a hold, 18 a restriction); forward: the controller. */
    basis?: string;
    /** Kept for a hold or a restriction: what the erasure does once it ends (its own decision, the hold aside). */
    then?: 'delete' | 'anonymise';
    /** The day a record kept for a hold was erased, once the hold ended. */
    erasedOn?: string;
    /**
     * A record kept for a hold that has ended, left because it could not be proven still the
     * person's (the key holds another record, or its parent chain leads elsewhere): what could not
     * be proven erased, since when and why.
     */
    unproven?: { on: string; why: string };
    controllerId?: string;
  }[];
  /** The keyed MAC of the row, checked each time it is read. */
  readonly mac?: string | null;
}

/**
 * Why the migration failed, in a fixed text: the migrator's own refusal of the recorded
 * migrations, or the driver's code (never the database's message, which can quote a row).
 */
function migrationFailure(error: unknown): string {
  if (error instanceof Error && /^corrupted migrations/.test(error.message) && !('code' in error))
    return 'its record of migrations does not match this version of registre (one it does not know, or out of order: was a newer version run on it?)';
  return safeMessage(error);
}

// biome-ignore lint/suspicious/noExplicitAny: a row as the driver returns it
function erasureOf(r: any): ErasureRow {
  return {
    id: Number(r.id),
    requestId: Number(r.request_id),
    person: String(r.person),
    at: String(r.at_date),
    ...(r.key_id ? { keyId: String(r.key_id) } : {}),
    records: JSON.parse(String(r.records)),
    mac: r.mac ?? null,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a row as the driver returns it
function requestOf(r: any): RequestRow {
  return {
    id: Number(r.id),
    type: String(r.type),
    status: String(r.status),
    email: r.email === null || r.email === undefined ? null : String(r.email),
    person: String(r.person),
    received: String(r.received),
    due: String(r.due),
    extendedMonths: Number(r.extended_months),
    details: JSON.parse(String(r.details)),
    codeHash: r.code_hash ?? null,
    codeExpiresAt: r.code_expires_at ?? null,
    attempts: Number(r.attempts),
    outcome: r.outcome === null || r.outcome === undefined ? null : JSON.parse(String(r.outcome)),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    codes: Number(r.codes ?? 0),
    codeSentAt: r.code_sent_at ?? null,
    mail: r.mail ?? null,
    version: Number(r.version ?? 0),
    mac: r.mac ?? null,
  };
}

/**
 * A hold as people see it: one case (a reason, an end) over one record or every record of a
 * person; `id` is its number (1, 2, 3 in the order they were added), `records[].hold` its rows' ids.
 */
export interface HoldCase {
  readonly id: number;
  readonly reason: string;
  readonly until: string | null;
  readonly actor: string | null;
  readonly person: string | null;
  readonly createdAt: string;
  readonly releasedAt: string | null;
  readonly records: readonly {
    readonly hold: number;
    readonly store: string;
    readonly table: string;
    readonly key: string;
  }[];
}

export function holdCases(rows: readonly HoldRow[]): HoldCase[] {
  const cases = new Map<number, HoldCase & { records: HoldCase['records'][number][] }>();
  for (const h of rows) {
    const c = cases.get(h.caseId) ?? {
      id: h.caseId,
      reason: h.reason,
      until: h.until,
      actor: h.actor,
      person: h.person,
      createdAt: h.createdAt,
      releasedAt: h.releasedAt,
      records: [],
    };
    c.records.push({ hold: h.id, store: h.store, table: h.table, key: h.key });
    cases.set(h.caseId, c);
  }
  return [...cases.values()];
}

/** A hold case just added: its number and its rows' ids. */
export interface HoldsAdded {
  readonly case: number;
  readonly ids: readonly number[];
}

export interface HoldRow {
  readonly id: number;
  /** The number of the hold case this row belongs to (the one people see and release). */
  readonly caseId: number;
  readonly store: string;
  readonly table: string;
  readonly key: string;
  readonly person: string | null;
  readonly reason: string;
  readonly reasonHash: string | null;
  readonly actor: string | null;
  readonly until: string | null;
  readonly createdAt: string;
  readonly releasedAt: string | null;
  /** `restriction` for a restriction of processing (art. 18), else a hold. */
  readonly kind: 'hold' | 'restriction';
}

export interface PendingFile {
  readonly id: number;
  readonly run: number;
  readonly store: string;
  readonly table: string;
  readonly key: string;
  readonly folder: string;
  readonly path: string;
  /** Where the file goes (archived records), null when it is removed. */
  readonly target: string | null;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** The log's last entry: whether it was sealed with a key tells how its head may be sealed. */
interface LastEntry extends AuditHead {
  readonly keyed: boolean;
}

/** The log's head as the state store keeps it: its last entry and its number of entries, sealed. */
interface StoredHead extends AuditHead {
  readonly entries: number;
  readonly mac: string;
}

const headText = (head: { seq: number; hash: string; entries: number }) =>
  `registre audit head\u0000${head.seq}\u0000${head.hash}\u0000${head.entries}`;

async function countEntries(db: AnyDb): Promise<number> {
  const row = await db.selectFrom('audit_log').select(sql<number>`count(*)`.as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The log is not whole up to its checkpoint: what is wrong, and the way out. */
function logBroken(problems: readonly ChainProblem[]): RegistreError {
  const shown = problems.slice(0, 3).map((p) => p.message);
  if (problems.length > 3) shown.push(`and ${problems.length - 3} more`);
  return new RegistreError(
    'E_LOG_BROKEN',
    `the audit log is not whole up to its checkpoint (${shown.join('; ')}); nothing was changed, and nothing that changes data runs until this is resolved: run registre audit verify to see it, restore the state store from a backup, or, once the cause is known, record the log as it is with registre audit accept-head --reason TEXT`,
  );
}

export interface StateKeys {
  /** The HMAC key in force (hmacKey). */
  readonly key?: Buffer;
  /** Keys of before a rotation: entries they sealed can still be checked. */
  readonly previous?: readonly Buffer[];
  /** Where the keyed checkpoint of the log's head is kept, outside the state store. */
  readonly checkpoint?: Connection;
  /** Close the checkpoint's connection with the state store (it was opened for it alone). */
  readonly ownsCheckpoint?: boolean;
}

const now = () => new Date().toISOString();

/** The person running the command, for the audit log (later, the API token's name). */
export function currentActor(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

const CHECKPOINT_TABLE = 'registre_audit_head';

export class StateStore {
  private constructor(
    readonly conn: Connection,
    private readonly keys: StateKeys,
  ) {}

  /** Opens (creating it if needed) and migrates the state store. */
  static async open(url: string, baseDir: string, keys: StateKeys = {}): Promise<StateStore> {
    const conn = await connect('state', resolveUrl('state', url), { baseDir, create: true, private: true });
    let sealing = false;
    let seeding = false;
    if (!(await migrated(conn))) {
      // On PostgreSQL, the migrator and the migrations look in the store's own schema only: by
      // default Kysely's take a registre_migrations of any schema of the server as this one's.
      const schema =
        conn.dialect === 'postgres'
          ? (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(conn.db)).rows[0]?.s
          : undefined;
      const migrator = new Migrator({
        db: conn.db,
        provider: { getMigrations: async () => migrations(schema) },
        migrationTableName: 'registre_migrations',
        migrationLockTableName: 'registre_migrations_lock',
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      const { error, results } = await migrator.migrateToLatest();
      const ran = (name: string) =>
        results?.some((r) => r.migrationName === name && r.status === 'Success') ?? false;
      sealing = ran('0005_h1_request_mac');
      seeding = ran('0006_audit_head');
      if (error) {
        await conn.close();
        throw new RegistreError(
          'E_STATE_MIGRATION',
          `the state store (${conn.label}) could not be migrated: ${migrationFailure(error)}; nothing is lost: fix the cause and run the command again`,
          { cause: error },
        );
      }
    }
    if (keys.checkpoint) await ensureCheckpointTable(keys.checkpoint);
    const store = new StateStore(conn, keys);
    if (sealing) await store.sealUnsealed();
    if (seeding) await store.seedHead();
    return store;
  }

  /**
   * For commands that change nothing (plan, explain, status, hold list, a dry run): the state
   * store if it exists, else an empty one in memory. Nothing is created on disk or in a server.
   */
  static async openForReading(url: string, baseDir: string, keys: StateKeys = {}): Promise<StateStore> {
    const { checkpoint: _none, ownsCheckpoint: _no, ...keyRing } = keys;
    const empty = () => StateStore.open('sqlite::memory:', baseDir, keyRing);
    if (localStoreMissing('state', url, baseDir)) return empty();
    const resolved = resolveUrl('state', url);
    const kind = parseStoreUrl('state', resolved).kind;
    if (kind === 'sqlite' || kind === 'pglite') return StateStore.open(url, baseDir, keys);
    const conn = await connect('state', resolved, { baseDir });
    let exists: boolean;
    try {
      exists = (await tableNames(conn)).includes('registre_migrations');
    } finally {
      await conn.close();
    }
    return exists ? StateStore.open(url, baseDir, keys) : empty();
  }

  /** The hasher of new entries: HMAC with the key in force, plain SHA-256 without one. */
  get hash(): Hasher {
    const key = this.keys.key;
    return key ? (text) => hmacHex(key, text) : (text) => createHash('sha256').update(text).digest('hex');
  }

  get keyId(): string | undefined {
    return this.keys.key ? keyIdOf(this.keys.key) : undefined;
  }

  get hasKey(): boolean {
    return this.keys.key !== undefined;
  }

  /** Every key the log can be checked with. */
  keyRing(): KeyRing {
    const keyed = new Map<string, Hasher>();
    for (const key of [...(this.keys.previous ?? []), ...(this.keys.key ? [this.keys.key] : [])])
      keyed.set(keyIdOf(key), (text) => hmacHex(key, text));
    return { keyed, unkeyed: (text) => createHash('sha256').update(text).digest('hex') };
  }

  /**
   * A keyed hash that stands for a value in the log (a record key, a reason, a person): the
   * auditor holding the key can check it against the value kept elsewhere; nobody else can
   * reverse it. Without a key, a plain SHA-256 (and `audit verify` warns).
   */
  digest(value: string): string {
    return this.hash(`registre digest\u0000${value}`);
  }

  /**
   * Whether `digest` stands for `value` under the key its entry was sealed with (`keyId`; none:
   * unkeyed). An entry of a key this store does not hold cannot be checked: true (audit verify
   * reports that key apart).
   */
  digestMatches(value: string, digest: string, keyId: string | undefined): boolean {
    const ring = this.keyRing();
    const hash = keyId === undefined ? ring.unkeyed : ring.keyed.get(keyId);
    return hash === undefined || hash(`registre digest\u0000${value}`) === digest;
  }

  async close(): Promise<void> {
    await this.conn.close();
    if (this.keys.ownsCheckpoint) await this.keys.checkpoint?.close();
  }

  /**
   * A transaction that appends after the last row of `table` (the next position, the next id):
   * writers are serialised, whether a sweep, a `hold add` in another process, or both, append.
   * SQLite: BEGIN IMMEDIATE (a deferred one would fail with SQLITE_BUSY once another commits);
   * PostgreSQL: an EXCLUSIVE table lock (reads go on); MySQL: the last row and the gap after it.
   */
  private async appending<T>(
    table: string,
    key: string,
    f: (trx: AnyDb) => Promise<T>,
    /** Also appended to in the same transaction, locked after `table`: the audit log. */
    also: readonly [string, string][] = [],
  ): Promise<T> {
    if (this.conn.dialect === 'sqlite')
      return this.conn.db.connection().execute(async (db) => {
        await sql`BEGIN IMMEDIATE`.execute(db);
        try {
          const result = await f(db);
          await sql`COMMIT`.execute(db);
          return result;
        } catch (error) {
          await sql`ROLLBACK`.execute(db).catch(() => {});
          throw error;
        }
      });
    // MySQL: two writers waiting on the last row both hold the gap after it, and the first one's
    // insert then waits on the second: InnoDB ends one as a deadlock victim, rolled back whole.
    // It is run again (what `f` does is all in the transaction), a few times, then told.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.conn.db.transaction().execute(async (trx) => {
          for (const [name, column] of [[table, key] as const, ...also]) {
            if (this.conn.dialect === 'postgres')
              await sql`LOCK TABLE ${sql.table(name)} IN EXCLUSIVE MODE`.execute(trx);
            else
              await sql`SELECT ${sql.ref(column)} FROM ${sql.table(name)} ORDER BY ${sql.ref(column)} DESC LIMIT 1 FOR UPDATE`.execute(
                trx,
              );
          }
          return f(trx);
        });
      } catch (error) {
        if (attempt >= DEADLOCK_RETRIES || !isDeadlock(error)) throw error;
        await new Promise((r) => setTimeout(r, randomInt(5, 20 * attempt)));
      }
    }
  }

  /** Appends one entry to the audit log, chained to the last one, then moves the checkpoint. */
  async audit(kind: string, data: Record<string, unknown>): Promise<AuditEntry> {
    const entry = await this.appending('audit_log', 'position', (trx) => this.appendEntry(trx, kind, data));
    await this.appended(entry);
    return entry;
  }

  /**
   * The log's next entry, written in the caller's transaction (which holds the log's lock); the
   * log's head in the state store moves to it in the same transaction. `accept`: the DPO takes
   * the log as it is (audit accept-head): the head is set, not compared.
   */
  private async appendEntry(
    trx: AnyDb,
    kind: string,
    data: Record<string, unknown>,
    accept = false,
  ): Promise<AuditEntry> {
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash', 'position', 'key_id'])
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    const lastHead = last
      ? {
          seq: Number(last.seq),
          hash: String(last.hash),
          keyed: last.key_id !== null && last.key_id !== undefined,
        }
      : null;
    // The head is the entry this process wrote last: nothing was cut or added since.
    const ours =
      lastHead !== null &&
      this.lastHead !== null &&
      lastHead.seq === this.lastHead.seq &&
      lastHead.hash === this.lastHead.hash;
    const head = ours ? this.lastHead : await this.readHead(trx);
    if (!accept && !ours) {
      const broken = this.headProblems(head, lastHead, null);
      if (broken.length) throw logBroken(broken);
      const checkpoint = await this.readCheckpoint();
      if (checkpoint) await this.assertHeadMatches(trx, checkpoint, last);
    }
    const keyId = this.keyId;
    const sealed = sealEntry(
      {
        seq: lastHead ? lastHead.seq + 1 : 1,
        at: now(),
        kind,
        data,
        prevHash: lastHead ? lastHead.hash : GENESIS,
        ...(keyId ? { keyId } : {}),
      },
      this.hash,
    );
    await trx
      .insertInto('audit_log')
      .values({
        position: last ? Number(last.position) + 1 : 1,
        seq: sealed.seq,
        at: sealed.at,
        kind,
        data: JSON.stringify(data),
        prev_hash: sealed.prevHash,
        hash: sealed.hash,
        key_id: keyId ?? null,
      })
      .execute();
    const entries = accept ? await countEntries(trx) : (head?.entries ?? 0) + 1;
    const next = { seq: sealed.seq, hash: sealed.hash, entries };
    const row = { ...next, mac: this.seal(headText(next)), at: now() };
    if (head && !accept) {
      // Only from the head read (or written) under this lock: a row changed since is not moved.
      const moved = await trx
        .updateTable('audit_head')
        .set(row)
        .where('name', '=', 'audit')
        .where('mac', '=', head.mac)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1)
        throw logBroken([
          {
            seq: head.seq,
            problem: 'edited',
            message: 'the checkpoint of the log head in the state store was changed outside registre',
          },
        ]);
    } else {
      await trx.deleteFrom('audit_head').where('name', '=', 'audit').execute();
      await trx
        .insertInto('audit_head')
        .values({ name: 'audit', ...row })
        .execute();
    }
    this.written = { ...next, mac: row.mac };
    return sealed;
  }

  /** After an entry's transaction committed: the checkpoint in the archive store moves to it. */
  private async appended(entry: AuditEntry, accept = false): Promise<void> {
    if (this.written?.seq === entry.seq) this.lastHead = this.written;
    await this.writeCheckpoint({ seq: entry.seq, hash: entry.hash }, accept);
  }

  /** The head this process wrote last (committed), and the one of the transaction under way. */
  private lastHead: StoredHead | null = null;
  private written: StoredHead | null = null;

  private async readHead(db: AnyDb): Promise<StoredHead | null> {
    const row = await db.selectFrom('audit_head').selectAll().where('name', '=', 'audit').executeTakeFirst();
    return row
      ? { seq: Number(row.seq), hash: String(row.hash), entries: Number(row.entries), mac: String(row.mac) }
      : null;
  }

  /**
   * Whether the head carries the seal of a key of the ring; a head without a key only while the
   * entry it names was itself sealed without one (before a key was configured), as the chain.
   */
  private headSealed(head: StoredHead, last: LastEntry | null): boolean {
    if (head.mac.startsWith('none:') && last?.seq === head.seq && !last.keyed)
      return head.mac === `none:${createHash('sha256').update(headText(head)).digest('hex')}`;
    return this.sealMatches(headText(head), head.mac);
  }

  /**
   * Where the log and its head in the state store disagree (`entries`: the number of entries
   * counted, when it was).
   */
  private headProblems(
    head: StoredHead | null,
    last: LastEntry | null,
    entries: number | null,
  ): ChainProblem[] {
    const lastSeq = last?.seq ?? 0;
    if (!head)
      return last
        ? [
            {
              seq: lastSeq,
              problem: 'deleted',
              message: `the log has entries (up to entry ${lastSeq}) but the state store holds no checkpoint of its head: the checkpoint was deleted, maybe with the log's tail`,
            },
          ]
        : [];
    const keyId = head.mac.slice(0, Math.max(0, head.mac.indexOf(':')));
    if (this.hasKey && keyId !== 'none' && !this.keyRing().keyed.has(keyId))
      return [
        {
          seq: head.seq,
          problem: 'other-key',
          message: `the checkpoint of the log head in the state store was sealed with key ${keyId}, which is not configured here: it cannot be checked`,
        },
      ];
    if (!this.headSealed(head, last))
      return [
        {
          seq: head.seq,
          problem: 'edited',
          message:
            'the checkpoint of the log head in the state store does not carry a valid key signature: it was forged or edited',
        },
      ];
    if (lastSeq < head.seq)
      return [
        {
          seq: head.seq,
          problem: 'deleted',
          message: `the log ends at entry ${lastSeq}, but its checkpoint in the state store says entry ${head.seq} was written: the tail was deleted (truncated)`,
        },
      ];
    if (lastSeq > head.seq)
      return [
        {
          seq: lastSeq,
          problem: 'inserted',
          message: `the log goes on to entry ${lastSeq} past its checkpoint in the state store (entry ${head.seq}): entries were added outside registre`,
        },
      ];
    if (last?.hash !== head.hash)
      return [
        {
          seq: head.seq,
          problem: 'edited',
          message: `entry ${head.seq} is not the one its checkpoint in the state store recorded: the log was rewritten`,
        },
      ];
    if (entries !== null && entries !== head.entries)
      return [
        {
          seq: head.seq,
          problem: entries < head.entries ? 'deleted' : 'inserted',
          message: `the log holds ${entries} entries, its checkpoint in the state store ${head.entries}: entries were ${entries < head.entries ? 'deleted from' : 'added to'} it`,
        },
      ];
    return [];
  }

  /**
   * Whether the log is whole up to its checkpoints: its last entry and its number of entries are
   * those of the head in the state store, and the copy in the archive store is not ahead of it.
   * Cheap (the last entry, a count, two rows): run before anything changes data.
   */
  async checkLogWhole(): Promise<{ problems: ChainProblem[]; warnings: string[] }> {
    // The archive store's copy first (it moves only after a commit, so it cannot be ahead of what
    // is read next), then the last entry, the count and the head as one snapshot, without taking
    // the log's lock: a sweep appending meanwhile is neither waited for nor taken for a truncation.
    const checkpoint = this.keys.checkpoint ? await this.readCheckpoint() : undefined;
    if (this.conn.dialect === 'sqlite')
      return this.conn.db.transaction().execute((trx) => this.checkLogWholeIn(trx, checkpoint));
    return this.conn.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute((trx) => this.checkLogWholeIn(trx, checkpoint));
  }

  private async checkLogWholeIn(
    db: AnyDb,
    checkpoint: Awaited<ReturnType<StateStore['readCheckpoint']>> | undefined,
  ): Promise<{ problems: ChainProblem[]; warnings: string[] }> {
    const lastRow = await db
      .selectFrom('audit_log')
      .select(['seq', 'hash', 'key_id'])
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    const last = lastRow
      ? {
          seq: Number(lastRow.seq),
          hash: String(lastRow.hash),
          keyed: lastRow.key_id !== null && lastRow.key_id !== undefined,
        }
      : null;
    const entries = await countEntries(db);
    const head = await this.readHead(db);
    const problems = this.headProblems(head, last, entries);
    const warnings: string[] = [];
    if (checkpoint === undefined) return { problems, warnings };
    const headSeq = head && this.headSealed(head, last) ? head.seq : null;
    if (!checkpoint) {
      if (entries)
        problems.push({
          seq: last?.seq ?? 0,
          problem: 'deleted',
          message: `the log has ${entries} entries but the archive store holds no checkpoint of its head: the checkpoint was deleted (or the archive store replaced)`,
        });
    } else if (checkpoint.valid === null)
      problems.push({
        seq: checkpoint.seq,
        problem: 'other-key',
        message: `the checkpoint of the log head in the archive store was signed with key ${checkpoint.keyId}, which is not configured here: it cannot be checked`,
      });
    else if (!checkpoint.valid)
      problems.push({
        seq: checkpoint.seq,
        problem: 'edited',
        message:
          'the checkpoint of the log head in the archive store does not carry a valid key signature: it was forged',
      });
    else if (headSeq !== null && checkpoint.seq > headSeq)
      problems.push({
        seq: checkpoint.seq,
        problem: 'deleted',
        message: `the checkpoint in the archive store says entry ${checkpoint.seq} was written, the one in the state store says entry ${headSeq}: the state store was rolled back (its log and checkpoint put back from an older copy)`,
      });
    else if (!last || last.seq < checkpoint.seq)
      problems.push({
        seq: checkpoint.seq,
        problem: 'deleted',
        message: `the log ends at entry ${last?.seq ?? 0}, but its checkpoint in the archive store says entry ${checkpoint.seq} was written: the tail was deleted (truncated)`,
      });
    else {
      const at = await db
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', checkpoint.seq)
        .executeTakeFirst();
      if (String(at?.hash) !== checkpoint.hash)
        problems.push({
          seq: checkpoint.seq,
          problem: 'edited',
          message: `entry ${checkpoint.seq} is not the one its checkpoint in the archive store recorded: the log was rewritten`,
        });
      else if (headSeq !== null && checkpoint.seq < headSeq)
        warnings.push(
          `the checkpoint in the archive store is at entry ${checkpoint.seq}, the log at entry ${headSeq}: a command stopped between its commit and the copy; the next write moves it`,
        );
    }
    return { problems, warnings };
  }

  /**
   * Refuses (E_LOG_BROKEN) when the log is not whole up to its checkpoints: nothing that changes
   * data goes on until the DPO has looked (audit verify) and resolved it (audit accept-head).
   */
  async assertLogWhole(): Promise<void> {
    const { problems } = await this.checkLogWhole();
    // Without a key nothing can be checked against one: the command says it needs the key.
    const found = this.hasKey ? problems : problems.filter((p) => p.problem !== 'other-key');
    if (found.length) throw logBroken(found);
  }

  /**
   * Takes the log as it is now as the truth (after the DPO investigated a broken head): appends
   * `audit.accept-head` with what was found, and sets both checkpoints to it, even backwards.
   */
  async acceptHead(data: Record<string, unknown>): Promise<AuditEntry> {
    const entry = await this.appending('audit_log', 'position', (trx) =>
      this.appendEntry(trx, 'audit.accept-head', data, true),
    );
    await this.appended(entry, true);
    return entry;
  }

  /**
   * A store upgraded to the head in the state store: the head is the log's last entry, taken
   * once, when the migration that added it runs (the archive store's copy still checks it).
   */
  private async seedHead(): Promise<void> {
    await this.appending('audit_log', 'position', async (trx) => {
      if (await this.readHead(trx)) return;
      const last = await trx
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .orderBy('position', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!last) return;
      const head = { seq: Number(last.seq), hash: String(last.hash), entries: Number(last.seq) };
      await trx
        .insertInto('audit_head')
        .values({ name: 'audit', ...head, mac: this.seal(headText(head)), at: now() })
        .execute();
    });
  }

  /** A log shorter than its checkpoint, or different at it, was truncated or rewritten: stop. */
  private async assertHeadMatches(
    trx: AnyDb,
    checkpoint: AuditHead,
    last: { seq: unknown; hash: unknown } | undefined,
  ): Promise<void> {
    if (last && Number(last.seq) === checkpoint.seq && String(last.hash) === checkpoint.hash) return;
    const at = await trx
      .selectFrom('audit_log')
      .select('hash')
      .where('seq', '=', checkpoint.seq)
      .executeTakeFirst();
    if (at && String(at.hash) === checkpoint.hash) return;
    throw new RegistreError(
      'E_AUDIT_TRUNCATED',
      `the audit log does not reach its checkpoint (entry ${checkpoint.seq}, kept in the archive store): it was truncated or rewritten; nothing more is written to it. Run registre audit verify, and restore the state store from a backup`,
    );
  }

  /**
   * The checkpoint of the log's head; `valid` when its signature checks with the key it names
   * (`valid: null` when that key is not configured here).
   */
  async readCheckpoint(): Promise<(AuditHead & { valid: boolean | null; keyId: string | null }) | null> {
    const store = this.keys.checkpoint;
    if (!store) return null;
    const row = await store.db
      .selectFrom(CHECKPOINT_TABLE)
      .selectAll()
      .where('name', '=', 'audit')
      .executeTakeFirst();
    if (!row) return null;
    const head = { seq: Number(row.seq), hash: String(row.hash) };
    const keyId = row.key_id === null || row.key_id === undefined ? null : String(row.key_id);
    const ring = this.keyRing();
    const hasher = keyId === null ? ring.unkeyed : ring.keyed.get(keyId);
    return { ...head, keyId, valid: hasher ? String(row.mac) === this.checkpointMac(head, hasher) : null };
  }

  private checkpointMac(head: AuditHead, hasher: Hasher = this.hash): string {
    return hasher(`registre checkpoint\u0000${head.seq}\u0000${head.hash}`);
  }

  /** The copy in the archive store; only forward, unless the DPO accepted the log (`force`). */
  private async writeCheckpoint(head: AuditHead, force = false): Promise<void> {
    const store = this.keys.checkpoint;
    if (!store) return;
    const mac = this.checkpointMac(head);
    // One statement, and only forward: a process that appended earlier must not move it back.
    const row = { name: 'audit', seq: head.seq, hash: head.hash, key_id: this.keyId ?? null, mac, at: now() };
    if (store.dialect === 'mysql') {
      const newer = force ? sql`TRUE` : sql`seq < VALUES(seq)`;
      await sql`INSERT INTO ${sql.table(CHECKPOINT_TABLE)} (name, seq, hash, key_id, mac, at)
        VALUES (${row.name}, ${row.seq}, ${row.hash}, ${row.key_id}, ${row.mac}, ${row.at})
        ON DUPLICATE KEY UPDATE hash = IF(${newer}, VALUES(hash), hash), key_id = IF(${newer}, VALUES(key_id), key_id),
          mac = IF(${newer}, VALUES(mac), mac), at = IF(${newer}, VALUES(at), at), seq = IF(${newer}, VALUES(seq), seq)`.execute(
        store.db,
      );
      return;
    }
    await store.db
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
        return force
          ? update
          : update.where(sql.ref(`${CHECKPOINT_TABLE}.seq`), '<', sql.ref('excluded.seq'));
      })
      .execute();
  }

  /** The audit log in storage order (of some kinds only, when given). */
  async auditEntries(kinds?: readonly string[]): Promise<AuditEntry[]> {
    let query = this.conn.db.selectFrom('audit_log').selectAll().orderBy('position');
    if (kinds?.length) query = query.where('kind', 'in', kinds);
    const rows = await query.execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: String(r.at),
      kind: String(r.kind),
      data: JSON.parse(String(r.data)) as Record<string, unknown>,
      prevHash: String(r.prev_hash),
      hash: String(r.hash),
      ...(r.key_id === null || r.key_id === undefined ? {} : { keyId: String(r.key_id) }),
    }));
  }

  /** Keeps a reason's text (a hold's, an archive read's) by its keyed hash, which the log carries. */
  async keepReason(text: string): Promise<string> {
    const hash = this.digest(text);
    const existing = await this.conn.db
      .selectFrom('reasons')
      .select('hash')
      .where('hash', '=', hash)
      .executeTakeFirst();
    if (!existing)
      await this.conn.db.insertInto('reasons').values({ hash, text, created_at: now() }).execute();
    return hash;
  }

  async reasons(): Promise<Map<string, string>> {
    const rows = await this.conn.db.selectFrom('reasons').selectAll().execute();
    return new Map(rows.map((r) => [String(r.hash), String(r.text)]));
  }

  /**
   * Adds one hold case over `records`, all its rows in one transaction (a crash adds all or
   * none); returns the case's number (the next one: 1, 2, 3) and its rows' ids.
   */
  async addHolds(
    records: readonly { store: string; table: string; key: string }[],
    hold: {
      person?: string;
      reason: string;
      reasonHash?: string;
      actor?: string;
      until?: string;
      kind?: 'hold' | 'restriction';
    },
    /**
     * The log entry that records it (`hold.add`, from the case's number and the rows' ids),
     * written in the same transaction: a sweep that checks the holds against the log never sees
     * one without the other.
     */
    log?: (added: HoldsAdded) => Record<string, unknown>,
  ): Promise<HoldsAdded> {
    const { added, entry } = await this.appending(
      'holds',
      'id',
      async (trx) => {
        // Both from one statement, under the holds table's lock: two cases never share a number.
        const last = await trx
          .selectFrom('holds')
          .select([sql<number>`max(id)`.as('m'), sql<number>`max(coalesce(case_id, id))`.as('c')])
          .executeTakeFirst();
        const first = Number(last?.m ?? 0) + 1;
        const number = Number(last?.c ?? 0) + 1;
        const created = now();
        const ids = records.map((_, i) => first + i);
        for (let i = 0; i < records.length; i += 500)
          await trx
            .insertInto('holds')
            .values(
              records.slice(i, i + 500).map((r, j) => ({
                id: first + i + j,
                case_id: number,
                store: r.store,
                table_name: r.table,
                record_key: r.key,
                person: hold.person ?? null,
                reason: hold.reason,
                reason_hash: hold.reasonHash ?? null,
                actor: hold.actor ?? null,
                until: hold.until ?? null,
                created_at: created,
                released_at: null,
                ...(hold.kind === 'restriction' ? { kind: 'restriction' } : {}),
              })),
            )
            .execute();
        const added = { case: number, ids };
        return { added, entry: log ? await this.appendEntry(trx, 'hold.add', log(added)) : null };
      },
      log ? [['audit_log', 'position']] : [],
    );
    if (entry) await this.appended(entry);
    return added;
  }

  /** Releases a hold case: every record it holds, and logs it (`log`) in the same transaction. */
  async releaseHold(id: number, log?: (released: HoldCase) => Record<string, unknown>): Promise<HoldCase> {
    const found = await this.holdCase(id);
    // Named by its own number only: never another hold's, whose rows' ids may be this number.
    if (!found)
      throw new RegistreError('E_HOLD_NOT_FOUND', `no hold ${id}: registre hold list --all shows every hold`);
    if (found.releasedAt)
      throw new RegistreError(
        'E_HOLD_RELEASED',
        `no hold ${id} in force: it was released on ${found.releasedAt.slice(0, 10)}`,
      );
    const entry = await this.appending(
      'holds',
      'id',
      async (trx) => {
        await trx.updateTable('holds').set({ released_at: now() }).where('case_id', '=', id).execute();
        return log ? this.appendEntry(trx, 'hold.release', log(found)) : null;
      },
      log ? [['audit_log', 'position']] : [],
    );
    if (entry) await this.appended(entry);
    return found;
  }

  /** One hold case with its records, released or not; undefined when there is none. */
  async holdCase(id: number): Promise<HoldCase | undefined> {
    return holdCases(await this.holds({ includeReleased: true, caseId: id }))[0];
  }

  /**
   * The holds: by default those in force on `at` (not released, and not ended before it: a hold
   * until D holds on D itself); `includeReleased` lists every hold ever added;
   * `caseId` and `id` narrow it to one case, one row.
   */
  async holds(
    options: { includeReleased?: boolean; at?: string; caseId?: number; id?: number } = {},
  ): Promise<HoldRow[]> {
    let query = this.conn.db.selectFrom('holds').selectAll().orderBy('id');
    if (options.id !== undefined) query = query.where('id', '=', options.id);
    if (options.caseId !== undefined) query = query.where('case_id', '=', options.caseId);
    if (!options.includeReleased) {
      query = query.where('released_at', 'is', null);
      if (options.at !== undefined) {
        const at = options.at;
        query = query.where((eb) => eb.or([eb('until', 'is', null), eb('until', '>=', at)]));
      }
    }
    return (await query.execute()).map((r) => ({
      id: Number(r.id),
      caseId: r.case_id === null || r.case_id === undefined ? Number(r.id) : Number(r.case_id),
      store: String(r.store),
      table: String(r.table_name),
      key: String(r.record_key),
      person: r.person === null ? null : String(r.person),
      reason: String(r.reason),
      reasonHash: r.reason_hash === null || r.reason_hash === undefined ? null : String(r.reason_hash),
      actor: r.actor === null || r.actor === undefined ? null : String(r.actor),
      until: r.until === null ? null : String(r.until),
      createdAt: String(r.created_at),
      releasedAt: r.released_at === null ? null : String(r.released_at),
      kind: r.kind === 'restriction' ? 'restriction' : 'hold',
    }));
  }

  /** A row's keyed MAC (`keyId:hex`; `none:` and a plain SHA-256 in a store without a key). */
  private seal(text: string): string {
    const key = this.keys.key;
    if (!key) return `none:${createHash('sha256').update(text).digest('hex')}`;
    return `${keyIdOf(key)}:${hmacHex(key, text)}`;
  }

  /**
   * Whether `mac` seals `text` under a key of the ring (the one in force or one of before a
   * rotation). A store opened without any key cannot check: it only shows, never runs.
   */
  private sealMatches(text: string, mac: string | null): boolean {
    if (!this.hasKey) return true;
    if (!mac) return false;
    const at = mac.indexOf(':');
    const hash = this.keyRing().keyed.get(mac.slice(0, at));
    return hash !== undefined && hash(text) === mac.slice(at + 1);
  }

  private checkedRequest(row: RequestRow): RequestRow {
    if (!this.sealMatches(requestMacText(row), row.mac))
      throw new RegistreError(
        'E_STATE_TAMPERED',
        `request ${row.id} in the state store does not match its seal: the row was changed outside registre (by hand, or restored from elsewhere); nothing is done with it. Compare it with the audit log (registre audit export) and restore the state store from a backup`,
      );
    return row;
  }

  private sealedRequest(row: Omit<RequestRow, 'mac'>): string {
    return this.seal(requestMacText(row));
  }

  /**
   * Seals the rows of before the seals (a store upgraded to this version): once, when the
   * migration that added them runs, with the key in force.
   */
  private async sealUnsealed(): Promise<void> {
    for (const raw of await this.conn.db
      .selectFrom('requests')
      .selectAll()
      .where('mac', 'is', null)
      .execute()) {
      const row = requestOf(raw);
      await this.conn.db
        .updateTable('requests')
        .set({ mac: this.sealedRequest(row) })
        .where('id', '=', row.id)
        .where('mac', 'is', null)
        .execute();
    }
    for (const raw of await this.conn.db
      .selectFrom('erasures')
      .selectAll()
      .where('mac', 'is', null)
      .execute()) {
      const row = erasureOf(raw);
      await this.conn.db
        .updateTable('erasures')
        .set({ mac: this.seal(erasureMacText(row)) })
        .where('id', '=', row.id)
        .where('mac', 'is', null)
        .execute();
    }
  }

  /**
   * Opens a request: its id is the next one, whichever process asks, and its `request.open`
   * entry (from the new id) is written in the same transaction. With `unlessOpen`, the person's
   * open request of the same type is looked for in that transaction too, under the same lock:
   * two processes opening the same request at once open one, and the other gets the duplicate.
   */
  async addRequest(
    request: Omit<
      RequestRow,
      | 'id'
      | 'createdAt'
      | 'updatedAt'
      | 'codeHash'
      | 'codeExpiresAt'
      | 'attempts'
      | 'outcome'
      | 'codes'
      | 'codeSentAt'
      | 'mail'
      | 'version'
      | 'mac'
    >,
    options: {
      unlessOpen?: boolean;
      log?: (row: RequestRow) => Record<string, unknown>;
    } = {},
  ): Promise<{ row: RequestRow; duplicate: false } | { row: RequestRow; duplicate: true }> {
    const done = await this.appending(
      'requests',
      'id',
      async (trx) => {
        if (options.unlessOpen) {
          const open = await trx
            .selectFrom('requests')
            .selectAll()
            .where('person', '=', request.person)
            .where('type', '=', request.type)
            .where('status', 'not in', ['done', 'refused'])
            .orderBy('id')
            .limit(1)
            .executeTakeFirst();
          if (open) return { id: Number(open.id), duplicate: true as const, entry: null };
        }
        const last = await trx.selectFrom('requests').select(sql<number>`max(id)`.as('m')).executeTakeFirst();
        const next = Number(last?.m ?? 0) + 1;
        const stamp = now();
        const row: RequestRow = {
          ...request,
          id: next,
          codeHash: null,
          codeExpiresAt: null,
          attempts: 0,
          outcome: null,
          codes: 0,
          codeSentAt: null,
          mail: null,
          version: 0,
          mac: null,
          createdAt: stamp,
          updatedAt: stamp,
        };
        await trx
          .insertInto('requests')
          .values({
            id: next,
            type: request.type,
            status: request.status,
            email: request.email,
            person: request.person,
            received: request.received,
            due: request.due,
            extended_months: request.extendedMonths,
            details: JSON.stringify(request.details),
            attempts: 0,
            codes: 0,
            version: 0,
            mac: this.sealedRequest(row),
            created_at: stamp,
            updated_at: stamp,
          })
          .execute();
        const entry = options.log ? await this.appendEntry(trx, 'request.open', options.log(row)) : null;
        return { id: next, duplicate: false as const, entry };
      },
      options.log ? [['audit_log', 'position']] : [],
    );
    if (done.entry) await this.appended(done.entry);
    const row = (await this.request(done.id)) as RequestRow;
    return done.duplicate ? { row, duplicate: true } : { row, duplicate: false };
  }

  /** One request, its seal checked (E_STATE_TAMPERED when the row was changed outside registre). */
  async request(id: number): Promise<RequestRow | undefined> {
    const row = await this.conn.db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.checkedRequest(requestOf(row)) : undefined;
  }

  async requests(options: { person?: string } = {}): Promise<RequestRow[]> {
    let query = this.conn.db.selectFrom('requests').selectAll().orderBy('id');
    if (options.person !== undefined) query = query.where('person', '=', options.person);
    return (await query.execute()).map((r) => this.checkedRequest(requestOf(r)));
  }

  /**
   * One step of a request's lifecycle: the change, on the condition that the row is still the
   * one read (`expected`: its status, attempts and version), and its audit entry, in one
   * transaction. When another process moved the request first, nothing is written or logged:
   * E_REQUEST_CHANGED. Returns the row as it now is.
   */
  async transitionRequest(
    id: number,
    expected: Pick<RequestRow, 'status' | 'attempts' | 'version'>,
    change: RequestChange,
    entry: { kind: string; data: Record<string, unknown> },
  ): Promise<RequestRow> {
    // The requests' lock, then the log's: the order of `addRequest`, so neither waits on the other.
    const written = await this.appending(
      'requests',
      'id',
      async (trx) => {
        const raw = await trx.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
        if (!raw) throw new RegistreError('E_REQUEST_NOT_FOUND', `there is no request ${id}`);
        const before = this.checkedRequest(requestOf(raw));
        const after = this.changedRequest(before, change);
        const result = await trx
          .updateTable('requests')
          .set({ ...this.requestSet(change), version: after.version, mac: after.mac })
          .where('id', '=', id)
          .where('status', '=', expected.status)
          .where('attempts', '=', expected.attempts)
          .where(sql<boolean>`coalesce(version, 0) = ${expected.version}`)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1)
          throw new RegistreError(
            'E_REQUEST_CHANGED',
            `request ${id} changed while this command ran (another command moved it first): nothing was done; look at it again (request show ${id})`,
          );
        const logged = await this.appendEntry(trx, entry.kind, entry.data);
        // The row as this change left it, read before the commit: read after it, it may already
        // be another process's next step (a wrong code answered "locked" by the lock that
        // followed it, issue 18 item 12).
        const row = await trx
          .selectFrom('requests')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        return { logged, row: this.checkedRequest(requestOf(row)) };
      },
      [['audit_log', 'position']],
    );
    await this.appended(written.logged);
    return written.row;
  }

  /** The row after `change`, its version moved and its seal made again. */
  private changedRequest(before: RequestRow, change: RequestChange): RequestRow {
    const after: Omit<RequestRow, 'mac'> = {
      ...before,
      ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)),
      version: before.version + 1,
    };
    return { ...after, mac: this.sealedRequest(after) };
  }

  private requestSet(change: RequestChange): Record<string, unknown> {
    const set: Record<string, unknown> = { updated_at: now() };
    if (change.status !== undefined) set.status = change.status;
    if (change.email !== undefined) set.email = change.email;
    if (change.due !== undefined) set.due = change.due;
    if (change.extendedMonths !== undefined) set.extended_months = change.extendedMonths;
    if (change.details !== undefined) set.details = JSON.stringify(change.details);
    if (change.codeHash !== undefined) set.code_hash = change.codeHash;
    if (change.codeExpiresAt !== undefined) set.code_expires_at = change.codeExpiresAt;
    if (change.attempts !== undefined) set.attempts = change.attempts;
    if (change.outcome !== undefined)
      set.outcome = change.outcome === null ? null : JSON.stringify(change.outcome);
    if (change.codes !== undefined) set.codes = change.codes;
    if (change.codeSentAt !== undefined) set.code_sent_at = change.codeSentAt;
    if (change.mail !== undefined) set.mail = change.mail;
    return set;
  }

  /**
   * Changes a request outside its lifecycle (no entry of its own: the caller logs what it did),
   * sealed again; prefer `transitionRequest`.
   */
  async updateRequest(id: number, change: RequestChange): Promise<RequestRow> {
    await this.conn.db.transaction().execute(async (trx) => {
      const raw = await trx.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
      if (!raw) throw new RegistreError('E_REQUEST_NOT_FOUND', `there is no request ${id}`);
      const before = this.checkedRequest(requestOf(raw));
      const after = this.changedRequest(before, change);
      const result = await trx
        .updateTable('requests')
        .set({ ...this.requestSet(change), version: after.version, mac: after.mac })
        .where('id', '=', id)
        .where(sql<boolean>`coalesce(version, 0) = ${before.version}`)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1)
        throw new RegistreError(
          'E_REQUEST_CHANGED',
          `request ${id} changed while this command ran (another command moved it first): nothing was done; look at it again (request show ${id})`,
        );
    });
    return (await this.request(id)) as RequestRow;
  }

  /**
   * After an erasure: the address leaves every closed request of the person (and a
   * rectification's corrected values with it); each row sealed again. Returns their ids.
   */
  async forgetAddress(person: string): Promise<number[]> {
    const ids: number[] = [];
    for (const row of await this.requests({ person })) {
      const { set, visitor } = row.details as { set?: Record<string, unknown>; visitor?: string };
      const inSet = set !== undefined && Object.values(set).some((v) => v !== '(erased)');
      // A visitor id identifies the person as an address does: it goes with it.
      const inDetails = inSet || (visitor !== undefined && visitor !== '(erased)');
      if (!(row.status === 'done' || row.status === 'refused') || (row.email === null && !inDetails))
        continue;
      await this.updateRequest(row.id, {
        email: null,
        ...(inDetails
          ? {
              details: {
                ...row.details,
                ...(inSet && set
                  ? { set: Object.fromEntries(Object.keys(set).map((k) => [k, '(erased)'])) }
                  : {}),
                ...(visitor !== undefined ? { visitor: '(erased)' } : {}),
              },
            }
          : {}),
      });
      ids.push(row.id);
    }
    return ids;
  }

  /** Remembers what an erasure removed, by key, for `erasure replay` after a restore. */
  async addErasure(erasure: Omit<ErasureRow, 'id' | 'mac'>): Promise<number> {
    return this.appending('erasures', 'id', async (trx) => {
      const last = await trx.selectFrom('erasures').select(sql<number>`max(id)`.as('m')).executeTakeFirst();
      const id = Number(last?.m ?? 0) + 1;
      await trx
        .insertInto('erasures')
        .values({
          id,
          request_id: erasure.requestId,
          person: erasure.person,
          at_date: erasure.at,
          records: JSON.stringify(erasure.records),
          ...(this.keyId ? { key_id: this.keyId } : {}),
          created_at: now(),
          mac: this.seal(erasureMacText({ ...erasure, id, ...(this.keyId ? { keyId: this.keyId } : {}) })),
        })
        .execute();
      return id;
    });
  }

  /**
   * Rewrites the records of an erasure (a record found held at the commit, one erased once its
   * hold ended), sealed again with the key in force.
   */
  async updateErasure(id: number, records: ErasureRow['records']): Promise<void> {
    const raw = await this.conn.db.selectFrom('erasures').selectAll().where('id', '=', id).executeTakeFirst();
    if (!raw) throw new RegistreError('E_ERASURE_NOT_FOUND', `there is no erasure ${id}`);
    const row = { ...erasureOf(raw), records };
    await this.conn.db
      .updateTable('erasures')
      .set({ records: JSON.stringify(records), mac: this.seal(erasureMacText(row)) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * What the erasures removed, each row's seal checked: a row inserted or changed by hand is
   * refused (E_STATE_TAMPERED), never replayed.
   */
  async erasures(): Promise<ErasureRow[]> {
    const rows = await this.conn.db.selectFrom('erasures').selectAll().orderBy('id').execute();
    return rows.map((r) => {
      const row = erasureOf(r);
      if (!this.sealMatches(erasureMacText(row), row.mac ?? null))
        throw new RegistreError(
          'E_STATE_TAMPERED',
          `erasure ${row.id} (request ${row.requestId}) in the state store does not match its seal: the row was added or changed outside registre; nothing is replayed. Compare it with the audit log (registre audit export) and restore the state store from a backup`,
        );
      return row;
    });
  }

  /**
   * The keys of some tables under a manual hold in force on `at`, by table, and the highest hold
   * id read (every table read up to the same one).
   */
  async heldKeys(
    store: string,
    tables: readonly string[],
    at: string,
  ): Promise<{ byTable: Map<string, string[]>; seen: number }> {
    const seen = await this.maxHoldId();
    const byTable = new Map<string, string[]>(tables.map((t) => [t, []]));
    if (tables.length === 0) return { byTable, seen };
    const rows = await this.conn.db
      .selectFrom('holds')
      .select(['table_name', 'record_key'])
      .where('store', '=', store)
      .where('table_name', 'in', tables)
      .where('released_at', 'is', null)
      .where('id', '<=', seen)
      .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>=', at)]))
      .execute();
    for (const r of rows) byTable.get(String(r.table_name))?.push(String(r.record_key));
    return { byTable, seen };
  }

  async maxHoldId(): Promise<number> {
    const row = await this.conn.db
      .selectFrom('holds')
      .select(sql<number>`max(id)`.as('m'))
      .executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  /**
   * Waits until every running sweep has read holds up to `holdId` before committing a batch, so
   * that no batch committed after this returns touches the held records. A sweep that stops
   * sending heartbeats (killed) is not waited for. A request run (lock `request:ID`) registers
   * the same way, and so does a rectification (lock `change:ID`): it re-reads the holds before each store commit and confirms them after.
   */
  async waitForSweeps(
    holdId: number,
    options: { staleAfterMs?: number; timeoutMs?: number } = {},
  ): Promise<void> {
    const staleAfter = options.staleAfterMs ?? 60_000;
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    for (;;) {
      const running = (await this.locks()).filter(
        (l) =>
          (l.name.startsWith('sweep:') || l.name.startsWith('request:') || l.name.startsWith('change:')) &&
          (l.holdsSeen ?? 0) < holdId &&
          Date.now() - Date.parse(l.heartbeatAt) < staleAfter &&
          !deadOnThisHost(l.holder),
      );
      if (running.length === 0) return;
      if (Date.now() > deadline)
        throw new RegistreError(
          'E_SWEEP_BUSY',
          `hold ${holdId} is recorded, but the sweep running (${running[0]?.holder}) has not confirmed it yet; it will not touch the records of a hold it has read — run registre status`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Takes the named lock, or says who holds it. A lock whose holder stopped sending heartbeats
   * (killed) for `staleAfterMs`, or whose process is gone on this host, is taken over.
   */
  async lock(
    name: string,
    staleAfterMs = 60_000,
    what = 'sweep',
  ): Promise<{
    holder: string;
    release: () => Promise<void>;
    beat: (holdsSeen?: number) => Promise<void>;
  }> {
    const holder = `${hostname()} pid ${process.pid}`;
    const at = now();
    const existing = await this.conn.db
      .selectFrom('locks')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing) {
      const age = Date.now() - Date.parse(String(existing.heartbeat_at));
      if (age < staleAfterMs && !deadOnThisHost(String(existing.holder)))
        throw new RegistreError(
          'E_LOCK_HELD',
          `another ${what} is running (${existing.holder}, since ${existing.acquired_at}); registre status shows it`,
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
        .values({ name, holder, acquired_at: at, heartbeat_at: at, holds_seen: 0 })
        .execute();
    } catch (cause) {
      throw new RegistreError('E_LOCK_HELD', `another ${what} took the lock at the same moment`, { cause });
    }
    return {
      holder,
      beat: async (holdsSeen?: number) => {
        const result = await this.conn.db
          .updateTable('locks')
          .set({ heartbeat_at: now(), ...(holdsSeen === undefined ? {} : { holds_seen: holdsSeen }) })
          .where('name', '=', name)
          .where('holder', '=', holder)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0)
          throw new RegistreError(
            'E_LOCK_LOST',
            'the sweep lost its lock (another process took it over after missed heartbeats); it stops here',
          );
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

  async locks(): Promise<
    {
      name: string;
      holder: string;
      acquiredAt: string;
      heartbeatAt: string;
      holdsSeen: number | null;
      alive: boolean;
    }[]
  > {
    return (await this.conn.db.selectFrom('locks').selectAll().execute()).map((r) => ({
      name: String(r.name),
      holder: String(r.holder),
      acquiredAt: String(r.acquired_at),
      heartbeatAt: String(r.heartbeat_at),
      holdsSeen: r.holds_seen === null || r.holds_seen === undefined ? null : Number(r.holds_seen),
      alive: !deadOnThisHost(String(r.holder)) && Date.now() - Date.parse(String(r.heartbeat_at)) < 60_000,
    }));
  }

  async startRun(at: string): Promise<number> {
    return this.appending('sweep_runs', 'id', async (trx) => {
      const last = await trx.selectFrom('sweep_runs').select(sql<number>`max(id)`.as('m')).executeTakeFirst();
      const id = Number(last?.m ?? 0) + 1;
      await trx
        .insertInto('sweep_runs')
        .values({ id, at_date: at, started_at: now(), finished_at: null, status: 'running', summary: null })
        .execute();
      return id;
    });
  }

  async finishRun(id: number, status: 'done' | 'failed', summary: unknown): Promise<void> {
    await this.conn.db
      .updateTable('sweep_runs')
      .set({ finished_at: now(), status, summary: JSON.stringify(summary) })
      .where('id', '=', id)
      .execute();
  }

  async runs(limit = 10): Promise<
    {
      id: number;
      at: string;
      startedAt: string;
      finishedAt: string | null;
      status: string;
      summary: Record<string, unknown> | null;
    }[]
  > {
    const rows = await this.conn.db
      .selectFrom('sweep_runs')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    const live = (await this.locks()).some((l) => l.name.startsWith('sweep:') && l.alive);
    return rows.map((r) => {
      let summary: Record<string, unknown> | null = null;
      try {
        summary = r.summary === null ? null : (JSON.parse(String(r.summary)) as Record<string, unknown>);
      } catch {
        summary = null;
      }
      // A run still marked running while no live sweep holds the lock was killed: say so.
      const status = String(r.status) === 'running' && !live ? 'died' : String(r.status);
      return {
        id: Number(r.id),
        at: String(r.at_date),
        startedAt: String(r.started_at),
        finishedAt: r.finished_at === null ? null : String(r.finished_at),
        status,
        summary,
      };
    });
  }

  /** Records files to remove (or move) once their record's deletion has committed. */
  async addPendingFiles(files: readonly Omit<PendingFile, 'id'>[]): Promise<number[]> {
    if (files.length === 0) return [];
    return this.appending('pending_files', 'id', async (trx) => {
      const last = await trx
        .selectFrom('pending_files')
        .select(sql<number>`max(id)`.as('m'))
        .executeTakeFirst();
      const start = Number(last?.m ?? 0) + 1;
      const ids = files.map((_, i) => start + i);
      for (let i = 0; i < files.length; i += 200)
        await trx
          .insertInto('pending_files')
          .values(
            files.slice(i, i + 200).map((f, j) => ({
              id: start + i + j,
              run: f.run,
              store: f.store,
              table_name: f.table,
              record_key: f.key,
              folder: f.folder,
              path: f.path,
              target: f.target,
            })),
          )
          .execute();
      return ids;
    });
  }

  async pendingFiles(): Promise<PendingFile[]> {
    return (await this.conn.db.selectFrom('pending_files').selectAll().orderBy('id').execute()).map((r) => ({
      id: Number(r.id),
      run: Number(r.run),
      store: String(r.store),
      table: String(r.table_name),
      key: String(r.record_key),
      folder: String(r.folder),
      path: String(r.path),
      target: r.target === null ? null : String(r.target),
    }));
  }

  async clearPendingFiles(ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500)
      await this.conn.db
        .deleteFrom('pending_files')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
  }
}

async function ensureCheckpointTable(store: Connection): Promise<void> {
  await store.db.schema
    .createTable(CHECKPOINT_TABLE)
    .ifNotExists()
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('key_id', 'varchar(64)')
    .addColumn('mac', 'varchar(64)', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

function deadOnThisHost(holder: string): boolean {
  return holder.startsWith(`${hostname()} pid `) && !alive(Number(holder.split('pid ')[1]));
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
