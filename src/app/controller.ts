/** What a distributor (a controller NEGOMARKETS processes data for) may see through its own token. */
import { controllerOf } from '../adapters/sql/person.js';
import { loadRows } from '../adapters/sql/records.js';
import type { Engine } from './engine.js';

/**
 * The controller (id, name) a record of the data map is processed for, or null: the record is
 * the company's own, or does not exist (a distributor's token learns nothing of which).
 */
export async function controllerOfRecord(
  engine: Engine,
  tableName: string,
  id: string,
): Promise<{ readonly id: string; readonly name: string } | null> {
  const project = await engine.project({ cached: true });
  const [storeId, name] = tableName.includes('.') ? tableName.split('.') : [undefined, tableName];
  for (const store of project.datamap.stores) {
    if (storeId !== undefined && store.id !== storeId) continue;
    const table = store.tables.find((t) => t.name === name);
    if (!table) continue;
    const { conn, ctx } = await engine.retention(store);
    const [row] = await loadRows(conn, table.name, table.primaryKey, id);
    if (!row) return null;
    return controllerOf(conn, ctx, table, row);
  }
  return null;
}

/** A request as a controller's token sees it: only what it was forwarded, nothing of the person. */
export function forwardedTo(
  request: {
    id: number;
    type: string;
    status: string;
    received: string;
    due: string;
    outcome?: Record<string, unknown>;
  },
  controllerId: string,
): Record<string, unknown> | undefined {
  const outcome = (request.outcome ?? {}) as {
    forwarded?: { controllerId?: string | null }[];
    instructed?: unknown[];
  };
  const mine = (outcome.forwarded ?? []).filter((f) => f.controllerId === controllerId);
  if (mine.length === 0) return undefined;
  return {
    id: request.id,
    type: request.type,
    status: request.status,
    received: request.received,
    due: request.due,
    forwarded: mine,
  };
}
