/** Rectification (art. 16). */
import type { Connection } from '../../adapters/sql/connect.js';
import { rectifyRows } from '../../adapters/sql/person.js';
import type { RequestRow } from '../../adapters/state/state-store.js';
import { columnOf, columnOfField } from '../../core/datamap/columns.js';
import type { TableMap } from '../../core/datamap/datamap-schema.js';
import type { Project } from '../project.js';

import { legalObligation } from './erasure.js';
import type { PersonItem } from './person.js';
import type { RunResult } from './shared.js';
// -- rectification

export async function rectify(
  project: Project,
  row: RequestRow,
  items: readonly PersonItem[],
  conns: Map<string, Connection>,
  dryRun: boolean,
): Promise<Pick<RunResult, 'rectified' | 'unchanged'>> {
  const set = (row.details as { set?: Record<string, string> }).set ?? {};
  const rectified: { table: string; id: string; fields: string[] }[] = [];
  const unchanged: { table: string; id: string; basis: string }[] = [];
  const updates = new Map<string, { table: TableMap; keys: string[]; set: Record<string, unknown> }[]>();
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
  for (const item of items) {
    if (item.archived || item.explanation.processor) continue;
    const columns = Object.fromEntries(
      Object.entries(set).flatMap(([field, value]) => {
        const column = columnOfField(item.table, field);
        return column && item.table.columns[column] ? [[column, value]] : [];
      }),
    );
    if (legalObligation(project.register, item)) {
      const holds = Object.values(item.table.columns).some((spec) => {
        const category = columnOf(spec).category;
        return category !== undefined && categories.has(category);
      });
      if (holds || Object.keys(columns).length)
        unchanged.push({
          table: item.table.name,
          id: item.id,
          basis: 'legal obligation: an accounting document is corrected by a new one, not rewritten',
        });
      continue;
    }
    if (Object.keys(columns).length === 0) continue;
    rectified.push({ table: item.table.name, id: item.id, fields: Object.keys(columns) });
    const list = updates.get(item.store.id) ?? [];
    const signature = JSON.stringify(columns);
    let u = list.find((x) => x.table === item.table && JSON.stringify(x.set) === signature);
    if (!u) {
      u = { table: item.table, keys: [], set: columns };
      list.push(u);
    }
    u.keys.push(item.id);
    updates.set(item.store.id, list);
  }
  if (!dryRun) for (const [store, list] of updates) await rectifyRows(conns.get(store) as Connection, list);
  return { rectified, unchanged };
}
