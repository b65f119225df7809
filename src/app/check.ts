/** `registre check`: the data map against the register, then against every live store. */
import { loadDataMap, loadRegister, readConfig } from '../adapters/files/config-files.js';
import { datamapPathOf, registerPathOf } from '../adapters/files/config-paths.js';
import type { Connection } from '../adapters/sql/connect.js';
import { normalisedIndexSql, servesIdentitySearch } from '../adapters/sql/dialect.js';
import { introspect, invalidValues } from '../adapters/sql/introspect.js';
import { columnsToValidate, compareSchema, type InvalidValues } from '../core/datamap/schema-check.js';
import { RegistreError } from '../core/errors.js';
import type { Issue } from '../core/issues.js';
import type { Context, Engine } from './engine.js';
import { NoInput, parseInput } from './input.js';

export interface CheckReport {
  readonly issues: readonly Issue[];
  readonly stores: readonly { readonly store: string; readonly label: string; readonly tables: number }[];
}

function storeIssue(code: string, message: string): Issue {
  return { severity: 'error', code, message, path: [] };
}

/**
 * The register and data map with all their errors (not thrown: reported), then each store
 * compared with the data map: its tables, columns, types, values and the index of identity search.
 */
export async function check(engine: Engine, input: NoInput, ctx: Context): Promise<CheckReport> {
  parseInput(NoInput, input);
  const loaded = readConfig(engine.configFile);
  const { register, issues: registerIssues } = loadRegister(registerPathOf(loaded));
  const issues: Issue[] = registerIssues.filter((i) => i.severity === 'error');
  if (!register) return { issues, stores: [] };
  const datamapPath = datamapPathOf(loaded);
  if (!datamapPath)
    throw new RegistreError(
      'E_CONFIG',
      `${loaded.file ?? 'no configuration file'}: name the data map ("datamap: …") that binds the register to its stores`,
    );
  const { datamap, issues: mapIssues } = loadDataMap(datamapPath, register);
  issues.push(...mapIssues);
  if (!datamap || issues.some((i) => i.severity === 'error')) return { issues, stores: [] };

  const stores: { store: string; label: string; tables: number }[] = [];
  const folders = Object.keys(loaded.config.files ?? {});
  let done = 0;
  for (const store of datamap.stores) {
    ctx.onProgress?.({ phase: 'check', done: done++, total: datamap.stores.length, detail: store.id });
    ctx.signal?.throwIfAborted();
    const configured = loaded.config.stores?.[store.id];
    if (!configured) {
      issues.push(
        storeIssue(
          'E_STORE_NOT_CONFIGURED',
          `store "${store.id}" of the data map has no URL in ${loaded.file ?? 'the configuration (there is no registre.yaml)'}: stores: { ${store.id}: { url: … } }`,
        ),
      );
      continue;
    }
    let conn: Connection;
    try {
      conn = await engine.connection(store);
    } catch (error) {
      if (error instanceof RegistreError) {
        issues.push(storeIssue(error.code, error.message));
        continue;
      }
      throw error;
    }
    {
      const live = await introspect(conn);
      const invalid = new Map<string, InvalidValues>();
      for (const table of store.tables) {
        const liveTable = live.tables.find((t) => t.name === table.name);
        if (!liveTable) continue;
        const columns = columnsToValidate(register, table).filter((c) =>
          liveTable.columns.some((l) => l.name === c.column),
        );
        for (const [k, v] of await invalidValues(conn, table.name, table.primaryKey, columns))
          invalid.set(k, v);
      }
      issues.push(
        ...compareSchema(register, datamap, store, live, {
          invalid,
          folders,
          identityIndex: {
            serves: (definition, column) => servesIdentitySearch(conn.dialect, definition, column),
            create: (table, column) => normalisedIndexSql(conn.dialect, table, column),
          },
        }),
      );
      stores.push({ store: store.id, label: conn.label, tables: live.tables.length });
    }
  }
  ctx.onProgress?.({ phase: 'check', done, total: datamap.stores.length });
  return { issues, stores };
}
