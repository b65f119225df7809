/** What a data map's column spec says, read without its schema (commands that only read load it cheaply). */
import type { Location } from '../register/register-load.js';
import type { Anonymisation, ColumnSpec, StoreMap, TableMap } from './datamap-schema.js';

/** A column's spec as an object, whatever its shorthand. */
export function columnOf(spec: ColumnSpec): Exclude<ColumnSpec, string> {
  if (spec === 'none' || spec === 'key') return { none: true };
  return spec;
}

export function isPersonal(spec: ColumnSpec): boolean {
  const c = columnOf(spec);
  return c.category !== undefined || c.identity !== undefined;
}

/** Whether a value is already in the state an anonymisation leaves it in. */
export function isAnonymisedValue(method: Anonymisation | undefined, value: unknown): boolean {
  if (method === undefined || method === null) return value === null || value === undefined;
  if ('fixed' in method) return value === method.fixed || String(value) === String(method.fixed);
  if (value === null || value === undefined) return true;
  if (method.generalise === 'prefix') return String(value).length <= method.keep;
  const text = value instanceof Date ? value.toISOString() : String(value);
  return method.generalise === 'year' ? /^\d{4}-01-01/.test(text) : /^\d{4}-\d{2}-01/.test(text);
}

/** A data map: its stores, and where each store and table was read. */
export interface DataMap {
  readonly stores: readonly StoreMap[];
  readonly locate: (item: object, ...subpath: (string | number)[]) => Location;
}

export interface BoundTable {
  readonly store: StoreMap;
  readonly table: TableMap;
}

/** The table (and its store) that holds a register record. */
export function tableOfRecord(datamap: DataMap, recordId: string): BoundTable | undefined {
  for (const store of datamap.stores) {
    const table = store.tables.find((t) => (t.record ?? null) === recordId);
    if (table) return { store, table };
  }
  return undefined;
}

/** The column that holds a register field: the one that says `field: name`, else the one named so. */
export function columnOfField(table: TableMap, field: string): string | undefined {
  for (const [name, spec] of Object.entries(table.columns)) if (columnOf(spec).field === field) return name;
  return table.columns[field] !== undefined ? field : undefined;
}

export function fieldOfColumn(table: TableMap, column: string): string {
  const spec = table.columns[column];
  return (spec && columnOf(spec).field) || column;
}
