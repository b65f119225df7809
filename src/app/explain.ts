/** `registre explain`: one record, or every record of one person, with the reasons for its fate. */
import { readHmacKeyIfAvailable } from '../adapters/files/config-files.js';
import { type Explanation, explainRecord, findPerson } from '../adapters/sql/explain.js';
import { heldArchivedKeys } from '../adapters/sql/plan.js';
import { RegistreError } from '../core/errors.js';
import { requireDateInput } from '../core/retention/calendar.js';
import { type HoldReason, heldStatus } from '../core/retention/retention.js';
import { openProject, withStore } from './project.js';
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
  const at = requireDateInput('--at', options.at);
  if ((options.email === undefined) === (options.table === undefined || options.id === undefined))
    throw new RegistreError('E_USAGE', 'give either --table and --id, or --email');
  const project = openProject(configFile);
  const state = await openState(project);
  const holds = await state.holds({ at });
  await state.close();
  const manual = (store: string, table: string, id: string): HoldReason[] =>
    holds
      .filter(
        (h) => h.store === store && h.table === table && h.key === id && (h.until === null || h.until >= at),
      )
      .map((h) => ({
        hold: `${h.kind === 'restriction' ? 'restriction' : 'manual'}-${h.caseId}`,
        reason: h.reason,
        ...(h.until ? { until: h.until } : {}),
        ...(h.kind === 'restriction' ? { restriction: true } : {}),
      }));
  // A record's key for the evaluator is `record:key`; a manual hold names a store's table.
  const manualOf = (store: string) => (recordKey: string) => {
    const split = recordKey.indexOf(':');
    const record = recordKey.slice(0, split);
    const table = project.datamap.stores
      .find((s) => s.id === store)
      ?.tables.find((t) => t.record === record)?.name;
    return table ? manual(store, table, recordKey.slice(split + 1)) : [];
  };
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
            const dataHeld = await heldArchivedKeys(conn, ctx, record.table);
            const held = [
              ...manual(store.id, record.table.name, record.id),
              ...(dataHeld === 'all' || dataHeld.has(record.id)
                ? [
                    {
                      hold: 'data-driven',
                      reason: 'held by a hold on a live record (an open dispute on one of its orders)',
                    },
                  ]
                : []),
            ];
            results.push({
              store: 'archive',
              table: record.table.name,
              id: record.id,
              status: held.length ? heldStatus(held) : record.archived.deadline <= at ? 'due' : 'archive',
              deadline: record.archived.deadline,
              archiveFrom: record.archived.archivedAt.slice(0, 10),
              action: 'delete',
              rule: record.archived.rule,
              processor: false,
              purposes: [],
              holds: held,
            });
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
