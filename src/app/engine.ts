/**
 * The engine: what every use case works with, built once per process (the CLI builds one per
 * command, the service one at start). It holds the project (configuration, register, data map:
 * parsed again only when their files change), one connection per store (pooled by its driver),
 * the state and archive stores, the retention contexts, the clock and the file folders, and
 * releases them all with `close()`.
 *
 * Use cases are functions `(engine, input, context)`: a typed input (validated with its zod schema
 * at the use case, see input.ts) and a context with the actor written to the audit log (required:
 * a caller that forgets it does not compile), a signal to stop between batches and a progress
 * callback. A use case never prints and never closes what the engine holds.
 */
import { statSync } from 'node:fs';
import { readHmacKey, readHmacKeyIfAvailable, readPreviousKeys } from '../adapters/files/config-paths.js';
import { type Message, type Sent, sendMail } from '../adapters/mail/mailer.js';
import { type Connection, connect, localStoreMissing, resolveUrl } from '../adapters/sql/connect.js';
import { tableNames } from '../adapters/sql/introspect.js';
import type { RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import { StateStore } from '../adapters/state/state-store.js';
import { keyIdOf } from '../core/audit/keys.js';
import type { StoreMap } from '../core/datamap/datamap-schema.js';
import { RegistreError } from '../core/errors.js';
import { DEFAULT_ARCHIVE_URL, DEFAULT_STATE_URL } from '../core/store-url.js';
import { archiveFilesDir, foldersOf, openProject, type Project } from './project.js';

export { archiveFilesDir, foldersOf };

/** What a long use case reports as it goes: `done` of `total` in its current phase. */
export interface ProgressEvent {
  /** What is under way: `sweep`, `generate`, `replay`, `check`… */
  readonly phase: string;
  readonly done: number;
  /** The real total when it is known before the work (a sweep knows it from its plan). */
  readonly total: number;
  /** What the last step was about (a rule and its action), for a progress line. */
  readonly detail?: string;
}

/** Who calls a use case, and how it is followed. */
export interface Context {
  /**
   * Who acts, as written to the audit log: `os:alice` for the command line, the API token's name
   * for the service. Required: nothing is ever written under an actor taken from the process.
   */
  readonly actor: string;
  /** Aborted: a long use case stops cleanly between two batches (nothing half done). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** The time use cases read: an instant (codes expire, locks beat) and the calendar day (deadlines). */
export interface Clock {
  now(): Date;
  /** Today, UTC, YYYY-MM-DD. */
  today(): string;
}

export const systemClock: Clock = {
  now: () => new Date(),
  today: () => new Date().toISOString().slice(0, 10),
};

/**
 * How the engine sends a message to a person (an identity code, a letter): by default SMTP when
 * the configuration names a server (`mail.smtp`), else the outbox folder; a test or the service
 * may give its own.
 */
export type Mailer = (project: Project, from: string, message: Message) => Promise<Sent>;

const defaultMailer: Mailer = (project, from, message) =>
  sendMail(project.loaded.config.mail, project.loaded.dir, from, message);

export interface EngineOptions {
  /** The configuration file (registre.yaml); undefined: registre.yaml in the working folder, if any. */
  readonly config?: string | undefined;
  /** The clock use cases read "today" and "now" from (tests set one; the service the system's). */
  readonly clock?: Clock;
  /** How messages to people are sent (default: SMTP or the outbox, as configured). */
  readonly mailer?: Mailer;
}

export interface Engine {
  /** The configuration file this engine was built on, as given. */
  readonly configFile: string | undefined;
  readonly clock: Clock;
  /** Sends a message to a person (see Mailer). */
  readonly mailer: Mailer;
  /** Today's date, UTC, YYYY-MM-DD, from the clock. */
  today(): string;
  /**
   * The project (configuration, register, data map). `cached`: through the parse cache shared
   * by processes (for what only reads); otherwise parsed from the files, once per change.
   */
  project(options?: { cached?: boolean }): Promise<Project>;
  /**
   * The state store. `read`: what only reads (works without the key; a store that does not exist
   * yet reads as empty and is not created). `write`: needs the key when one is configured, keeps
   * the checkpoint of the log's head in the archive store, and is refused (E_LOG_BROKEN) when the
   * log is not whole up to its checkpoints, checked at every call (`{ whole: false }`: not
   * checked, for the DPO accepting the head as it is). `verify`: as it is, for `audit verify`
   * (the key if available, the archive's checkpoint if there is one), nothing checked.
   */
  state(
    mode?: 'read' | 'write' | 'verify',
    options?: { whole?: boolean; wholeWithinMs?: number },
  ): Promise<StateStore>;
  /** The archive store, created if needed; with `{ create: false }`, undefined when it does not exist. */
  archive(options?: { create?: boolean }): Promise<Connection | undefined>;
  /** The connection to a store of the data map, checked once against the data map's tables. */
  store(store: StoreMap): Promise<Connection>;
  /** The same connection, not checked against the data map (what `check` compares). */
  connection(store: StoreMap): Promise<Connection>;
  /** A store's connection with its retention SQL context (cached until the register changes). */
  retention(store: StoreMap): Promise<{ conn: Connection; ctx: RetentionSqlContext }>;
  /**
   * Closes the state store so that the next use case opens it again: after its key changed
   * (`key rotate`) or its head was accepted.
   */
  reopenState(): Promise<void>;
  /** How many times each store was opened (`shop`, `state`, `archive`): once, unless a key changed. */
  opened(): Readonly<Record<string, number>>;
  /** Releases every connection. The engine cannot be used after. */
  close(): Promise<void>;
}

/** How long a project read through the parse cache is taken without checking its files again. */
export const PROJECT_RECHECK_MS = 1000;

const stateUrlOf = (project: Project) => project.loaded.config.state?.url ?? DEFAULT_STATE_URL;

/** Builds the engine. Nothing is opened until a use case needs it. */
export function createEngine(options: EngineOptions = {}): Engine {
  return new ProjectEngine(options.config, options.clock ?? systemClock, options.mailer ?? defaultMailer);
}

interface OpenStore {
  readonly url: string;
  readonly conn: Promise<Connection>;
  /** The check of its tables against the data map, made once. */
  checked?: Promise<void> | undefined;
}

class ProjectEngine implements Engine {
  private closed = false;
  private readonly stores = new Map<string, OpenStore>();
  private readonly contexts = new WeakMap<Connection, { register: object; ctx: RetentionSqlContext }>();
  private archiveConn: { url: string; conn: Promise<Connection> } | undefined;
  /** The state store, by URL and key; `writable`: opened with the key and the archive's checkpoint. */
  private stateSlot: { slot: string; state: Promise<StateStore>; writable: boolean } | undefined;
  private readonly openings = new Map<string, number>();
  /** The turn of the state store's callers: openings never overlap. */
  private stateTurn: Promise<unknown> = Promise.resolve();
  /** The empty state store readers get while the real one does not exist yet. */
  private emptyState: Promise<StateStore> | undefined;
  /** The last time this engine found the log whole, and on which store (see state's wholeWithinMs). */
  private lastWholeCheck: { state: StateStore; at: number } | undefined;
  /** The projects opened in this turn of the event loop (see project()). */
  private readonly projectsThisTurn = new Map<boolean, { stamp: string; project: Promise<Project> }>();
  private turnEnd: NodeJS.Immediate | undefined;
  /** The last project read through the parse cache, when its files were checked, and the configuration's stamp then. */
  private recentCached: { stamp: string; at: number; project: Promise<Project> } | undefined;
  /** The last project given, parsed from the files and through the parse cache. */
  private readonly lastProjects = new Map<boolean, Project>();

  constructor(
    readonly configFile: string | undefined,
    readonly clock: Clock,
    readonly mailer: Mailer,
  ) {}

  today(): string {
    return this.clock.today();
  }

  private assertOpen(): void {
    if (this.closed) throw new RegistreError('E_ENGINE_CLOSED', 'this engine was closed; build another');
  }

  async project(options: { cached?: boolean } = {}): Promise<Project> {
    this.assertOpen();
    // Within one turn of the event loop the files are checked once: a use case that asks for the
    // project, then for the state store (which asks again), pays the stat calls once.
    // A use case that rewrites the configuration (key rotate) is seen at once: the memo holds
    // only while the configuration file's stamp is the same.
    const cached = options.cached === true;
    const stamp = configStamp(this.configFile);
    const inTurn = this.projectsThisTurn.get(cached);
    if (inTurn && inTurn.stamp === stamp) return inTurn.project;
    // What only reads (and the service's many small calls, each in a turn of its own) takes the
    // project checked less than PROJECT_RECHECK_MS ago: a register's file edited meanwhile is
    // seen within that time; the configuration file's own change at once.
    const recent = this.recentCached;
    if (cached && recent && recent.stamp === stamp && Date.now() - recent.at < PROJECT_RECHECK_MS)
      return recent.project;
    const opening = openProject(this.configFile, options).then((project) => {
      this.lastProjects.set(cached, project);
      if (cached) this.recentCached = { stamp, at: Date.now(), project: Promise.resolve(project) };
      return project;
    });
    this.projectsThisTurn.set(cached, { stamp, project: opening });
    this.turnEnd ??= setImmediate(() => {
      this.turnEnd = undefined;
      this.projectsThisTurn.clear();
    });
    return opening;
  }

  /** The project a store's map comes from: the SQL context must hold that very data map. */
  private async projectOf(store: StoreMap): Promise<Project> {
    for (const project of this.lastProjects.values())
      if (project.datamap.stores.includes(store)) return project;
    return this.project({ cached: true });
  }

  async archive(options: { create?: boolean } = {}): Promise<Connection | undefined> {
    this.assertOpen();
    const project = await this.project({ cached: true });
    const url = project.loaded.config.archive?.url ?? DEFAULT_ARCHIVE_URL;
    if (this.archiveConn?.url === url) return this.archiveConn.conn;
    if (options.create === false && localStoreMissing('archive', url, project.loaded.dir)) return undefined;
    const previous = this.archiveConn;
    this.count('archive');
    const conn = connect('archive', resolveUrl('archive', url), {
      baseDir: project.loaded.dir,
      create: true,
      private: true,
    });
    this.archiveConn = { url, conn };
    conn.catch(() => {
      if (this.archiveConn?.conn === conn) this.archiveConn = undefined;
    });
    if (previous) await closeQuietly(previous.conn);
    return conn;
  }

  async state(
    mode: 'read' | 'write' | 'verify' = 'read',
    options: {
      whole?: boolean;
      /**
       * A writer of many small events (the consent ledger): the log's whole check is skipped when
       * this engine made it on the same store less than this many milliseconds ago (each append
       * still checks the head it chains to; the count of entries is what is left out).
       */
      wholeWithinMs?: number;
    } = {},
  ): Promise<StateStore> {
    this.assertOpen();
    // One opening at a time: callers arriving meanwhile get the store it opened. The log's check
    // of a writer runs after its turn: readers never wait for it.
    const turn = this.stateTurn.then(() => this.stateFor(mode));
    this.stateTurn = turn.catch(() => {});
    return this.checked(await turn, mode === 'write' && options.whole !== false, options.wholeWithinMs ?? 0);
  }

  private async stateFor(mode: 'read' | 'write' | 'verify'): Promise<StateStore> {
    const project = await this.project({ cached: true });
    // One store per URL and key: a key rotated (by this process or another) opens it again.
    const keyNow = readHmacKeyIfAvailable(project.loaded);
    const slot = `${stateUrlOf(project)}\u0000${keyNow ? keyIdOf(keyNow) : ''}`;
    const open = this.stateSlot;
    if (open?.slot === slot && (mode !== 'write' || open.writable)) return open.state;
    const stateUrl = stateUrlOf(project);
    if (mode === 'read' && open?.slot !== slot && localStoreMissing('state', stateUrl, project.loaded.dir)) {
      // Nothing to read yet, and nothing created: one empty store (in memory) answers the readers
      // until the first writer creates the real one; closed with the engine.
      this.emptyState ??= StateStore.openForReading(
        stateUrl,
        project.loaded.dir,
        keyNow ? { key: keyNow } : {},
      );
      return this.emptyState;
    }
    // Opened once for every use case: with the key and the archive's checkpoint when they are
    // there (then it serves writers too), else as it can be read (reopened by the first writer).
    const key = mode === 'write' ? readHmacKey(project.loaded) : keyNow;
    const previous = mode === 'write' ? readPreviousKeys(project.loaded) : previousIfReadable(project);
    const checkpoint = await this.archive(mode === 'write' ? {} : { create: false });
    const writable = checkpoint !== undefined && keyMatches(project, key);
    // The store it replaces is closed first: a PGlite folder takes one instance at a time (a use
    // case still running on it fails cleanly, its transaction rolled back; this happens only when
    // the key changes or the head is accepted, or for the first writer after readers without an archive).
    this.stateSlot = undefined;
    if (open) await closeQuietly(open.state);
    const local = !stateUrl.startsWith('env:') && /^(sqlite|pglite):/.test(stateUrl);
    const state =
      mode === 'read' && !writable && !local
        ? StateStore.openForReading(stateUrl, project.loaded.dir, { ...(key ? { key } : {}), previous })
        : StateStore.open(stateUrl, project.loaded.dir, {
            ...(key ? { key } : {}),
            previous,
            ...(checkpoint ? { checkpoint } : {}),
          });
    this.count('state');
    this.stateSlot = { slot, state, writable };
    state.catch(() => {
      if (this.stateSlot?.state === state) this.stateSlot = undefined;
    });
    return state;
  }

  private async checked(state: StateStore, whole: boolean, withinMs: number): Promise<StateStore> {
    if (!whole) return state;
    const last = this.lastWholeCheck;
    if (withinMs > 0 && last?.state === state && Date.now() - last.at < withinMs) return state;
    // Nothing changes data on a log that is not whole up to its checkpoint (E_LOG_BROKEN): checked
    // at every use case that writes, as a new process would.
    await state.assertLogWhole();
    this.lastWholeCheck = { state, at: Date.now() };
    return state;
  }

  async connection(store: StoreMap): Promise<Connection> {
    return (await this.open(store)).conn;
  }

  async store(store: StoreMap): Promise<Connection> {
    const open = await this.open(store);
    const conn = await open.conn;
    open.checked ??= requireMappedTables(conn, store);
    try {
      await open.checked;
    } catch (error) {
      open.checked = undefined;
      throw error;
    }
    return conn;
  }

  private async open(store: StoreMap): Promise<OpenStore> {
    this.assertOpen();
    const project = await this.project({ cached: true });
    const configured = project.loaded.config.stores?.[store.id];
    if (!configured)
      throw new RegistreError(
        'E_STORE_NOT_CONFIGURED',
        `store "${store.id}" of the data map has no URL in ${project.loaded.file ?? 'the configuration (there is no registre.yaml)'}`,
      );
    const url = resolveUrl(store.id, configured.url);
    const open = this.stores.get(store.id);
    if (open?.url === url) return open;
    this.count(store.id);
    const conn = connect(store.id, url, { baseDir: project.loaded.dir });
    const opened: OpenStore = { url, conn };
    this.stores.set(store.id, opened);
    conn.catch(() => {
      if (this.stores.get(store.id) === opened) this.stores.delete(store.id);
    });
    if (open) await closeQuietly(open.conn);
    return opened;
  }

  async retention(store: StoreMap): Promise<{ conn: Connection; ctx: RetentionSqlContext }> {
    const conn = await this.store(store);
    const project = await this.projectOf(store);
    const known = this.contexts.get(conn);
    const { retentionContext } = await import('../adapters/sql/retention-sql.js');
    if (
      known?.register === project.register &&
      known.ctx.datamap === project.datamap &&
      conn.dialect === 'sqlite'
    )
      return { conn, ctx: known.ctx };
    // A server's date columns are read afresh by each operation (one catalogue query), so that a
    // column whose type changed is not read as it was; SQLite has none to read.
    const ctx = await retentionContext(conn, project.register, project.datamap);
    this.contexts.set(conn, { register: project.register, ctx });
    return { conn, ctx };
  }

  async reopenState(): Promise<void> {
    const turn = this.stateTurn.then(async () => {
      const open = this.stateSlot;
      this.stateSlot = undefined;
      if (open) await closeQuietly(open.state);
    });
    this.stateTurn = turn.catch(() => {});
    await turn;
  }

  opened(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.openings);
  }

  private count(store: string): void {
    this.openings.set(store, (this.openings.get(store) ?? 0) + 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.turnEnd) clearImmediate(this.turnEnd);
    this.turnEnd = undefined;
    this.projectsThisTurn.clear();
    // The state store first: it may write its head's checkpoint to the archive store.
    await this.reopenState();
    if (this.emptyState) await closeQuietly(this.emptyState);
    this.emptyState = undefined;
    for (const { conn } of this.stores.values()) await closeQuietly(conn);
    this.stores.clear();
    if (this.archiveConn) await closeQuietly(this.archiveConn.conn);
    this.archiveConn = undefined;
  }
}

async function closeQuietly(handle: Promise<{ close(): Promise<void> }>): Promise<void> {
  try {
    await (await handle).close();
  } catch {
    // It failed to open, or is already closed: nothing left to release.
  }
}

/** The previous keys, or none when one cannot be read (a reader goes on; a writer is refused). */
function previousIfReadable(project: Project): Buffer[] {
  try {
    return readPreviousKeys(project.loaded);
  } catch {
    return [];
  }
}

/** Whether `key` is the key a writer would use (the configuration's, readable, strictly). */
function keyMatches(project: Project, key: Buffer | undefined): boolean {
  try {
    const strict = readHmacKey(project.loaded);
    return strict === undefined ? key === undefined : key !== undefined && strict.equals(key);
  } catch {
    return false;
  }
}

/**
 * A store without the tables its data map declares is the wrong database (or an empty one): said
 * plainly, before any use case reads it, rather than as the first failing query's error.
 */
async function requireMappedTables(conn: Connection, store: StoreMap): Promise<void> {
  const live = new Set((await tableNames(conn)).map((name) => name.toLowerCase()));
  const missing = store.tables.map((t) => t.name).filter((name) => !live.has(name.toLowerCase()));
  if (missing.length === 0) return;
  const shown =
    missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
  throw new RegistreError(
    'E_STORE_MISMATCH',
    `store "${store.id}" (${conn.label}) does not match the data map: it has no table ${shown}; run registre check to compare them (is the URL the right database?)`,
  );
}

/** Runs `f` with an engine on `config`, then closes it: for a command, a script, a test. */
export async function withEngine<T>(
  config: string | undefined,
  f: (engine: Engine) => Promise<T>,
  options: { clock?: Clock } = {},
): Promise<T> {
  const engine = createEngine({ config, ...options });
  try {
    return await f(engine);
  } finally {
    await engine.close();
  }
}

/** The configuration file's size, time and inode (nothing when there is none): one stat call. */
function configStamp(file: string | undefined): string {
  if (file === undefined) return '';
  try {
    const st = statSync(file, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ino}`;
  } catch {
    return 'missing';
  }
}
