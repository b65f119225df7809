/** The person's records, as `explain` sees them, and the stores opened for one request. */
import type { Connection } from '../../adapters/sql/connect.js';
import { explainRecord, findPerson } from '../../adapters/sql/explain.js';
import { archivedRows, controllerOf, rowsByKey } from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import type { StateStore } from '../../adapters/state/state-store.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import { personHash } from '../../core/identity.js';
import type { Register } from '../../core/register/register-load.js';
import type { RetentionRule } from '../../core/register/register-schema.js';
import type { Explanation } from '../../core/retention/results.js';

import { localise } from '../../core/text.js';
import type { Engine } from '../engine.js';
import { archivedExplanation, archiveHolds, byRecordKey, manualHolds } from '../explain.js';
import type { Project } from '../project.js';
import { purposeOf, type Row } from './shared.js';
// ---------------------------------------------------------------------------------------------
// The person's records, as `explain` sees them

/** One record of the person, with what the request needs to decide about it. */
export interface PersonItem {
  readonly store: StoreMap;
  readonly table: TableMap;
  readonly id: string;
  readonly row: Row;
  readonly archived: boolean;
  readonly explanation: Explanation;
  readonly restricted: boolean;
  readonly controller: { readonly id: string; readonly name: string } | null;
}

/** Every record of the person in every store and in the archive, each explained on `at`. */
export async function personItems(
  project: Project,
  state: StateStore,
  email: string,
  at: string,
  key: Buffer,
  conns: Map<string, Connection>,
  archive: Connection | undefined,
  /** A visitor id the request names (`request open --visitor`): its web visits too. */
  visitor?: string,
): Promise<PersonItem[]> {
  const holds = await state.holds({ at });
  const person = personHash(key, email);
  const kept = (await state.erasures())
    .filter((e) => e.person === person)
    .flatMap((e) => e.records.filter((r) => r.action === 'keep' && !r.archived));
  const manual = manualHolds(holds);
  const items: PersonItem[] = [];
  for (const store of project.datamap.stores) {
    const conn = conns.get(store.id) as Connection;
    const ctx = await retentionContext(conn, project.register, project.datamap);
    const manualOf = byRecordKey(project, store.id, manual);
    const found = (await findPerson(conn, ctx, store, email, key, archive, visitor)).filter(
      (r) => r.table.record,
    );
    // What an earlier erasure kept (invoices, held records) is no longer reached from the address
    // (the account that linked it is gone): the state store remembers it by the person's hash.
    const seen = new Set(found.map((r) => `${r.archived ? 'archive:' : ''}${r.table.name}:${r.id}`));
    for (const r of kept)
      if (r.store === store.id && !seen.has(`${r.table}:${r.key}`)) {
        const table = store.tables.find((t) => t.name === r.table);
        if (table?.record) {
          found.push({ table, id: r.key });
          seen.add(`${r.table}:${r.key}`);
        }
      }
    const byTable = new Map<TableMap, { live: string[]; archived: string[] }>();
    for (const r of found) {
      const entry = byTable.get(r.table) ?? { live: [], archived: [] };
      (r.archived ? entry.archived : entry.live).push(r.id);
      byTable.set(r.table, entry);
    }
    for (const [table, keys] of byTable) {
      const live = await rowsByKey(conn, table, keys.live);
      const arch = archive
        ? await archivedRows(archive, store, table, keys.archived)
        : new Map<string, Row>();
      for (const id of keys.live) {
        const row = live.get(id);
        if (!row) continue;
        // One record at a time: measured faster than the sweep's verdict query over a few keys
        // (a large statement to compile and prepare for each person).
        const explanation = await explainRecord(conn, ctx, store, table, id, at, manualOf);
        items.push({
          store,
          table,
          id,
          row,
          archived: false,
          explanation,
          restricted: explanation.holds.some((h) => h.restriction === true),
          controller: explanation.processor ? await controllerOf(conn, ctx, table, row) : null,
        });
      }
      const dataHeld = keys.archived.length ? await archiveHolds(conn, ctx, table) : () => [];
      for (const id of keys.archived) {
        const row = arch.get(id);
        if (!row) continue;
        const explanation = archivedExplanation(
          project.register,
          table,
          id,
          { rule: String(row.rule), deadline: String(row.deadline), archivedAt: String(row.archived_at) },
          at,
          [...manual(store.id, table.name, id), ...dataHeld(id)],
        );
        items.push({
          store,
          table,
          id,
          row,
          archived: true,
          explanation,
          restricted: explanation.holds.some((h) => h.restriction === true),
          controller: null,
        });
      }
    }
  }
  return items;
}

/** The engine's stores (and the archive: created when `write`, else when there is one) for one request. */
export async function withPersonStores<T>(
  engine: Engine,
  write: boolean,
  f: (conns: Map<string, Connection>, archive: Connection | undefined) => Promise<T>,
): Promise<T> {
  const project = await engine.project({ cached: true });
  const conns = new Map<string, Connection>();
  for (const store of project.datamap.stores) conns.set(store.id, await engine.store(store));
  return f(conns, await engine.archive({ create: write }));
}

export function basesOf(register: Register, item: PersonItem) {
  return [...new Set(item.explanation.purposes.map((p) => p.purpose))].flatMap((id) => {
    const found = purposeOf(register, id);
    return found ? [{ purpose: id, legalBasis: found.purpose.legalBasis }] : [];
  });
}

export function recipientsOf(register: Register, item: PersonItem, lang: 'fr' | 'en' = 'en'): string[] {
  const ids = new Set<string>();
  for (const p of item.explanation.purposes)
    for (const r of purposeOf(register, p.purpose)?.activity.recipients ?? []) ids.add(r);
  return [...ids].map((id) => localise(register.recipients.find((r) => r.id === id)?.name, lang) || id);
}

export function ruleOf(register: Register, id: string | null): RetentionRule | undefined {
  return id === null ? undefined : register.retention.find((r) => r.id === id);
}
