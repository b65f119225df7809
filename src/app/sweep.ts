import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  datamapPathOf,
  readHmacKey,
  readHmacKeyIfAvailable,
  readPreviousKeys,
  registerPathOf,
} from '../adapters/files/config-paths.js';
import { sourcesHash } from '../adapters/files/register-files.js';
import type { Connection } from '../adapters/sql/connect.js';
import { foreignKeys } from '../adapters/sql/introspect.js';
import { planStore } from '../adapters/sql/plan.js';
import { finishPendingFiles, sweepStore } from '../adapters/sql/sweep.js';
import type { StateStore } from '../adapters/state/state-store.js';
import { blockingForeignKeys } from '../core/datamap/schema-check.js';
import { RegistreError } from '../core/errors.js';
import type { SweepLine, SweepSkip, SweepTiming } from '../core/retention/results.js';
import { safeMessage } from '../core/safe-message.js';
import { crossCheck } from './audit.js';
import { withConsentGate } from './consent-gate.js';
import { archiveFilesDir, type Context, type Engine, foldersOf } from './engine.js';
import { field, parseInput, retentionDate, wholeNumber } from './input.js';
import { heldKeysByStore } from './plan.js';
import type { Project } from './project.js';
import { eraseAfterHolds } from './requests/after-hold.js';
import { commitGuard, testPause } from './requests/guard.js';

/**
 * Rows a sweep examines per batch (one transaction for each rule and action in it): at 20,000, a
 * batch of deletes holds the write lock for about a tenth of a second, and the commits that rewrite
 * the same index pages cost a third of those of 5,000 (measured: bench/run.js retention).
 */
export const DEFAULT_BATCH_SIZE = 20_000;

/**
 * On PostgreSQL a batch holds row locks only, not the database's write lock: there each batch's
 * fixed cost (its two audit entries, the holds read again, its commits) weighs more than a
 * long transaction, and 100,000 rows a batch took a fifth less time than 20,000 (bench/run.js
 * retention, 100,000 customers).
 */
export const DEFAULT_SERVER_BATCH_SIZE = 100_000;

/** Rows a sweep examines per batch on a store, when the input does not say. */
export function defaultBatchSize(dialect: Connection['dialect']): number {
  return dialect === 'postgres' ? DEFAULT_SERVER_BATCH_SIZE : DEFAULT_BATCH_SIZE;
}

export interface SweepReport {
  readonly at: string;
  readonly run: number | null;
  readonly dryRun: boolean;
  readonly lines: readonly SweepLine[];
  readonly total: number;
  /** Where the time went (milliseconds): choosing the records per table, changing and logging them per rule. */
  readonly timings: readonly (SweepTiming & { readonly store: string })[];
  /** Records left as they were because they could not be processed (named; the sweep went on). */
  readonly skipped: readonly SweepSkip[];
  /** File work of an interrupted run finished at the start of this one. */
  readonly recovered: { readonly finished: number; readonly dropped: number };
  /** Records an erasure kept for a hold or a restriction that has ended: erased after the rules. */
  readonly afterHold?: number;
  /**
   * Records an erasure kept for a hold that has ended, left: not proven still that person's (the
   * key now holds another record). Reported by the first sweep that finds them; the request shows them.
   */
  readonly afterHoldSkipped?: readonly { request: number; table: string; id: string; why: string }[];
}

export const SweepInput = z.strictObject({
  /** The day the rules are applied for: today at the latest, unless `dryRun`. */
  at: retentionDate,
  /** Change nothing and write nothing: what would go. */
  dryRun: z.boolean().default(false),
  /** Rows examined per batch (one transaction for each rule and action in it); by default 20,000, 100,000 on PostgreSQL. */
  batchSize: wholeNumber(1, 1_000_000).optional(),
  /** How often the lock's heartbeat is sent while the sweep works, in milliseconds. */
  heartbeatMs: wholeNumber(10, 60_000).default(5000),
});
export type SweepInput = z.input<typeof SweepInput>;

/** Stopped by the caller's signal between two batches: what was done stays applied and logged. */
function cancelled(signal: AbortSignal): RegistreError {
  return new RegistreError(
    'E_CANCELLED',
    'the sweep was stopped between two batches: the batches before stay applied and logged; the next sweep takes up the rest',
    { cause: signal.reason },
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

/**
 * Applies the retention rules on `at`: due records deleted, anonymised or archived in set-based
 * batches, each logged; holds and restrictions respected; files moved. Reports its progress with
 * the real total (the due records of the plan, counted first when someone listens) and stops
 * between batches when the context's signal is aborted.
 */
export async function sweep(engine: Engine, input: SweepInput, context: Context): Promise<SweepReport> {
  const options = parseInput(SweepInput, input);
  const { at, dryRun } = options;
  const today = engine.today();
  const { actor, signal, onProgress } = context;
  if (at > today && !dryRun)
    throw new RegistreError(
      'E_USAGE',
      `${field('at')} ${at} is after today (${today}): a sweep never deletes early; a later date is allowed only with ${field('dryRun')}, to see what would go`,
      { path: ['at'] },
    );
  const project = await engine.project();
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
  try {
    signal?.throwIfAborted();
    for (const store of project.datamap.stores)
      conns.set(store.id, { conn: await engine.store(store), map: store });
    const key = dryRun ? readHmacKeyIfAvailable(project.loaded) : await preflight(project, conns);
    // A dry run writes nothing: no state or archive store is created for it.
    archive = (await engine.archive({ create: !dryRun })) ?? null;
    state = await engine.state(dryRun ? 'read' : 'write');
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
      }, options.heartbeatMs);
      timer.unref();
      for (const run of await state.unfinishedRuns())
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
        actor,
        register: hashes.register,
        datamap: hashes.datamap,
        ...(recovered.finished || recovered.dropped ? { recovered } : {}),
      });
    }
    let done = 0;
    let total = onProgress ? await dueTotal(engine, project, at) : 0;
    onProgress?.({ phase: 'sweep', done, total });
    const lines: SweepLine[] = [];
    const skipped: SweepSkip[] = [];
    const timings: (SweepTiming & { store: string })[] = [];
    const open = state;
    for (const { map: store } of conns.values()) {
      const { conn } = await engine.retention(store);
      try {
        const result = await withConsentGate(engine, store, at, (conn, ctx) =>
          sweepStore(conn, ctx, store, open, {
            at,
            dryRun,
            batchSize: options.batchSize ?? defaultBatchSize(conn.dialect),
            runId: runId ?? 0,
            hashes,
            ...(key ? { hmacKey: key } : {}),
            previousKeys: dryRun ? [] : readPreviousKeys(project.loaded),
            folders: foldersOf(project),
            returnsDir: resolve(project.loaded.dir, project.loaded.config.returns ?? 'returns'),
            archiveFilesDir: archiveFilesDir(project),
            archive,
            onBatch: (line, count) => {
              done += count;
              // A rule that follows another (a customer's orders) may take more than the plan counted.
              total = Math.max(total, done);
              onProgress?.({ phase: 'sweep', done, total, detail: `${line.rule} (${line.action})` });
            },
            afterBatch: async (holdsSeen) => {
              if (lockError) throw lockError;
              await lock?.beat(holdsSeen);
              await testPause('sweep-batch');
              if (signal?.aborted) throw cancelled(signal);
            },
          }),
        );
        lines.push(...result.lines);
        for (const skip of result.skipped) skipped.push(skip);
        timings.push(...result.timings.map((t) => ({ ...t, store: store.id })));
      } catch (error) {
        if (error instanceof RegistreError) throw error;
        throw new RegistreError(
          'E_STORE_FAILED',
          `store "${store.id}" (${conn.label}) failed during the sweep: ${safeMessage(error)}; the batch under way was rolled back, the ones before it stay applied and logged`,
          { cause: error },
        );
      }
    }
    // After the rules: what an erasure kept for a hold that has ended since goes, as that erasure decided.
    let afterHold = 0;
    let afterHoldSkipped: SweepReport['afterHoldSkipped'] = [];
    if (!dryRun && state) {
      const byId = new Map([...conns].map(([id, { conn }]) => [id, conn]));
      const after = await eraseAfterHolds(project, state, byId, archive, at, commitGuard(state, lock), {
        actor,
      });
      afterHold = after.erased.length;
      afterHoldSkipped = after.skipped;
    }
    const changed = lines.reduce((n, l) => n + l.count, 0);
    if (runId !== null) {
      const entry = await state.audit('sweep.done', { run: runId, total: changed, skipped: skipped.length });
      await state.finishRun(runId, 'done', {
        total: changed,
        lines,
        skipped: skipped.map((s) => ({ table: s.table, key: s.key, code: s.code })),
        head: { seq: entry.seq, hash: entry.hash },
      });
    }
    return {
      at,
      run: runId,
      dryRun,
      lines,
      total: changed,
      skipped,
      recovered,
      timings,
      ...(afterHold ? { afterHold } : {}),
      ...(afterHoldSkipped.length ? { afterHoldSkipped } : {}),
    };
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
    await lock?.release().catch(() => {});
  }
}

/** The records due on `at` by the plan (holds and restrictions left out): the sweep's total. */
async function dueTotal(engine: Engine, project: Project, at: string): Promise<number> {
  const { held, restricted } = await heldKeysByStore(engine, at);
  const archive = (await engine.archive({ create: false })) ?? null;
  let due = 0;
  for (const store of project.datamap.stores)
    for (const line of await withConsentGate(engine, store, at, (conn, ctx) =>
      planStore(conn, project.register, project.datamap, store, at, {
        heldKeys: held.get(store.id) ?? new Map(),
        restrictedKeys: restricted.get(store.id) ?? new Map(),
        archive,
        ...(ctx.consent ? { consent: ctx.consent } : {}),
      }),
    ))
      due += line.due;
  return due;
}
