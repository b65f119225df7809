/** Carrying a verified request out: the person's records found once, then the applier of its kind; the outcome logged. */
import { resolve } from 'node:path';
import { currentActor } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import type { RequestType } from '../../core/requests/requests.js';
import { requireDateInput } from '../../core/retention/calendar.js';
import { openProject } from '../project.js';
import { openState, todayUtc } from '../stores.js';

import { writeAccess, writePortability } from './access.js';
import { erase } from './erasure.js';
import { commitGuard, NO_MORE_COMMITS } from './guard.js';
import { runOnInstruction } from './instruction.js';
import { object } from './objection.js';
import { personItems, withPersonStores } from './person.js';
import { rectify } from './rectification.js';
import { restrict } from './restriction.js';
import { NO_DATA, type RunOptions, type RunResult, requireKey, requireRequest } from './shared.js';

/** The kinds of request that change the stores (and re-read the holds before each commit). */
const CHANGES = new Set(['erasure', 'objection', 'rectification']);

export async function runRequest(
  configFile: string | undefined,
  id: number,
  options: RunOptions = {},
): Promise<RunResult> {
  const today = options.today ?? todayUtc();
  const at = options.at ? requireDateInput('--at', options.at) : today;
  if (at > today) throw new RegistreError('E_USAGE', `--at ${at} is after today (${today})`);
  const dryRun = options.dryRun === true;
  const actor = options.actor ?? currentActor();
  const project = await openProject(configFile);
  const key = requireKey(project);
  const state = await openState(project, dryRun ? 'read' : 'write');
  // One run of a request at a time, whichever process asks: the second is told, not run twice.
  const lock = dryRun
    ? null
    : await state.lock(`request:${id}`, 10 * 60_000, `run of request ${id}`).catch(async (error) => {
        await state.close();
        throw error;
      });
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
      return await runOnInstruction(project, state, row, options.onBehalfOf, at, dryRun, actor, guard);
    if (row.status === 'done' || row.status === 'refused')
      throw new RegistreError('E_REQUEST_CLOSED', `request ${id} is already ${row.status}`);
    if (row.status !== 'verified')
      throw new RegistreError(
        'E_NOT_VERIFIED',
        `request ${id} is ${row.status}: the person's identity is not verified; nothing is done before it is (request verify ${id} --code … or --manual --reason …)`,
      );
    const email = row.email as string;
    const type = row.type as RequestType;
    return await withPersonStores(project, !dryRun && type === 'erasure', async (conns, archive) => {
      const items = await personItems(project, state, email, at, key, conns, archive);
      const base = { request: id, type, at, dryRun, found: items.length };
      let result: RunResult;
      if (type === 'access' || type === 'portability') {
        if (!options.out)
          throw new RegistreError('E_USAGE', `${type}: --out DIR, where the package is written`);
        const out = resolve(options.out);
        const files = dryRun
          ? []
          : type === 'access'
            ? writeAccess(project.register, items, out, row, today)
            : writePortability(project.register, items, out, row, today);
        result = { ...base, files, ...(items.length ? {} : { message: NO_DATA }) };
      } else if (type === 'erasure')
        result = {
          ...base,
          ...(await erase(project, state, row, items, conns, archive, at, dryRun, guard)),
        };
      else if (type === 'rectification')
        result = { ...base, ...(await rectify(project, state, row, items, conns, at, dryRun)) };
      else if (type === 'restriction')
        result = { ...base, ...(await restrict(state, row, items, dryRun, actor)) };
      else
        result = {
          ...base,
          ...(await object(project, state, row, items, conns, at, dryRun, options, guard)),
        };
      if (items.length === 0) result = { ...result, message: NO_DATA };
      if (!dryRun) {
        const counts = {
          found: items.length,
          ...(result.erased ? { erased: result.erased.length } : {}),
          ...(result.kept ? { kept: result.kept.length } : {}),
          ...(result.forwarded ? { forwarded: result.forwarded.length } : {}),
          ...(result.rectified ? { rectified: result.rectified.length } : {}),
          ...(result.restricted ? { restricted: result.restricted.length } : {}),
        };
        const keys = state.digest(
          items.map((i) => `${i.store.id}.${i.table.name}:${i.id}${i.archived ? '@archive' : ''}`).join(','),
        );
        const outcome = { ...result, files: result.files?.map((f) => f.split(/[\\/]/).pop() ?? f) };
        const erased = type === 'erasure' && !result.erased?.length ? false : type === 'erasure';
        await state.updateRequest(id, {
          status: 'done',
          outcome: outcome as unknown as Record<string, unknown>,
          // The address served its purpose once the person is erased: only the keyed hash stays.
          ...(erased || type === 'erasure' ? { email: null } : {}),
        });
        await state.audit('request.run', {
          request: id,
          type,
          person: row.person,
          at,
          counts,
          keys,
          ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
          ...(options.grounds ? { grounds: await state.keepReason(options.grounds) } : {}),
          actor,
        });
      }
      return result;
    });
  } finally {
    if (timer) clearInterval(timer);
    await lock?.release().catch(() => {});
    await state.close();
  }
}
