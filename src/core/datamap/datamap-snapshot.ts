/** A data map's load as plain data and back (what the parse cache keeps). No YAML parser and no schema here. */
import type { Issue } from '../issues.js';
import { restoreLocator, type Snapshot, SourceLocator, takeSnapshot } from '../source-locator.js';
import type { DataMap, DataMapResult } from './datamap-load.js';

export type DataMapData = Omit<DataMap, 'locate'>;

/** The items `locate` knows, in a fixed order: each store, then each table. */
function locatedItems(datamap: DataMapData): object[] {
  return [...datamap.stores, ...datamap.stores.flatMap((s) => s.tables)];
}

export function datamapSnapshot(result: DataMapResult): Snapshot<DataMapData> {
  const data = result.datamap ? { stores: result.datamap.stores } : null;
  return takeSnapshot(data, result.issues, result.locator ?? new SourceLocator(), locatedItems);
}

export function datamapFromSnapshot(snapshot: Snapshot<DataMapData>): DataMapResult {
  const issues = snapshot.issues as Issue[];
  if (!snapshot.value) return { datamap: null, issues };
  const locator = restoreLocator(snapshot, snapshot.value, locatedItems);
  return { datamap: { stores: snapshot.value.stores, locate: locator.locate }, issues, locator };
}
