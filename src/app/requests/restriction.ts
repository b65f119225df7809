/** Restriction of processing (art. 18), and lifting it. */
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { transition } from '../../core/requests/lifecycle.js';
import type { Context, Engine } from '../engine.js';
import { recordHold, releaseHoldCase } from '../holds.js';
import { parseInput } from '../input.js';
import { RequestIdInput, step } from './lifecycle.js';

import type { PersonItem } from './person.js';
import { type RunResult, requireRequest, withState } from './shared.js';
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
  const reason = `restriction of processing (art. 18), request ${row.id}`;
  // A run completing an interrupted one finds the hold it added: not a second one.
  const before = (await state.holds()).find((h) => h.kind === 'restriction' && h.reason === reason);
  if (before) return { restricted, hold: before.caseId };
  const records = own.map((i) => ({ store: i.store.id, table: i.table.name, key: i.id }));
  const added = await recordHold(state, records, {
    reason,
    actor,
    person: row.person,
    restriction: { request: row.id },
  });
  // Returns only once every running sweep and request run has read it, as hold add does: nothing
  // they commit from now on touches the restricted records.
  await state.waitForSweeps(Math.max(...added.ids));
  return { restricted, hold: added.case };
}

/** Lifts a restriction: its records are open to their rules again. */
export async function liftRestriction(
  engine: Engine,
  input: RequestIdInput,
  context: Context,
): Promise<{ request: number; hold: number; records: number }> {
  const { id } = parseInput(RequestIdInput, input);
  const { actor } = context;
  return withState(engine, 'write', async (state) => {
    const row = await requireRequest(state, id);
    // Refused before anything is released (not a restriction in force, already lifted).
    transition(row, { kind: 'lift', hold: 0, actor }, engine.clock.now());
    const hold = (row.outcome as { hold: number }).hold;
    const released = await releaseHoldCase(state, hold, actor, { lift: true });
    await step(state, row, { kind: 'lift', hold, actor }, engine.clock.now());
    return { request: id, hold, records: released.records.length };
  });
}
