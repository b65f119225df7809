/** What the hold commands print. */
import type { HoldCase } from '../../app/holds.js';

export const recordCount = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** A hold's records, one line per table: `  shop.orders 12, 15, 31`. */
function formatHoldRecords(hold: HoldCase): string {
  const byTable = new Map<string, string[]>();
  for (const r of hold.records) {
    const name = `${r.store}.${r.table}`;
    const keys = byTable.get(name);
    if (keys) keys.push(r.key);
    else byTable.set(name, [r.key]);
  }
  return [...byTable].map(([table, keys]) => `  ${table} ${keys.join(', ')}\n`).join('');
}

export function formatHoldAdded(held: HoldCase): string {
  return `hold ${held.id}: ${recordCount(held.records.length)} held\n${formatHoldRecords(held)}`;
}

export function formatHoldReleased(held: HoldCase): string {
  return `hold ${held.id} released: ${recordCount(held.records.length)}\n${formatHoldRecords(held)}`;
}

export function formatHolds(holds: readonly HoldCase[]): string {
  return holds.length
    ? holds
        .map(
          (h) =>
            `hold ${h.id}: ${h.reason}${h.until ? ` (until ${h.until})` : ''}${h.releasedAt ? `, released ${h.releasedAt}` : ''}, ${recordCount(h.records.length)}\n${formatHoldRecords(h)}`,
        )
        .join('')
    : 'no hold\n';
}
