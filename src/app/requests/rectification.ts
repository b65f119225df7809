/** Rectification (art. 16): the fields checked, each record's decision, then one set-based change per table and store. */
import type { Connection } from '../../adapters/sql/connect.js';
import { type RectifyUpdate, rectifyRows } from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { columnOf, columnOfField, isAnonymisedValue } from '../../core/datamap/columns.js';
import { RegistreError } from '../../core/errors.js';
import type { Register } from '../../core/register/register-load.js';
import { checkRectification, rectificationDecision } from '../../core/requests/rectification.js';
import type { Project } from '../project.js';

import { legalObligation } from './erasure.js';
import { testPause } from './guard.js';
import { type PersonItem, ruleOf } from './person.js';
import type { RunResult } from './shared.js';

/**
 * Whether a record is anonymised: its rule anonymises and it is so (its status says it, or every
 * field its rule anonymises holds the anonymised value), or an erasure anonymised it.
 */
function anonymised(register: Register, item: PersonItem, erased: ReadonlySet<string>): boolean {
  if (erased.has(`${item.store.id}.${item.table.name}:${item.id}`)) return true;
  const e = item.explanation;
  if (e.status === 'anonymised') return true;
  if (e.action !== 'anonymise') return false;
  const then = ruleOf(register, e.rule)?.then;
  if (then === undefined || then === 'delete') return false;
  return then.anonymise.every((f) => {
    const field = typeof f === 'string' ? f : f.field;
    const column = columnOfField(item.table, field);
    const spec = column ? item.table.columns[column] : undefined;
    return (
      column === undefined || isAnonymisedValue(spec ? columnOf(spec).anonymise : undefined, item.row[column])
    );
  });
}

export async function rectify(
  project: Project,
  state: StateStore,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  at: string,
  dryRun: boolean,
): Promise<Pick<RunResult, 'rectified' | 'unchanged'>> {
  // Checked again at run: a request row edited by hand in the state store never writes a key,
  // a relation or a field a rule reads.
  let set: Record<string, string>;
  try {
    set = checkRectification(
      (row.details as { set?: Record<string, string> }).set ?? {},
      project.register,
      project.datamap,
    );
  } catch (error) {
    if (!(error instanceof RegistreError)) throw error;
    throw new RegistreError(
      'E_NOT_RECTIFIABLE',
      `request ${row.id} asks for what is never rectified; nothing was written:\n${error.message}`,
    );
  }
  const rectified: { table: string; id: string; fields: string[] }[] = [];
  const unchanged: { table: string; id: string; basis: string; fields?: string[] }[] = [];
  const updates = new Map<string, RectifyUpdate[]>();
  // The categories the corrected values belong to: a record kept under a legal obligation that
  // holds data of one of them (an invoice's billing name) is reported as unchanged.
  const categories = new Set(
    project.datamap.stores.flatMap((s) =>
      s.tables.flatMap((table) =>
        Object.keys(set).flatMap((field) => {
          const column = columnOfField(table, field);
          const spec = column ? table.columns[column] : undefined;
          const category = spec ? columnOf(spec).category : undefined;
          return category ? [category] : [];
        }),
      ),
    ),
  );
  const erased = new Set(
    (await state.erasures()).flatMap((e) =>
      e.records.filter((r) => r.action === 'anonymise').map((r) => `${r.store}.${r.table}:${r.key}`),
    ),
  );
  for (const item of items) {
    const fields = Object.fromEntries(
      Object.entries(set).flatMap(([field, value]) => {
        const column = columnOfField(item.table, field);
        const spec = column ? item.table.columns[column] : undefined;
        return column && spec
          ? [[field, { column, value, thirdParty: columnOf(spec).thirdParty === true }]]
          : [];
      }),
    );
    const d = rectificationDecision({
      fields,
      holdsCategory: Object.values(item.table.columns).some((spec) => {
        const category = columnOf(spec).category;
        return category !== undefined && categories.has(category);
      }),
      archived: item.archived,
      processor: item.explanation.processor,
      restricted: item.restricted,
      held: item.explanation.holds.filter((h) => !h.restriction).map((h) => h.hold),
      anonymised: !item.archived && anonymised(project.register, item, erased),
      legalObligation: legalObligation(project.register, item),
    });
    if (d.kind === 'none') continue;
    if (d.kind === 'unchanged') {
      unchanged.push({
        table: item.table.name,
        id: item.id,
        basis: d.basis,
        ...(d.fields.length ? { fields: [...d.fields] } : {}),
      });
      continue;
    }
    rectified.push({ table: item.table.name, id: item.id, fields: [...d.fields] });
    if (d.skipped)
      unchanged.push({
        table: item.table.name,
        id: item.id,
        basis: d.skipped.basis,
        fields: [...d.skipped.fields],
      });
    const list = updates.get(item.store.id) ?? [];
    const signature = JSON.stringify(d.columns);
    let u = list.find((x) => x.table === item.table && JSON.stringify(x.set) === signature);
    if (!u) {
      u = { table: item.table, keys: [], set: d.columns };
      list.push(u);
    }
    (u.keys as string[]).push(item.id);
    updates.set(item.store.id, list);
  }
  if (dryRun || updates.size === 0) return { rectified, unchanged };
  // The protocol of holds: a `hold add` (or a restriction) that returns while this change runs
  // waits for it (waitForSweeps counts `change:` locks); the holds are read again inside each
  // store's transaction, just before its UPDATEs, and what they cover is left out.
  const lock = await state.lock(`change:request:${row.id}`, 60_000, `change of request ${row.id}`);
  try {
    // Between the decision and the commit (tests: a restriction added here is honoured).
    await testPause('request-before-commit');
    for (const [storeId, list] of updates) {
      const conn = conns.get(storeId) as Connection;
      const ctx = await retentionContext(conn, project.register, project.datamap);
      const skipped = await rectifyRows(conn, list, {
        ctx,
        at,
        heldKeys: async (tables) => {
          const { byTable, seen } = await state.heldKeys(storeId, tables, at);
          await lock.beat(seen);
          return byTable;
        },
      });
      for (const s of skipped) {
        const i = rectified.findIndex((r) => r.table === s.table && r.id === s.key);
        const [was] = i >= 0 ? rectified.splice(i, 1) : [];
        unchanged.push({
          table: s.table,
          id: s.key,
          basis: 'held or restricted when the correction was committed: kept as it is',
          ...(was ? { fields: was.fields } : {}),
        });
      }
    }
  } finally {
    await lock.release().catch(() => {});
  }
  return { rectified, unchanged };
}
