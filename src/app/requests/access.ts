/** Access (art. 15) and portability (art. 20): the packages written for the person. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { otherData, personalData } from '../../adapters/sql/person.js';
import type { RequestRow } from '../../adapters/state/state-store.js';
import { csvCell } from '../../core/csv.js';
import type { Register } from '../../core/register/register-load.js';
import { type AccessPackage, accessHtml } from '../../core/requests/access-html.js';

import { basesOf, type PersonItem, recipientsOf } from './person.js';
// -- access and portability

export function accessPackage(
  register: Register,
  items: readonly PersonItem[],
  row: RequestRow,
  generated: string,
): AccessPackage {
  const own = items.filter((i) => !i.explanation.processor);
  return {
    subject: { request: row.id, person: row.person },
    generated,
    records: own.map((i) => ({
      store: i.store.id,
      table: i.table.name,
      id: i.id,
      record: i.table.record,
      archived: i.archived,
      data: personalData(i.table, i.row),
      purposes: basesOf(register, i),
      recipients: recipientsOf(register, i),
      deadline: i.explanation.deadline,
      status: i.restricted ? 'restricted' : i.explanation.status,
    })),
    consents: own.flatMap((i) =>
      basesOf(register, i)
        .filter((p) => p.legalBasis === 'consent')
        .map((p) => ({
          purpose: p.purpose,
          table: i.table.name,
          id: i.id,
          proof: otherData(i.table, i.row),
        })),
    ),
    processor: items
      .filter((i) => i.explanation.processor)
      .map((i) => ({
        controller: i.controller?.name ?? null,
        controllerId: i.controller?.id ?? null,
        table: i.table.name,
        id: i.id,
        data: personalData(i.table, i.row),
      })),
  };
}

export function writeAccess(
  register: Register,
  items: readonly PersonItem[],
  out: string,
  row: RequestRow,
  today: string,
): string[] {
  const pkg = accessPackage(register, items, row, today);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const json = join(out, 'access.json');
  const html = join(out, 'access.html');
  writeFileSync(json, `${JSON.stringify(pkg, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(html, accessHtml(register, pkg), { mode: 0o600 });
  return [json, html];
}

/** Art. 20: what the person provided, on consent or contract; not invoices, nothing derived. */
export function writePortability(
  register: Register,
  items: readonly PersonItem[],
  out: string,
  row: RequestRow,
  today: string,
): string[] {
  const provided = items.filter(
    (i) =>
      !i.archived &&
      !i.explanation.processor &&
      basesOf(register, i).some((p) => p.legalBasis === 'consent' || p.legalBasis === 'contract') &&
      !basesOf(register, i).some((p) => p.legalBasis === 'legal-obligation'),
  );
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const i of provided) {
    const rows = byTable.get(i.table.name) ?? [];
    rows.push({ id: i.id, ...personalData(i.table, i.row), ...otherData(i.table, i.row) });
    byTable.set(i.table.name, rows);
  }
  const json = join(out, 'portability.json');
  writeFileSync(
    json,
    `${JSON.stringify({ request: row.id, generated: today, data: Object.fromEntries(byTable) }, null, 2)}\n`,
    { mode: 0o600 },
  );
  const files = [json];
  for (const [table, rows] of byTable) {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const path = join(out, `${table}.csv`);
    writeFileSync(
      path,
      `${[columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`,
      { mode: 0o600 },
    );
    files.push(path);
  }
  return files;
}
