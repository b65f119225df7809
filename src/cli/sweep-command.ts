/** `registre sweep`, `hold`, `audit`, `status`, `archive`, `key`: enforcement and its proofs. */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { parseDocument } from 'yaml';
import {
  datamapPathOf,
  readHmacKey,
  readHmacKeyIfAvailable,
  readKeyRef,
  readPreviousKeys,
  registerPathOf,
} from '../adapters/files/config-files.js';
import { writeKeyFile } from '../adapters/files/key-file.js';
import { readRegisterSources } from '../adapters/files/register-files.js';
import { type Connection, connect, localStoreMissing, resolveUrl } from '../adapters/sql/connect.js';
import { findPerson } from '../adapters/sql/explain.js';
import { foreignKeys, listTables } from '../adapters/sql/introspect.js';
import { loadRows } from '../adapters/sql/records.js';
import type { RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import {
  archiveTableName,
  finishPendingFiles,
  type SweepLine,
  type SweepSkip,
  sweepStore,
} from '../adapters/sql/sweep.js';
import { currentActor, type HoldCase, holdCases, StateStore } from '../adapters/state/state-store.js';
import { type AuditEntry, type ChainProblem, verifyAuditChain } from '../core/audit-chain.js';
import { requireDateInput } from '../core/calendar.js';
import { RegistreError } from '../core/errors.js';
import { keyIdOf } from '../core/keys.js';
import { blockingForeignKeys } from '../core/schema-check.js';
import { connectStore, openProject, type Project, withStore } from './project.js';
import { safeMessage } from './safe-message.js';

const todayUtc = () => new Date().toISOString().slice(0, 10);

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
 * the checkpoint of the audit log's head kept in the archive store.
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
  try {
    return await StateStore.open(url, project.loaded.dir, {
      ...(key ? { key } : {}),
      previous,
      ...(checkpoint || own ? { checkpoint: (checkpoint ?? own) as Connection } : {}),
      ...(own ? { ownsCheckpoint: true } : {}),
    });
  } catch (error) {
    await own?.close();
    throw error;
  }
}

function sourcesHash(path: string | null): string {
  if (!path) return '';
  const hash = createHash('sha256');
  for (const source of readRegisterSources(path)) hash.update(`${source.text}\n\u0000`);
  return hash.digest('hex');
}

export interface SweepReport {
  readonly at: string;
  readonly run: number | null;
  readonly dryRun: boolean;
  readonly lines: readonly SweepLine[];
  readonly total: number;
  /** Records left as they were because they could not be processed (named; the sweep went on). */
  readonly skipped: readonly SweepSkip[];
  /** File work of an interrupted run finished at the start of this one. */
  readonly recovered: { readonly finished: number; readonly dropped: number };
}

export interface SweepCommandOptions {
  readonly at: string;
  readonly dryRun?: boolean;
  readonly batchSize?: number;
  readonly progress?: boolean;
  readonly today?: string;
  /** How often the lock's heartbeat is sent while the sweep works (default 5 s). */
  readonly heartbeatMs?: number;
}

function foldersOf(project: Project): Record<string, string> {
  return Object.fromEntries(
    Object.entries(project.loaded.config.files ?? {}).map(([k, v]) => [k, resolve(project.loaded.dir, v)]),
  );
}

function writable(path: string, what: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    accessSync(path, constants.W_OK);
  } catch (cause) {
    throw new RegistreError('E_NOT_WRITABLE', `${what} (${path}) cannot be written; nothing was changed`, {
      cause,
    });
  }
}

/**
 * Everything a sweep needs, checked before it changes anything: the key, every store, the
 * archive store, the folders, and no foreign key that would stop a rule halfway.
 */
async function preflight(
  project: Project,
  conns: ReadonlyMap<string, { conn: Connection; map: Project['datamap']['stores'][number] }>,
): Promise<Buffer> {
  let key: Buffer | undefined;
  try {
    key = readHmacKey(project.loaded);
  } catch (error) {
    if (error instanceof RegistreError)
      throw new RegistreError(error.code, `${error.message}; the sweep changed nothing`, { cause: error });
    throw error;
  }
  if (!key)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      'a sweep needs the HMAC key (it keys the suppression list and the audit log): write one with "registre key generate --out .registre/hmac.key" and add "hmacKey: file:.registre/hmac.key" to the configuration; the sweep changed nothing',
    );
  for (const [name, folder] of Object.entries(foldersOf(project)))
    if (existsSync(folder)) writable(folder, `file folder "${name}"`);
  writable(resolve(project.loaded.dir, project.loaded.config.returns ?? 'returns'), 'the returns folder');
  writable(archiveFilesDir(project), 'the folder of archived files');
  const blocking: string[] = [];
  for (const { conn, map } of conns.values())
    for (const b of blockingForeignKeys(project.register, map, await foreignKeys(conn)))
      blocking.push(`store "${map.id}": ${b.message}`);
  if (blocking.length)
    throw new RegistreError('E_FOREIGN_KEY_BLOCKS', `${blocking.join('\n')}\nthe sweep changed nothing`);
  return key;
}

function archiveFilesDir(project: Project): string {
  return resolve(project.loaded.dir, project.loaded.config.archiveFiles ?? '.registre/archive-files');
}

export async function runSweep(
  configFile: string | undefined,
  options: SweepCommandOptions,
): Promise<SweepReport> {
  const at = requireDateInput('--at', options.at);
  const today = options.today ?? todayUtc();
  const dryRun = options.dryRun === true;
  if (at > today && !dryRun)
    throw new RegistreError(
      'E_USAGE',
      `--at ${at} is after today (${today}): a sweep never deletes early; a later date is allowed only with --dry-run, to see what would go`,
    );
  const project = openProject(configFile);
  const hashes = {
    register: sourcesHash(registerPathOf(project.loaded)),
    datamap: sourcesHash(datamapPathOf(project.loaded)),
  };
  const conns = new Map<string, { conn: Connection; map: Project['datamap']['stores'][number] }>();
  let archive: Connection | null = null;
  let state: StateStore | null = null;
  let lock: Awaited<ReturnType<StateStore['lock']>> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let runId: number | null = null;
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: 'sweep {bar} {value} records | {rule}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  try {
    for (const store of project.datamap.stores)
      conns.set(store.id, { conn: await connectStore(project, store), map: store });
    const key = dryRun ? readHmacKeyIfAvailable(project.loaded) : await preflight(project, conns);
    // A dry run writes nothing: no state or archive store is created for it.
    archive = dryRun ? ((await personArchive(project)) ?? null) : await openArchive(project);
    state = dryRun
      ? await openState(project, 'read')
      : await openState(project, 'write', archive ?? undefined);
    const lockName = `sweep:${project.datamap.stores.map((s) => s.id).join(',')}`;
    let recovered = { finished: 0, dropped: 0 };
    let lockError: unknown = null;
    if (!dryRun) {
      lock = await state.lock(lockName);
      const beat = lock.beat;
      // On a timer too: a long scan that finds nothing due still shows it is alive.
      timer = setInterval(() => {
        beat().catch((error) => {
          lockError = error;
        });
      }, options.heartbeatMs ?? 5000);
      timer.unref();
      for (const run of await state.runs(100))
        if (run.status === 'running' || run.status === 'died') {
          await state.finishRun(run.id, 'failed', { interrupted: true });
          await state.audit('sweep.interrupted', {
            run: run.id,
            note: 'this run stopped without finishing (killed); its last intent without a batch entry was applied whole or not at all; the next run re-evaluated everything',
          });
        }
      // A hold deleted or released behind the log's back would let the sweep take what it held.
      const tampered = await crossCheck(
        state,
        await state.auditEntries(['hold.add', 'hold.release']),
        'holds',
      );
      if (tampered.length)
        throw new RegistreError(
          'E_HOLDS_TAMPERED',
          `the holds table does not match the audit log (${tampered
            .slice(0, 5)
            .map((p) => p.message)
            .join(
              '; ',
            )}${tampered.length > 5 ? `; and ${tampered.length - 5} more` : ''}); the sweep changed nothing: run registre audit verify, and restore the state store`,
        );
      recovered = await finishPendingFiles(state, conns);
      runId = await state.startRun(at);
      await state.audit('sweep.start', {
        run: runId,
        at,
        actor: currentActor(),
        register: hashes.register,
        datamap: hashes.datamap,
        ...(recovered.finished || recovered.dropped ? { recovered } : {}),
      });
    }
    bar?.start(0, 0, { rule: '' });
    let done = 0;
    const lines: SweepLine[] = [];
    const skipped: SweepSkip[] = [];
    for (const { conn, map: store } of conns.values()) {
      const ctx: RetentionSqlContext = {
        register: project.register,
        datamap: project.datamap,
        dialect: conn.dialect,
      };
      try {
        const result = await sweepStore(conn, ctx, store, state, {
          at,
          dryRun,
          batchSize: options.batchSize ?? 5000,
          runId: runId ?? 0,
          hashes,
          ...(key ? { hmacKey: key } : {}),
          folders: foldersOf(project),
          returnsDir: resolve(project.loaded.dir, project.loaded.config.returns ?? 'returns'),
          archiveFilesDir: archiveFilesDir(project),
          archive,
          onBatch: (line, count) => {
            done += count;
            bar?.setTotal(done);
            bar?.update(done, { rule: `${line.rule} (${line.action})` });
          },
          afterBatch: async (holdsSeen) => {
            if (lockError) throw lockError;
            await lock?.beat(holdsSeen);
          },
        });
        lines.push(...result.lines);
        skipped.push(...result.skipped);
      } catch (error) {
        if (error instanceof RegistreError) throw error;
        throw new RegistreError(
          'E_STORE_FAILED',
          `store "${store.id}" (${conn.label}) failed during the sweep: ${safeMessage(error)}; the batch under way was rolled back, the ones before it stay applied and logged`,
          { cause: error },
        );
      }
    }
    const total = lines.reduce((n, l) => n + l.count, 0);
    if (runId !== null) {
      const entry = await state.audit('sweep.done', { run: runId, total, skipped: skipped.length });
      await state.finishRun(runId, 'done', {
        total,
        lines,
        skipped: skipped.map((s) => ({ table: s.table, key: s.key, code: s.code })),
        head: { seq: entry.seq, hash: entry.hash },
      });
    }
    return { at, run: runId, dryRun, lines, total, skipped, recovered };
  } catch (error) {
    if (runId !== null && state) {
      // No message in the log: a database error can quote a value; the code and the class suffice.
      const code =
        error instanceof RegistreError
          ? error.code
          : ((error as NodeJS.ErrnoException).code ?? 'E_UNEXPECTED');
      const s = state;
      const entry = await s.audit('sweep.failed', { run: runId, code }).catch(() => null);
      await s
        .finishRun(runId, 'failed', {
          code,
          ...(entry ? { head: { seq: entry.seq, hash: entry.hash } } : {}),
        })
        .catch(() => {});
    }
    throw error;
  } finally {
    if (timer) clearInterval(timer);
    bar?.stop();
    await lock?.release().catch(() => {});
    await state?.close().catch(() => {});
    await archive?.close().catch(() => {});
    for (const { conn } of conns.values()) await conn.close().catch(() => {});
  }
}

export function formatSweep(report: SweepReport): string {
  const head = `${report.dryRun ? 'dry run: would apply' : `sweep run ${report.run}: applied`} on ${report.at}: ${report.total} records`;
  const skipped = report.skipped.map((s) => `  skipped ${s.table} ${s.key} (rule ${s.rule}): ${s.reason}`);
  const recovered =
    report.recovered.finished || report.recovered.dropped
      ? [
          `  finished the file work of an interrupted run: ${report.recovered.finished} file(s) done, ${report.recovered.dropped} left with their record`,
        ]
      : [];
  return `${[
    head,
    ...report.lines
      .filter((l) => l.count > 0)
      .map((l) => `  ${l.rule.padEnd(24)} ${l.table.padEnd(24)} ${l.action.padEnd(14)} ${l.count}`),
    ...recovered,
    ...(skipped.length ? [`${skipped.length} record(s) skipped, left as they are:`, ...skipped] : []),
  ].join('\n')}\n`;
}

export interface HoldAddOptions {
  readonly table?: string;
  readonly id?: string;
  readonly email?: string;
  readonly reason: string;
  readonly until?: string;
  readonly today?: string;
  readonly actor?: string;
}

/** Holds one record, or every record of a person (found by e-mail) as one hold. */
export async function runHoldAdd(configFile: string | undefined, options: HoldAddOptions): Promise<HoldCase> {
  if (!options.reason.trim()) throw new RegistreError('E_USAGE', '--reason must say why');
  const today = options.today ?? todayUtc();
  const until = options.until === undefined ? undefined : requireDateInput('--until', options.until);
  if (until !== undefined && until < today)
    throw new RegistreError(
      'E_USAGE',
      `--until ${until} is already past (today is ${today}): a hold that has ended holds nothing`,
    );
  if ((options.email === undefined) === (options.table === undefined || options.id === undefined))
    throw new RegistreError('E_USAGE', 'give either --table and --id, or --email');
  const project = openProject(configFile);
  // One connection to the archive store: the checkpoint and the search for archived records
  // (PGlite allows one instance per data folder).
  const archive = await openArchive(project);
  const state = await openState(project, 'write', archive).catch(async (error) => {
    await archive.close();
    throw error;
  });
  try {
    const key = readHmacKey(project.loaded);
    const actor = options.actor ?? currentActor();
    const reasonHash = await state.keepReason(options.reason);
    const found: { store: string; table: string; id: string; archived: boolean }[] = [];
    for (const store of project.datamap.stores) {
      await withStore(project, store, async (conn, ctx) => {
        if (options.email !== undefined) {
          for (const r of await findPerson(conn, ctx, store, options.email, key, archive))
            found.push({
              store: store.id,
              table: r.table.name,
              id: r.id,
              archived: r.archived !== undefined,
            });
          return;
        }
        const table = store.tables.find((t) => t.name === options.table);
        if (!table) return;
        const [row] = await loadRows(conn, table.name, table.primaryKey, options.id);
        if (!row)
          throw new RegistreError(
            'E_NOT_FOUND',
            `table "${table.name}" has no record with ${table.primaryKey} = ${options.id}`,
          );
        found.push({
          store: store.id,
          table: table.name,
          id: String(row[table.primaryKey]),
          archived: false,
        });
      });
    }
    if (found.length === 0)
      throw new RegistreError(
        'E_NOT_FOUND',
        options.email !== undefined
          ? 'no record of this person in the stores or the archive'
          : `no table "${options.table}" in the data map`,
      );
    const person =
      options.email !== undefined
        ? state.digest(`person\u0000${options.email.trim().toLowerCase()}`)
        : undefined;
    const ids = await recordHold(
      state,
      found.map((r) => ({ store: r.store, table: r.table, key: r.id })),
      {
        reason: options.reason,
        reasonHash,
        actor,
        ...(person ? { person } : {}),
        ...(until ? { until } : {}),
      },
    );
    const caseId = ids[0] as number;
    // Returns only once every running sweep has read these holds: no batch it commits from now
    // on touches the held records.
    await state.waitForSweeps(Math.max(...ids));
    // A sweep may have deleted a record between the moment it was found and the moment the hold
    // was read: say so, rather than report as held a record that is gone.
    const gone = await vanished(project, archive, found);
    if (gone.length)
      throw new RegistreError(
        'E_HOLD_TOO_LATE',
        `hold ${caseId} is recorded, but ${gone.join(', ')} has no record any more: a running sweep deleted it before the hold took effect${gone.length < found.length ? '; the other records are held' : `; release hold ${caseId}, which holds nothing`}`,
      );
    return (await state.holdCase(caseId)) as HoldCase;
  } finally {
    await state.close();
    await archive.close();
  }
}

/**
 * Adds a hold case and its one audit entry: each record by store, table and the keyed hash of its
 * key; the reason by its keyed hash (the DPO's words stay in the state store).
 */
export async function recordHold(
  state: StateStore,
  records: readonly { store: string; table: string; key: string }[],
  hold: { reason: string; reasonHash?: string; actor?: string; person?: string; until?: string },
): Promise<number[]> {
  const reasonHash = hold.reasonHash ?? (await state.keepReason(hold.reason));
  const actor = hold.actor ?? currentActor();
  const ids = await state.addHolds(records, { ...hold, reasonHash, actor });
  await state.audit('hold.add', {
    case: ids[0],
    holds: records.map((r, i) => ({
      hold: ids[i],
      store: r.store,
      table: r.table,
      keys: state.digest(r.key),
    })),
    until: hold.until ?? null,
    actor,
    reason: reasonHash,
    ...(hold.person ? { person: hold.person } : {}),
  });
  return ids;
}

/** The records of `found` that are neither in their live table nor in the archive store any more. */
export async function vanished(
  project: Project,
  archive: Connection,
  found: readonly { store: string; table: string; id: string; archived: boolean }[],
): Promise<string[]> {
  const gone: string[] = [];
  const archiveTables = new Set((await listTables(archive)).map((t) => t.name));
  for (const store of project.datamap.stores) {
    const live = found.filter((r) => r.store === store.id && !r.archived);
    if (live.length === 0) continue;
    await withStore(project, store, async (conn) => {
      for (const r of live) {
        const table = store.tables.find((t) => t.name === r.table);
        if (!table) continue;
        if ((await loadRows(conn, table.name, table.primaryKey, r.id)).length) continue;
        const name = archiveTableName(store, table);
        const archived = archiveTables.has(name)
          ? await archive.db
              .selectFrom(name)
              .select('record_key')
              .where('record_key', '=', r.id)
              .executeTakeFirst()
          : undefined;
        if (!archived) gone.push(`${store.id}.${r.table} ${r.id}`);
      }
    });
  }
  return gone;
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
async function withState<T>(
  configFile: string | undefined,
  mode: 'read' | 'write',
  f: (state: StateStore, project: Project) => Promise<T>,
): Promise<T> {
  const project = openProject(configFile);
  const state = await openState(project, mode);
  try {
    return await f(state, project);
  } finally {
    await state.close();
  }
}

/** The holds in force on `today` (or every hold ever added), each with its records. */
export async function runHoldList(
  configFile: string | undefined,
  all: boolean,
  today = todayUtc(),
): Promise<HoldCase[]> {
  return withState(configFile, 'read', async (state) =>
    holdCases(all ? await state.holds({ includeReleased: true }) : await state.holds({ at: today })),
  );
}

export function parseHoldId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1)
    throw new RegistreError(
      'E_USAGE',
      `a hold is named by its number, as hold list shows it (got "${text}")`,
    );
  return id;
}

/** Ends a hold: every record it holds is open to its rules again. */
export async function runHoldRelease(
  configFile: string | undefined,
  id: number,
  actor = currentActor(),
): Promise<HoldCase> {
  return withState(configFile, 'write', async (state) => {
    const hold = await state.releaseHold(id);
    await state.audit('hold.release', { case: hold.id, holds: hold.records.map((r) => r.hold), actor });
    return hold;
  });
}

export interface AuditVerification {
  readonly entries: number;
  /** Every place the log, its checkpoint, the holds and the runs disagree: tampering. */
  readonly problems: readonly ChainProblem[];
  /** What weakens the proof without being tampering (no key, no checkpoint yet). */
  readonly warnings: readonly string[];
}

/** Cross-checks the holds and the sweep runs of the state store against the log. */
async function crossCheck(
  state: StateStore,
  entries: readonly AuditEntry[],
  only: 'all' | 'holds' = 'all',
): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  const last = entries[entries.length - 1]?.seq ?? 0;
  const problem = (seq: number, message: string) => problems.push({ seq, problem: 'deleted', message });
  // A hold.add entry: one per case (`holds`: each record), or, before hold cases, one per record.
  type Added = { entry: AuditEntry; store?: unknown; table?: unknown; keys?: unknown };
  const added = new Map<number, Added>();
  const released = new Set<number>();
  const started = new Set<number>();
  for (const e of entries) {
    if (e.kind === 'hold.add') {
      if (Array.isArray(e.data.holds))
        for (const h of e.data.holds as { hold: unknown; store: unknown; table: unknown; keys: unknown }[])
          added.set(Number(h.hold), { entry: e, store: h.store, table: h.table, keys: h.keys });
      else
        added.set(Number(e.data.hold), {
          entry: e,
          store: e.data.store,
          table: e.data.table,
          keys: e.data.keys,
        });
    }
    if (e.kind === 'hold.release') {
      if (Array.isArray(e.data.holds)) for (const id of e.data.holds) released.add(Number(id));
      else released.add(Number(e.data.hold));
    }
    if (e.kind === 'sweep.start') started.add(Number(e.data.run));
  }
  const holds = await state.holds({ includeReleased: true });
  const byId = new Map(holds.map((h) => [h.id, h]));
  for (const h of holds) {
    const logged = added.get(h.id);
    const entry = logged?.entry;
    if (!logged || !entry)
      problem(last, `hold ${h.id} is in the holds table but its hold.add entry is not in the log`);
    else if (
      (logged.table !== undefined && logged.table !== h.table) ||
      (logged.store !== undefined && logged.store !== h.store) ||
      (typeof logged.keys === 'string' && !state.digestMatches(h.key, logged.keys, entry.keyId))
    )
      // Another record in the table than in the log: the held record was swapped for another.
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `hold ${h.id} holds ${h.store}.${h.table} ${h.key} in the holds table, another record in the log: the table was edited`,
      });
    else if (entry.data.until !== undefined && (entry.data.until ?? null) !== h.until)
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `hold ${h.id} ends on ${h.until ?? 'no date'} in the holds table, on ${String(entry.data.until ?? 'no date')} in the log: the table was edited`,
      });
    if (h.releasedAt && !released.has(h.id))
      problem(last, `hold ${h.id} is released in the holds table without a hold.release entry in the log`);
  }
  for (const [id, { entry }] of added) {
    const h = byId.get(id);
    if (!h)
      problem(
        entry.seq,
        `hold ${id} of entry ${entry.seq} is missing from the holds table: it was deleted, and the records it held were open to the sweep`,
      );
    else if (!released.has(id) && h.releasedAt)
      problem(entry.seq, `hold ${id} was released without a hold.release entry`);
  }
  if (only === 'holds') return problems;
  const runs = await state.runs(1_000_000);
  const runIds = new Set(runs.map((r) => r.id));
  for (const id of started)
    if (!runIds.has(id)) problem(last, `sweep run ${id} is in the log but missing from the runs table`);
  for (const run of runs) {
    if (!started.has(run.id))
      problem(last, `sweep run ${run.id} is in the runs table but its sweep.start entry is not in the log`);
    const head = run.summary?.head as { seq?: number; hash?: string } | undefined;
    if (head?.seq !== undefined) {
      const at = entries.find((e) => e.seq === head.seq);
      if (!at || at.hash !== head.hash)
        problem(
          head.seq,
          `sweep run ${run.id} ended at entry ${head.seq}, which the log ${at ? 'holds with another hash (rewritten)' : 'no longer holds (truncated)'}`,
        );
    }
  }
  return problems;
}

export async function runAuditVerify(configFile: string | undefined): Promise<AuditVerification> {
  const project = openProject(configFile);
  const checkpointStore = await personArchive(project);
  const key = readHmacKeyIfAvailable(project.loaded);
  const url = project.loaded.config.state?.url ?? 'sqlite:.registre/state.sqlite';
  const state = await StateStore.open(url, project.loaded.dir, {
    ...(key ? { key } : {}),
    previous: readPreviousKeys(project.loaded),
    ...(checkpointStore ? { checkpoint: checkpointStore, ownsCheckpoint: true } : {}),
  });
  try {
    const entries = await state.auditEntries();
    const problems: ChainProblem[] = [...verifyAuditChain(entries, state.keyRing())];
    const warnings: string[] = [];
    if (!key)
      warnings.push(
        'no HMAC key is configured (or it is not available here): the chain is plain SHA-256, and anyone with write access to the state store can rewrite it whole',
      );
    const unkeyed = entries.filter((e) => e.keyId === undefined).length;
    if (key && unkeyed)
      warnings.push(
        `${unkeyed} entr${unkeyed === 1 ? 'y was' : 'ies were'} sealed without a key (before one was configured): anyone with write access could have rewritten ${unkeyed === 1 ? 'it' : 'them'}`,
      );
    const last = entries[entries.length - 1];
    const checkpoint = await state.readCheckpoint();
    if (!checkpoint) {
      if (entries.length)
        warnings.push(
          'no checkpoint of the log head was found in the archive store: a truncated tail cannot be told',
        );
    } else if (checkpoint.valid === null)
      problems.push({
        seq: checkpoint.seq,
        problem: 'other-key',
        message: `the checkpoint of the log head was signed with key ${checkpoint.keyId}, which is not configured here: it cannot be checked`,
      });
    else if (!checkpoint.valid)
      problems.push({
        seq: checkpoint.seq,
        problem: 'edited',
        message:
          'the checkpoint of the log head in the archive store does not carry a valid key signature: it was forged',
      });
    else if (!last || last.seq < checkpoint.seq)
      problems.push({
        seq: checkpoint.seq,
        problem: 'deleted',
        message: `the log ends at entry ${last?.seq ?? 0}, but its checkpoint says entry ${checkpoint.seq} was written: the tail was deleted (truncated)`,
      });
    else if (entries.find((e) => e.seq === checkpoint.seq)?.hash !== checkpoint.hash)
      problems.push({
        seq: checkpoint.seq,
        problem: 'edited',
        message: `entry ${checkpoint.seq} is not the one its checkpoint recorded: the log was rewritten`,
      });
    problems.push(...(await crossCheck(state, entries)));
    return { entries: entries.length, problems, warnings };
  } finally {
    await state.close();
  }
}

export async function runAuditExport(configFile: string | undefined): Promise<string> {
  return withState(configFile, 'read', async (state) =>
    (await state.auditEntries()).map((e) => `${JSON.stringify(e)}\n`).join(''),
  );
}

export async function runStatus(configFile: string | undefined, today = todayUtc()) {
  return withState(configFile, 'read', async (state) => ({
    locks: await state.locks(),
    runs: await state.runs(5),
    holds: holdCases(await state.holds({ at: today })).length,
  }));
}

/** Reads archived records of a table (every read is written to the audit log, with its reason). */
export async function runArchiveRead(
  configFile: string | undefined,
  table: string,
  id: string | undefined,
  reason: string,
  actor = currentActor(),
) {
  if (!reason.trim()) throw new RegistreError('E_USAGE', '--reason must say why the archive is consulted');
  const project = openProject(configFile);
  const store = project.datamap.stores.find((s) => s.tables.some((t) => t.name === table));
  const tableMap = store?.tables.find((t) => t.name === table);
  if (!store || !tableMap) throw new RegistreError('E_UNKNOWN_TABLE', `no table "${table}" in the data map`);
  const archive = await openArchive(project);
  const state = await openState(project, 'write', archive);
  try {
    const name = archiveTableName(store, tableMap);
    const exists = (await listTables(archive)).some((t) => t.name === name);
    let query = exists ? archive.db.selectFrom(name).selectAll().orderBy('record_key') : null;
    if (query && id !== undefined) query = query.where('record_key', '=', id);
    const rows = query ? ((await query.execute()) as Record<string, unknown>[]) : [];
    const reasonHash = await state.keepReason(reason);
    await state.audit('archive.read', {
      store: store.id,
      table,
      records: rows.length,
      keys: state.digest(rows.map((r) => String(r.record_key)).join(',')),
      actor,
      reason: reasonHash,
    });
    return rows;
  } finally {
    await state.close();
    await archive.close();
  }
}

export function runKeyGenerate(out: string): { path: string; keyId: string } {
  return writeKeyFile(out);
}

/**
 * Moves the audit log to a new key: the log is checked whole with the key in force, then an entry
 * sealed with the new key records the old key's id and head, signed with the old key (the link);
 * the configuration then names the new key, and keeps the old one in previousKeys.
 */
export async function runKeyRotate(
  configFile: string | undefined,
  to: string,
  actor = currentActor(),
): Promise<{ from: string; to: string; entries: number }> {
  const project = openProject(configFile);
  if (!project.loaded.file)
    throw new RegistreError('E_CONFIG', 'key rotate needs a configuration file to update');
  const oldKey = readHmacKey(project.loaded);
  if (!oldKey) throw new RegistreError('E_NO_HMAC_KEY', 'there is no key in force (hmacKey) to rotate from');
  const newKey = readKeyRef(project.loaded, to, '--to');
  if (keyIdOf(newKey).startsWith(keyIdOf(oldKey)))
    throw new RegistreError('E_USAGE', '--to names the key already in force');
  const verification = await runAuditVerify(configFile);
  if (verification.problems.length)
    throw new RegistreError(
      'E_AUDIT_BROKEN',
      `the audit log does not verify with the key in force (${verification.problems.length} problem(s)); it is not rotated: run registre audit verify`,
    );
  const archive = await openArchive(project);
  const url = project.loaded.config.state?.url ?? 'sqlite:.registre/state.sqlite';
  const before = await StateStore.open(url, project.loaded.dir, { key: oldKey, checkpoint: archive });
  const entries = await before.auditEntries();
  const head = entries[entries.length - 1];
  const link = {
    from: keyIdOf(oldKey),
    to: keyIdOf(newKey),
    head: head ? { seq: head.seq, hash: head.hash } : null,
    actor,
  };
  const signature = before.hash(`registre key rotation\u0000${JSON.stringify(link)}`);
  await before.close();
  const after = await StateStore.open(url, project.loaded.dir, {
    key: newKey,
    previous: [oldKey],
    checkpoint: archive,
    ownsCheckpoint: true,
  });
  try {
    await after.audit('key.rotate', { ...link, signature });
  } finally {
    await after.close();
  }
  // The configuration now names the new key and keeps the old one (comments and layout kept).
  const file = project.loaded.file;
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const previous = (doc.get('previousKeys') as { toJSON?: () => unknown } | undefined)?.toJSON?.() as
    | string[]
    | undefined;
  doc.set('previousKeys', [...(previous ?? []), project.loaded.config.hmacKey as string]);
  doc.set('hmacKey', to);
  writeFileSync(file, doc.toString());
  return { from: link.from, to: link.to, entries: entries.length };
}
