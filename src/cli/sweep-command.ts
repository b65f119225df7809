/** `registre sweep`, `hold`, `audit`, `status`, `archive`: enforcement and its proofs. */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { datamapPathOf, readHmacKey, registerPathOf } from '../adapters/files/config-files.js';
import { readRegisterSources } from '../adapters/files/register-files.js';
import { type Connection, connect, resolveUrl } from '../adapters/sql/connect.js';
import { findPerson } from '../adapters/sql/explain.js';
import { listTables } from '../adapters/sql/introspect.js';
import { loadRows } from '../adapters/sql/records.js';
import type { RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import { type SweepLine, sweepStore } from '../adapters/sql/sweep.js';
import { StateStore } from '../adapters/state/state-store.js';
import { verifyAuditChain } from '../core/audit-chain.js';
import { parseCalendarDate } from '../core/calendar.js';
import { RegistreError } from '../core/errors.js';
import { connectStore, openProject, type Project, withStore } from './project.js';

export async function openState(project: Project): Promise<StateStore> {
  const url = project.loaded.config.state?.url ?? 'sqlite:.registre/state.sqlite';
  return StateStore.open(url, project.loaded.dir, readHmacKey(project.loaded));
}

export async function openArchive(project: Project): Promise<Connection> {
  const url = project.loaded.config.archive?.url ?? 'sqlite:.registre/archive.sqlite';
  return connect('archive', resolveUrl('archive', url), { baseDir: project.loaded.dir, create: true });
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
}

export interface SweepCommandOptions {
  readonly at: string;
  readonly dryRun?: boolean;
  readonly allowFuture?: boolean;
  readonly batchSize?: number;
  readonly progress?: boolean;
  readonly today?: string;
}

export async function runSweep(
  configFile: string | undefined,
  options: SweepCommandOptions,
): Promise<SweepReport> {
  let at: string;
  try {
    at = parseCalendarDate(options.at);
  } catch {
    throw new RegistreError('E_USAGE', `--at must be a date YYYY-MM-DD (got "${options.at}")`);
  }
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  if (at > today && !options.allowFuture)
    throw new RegistreError(
      'E_FUTURE',
      `--at ${at} is after today (${today}): a sweep never deletes early; pass --allow-future to simulate one`,
    );
  const project = openProject(configFile);
  const state = await openState(project);
  const hashes = {
    register: sourcesHash(registerPathOf(project.loaded)),
    datamap: sourcesHash(datamapPathOf(project.loaded)),
  };
  const lockName = `sweep:${project.datamap.stores.map((s) => s.id).join(',')}`;
  let lock: Awaited<ReturnType<StateStore['lock']>> | null = null;
  let runId: number | null = null;
  const lines: SweepLine[] = [];
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: 'sweep {bar} {value} records | {rule}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  try {
    if (!options.dryRun) {
      lock = await state.lock(lockName);
      for (const run of await state.runs(100))
        if (run.status === 'running') {
          await state.finishRun(run.id, 'failed', { interrupted: true });
          await state.audit('sweep.interrupted', {
            run: run.id,
            note: 'this run stopped without finishing (killed); its last intent without a batch entry was applied whole or not at all; the next run re-evaluated everything',
          });
        }
      runId = await state.startRun(at);
      await state.audit('sweep.start', {
        run: runId,
        at,
        register: hashes.register,
        datamap: hashes.datamap,
      });
    }
    bar?.start(0, 0, { rule: '' });
    let done = 0;
    const archive = await openArchive(project);
    try {
      for (const store of project.datamap.stores) {
        const conn = await connectStore(project, store);
        try {
          const ctx: RetentionSqlContext = {
            register: project.register,
            datamap: project.datamap,
            dialect: conn.dialect,
          };
          lines.push(
            ...(await sweepStore(conn, ctx, store, state, {
              at,
              dryRun: options.dryRun === true,
              batchSize: options.batchSize ?? 5000,
              runId: runId ?? 0,
              hashes,
              ...(readHmacKey(project.loaded) ? { hmacKey: readHmacKey(project.loaded) as Buffer } : {}),
              folders: Object.fromEntries(
                Object.entries(project.loaded.config.files ?? {}).map(([k, v]) => [
                  k,
                  resolve(project.loaded.dir, v),
                ]),
              ),
              returnsDir: resolve(project.loaded.dir, project.loaded.config.returns ?? 'returns'),
              manualHolds: await state.holds(),
              archive,
              onBatch: async (line, count) => {
                done += count;
                bar?.setTotal(done);
                bar?.update(done, { rule: `${line.rule} (${line.action})` });
                await lock?.beat();
              },
            })),
          );
        } catch (error) {
          if (error instanceof RegistreError) throw error;
          throw new RegistreError(
            'E_STORE_FAILED',
            `store "${store.id}" (${conn.label}) failed during the sweep: ${(error as Error).message.split('\n')[0]}; the batch under way was rolled back, the ones before it stay applied and logged`,
            { cause: error },
          );
        } finally {
          await conn.close().catch(() => {});
        }
      }
    } finally {
      await archive.close();
    }
    const total = lines.reduce((n, l) => n + l.count, 0);
    if (runId !== null) {
      await state.audit('sweep.done', { run: runId, total });
      await state.finishRun(runId, 'done', { total, lines });
    }
    return { at, run: runId, dryRun: options.dryRun === true, lines, total };
  } catch (error) {
    if (runId !== null) {
      // No message in the log: a database error can quote a value; the code and the class suffice.
      const code =
        error instanceof RegistreError
          ? error.code
          : ((error as NodeJS.ErrnoException).code ?? 'E_UNEXPECTED');
      await state.audit('sweep.failed', { run: runId, code }).catch(() => {});
      await state.finishRun(runId, 'failed', { code }).catch(() => {});
    }
    throw error;
  } finally {
    bar?.stop();
    await lock?.release().catch(() => {});
    await state.close();
  }
}

export function formatSweep(report: SweepReport): string {
  const head = `${report.dryRun ? 'dry run: would apply' : `sweep run ${report.run}: applied`} on ${report.at}: ${report.total} records`;
  return `${[head, ...report.lines.filter((l) => l.count > 0).map((l) => `  ${l.rule.padEnd(24)} ${l.table.padEnd(24)} ${l.action.padEnd(14)} ${l.count}`)].join('\n')}\n`;
}

export async function runHoldAdd(
  configFile: string | undefined,
  options: { table?: string; id?: string; email?: string; reason: string; until?: string },
): Promise<number[]> {
  if (!options.reason.trim()) throw new RegistreError('E_USAGE', '--reason must say why');
  if (options.until !== undefined) parseCalendarDate(options.until);
  if ((options.email === undefined) === (options.table === undefined || options.id === undefined))
    throw new RegistreError('E_USAGE', 'give either --table and --id, or --email');
  const project = openProject(configFile);
  const state = await openState(project);
  const ids: number[] = [];
  try {
    const key = readHmacKey(project.loaded);
    for (const store of project.datamap.stores) {
      await withStore(project, store, async (conn, ctx) => {
        let records: { table: string; id: string }[];
        if (options.email !== undefined) {
          records = (await findPerson(conn, ctx, store, options.email, key)).map((r) => ({
            table: r.table.name,
            id: r.id,
          }));
        } else {
          const table = store.tables.find((t) => t.name === options.table);
          if (!table) return;
          const [row] = await loadRows(conn, table.name, table.primaryKey, options.id);
          if (!row)
            throw new RegistreError(
              'E_NOT_FOUND',
              `table "${table.name}" has no record with ${table.primaryKey} = ${options.id}`,
            );
          records = [{ table: table.name, id: String(row[table.primaryKey]) }];
        }
        const person =
          options.email !== undefined && key
            ? createHash('sha256').update(key).update(options.email.trim().toLowerCase()).digest('hex')
            : undefined;
        for (const r of records) {
          const id = await state.addHold({
            store: store.id,
            table: r.table,
            key: r.id,
            reason: options.reason,
            ...(person ? { person } : {}),
            ...(options.until ? { until: options.until } : {}),
          });
          // The reason is the DPO's words and may name the case, not the person: it stays out of the log.
          await state.audit('hold.add', {
            hold: id,
            store: store.id,
            table: r.table,
            keys: createHash('sha256').update(r.id).digest('hex'),
            until: options.until ?? null,
            ...(person ? { person } : {}),
          });
          ids.push(id);
        }
      });
    }
    if (ids.length === 0)
      throw new RegistreError(
        'E_NOT_FOUND',
        options.email !== undefined
          ? 'no record of this person in the stores'
          : `no table "${options.table}" in the data map`,
      );
    return ids;
  } finally {
    await state.close();
  }
}

/** Runs `f` with the project's state store open, then closes it. */
async function withState<T>(
  configFile: string | undefined,
  f: (state: StateStore, project: Project) => Promise<T>,
): Promise<T> {
  const project = openProject(configFile);
  const state = await openState(project);
  try {
    return await f(state, project);
  } finally {
    await state.close();
  }
}

export async function runHoldList(configFile: string | undefined, all: boolean) {
  return withState(configFile, (state) => state.holds(all));
}

export async function runHoldRelease(configFile: string | undefined, id: number) {
  return withState(configFile, async (state) => {
    const hold = await state.releaseHold(id);
    await state.audit('hold.release', { hold: id, store: hold.store, table: hold.table });
    return hold;
  });
}

export async function runAuditVerify(configFile: string | undefined) {
  return withState(configFile, async (state) => {
    const entries = await state.auditEntries();
    return { entries: entries.length, problems: verifyAuditChain(entries, state.hash) };
  });
}

export async function runAuditExport(configFile: string | undefined): Promise<string> {
  return withState(configFile, async (state) =>
    (await state.auditEntries()).map((e) => `${JSON.stringify(e)}\n`).join(''),
  );
}

export async function runStatus(configFile: string | undefined) {
  return withState(configFile, async (state) => ({
    locks: await state.locks(),
    runs: await state.runs(5),
    holds: (await state.holds()).length,
  }));
}

/** Reads archived records of a table (every read is written to the audit log). */
export async function runArchiveRead(
  configFile: string | undefined,
  table: string,
  id: string | undefined,
  reason: string,
) {
  if (!reason.trim()) throw new RegistreError('E_USAGE', '--reason must say why the archive is consulted');
  const project = openProject(configFile);
  const store = project.datamap.stores.find((s) => s.tables.some((t) => t.name === table));
  if (!store) throw new RegistreError('E_UNKNOWN_TABLE', `no table "${table}" in the data map`);
  const state = await openState(project);
  const archive = await openArchive(project);
  try {
    const name = `${store.id}__${table}`;
    const exists = (await listTables(archive)).some((t) => t.name === name);
    let query = exists ? archive.db.selectFrom(name).selectAll().orderBy('record_key') : null;
    if (query && id !== undefined) query = query.where('record_key', '=', id);
    const rows = query ? ((await query.execute()) as Record<string, unknown>[]) : [];
    await state.audit('archive.read', {
      store: store.id,
      table,
      records: rows.length,
      keys: createHash('sha256')
        .update(rows.map((r) => String(r.record_key)).join(','))
        .digest('hex'),
    });
    return rows;
  } finally {
    await archive.close();
    await state.close();
  }
}
