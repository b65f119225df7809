/** Carrying a verified request out: the person's records found once, then the applier of its kind; the outcome logged. */
import { relative } from 'node:path';
import { readPreviousKeys } from '../../adapters/files/config-paths.js';
import { preparePackageFolder } from '../../adapters/files/package-files.js';
import type { RequestRow } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { personHash } from '../../core/identity.js';
import type { RequestType } from '../../core/requests/requests.js';
import type { Context, Engine } from '../engine.js';
import { field, parseInput } from '../input.js';

import { writeAccess, writePortability } from './access.js';
import { erase } from './erasure.js';
import { commitGuard, NO_MORE_COMMITS } from './guard.js';
import { runOnInstruction } from './instruction.js';
import { sendCompletion } from './letters.js';
import { forgetIfErased, purgeCodes, step } from './lifecycle.js';
import { object } from './objection.js';
import { type PersonItem, personItems, withPersonStores } from './person.js';
import { rectify } from './rectification.js';
import { restrict } from './restriction.js';
import { NO_DATA, purposeOf, RunRequestInput, type RunResult, requireKey, requireRequest } from './shared.js';

/** The kinds of request that change the stores (and re-read the holds before each commit). */
const CHANGES = new Set(['erasure', 'objection', 'rectification']);

/** Carries a verified request out (or shows what it would do), then writes its letter. */
export async function runRequest(
  engine: Engine,
  input: RunRequestInput,
  context: Context,
): Promise<RunResult> {
  const options = parseInput(RunRequestInput, input);
  const { id, dryRun, delivery } = options;
  const today = engine.today();
  const at = options.at ?? today;
  if (at > today)
    throw new RegistreError('E_USAGE', `${field('at')} ${at} is after today (${today})`, { path: ['at'] });
  const { actor } = context;
  const project = await engine.project();
  const key = requireKey(project);
  const state = await engine.state(dryRun ? 'read' : 'write');
  // One run of a request at a time, whichever process asks: the second is told, not run twice.
  const lock = dryRun ? null : await state.lock(`request:${id}`, 10 * 60_000, `run of request ${id}`);
  // Beats while the run works: `hold add` and a restriction wait for a live run to confirm their holds.
  const timer = lock
    ? setInterval(() => {
        lock.beat().catch(() => {});
      }, 5000)
    : null;
  timer?.unref();
  const guard = commitGuard(state, lock);
  try {
    const row = await requireRequest(state, id);
    // A run that changes no store confirms every hold at once: nobody waits for it.
    if (lock && (options.onBehalfOf === undefined ? !CHANGES.has(row.type) : false))
      await lock.beat(NO_MORE_COMMITS);
    if (options.onBehalfOf !== undefined)
      return await runOnInstruction(
        engine,
        project,
        state,
        row,
        options.onBehalfOf,
        at,
        dryRun,
        actor,
        guard,
      );
    if (row.status === 'done' || row.status === 'refused')
      throw new RegistreError('E_REQUEST_CLOSED', `request ${id} is already ${row.status}`);
    if (row.status !== 'verified' && row.status !== 'running')
      throw new RegistreError(
        'E_NOT_VERIFIED',
        `request ${id} is ${row.status}: the person's identity is not verified; nothing is done before it is (request verify ${id} --code … or --manual --reason …)`,
      );
    const type = row.type as RequestType;
    if (type === 'objection' && options.grounds !== undefined) {
      const purpose = purposeOf(project.register, (row.details as { purpose?: string }).purpose ?? '');
      if (purpose?.purpose.tags?.includes('direct-marketing'))
        throw new RegistreError(
          'E_USAGE',
          `${field('grounds')}: request ${id} objects to ${purpose.purpose.id}, direct marketing, which stops on objection whatever the grounds (art. 21(3)): run it without ${field('grounds')}`,
          { path: ['grounds'] },
        );
    }
    if ((type === 'access' || type === 'portability') && !options.out)
      throw new RegistreError('E_USAGE', `${type}: ${field('out')} DIR, where the package is written`, {
        path: ['out'],
      });
    // The package's folder is checked (and made) before anything is done: a refused --out leaves
    // the request as it was, to be run again with another folder.
    const folder =
      type === 'access' || type === 'portability' ? preparePackageFolder(options.out as string, dryRun) : '';
    if (!row.email)
      throw new RegistreError('E_ADDRESS_ERASED', `request ${id} no longer holds the person's address`);
    const email = row.email;
    return await withPersonStores(engine, !dryRun && type === 'erasure', async (conns, archive) => {
      const { visitor } = row.details as { visitor?: string };
      const items = await personItems(project, state, email, at, key, conns, archive, visitor);
      const base = { request: id, type, at, dryRun, found: items.length };
      const keys = state.digest(
        items.map((i) => `${i.store.id}.${i.table.name}:${i.id}${i.archived ? '@archive' : ''}`).join(','),
      );
      const apply = async (dry: boolean): Promise<RunResult> => {
        if (type === 'access' || type === 'portability') {
          // The consent ledger's events of the person: under their address (every key it may be
          // hashed with) and the visitor id the request names.
          const ledger =
            type === 'access'
              ? [
                  ...(await state.consents.ofSubjects(
                    'email',
                    [key, ...readPreviousKeys(project.loaded)].map((k) => personHash(k, email)),
                  )),
                  ...(visitor ? await state.consents.ofSubjects('visitor', [visitor]) : []),
                ]
              : [];
          const files = dry
            ? []
            : type === 'access'
              ? writeAccess(project, items, folder, row, today, ledger)
              : writePortability(project.register, items, folder, row, today);
          const found = items.length + ledger.length;
          return { ...base, dryRun: dry, files, ...(found ? {} : { message: NO_DATA }) };
        }
        if (type === 'erasure')
          return {
            ...base,
            dryRun: dry,
            ...(await erase(project, state, row, items, conns, archive, at, dry, guard)),
          };
        if (type === 'rectification')
          return { ...base, dryRun: dry, ...(await rectify(project, state, row, items, conns, at, dry)) };
        if (type === 'restriction')
          return { ...base, dryRun: dry, ...(await restrict(state, row, items, dry, actor)) };
        return {
          ...base,
          dryRun: dry,
          ...(await object(project, state, row, items, conns, at, dry, options, guard)),
        };
      };
      if (dryRun) {
        const result = await apply(true);
        return items.length === 0 ? { ...result, message: NO_DATA } : result;
      }
      // The intent first, with what it is to do, before any store commits: a run killed after a
      // store's commit is completed by the next run, which finds the request running.
      let current = row;
      const resumed = row.status === 'running';
      if (!resumed) {
        const plan = type === 'erasure' ? await apply(true) : { found: items.length };
        current = await step(
          state,
          row,
          {
            kind: 'run-started',
            at,
            keys,
            found: items.length,
            plan: planOf(plan),
            actor,
          },
          engine.clock.now(),
        );
      }
      let result = await apply(false);
      if (resumed) result = { ...completed(current, result, items), resumed: true };
      if (items.length === 0 && !result.erased?.length) result = { ...result, message: NO_DATA };
      const counts = {
        found: result.found,
        ...(result.erased ? { erased: result.erased.length } : {}),
        ...(result.kept ? { kept: result.kept.length } : {}),
        ...(result.forwarded ? { forwarded: result.forwarded.length } : {}),
        ...(result.rectified ? { rectified: result.rectified.length } : {}),
        ...(result.restricted ? { restricted: result.restricted.length } : {}),
      };
      const packaged = (type === 'access' || type === 'portability') && delivery === 'mail';
      const outcome = {
        ...result,
        // Relative to the package's folder: a copied file is in its `files/` (the letter attaches it).
        files: result.files?.map((f) => (folder ? relative(folder, f) : (f.split(/[\\/]/).pop() ?? f))),
        delivery,
        ...(packaged ? { folder } : {}),
      };
      const done = await step(
        state,
        current,
        {
          kind: 'run-done',
          at,
          keys,
          counts,
          outcome: outcome as unknown as Record<string, unknown>,
          // The address served its purpose once the person is erased: only the keyed hash stays.
          forgetAddress: type === 'erasure',
          // The corrected values are in the stores now: the request keeps which fields, and a keyed digest.
          ...(type === 'rectification' ? { forgetValues: rectifiedValues(state, current) } : {}),
          resumed,
          extra: {
            ...(result.objection
              ? {
                  objection: {
                    purpose: result.objection.purpose,
                    suppressionList: result.objection.suppressionList,
                  },
                }
              : {}),
            ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
            ...(options.grounds ? { grounds: await state.keepReason(options.grounds) } : {}),
          },
          actor,
        },
        engine.clock.now(),
      );
      // The completion letter goes to the address read before the erasure removed it (kept in
      // memory only); a failed one is sent again by `request send-letters ID --email …`.
      const letter = await sendCompletion(
        engine.mailer,
        state,
        project,
        done,
        email,
        delivery,
        actor,
        type === 'erasure',
      );
      await forgetIfErased(state, row.person);
      await purgeCodes(state, project, engine.clock.now());
      return { ...result, delivery, letter };
    });
  } finally {
    if (timer) clearInterval(timer);
    await lock?.release().catch(() => {});
  }
}

/** A rectification's fields and the keyed digest of their values (sorted by field). */
function rectifiedValues(
  state: { digest(value: string): string },
  row: RequestRow,
): { fields: string[]; digest: string } {
  const set = (row.details as { set?: Record<string, unknown> }).set ?? {};
  const entries = Object.entries(set).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { fields: entries.map(([field]) => field), digest: state.digest(JSON.stringify(entries)) };
}

/** What the intent keeps of the planned run: the records' tables and ids, their actions. */
function planOf(plan: Partial<RunResult>): Record<string, unknown> {
  return {
    ...(plan.erased ? { erased: plan.erased } : {}),
    ...(plan.kept ? { kept: plan.kept } : {}),
    ...(plan.forwarded ? { forwarded: plan.forwarded } : {}),
    found: plan.found ?? 0,
  };
}

/**
 * A run completing an interrupted one: what this run found and did, and what the interrupted
 * run's intent planned for records that are no longer found (done by it, before it was killed).
 */
function completed(row: RequestRow, result: RunResult, items: readonly PersonItem[]): RunResult {
  const plan = (row.details as { intent?: { plan?: Partial<RunResult> } }).intent?.plan ?? {};
  const found = new Set(items.map((i) => `${i.table.name}:${i.id}:${i.archived ? 'a' : ''}`));
  const gone = (plan.erased ?? []).filter((e) => !found.has(`${e.table}:${e.id}:${e.archived ? 'a' : ''}`));
  return {
    ...result,
    found: Math.max(result.found, plan.found ?? 0),
    ...(plan.erased || result.erased ? { erased: [...gone, ...(result.erased ?? [])] } : {}),
  };
}
