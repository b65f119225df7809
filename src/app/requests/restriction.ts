/** Restriction of processing (art. 18), and lifting it. */
import { currentActor, type RequestRow, type StateStore } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { recordHold, releaseHoldCase } from '../holds.js';
import { withState } from '../stores.js';

import type { PersonItem } from './person.js';
import { type RunResult, requireRequest } from './shared.js';
// -- restriction

export async function restrict(
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  dryRun: boolean,
  actor: string,
): Promise<Pick<RunResult, 'restricted' | 'hold'>> {
  const own = items.filter((i) => !i.explanation.processor);
  const restricted = own.map((i) => ({ table: i.table.name, id: i.id }));
  if (dryRun || own.length === 0) return { restricted };
  const records = own.map((i) => ({ store: i.store.id, table: i.table.name, key: i.id }));
  const ids = await recordHold(state, records, {
    reason: `restriction of processing (art. 18), request ${row.id}`,
    actor,
    person: row.person,
    restriction: { request: row.id },
  });
  // Returns only once every running sweep and request run has read it, as hold add does: nothing
  // they commit from now on touches the restricted records.
  await state.waitForSweeps(Math.max(...ids));
  return { restricted, hold: ids[0] as number };
}

/** Lifts a restriction: its records are open to their rules again. */
export async function liftRestriction(
  configFile: string | undefined,
  id: number,
  actor = currentActor(),
): Promise<{ request: number; hold: number; records: number }> {
  return withState(configFile, 'write', async (state) => {
    const row = await requireRequest(state, id);
    const hold = (row.outcome as { hold?: number } | null)?.hold;
    if (row.type !== 'restriction' || row.status !== 'done' || hold === undefined)
      throw new RegistreError('E_REQUEST_STATE', `request ${id} is not a restriction in force`);
    const released = await releaseHoldCase(state, hold, actor);
    await state.audit('request.lift', { request: id, person: row.person, hold, actor });
    return { request: id, hold, records: released.records.length };
  });
}
