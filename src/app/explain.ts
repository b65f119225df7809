/** `registre explain`: one record, or every record of one person, with the reasons for its fate. */
import { readHmacKeyIfAvailable } from '../adapters/files/config-paths.js';
import type { Connection } from '../adapters/sql/connect.js';
import { type Explanation, explainRecord, findPerson } from '../adapters/sql/explain.js';
import { heldArchivedKeys } from '../adapters/sql/plan.js';
import type { RetentionSqlContext } from '../adapters/sql/retention-sql.js';
import type { HoldRow } from '../adapters/state/state-store.js';
import type { TableMap } from '../core/datamap/datamap-schema.js';
import { RegistreError } from '../core/errors.js';
import type { Register } from '../core/register/register-load.js';
import { requireRetentionDate } from '../core/retention/calendar.js';
import { type HoldReason, heldStatus } from '../core/retention/retention.js';
import { openProject, type Project, withStore } from './project.js';
import { openState, personArchive } from './stores.js';

export interface ExplainOptions {
  readonly table?: string;
  readonly id?: string;
  readonly email?: string;
  readonly at: string;
}

export async function runExplain(
  configFile: string | undefined,
  options: ExplainOptions,
): Promise<Explanation[]> {
  const at = requireRetentionDate('--at', options.at);
  if ((options.email === undefined) === (options.table === undefined || options.id === undefined))
    throw new RegistreError('E_USAGE', 'give either --table and --id, or --email');
  const project = await openProject(configFile, { cached: true });
  const state = await openState(project);
  const holds = await state.holds({ at });
  await state.close();
  const manual = manualHolds(holds);
  const manualOf = (store: string) => byRecordKey(project, store, manual);
  const results: Explanation[] = [];
  if (options.table !== undefined && options.id !== undefined) {
    const [storeId, tableName] = options.table.includes('.')
      ? options.table.split('.')
      : [undefined, options.table];
    const candidates = project.datamap.stores.flatMap((store) =>
      store.tables
        .filter((t) => t.name === tableName && (storeId === undefined || store.id === storeId))
        .map((table) => ({ store, table })),
    );
    const found = candidates[0];
    if (!found) {
      const known = project.datamap.stores.flatMap((s) => s.tables.map((t) => t.name)).join(', ');
      throw new RegistreError(
        'E_UNKNOWN_TABLE',
        `no table "${options.table}" in the data map (tables: ${known})`,
      );
    }
    await withStore(project, found.store, async (conn, ctx) => {
      results.push(
        await explainRecord(
          conn,
          ctx,
          found.store,
          found.table,
          options.id as string,
          at,
          manualOf(found.store.id),
        ),
      );
    });
    return results;
  }
  const key = readHmacKeyIfAvailable(project.loaded);
  const archive = await personArchive(project);
  try {
    for (const store of project.datamap.stores) {
      await withStore(project, store, async (conn, ctx) => {
        for (const record of await findPerson(conn, ctx, store, options.email as string, key, archive)) {
          if (record.archived) {
            const dataHeld = await archiveHolds(conn, ctx, record.table);
            results.push(
              archivedExplanation(project.register, record.table, record.id, record.archived, at, [
                ...manual(store.id, record.table.name, record.id),
                ...dataHeld(record.id),
              ]),
            );
            continue;
          }
          if (record.table.record)
            results.push(
              await explainRecord(conn, ctx, store, record.table, record.id, at, manualOf(store.id)),
            );
        }
      });
    }
  } finally {
    await archive?.close();
  }
  if (results.length === 0)
    throw new RegistreError('E_NOT_FOUND', 'no record of this person in the stores of the data map');
  return results;
}

export type { Explanation } from '../adapters/sql/explain.js';

/** The manual holds and restrictions of a state store's rows, as the evaluator reads them. */
export function manualHolds(holds: readonly HoldRow[]) {
  return (store: string, table: string, id: string): HoldReason[] =>
    holds
      .filter((h) => h.store === store && h.table === table && h.key === id)
      .map((h) => ({
        hold: `${h.kind === 'restriction' ? 'restriction' : 'manual'}-${h.caseId}`,
        reason: h.reason,
        ...(h.until ? { until: h.until } : {}),
        ...(h.kind === 'restriction' ? { restriction: true } : {}),
      }));
}

/** The same, for the evaluator, which names a record `record:key` (a manual hold names a table). */
export function byRecordKey(
  project: Project,
  store: string,
  manual: ReturnType<typeof manualHolds>,
): (recordKey: string) => HoldReason[] {
  return (recordKey) => {
    const split = recordKey.indexOf(':');
    const record = recordKey.slice(0, split);
    const table = project.datamap.stores
      .find((s) => s.id === store)
      ?.tables.find((t) => t.record === record)?.name;
    return table ? manual(store, table, recordKey.slice(split + 1)) : [];
  };
}

/**
 * The data-driven holds on the archived records of a table: a live record's hold reaches an
 * archived one only by its key (an open dispute on an order of an archived account).
 */
export async function archiveHolds(
  conn: Connection,
  ctx: RetentionSqlContext,
  table: TableMap,
): Promise<(id: string) => HoldReason[]> {
  const held = await heldArchivedKeys(conn, ctx, table);
  const reason = {
    hold: 'data-driven',
    reason: 'held by a hold on a live record (an open dispute on one of its orders)',
  };
  return (id) => (held === 'all' || held.has(id) ? [reason] : []);
}

/** A record found in the archive store: the rule and deadline it was archived with, its holds. */
export function archivedExplanation(
  register: Register,
  table: TableMap,
  id: string,
  archived: { readonly rule: string; readonly deadline: string; readonly archivedAt: string },
  at: string,
  holds: readonly HoldReason[],
): Explanation {
  return {
    store: 'archive',
    table: table.name,
    id,
    status: holds.length ? heldStatus(holds) : archived.deadline <= at ? 'due' : 'archive',
    deadline: archived.deadline,
    archiveFrom: archived.archivedAt.slice(0, 10),
    action: 'delete',
    rule: archived.rule,
    processor: false,
    purposes: register.retention
      .filter((r) => r.id === archived.rule)
      .flatMap((r) =>
        r.purposes.map((purpose) => ({
          purpose,
          rule: r.id,
          anchor: null,
          anchorDate: null,
          deadline: archived.deadline,
        })),
      ),
    holds,
  };
}
