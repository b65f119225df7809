/** Whether the service can work: its state store answers and is migrated, and every store of the data map answers. */
import { sql } from '../adapters/sql/kysely.js';
import { safeMessage } from '../core/safe-message.js';
import type { Engine } from './engine.js';

export interface Readiness {
  readonly ready: boolean;
  /** Each store by name (`state`, `shop`…): `ok`, or why not (a fixed text, never a row). */
  readonly stores: Readonly<Record<string, string>>;
}

export async function readiness(engine: Engine): Promise<Readiness> {
  const stores: Record<string, string> = {};
  const probe = async (name: string, f: () => Promise<unknown>) => {
    try {
      await f();
      stores[name] = 'ok';
    } catch (error) {
      stores[name] = safeMessage(error);
    }
  };
  await probe('state', async () => {
    const state = await engine.state('write', { wholeWithinMs: 10_000 });
    await sql`SELECT count(*) FROM registre_migrations`.execute(state.conn.db);
  });
  try {
    const project = await engine.project({ cached: true });
    for (const store of project.datamap.stores)
      await probe(store.id, async () => sql`SELECT 1`.execute((await engine.connection(store)).db));
  } catch (error) {
    stores.project = safeMessage(error);
  }
  return { ready: Object.values(stores).every((s) => s === 'ok'), stores };
}
