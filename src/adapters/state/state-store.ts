/**
 * The engine's own state: manual holds, requests and erasures, sweep runs, locks, pending files
 * and the audit log. SQLite next to the configuration by default, PostgreSQL or MySQL/MariaDB
 * when configured; versioned migrations (Kysely's Migrator, `migrations/`) are applied whenever
 * it is opened. A facade over one module by concern, all over one typed database (`schema.ts`),
 * whose writes go with their audit entry through one `transaction` (`transaction.ts`).
 */
import { userInfo } from 'node:os';
import type { AuditEntry, ChainProblem, Hasher, KeyRing } from '../../core/audit/audit-chain.js';
import { RegistreError } from '../../core/errors.js';
import type { RequestChange } from '../../core/requests/lifecycle.js';
import { safeMessage } from '../../core/safe-message.js';
import { parseStoreUrl } from '../../core/store-url.js';
import { type Connection, connect, localStoreMissing, resolveUrl } from '../sql/connect.js';
import { tableNames } from '../sql/introspect.js';
import { type Kysely, Migrator, sql } from '../sql/kysely.js';
import { AuditLog, type Checkpoint, ensureCheckpointTable, logBroken } from './audit-log.js';
import { Breaches } from './breaches.js';
import { Consents } from './consents.js';
import { type ErasureRow, Erasures } from './erasures.js';
import { type HoldCase, type HoldRow, Holds, type HoldsAdded, type NewHold } from './holds.js';
import { type HeldLock, type LockInfo, Locks } from './locks.js';
import { AUDIT_HEAD_MIGRATION, migrations, REQUEST_MAC_MIGRATION } from './migrations/index.js';
import { type PendingFile, PendingFiles } from './pending-files.js';
import { Reasons } from './reasons.js';
import { type NewRequest, type RequestRow, Requests } from './requests.js';
import { Runs, type SweepRun } from './runs.js';
import { type RunClaim, type ScheduledRunRow, ScheduledRuns } from './scheduled-runs.js';
import type { AppendTable, CheckpointDatabase, StateDb } from './schema.js';
import { Sealer, type StateKeys } from './seal.js';
import { Sessions } from './sessions.js';
import { stateDialect } from './state-dialect.js';
import { Figures, RateLimits, Tokens } from './tokens.js';
import { type StateTx, type Transaction, transactions, WritesUnderWay } from './transaction.js';

export type { AuditHead } from './audit-log.js';
export type { NewBreach } from './breaches.js';
export type { ConsentsAppended, NewConsentEvent } from './consents.js';
export type { ErasureRow } from './erasures.js';
export { type HoldCase, type HoldRow, type HoldsAdded, holdCases } from './holds.js';
export type { PendingFile } from './pending-files.js';
export type { NewRequest, RequestRow } from './requests.js';
export {
  claimAlive,
  type HeldRun,
  type RunClaim,
  type ScheduledRunRow,
  type ScheduledRunStatus,
} from './scheduled-runs.js';
export type { StateDatabase } from './schema.js';
export type { StateKeys } from './seal.js';
export type { TokenRow } from './tokens.js';
export type { StateTx } from './transaction.js';

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
 * Why the migration failed, in a fixed text: the migrator's own refusal of the recorded
 * migrations, or the driver's code (never the database's message, which can quote a row).
 */
function migrationFailure(error: unknown): string {
  if (error instanceof Error && /^corrupted migrations/.test(error.message) && !('code' in error))
    return 'its record of migrations does not match this version of registre (one it does not know, or out of order: was a newer version run on it?)';
  return safeMessage(error);
}

/** The person running the command, for the audit log (later, the API token's name). */
export function currentActor(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export class StateStore {
  private readonly sealer: Sealer;
  private readonly log: AuditLog;
  private readonly write: Transaction;
  private readonly underWay = new WritesUnderWay();
  private readonly reasonTexts: Reasons;
  private readonly holdRows: Holds;
  private readonly requestRows: Requests;
  private readonly erasureRows: Erasures;
  private readonly lockRows: Locks;
  private readonly runRows: Runs;
  private readonly files: PendingFiles;
  private readonly scheduled: ScheduledRuns;
  /** The consent ledger. */
  readonly consents: Consents;
  /** The service's API tokens. */
  readonly tokens: Tokens;
  /** The console's sessions, each opened with a token. */
  readonly sessions: Sessions;
  /** The service's rate-limit windows, shared by its processes. */
  readonly rateLimits: RateLimits;
  /** The last plan's and forecast's figures, with their date. */
  readonly figures: Figures;
  /** The register of personal data breaches (art. 33(5)). */
  readonly breaches: Breaches;

  private constructor(
    readonly conn: Connection,
    private readonly keys: StateKeys,
  ) {
    const db = conn.db as StateDb;
    const dialect = stateDialect(conn.dialect);
    this.sealer = new Sealer(keys);
    const checkpoint = keys.checkpoint;
    this.log = new AuditLog(
      db,
      dialect,
      this.sealer,
      checkpoint
        ? { db: checkpoint.db as Kysely<CheckpointDatabase>, dialect: stateDialect(checkpoint.dialect) }
        : undefined,
    );
    this.write = transactions(
      db,
      dialect,
      this.log,
      (entry, accept) => this.appended(entry, accept),
      this.underWay,
    );
    this.reasonTexts = new Reasons(db, this.sealer);
    this.holdRows = new Holds(db, this.write);
    this.requestRows = new Requests(db, this.write, this.sealer);
    this.erasureRows = new Erasures(db, this.write, this.sealer);
    this.lockRows = new Locks(db);
    this.runRows = new Runs(db, this.write, this.lockRows);
    this.files = new PendingFiles(db, this.write);
    this.scheduled = new ScheduledRuns(db, this.write);
    this.consents = new Consents(db, this.write, this.sealer);
    this.tokens = new Tokens(db, this.write, this.sealer);
    this.sessions = new Sessions(db, this.write, this.sealer);
    this.rateLimits = new RateLimits(db, conn.dialect);
    this.figures = new Figures(db);
    this.breaches = new Breaches(db, this.write, this.sealer);
  }

  /** Opens (creating it if needed) and migrates the state store. */
  static async open(url: string, baseDir: string, keys: StateKeys = {}): Promise<StateStore> {
    const conn = await connect('state', resolveUrl('state', url), { baseDir, create: true, private: true });
    let sealing = false;
    let seeding = false;
    if (!(await migrated(conn))) {
      // On PostgreSQL, the migrator and the migrations look in the store's own schema only: by
      // default Kysely's take a registre_migrations of any schema of the server as this one's.
      const schema = await stateDialect(conn.dialect).currentSchema(conn.db as StateDb);
      const migrator = new Migrator({
        db: conn.db,
        provider: { getMigrations: async () => migrations(schema, conn.dialect) },
        migrationTableName: 'registre_migrations',
        migrationLockTableName: 'registre_migrations_lock',
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      // Kysely's migrator looks for its tables in the catalogue of every schema of the server:
      // a schema another application drops meanwhile fails it (3F000). Its steps run again.
      let { error, results } = await migrator.migrateToLatest();
      for (let again = 0; again < 3 && (error as { code?: unknown } | undefined)?.code === '3F000'; again++)
        ({ error, results } = await migrator.migrateToLatest());
      const ran = (name: string) =>
        results?.some((r) => r.migrationName === name && r.status === 'Success') ?? false;
      sealing = ran(REQUEST_MAC_MIGRATION);
      seeding = ran(AUDIT_HEAD_MIGRATION);
      if (error) {
        await conn.close();
        throw new RegistreError(
          'E_STATE_MIGRATION',
          `the state store (${conn.label}) could not be migrated: ${migrationFailure(error)}; nothing is lost: fix the cause and run the command again`,
          { cause: error },
        );
      }
    }
    if (keys.checkpoint) await ensureCheckpointTable(keys.checkpoint.db as Kysely<CheckpointDatabase>);
    const store = new StateStore(conn, keys);
    // Seals the rows of before the seals (a store upgraded to this version): once, with the key in force.
    if (sealing) {
      await store.requestRows.sealUnsealed();
      await store.erasureRows.sealUnsealed();
    }
    if (seeding) await store.write(['audit_log'], (tx) => store.log.seedHead(tx.db));
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
    return this.sealer.hash;
  }

  get keyId(): string | undefined {
    return this.sealer.keyId;
  }

  get hasKey(): boolean {
    return this.sealer.hasKey;
  }

  /** Every key the log can be checked with. */
  keyRing(): KeyRing {
    return this.sealer.keyRing();
  }

  /**
   * A keyed hash that stands for a value in the log (a record key, a reason, a person): the
   * auditor holding the key can check it against the value kept elsewhere; nobody else can
   * reverse it. Without a key, a plain SHA-256 (and `audit verify` warns).
   */
  digest(value: string): string {
    return this.sealer.digest(value);
  }

  /**
   * Whether `digest` stands for `value` under the key its entry was sealed with (`keyId`; none:
   * unkeyed). An entry of a key this store does not hold cannot be checked: true (audit verify
   * reports that key apart).
   */
  digestMatches(value: string, digest: string, keyId: string | undefined): boolean {
    return this.sealer.digestMatches(value, digest, keyId);
  }

  async close(): Promise<void> {
    await this.conn.close();
    if (this.keys.ownsCheckpoint) await this.keys.checkpoint?.close();
  }

  /**
   * Writes in one transaction, locking the tables appended to in their order (the audit log
   * last): `tx.audit` appends the entry that records the write, committed with it or not at all.
   */
  transaction<T>(tables: readonly AppendTable[], f: (tx: StateTx) => Promise<T>): Promise<T> {
    return this.write(tables, f);
  }

  /**
   * After an entry's transaction committed: the checkpoint in the archive store moves to it. On
   * the facade, so that a test can act between a commit and its answer (requests-codes, 18.12).
   */
  private async appended(entry: AuditEntry, accept = false): Promise<void> {
    await this.log.appended(entry, accept);
  }

  /** Appends one entry to the audit log, chained to the last one, then moves the checkpoint. */
  async audit(kind: string, data: Record<string, unknown>): Promise<AuditEntry> {
    return this.write(['audit_log'], (tx) => tx.audit(kind, data));
  }

  /**
   * Whether the log is whole up to its checkpoints: its last entry and its number of entries are
   * those of the head in the state store, and the copy in the archive store is not ahead of it.
   * Cheap (the last entry, a count, two rows): run before anything changes data.
   */
  async checkLogWhole(): Promise<{ problems: ChainProblem[]; warnings: string[] }> {
    // A write of this process between its commit and its checkpoint is not a broken log.
    await this.underWay.settled();
    return this.log.checkLogWhole();
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
    return this.write(['audit_log'], (tx) => tx.audit('audit.accept-head', data), { accept: true });
  }

  /**
   * The checkpoint of the log's head; `valid` when its signature checks with the key it names
   * (`valid: null` when that key is not configured here).
   */
  async readCheckpoint(): Promise<Checkpoint | null> {
    return this.log.readCheckpoint();
  }

  /** The audit log in storage order (of some kinds only, when given). */
  async auditEntries(kinds?: readonly string[]): Promise<AuditEntry[]> {
    return this.log.entries(kinds);
  }

  /** Keeps a reason's text (a hold's, an archive read's) by its keyed hash, which the log carries. */
  async keepReason(text: string): Promise<string> {
    return this.reasonTexts.keep(text);
  }

  async reasons(): Promise<Map<string, string>> {
    return this.reasonTexts.all();
  }

  /**
   * Adds one hold case over `records`, all its rows in one transaction (a crash adds all or
   * none); returns the case's number (the next one: 1, 2, 3) and its rows' ids.
   * `log`: the entry that records it (`hold.add`, from the case's number and the rows' ids),
   * written in the same transaction: a sweep that checks the holds against the log never sees
   * one without the other.
   */
  async addHolds(
    records: readonly { store: string; table: string; key: string }[],
    hold: NewHold,
    log?: (added: HoldsAdded) => Record<string, unknown>,
  ): Promise<HoldsAdded> {
    return this.holdRows.add(records, hold, log);
  }

  /** Releases a hold case: every record it holds, and logs it (`log`) in the same transaction. */
  async releaseHold(id: number, log?: (released: HoldCase) => Record<string, unknown>): Promise<HoldCase> {
    return this.holdRows.release(id, log);
  }

  /** One hold case with its records, released or not; undefined when there is none. */
  async holdCase(id: number): Promise<HoldCase | undefined> {
    return this.holdRows.holdCase(id);
  }

  /**
   * The holds: by default those in force on `at` (not released, and not ended before it: a hold
   * until D holds on D itself); `includeReleased` lists every hold ever added;
   * `caseId` and `id` narrow it to one case, one row.
   */
  async holds(
    options: { includeReleased?: boolean; at?: string; caseId?: number; id?: number } = {},
  ): Promise<HoldRow[]> {
    return this.holdRows.list(options);
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
    return this.holdRows.heldKeys(store, tables, at);
  }

  async maxHoldId(): Promise<number> {
    return this.holdRows.maxId();
  }

  /**
   * Opens a request: its id is the next one, whichever process asks, and its `request.open`
   * entry (from the new id) is written in the same transaction. With `unlessOpen`, the person's
   * open request of the same type is looked for in that transaction too, under the same lock:
   * two processes opening the same request at once open one, and the other gets the duplicate.
   */
  async addRequest(
    request: NewRequest,
    options: {
      unlessOpen?: boolean;
      log?: (row: RequestRow) => Record<string, unknown>;
    } = {},
  ): Promise<{ row: RequestRow; duplicate: false } | { row: RequestRow; duplicate: true }> {
    return this.requestRows.add(request, options);
  }

  /** One request, its seal checked (E_STATE_TAMPERED when the row was changed outside registre). */
  async request(id: number): Promise<RequestRow | undefined> {
    return this.requestRows.get(id);
  }

  async requests(options: { person?: string } = {}): Promise<RequestRow[]> {
    return this.requestRows.list(options);
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
    return this.requestRows.transition(id, expected, change, entry);
  }

  /**
   * Changes a request outside its lifecycle (no entry of its own: the caller logs what it did),
   * sealed again; prefer `transitionRequest`.
   */
  async updateRequest(id: number, change: RequestChange): Promise<RequestRow> {
    return this.requestRows.update(id, change);
  }

  /**
   * After an erasure: the address leaves every closed request of the person (and a
   * rectification's corrected values with it); each row sealed again. Returns their ids.
   */
  async forgetAddress(person: string): Promise<number[]> {
    return this.requestRows.forgetAddress(person);
  }

  /** Remembers what an erasure removed, by key, for `erasure replay` after a restore. */
  async addErasure(erasure: Omit<ErasureRow, 'id' | 'mac'>): Promise<number> {
    return this.erasureRows.add(erasure);
  }

  /**
   * Rewrites the records of an erasure (a record found held at the commit, one erased once its
   * hold ended), sealed again with the key in force.
   */
  async updateErasure(id: number, records: ErasureRow['records']): Promise<void> {
    return this.erasureRows.update(id, records);
  }

  /**
   * What the erasures removed, each row's seal checked: a row inserted or changed by hand is
   * refused (E_STATE_TAMPERED), never replayed.
   */
  async erasures(): Promise<ErasureRow[]> {
    return this.erasureRows.list();
  }

  /**
   * Waits until every running sweep has read holds up to `holdId` before committing a batch, so
   * that no batch committed after this returns touches the held records (see `Locks.waitForSweeps`).
   */
  async waitForSweeps(
    holdId: number,
    options: { staleAfterMs?: number; timeoutMs?: number } = {},
  ): Promise<void> {
    return this.lockRows.waitForSweeps(holdId, options);
  }

  /**
   * Takes the named lock, or says who holds it. A lock whose holder stopped sending heartbeats
   * (killed) for `staleAfterMs` (by default, its kind's time: `staleAfter`), or whose process is
   * gone on this host, is taken over.
   */
  async lock(name: string, staleAfterMs?: number, what = 'sweep'): Promise<HeldLock> {
    return this.lockRows.take(name, staleAfterMs, what);
  }

  /** Every lock held, alive or dead by its kind's time (a request run's is longer than a sweep's). */
  async locks(): Promise<LockInfo[]> {
    return this.lockRows.list();
  }

  async startRun(at: string): Promise<number> {
    return this.runRows.start(at);
  }

  async finishRun(id: number, status: 'done' | 'failed', summary: unknown): Promise<void> {
    return this.runRows.finish(id, status, summary);
  }

  /** The last `limit` sweep runs, newest first (a run left running by a killed sweep: `died`). */
  async runs(limit = 10): Promise<SweepRun[]> {
    return this.runRows.list({ limit });
  }

  /** Every sweep run, newest first. */
  async allRuns(): Promise<SweepRun[]> {
    return this.runRows.list();
  }

  /** The runs never finished, newest first: running, or `died` when no live sweep holds the lock. */
  async unfinishedRuns(): Promise<SweepRun[]> {
    return this.runRows.list({ unfinished: true });
  }

  /**
   * Claims the scheduled run `key` (`sweep:2026-11-27`) for this process: once, whichever process
   * asks first; a claim not beaten for `leaseMs` (its process killed) is taken over.
   */
  async claimScheduledRun(key: string, job: string, day: string, leaseMs: number): Promise<RunClaim> {
    return this.scheduled.claim(key, job, day, leaseMs);
  }

  /** One scheduled run by its key. */
  async scheduledRun(key: string): Promise<ScheduledRunRow | undefined> {
    return this.scheduled.get(key);
  }

  /** The scheduled runs, newest day first. */
  async scheduledRuns(options: { job?: string; limit?: number } = {}): Promise<ScheduledRunRow[]> {
    return this.scheduled.list(options);
  }

  /** Records files to remove (or move) once their record's deletion has committed. */
  async addPendingFiles(files: readonly Omit<PendingFile, 'id'>[]): Promise<number[]> {
    return this.files.add(files);
  }

  async pendingFiles(): Promise<PendingFile[]> {
    return this.files.list();
  }

  async clearPendingFiles(ids: readonly number[]): Promise<void> {
    return this.files.clear(ids);
  }
}
