/**
 * Compares a data map with a database's live schema, the way a careful deployment check would:
 * undeclared tables and columns (personal data nobody declared) are errors, and so are mapped
 * ones that are missing, types that do not fit, joins that do not match; a column a rule scans
 * without an index is a warning with the statement that fixes it.
 */

import type { Issue } from '../issues.js';
import type { Register } from '../register/register-load.js';
import { fieldInfo, findRecord } from '../register/register-model.js';
import type { DateExpr, Keep } from '../register/register-schema.js';
import { ruleInputs } from '../retention/retention.js';
import { columnOf, columnOfField, fieldOfColumn, tableOfRecord } from './columns.js';
import type { DataMap } from './datamap-load.js';
import type { StoreMap, TableMap } from './datamap-schema.js';

export type ColumnKind = 'date' | 'integer' | 'boolean' | 'text' | 'other';

export interface LiveColumn {
  readonly name: string;
  readonly dataType: string;
  readonly nullable: boolean;
}

export interface LiveTable {
  readonly name: string;
  readonly columns: readonly LiveColumn[];
  /** Each index as its ordered column list (the primary key included). */
  readonly indexes: readonly (readonly string[])[];
  /** The definitions of its indexes, lower case without spaces or quotes (expression indexes). */
  readonly indexDefinitions?: readonly string[];
}

/** A foreign key of the live schema: `table.column` references `refTable.refColumn`. */
export interface LiveForeignKey {
  readonly table: string;
  readonly column: string;
  readonly refTable: string;
  readonly refColumn: string;
  /** What the database does to the referencing rows on delete, upper case (NO ACTION, CASCADE…). */
  readonly onDelete: string;
}

export interface LiveSchema {
  readonly tables: readonly LiveTable[];
  readonly foreignKeys?: readonly LiveForeignKey[];
}

/**
 * Foreign keys that stand in a sweep's way: a rule deletes or archives rows of a table that
 * other rows reference, and those rows are not bound to go first (a rule that `follows` the
 * referenced record). The delete would then fail, or, with ON DELETE CASCADE / SET NULL, change
 * rows no rule chose, held ones included.
 */
export function blockingForeignKeys(
  register: Register,
  store: StoreMap,
  foreignKeys: readonly LiveForeignKey[],
): { key: LiveForeignKey; rule: string; message: string }[] {
  const found: { key: LiveForeignKey; rule: string; message: string }[] = [];
  for (const fk of foreignKeys) {
    const parent = store.tables.find((t) => t.name === fk.refTable);
    if (!parent?.record) continue;
    const removing = register.retention.find(
      (r) =>
        r.record === parent.record &&
        r.todo === undefined &&
        (r.then === undefined || r.then === 'delete' || r.archive !== undefined),
    );
    if (!removing) continue;
    const child = store.tables.find((t) => t.name === fk.table);
    const followsParent =
      child?.record !== undefined &&
      register.retention.some(
        (r) =>
          r.record === child.record &&
          r.follows !== undefined &&
          findRecord(register, child.record as string)?.relations?.[r.follows]?.to === parent.record &&
          child.relations?.[r.follows]?.local === fk.column,
      );
    if (followsParent && fk.onDelete !== 'CASCADE' && fk.onDelete !== 'SET NULL') continue;
    const effect =
      fk.onDelete === 'CASCADE'
        ? `the database would delete the ${fk.table} rows with it (ON DELETE CASCADE), held ones included, with no rule and no audit entry`
        : fk.onDelete === 'SET NULL' || fk.onDelete === 'SET DEFAULT'
          ? `the database would rewrite ${fk.table}.${fk.column} (ON DELETE ${fk.onDelete}) with no rule and no audit entry`
          : `the delete fails while ${fk.table} rows still reference it`;
    found.push({
      key: fk,
      rule: removing.id,
      message: `foreign key ${fk.table}.${fk.column} → ${fk.refTable}.${fk.refColumn} breaks the order of rule "${removing.id}", which removes ${fk.refTable} rows that ${fk.table} rows may outlive: ${effect}. Drop the constraint (the register's relations say how the tables join), or give ${fk.table} a rule that follows ${fk.refTable}`,
    });
  }
  return found;
}

/** A database type, reduced to what the checks need. */
export function kindOf(dataType: string): ColumnKind {
  const t = dataType.toLowerCase();
  if (/timestamp|datetime|^date$/.test(t)) return 'date';
  if (/^bool/.test(t)) return 'boolean';
  if (/tinyint/.test(t)) return 'boolean';
  if (/int|serial/.test(t)) return 'integer';
  if (/char|text|clob|string|^$/.test(t)) return 'text';
  return 'other';
}

/**
 * The columns of a table whose every value `check` validates, set-based: the record's date fields
 * and the amounts its rules read (`retention_months`). An invalid one is never due.
 */
export function columnsToValidate(
  register: Register,
  table: TableMap,
): { column: string; kind: 'date' | 'amount' }[] {
  const record = table.record ? findRecord(register, table.record) : undefined;
  if (!record) return [];
  const out = new Map<string, 'date' | 'amount'>();
  for (const column of Object.keys(table.columns))
    if (fieldInfo(record, fieldOfColumn(table, column))?.type === 'date') out.set(column, 'date');
  for (const rule of register.retention) {
    if (rule.record !== table.record) continue;
    for (const path of ruleInputs(rule).amounts) {
      if (path.includes('.')) continue;
      const column = columnOfField(table, path);
      if (column) out.set(column, 'amount');
    }
  }
  return [...out].map(([column, kind]) => ({ column, kind }));
}

/** How many values of a column are there but invalid, and the key of the first. */
export interface InvalidValues {
  readonly kind: 'date' | 'amount';
  readonly count: number;
  readonly firstKey: string | null;
}

/** Columns that retention rules, holds and person searches scan: each wants an index. */
export function scannedColumns(
  register: Register,
  datamap: DataMap,
  store: StoreMap,
): Map<string, Set<string>> {
  const scanned = new Map<string, Set<string>>();
  const add = (table: string, column: string | undefined) => {
    if (!column) return;
    const set = scanned.get(table) ?? new Set<string>();
    set.add(column);
    scanned.set(table, set);
  };
  const bound = (recordId: string) => {
    const b = tableOfRecord(datamap, recordId);
    return b && b.store === store ? b.table : undefined;
  };
  const walkPath = (recordId: string, path: string, aggregate: boolean) => {
    const segments = path.split('.');
    const field = segments.pop() as string;
    let current = recordId;
    for (const rel of segments) {
      const table = bound(current);
      const relation = findRecord(register, current)?.relations?.[rel];
      const binding = table?.relations?.[rel];
      if (!table || !relation || !binding) return;
      const target = bound(relation.to);
      if (!target) return;
      if (binding.local !== table.primaryKey) add(table.name, binding.local);
      if (binding.remote !== target.primaryKey) add(target.name, binding.remote);
      current = relation.to;
    }
    const table = bound(current);
    if (table && !aggregate && segments.length === 0) add(table.name, columnOfField(table, field));
  };
  const walkDate = (recordId: string, expr: DateExpr) => {
    if (typeof expr === 'string') return walkPath(recordId, expr, false);
    if ('latest' in expr) for (const e of expr.latest) walkDate(recordId, e);
    else if ('earliest' in expr) for (const e of expr.earliest) walkDate(recordId, e);
    else if ('financialYearEnd' in expr) walkDate(recordId, expr.financialYearEnd);
    else if ('from' in expr) {
      walkDate(recordId, expr.from);
      walkKeep(recordId, expr.add);
    } else walkPath(recordId, 'max' in expr ? expr.max : expr.min, true);
  };
  const walkKeep = (recordId: string, keep: Keep) => {
    if (typeof keep !== 'string') walkPath(recordId, Object.values(keep)[0] as string, true);
  };
  for (const rule of register.retention) {
    if (!bound(rule.record)) continue;
    if (rule.anchor) walkDate(rule.record, rule.anchor);
    if (rule.keep) walkKeep(rule.record, rule.keep);
    for (const u of rule.until ?? []) walkDate(rule.record, u);
    if (rule.follows) walkPath(rule.record, `${rule.follows}.x`, true);
  }
  for (const hold of register.holds) {
    for (const path of hold.holds) if (path !== 'self') walkPath(hold.record, `${path}.x`, true);
  }
  for (const table of store.tables)
    for (const [name, spec] of Object.entries(table.columns))
      if (columnOf(spec).identity !== undefined) add(table.name, name);
  return scanned;
}

export interface CompareOptions {
  /** Invalid values found in the columns of columnsToValidate, by `table.column`. */
  readonly invalid?: ReadonlyMap<string, InvalidValues>;
  /** Folders the configuration declares for file columns. */
  readonly folders?: readonly string[];
  /**
   * The index a search by normalised address needs, as the store's dialect writes it: whether an
   * index definition serves it, and its CREATE INDEX.
   */
  readonly identityIndex?: {
    serves(definition: string, column: string): boolean;
    create(table: string, column: string): string;
  };
}

export function compareSchema(
  register: Register,
  datamap: DataMap,
  store: StoreMap,
  live: LiveSchema,
  options: CompareOptions = {},
): Issue[] {
  const issues: Issue[] = [];
  const at = (item: object, ...subpath: (string | number)[]) => datamap.locate(item, ...subpath);
  const push = (severity: Issue['severity'], code: string, message: string, loc: object) =>
    issues.push({ severity, code, message, path: [], ...loc });
  const liveTables = new Map(live.tables.map((t) => [t.name, t]));
  const mapped = new Set(store.tables.map((t) => t.name));

  for (const t of live.tables) {
    // registre's own: the consent ledger's verdicts of a plan or sweep under way (or killed).
    if (t.name.startsWith('registre_consent_')) continue;
    if (!mapped.has(t.name))
      push(
        'error',
        'E_UNDECLARED_TABLE',
        `store "${store.id}": table "${t.name}" exists in the database but not in the data map: declare its columns (personal data or "none")`,
        at(store, 'tables'),
      );
  }
  for (const table of store.tables) {
    const liveTable = liveTables.get(table.name);
    const where = `${store.id}.${table.name}`;
    if (!liveTable) {
      push(
        'error',
        'E_MISSING_TABLE',
        `table "${where}" is in the data map but not in the database`,
        at(table, 'name'),
      );
      continue;
    }
    const liveColumns = new Map(liveTable.columns.map((c) => [c.name, c]));
    for (const c of liveTable.columns) {
      if (table.columns[c.name] === undefined)
        push(
          'error',
          'E_UNDECLARED_COLUMN',
          `column "${where}.${c.name}" exists in the database but not in the data map: say which data category it holds, or "none"`,
          at(table, 'columns'),
        );
    }
    const record = table.record ? findRecord(register, table.record) : undefined;
    for (const [name, spec] of Object.entries(table.columns)) {
      const column = liveColumns.get(name);
      if (!column) {
        push(
          'error',
          'E_MISSING_COLUMN',
          `column "${where}.${name}" is in the data map but not in the database`,
          at(table, 'columns', name),
        );
        continue;
      }
      const c = columnOf(spec);
      if (c.file !== undefined && options.folders && !options.folders.includes(c.file))
        push(
          'error',
          'E_UNKNOWN_FOLDER',
          `column "${where}.${name}" holds paths relative to folder "${c.file}", which the configuration's "files" does not name`,
          at(table, 'columns', name, 'file'),
        );
      const info = record ? fieldInfo(record, fieldOfColumn(table, name)) : undefined;
      const kind = kindOf(column.dataType);
      if (info?.type === 'date') {
        if (kind !== 'text' && kind !== 'date')
          push(
            'error',
            'E_COLUMN_TYPE',
            `column "${where}.${name}" holds field "${fieldOfColumn(table, name)}", a date, but its type is ${column.dataType}`,
            at(table, 'columns', name),
          );
      } else if (info?.type === 'integer' && kind !== 'integer' && kind !== 'boolean' && kind !== 'other')
        push(
          'error',
          'E_COLUMN_TYPE',
          `column "${where}.${name}" holds an integer field, but its type is ${column.dataType}`,
          at(table, 'columns', name),
        );
      else if (info?.type === 'boolean' && kind !== 'boolean' && kind !== 'integer')
        push(
          'error',
          'E_COLUMN_TYPE',
          `column "${where}.${name}" holds a true/false field, but its type is ${column.dataType}`,
          at(table, 'columns', name),
        );
      const bad = options.invalid?.get(`${table.name}.${name}`);
      if (bad && bad.count > 0)
        push(
          'error',
          bad.kind === 'date' ? 'E_DATE_UNPARSEABLE' : 'E_AMOUNT_INVALID',
          `column "${where}.${name}" holds ${bad.count} value${bad.count === 1 ? '' : 's'} that ${bad.count === 1 ? 'is' : 'are'} not ${bad.kind === 'date' ? 'a date (YYYY-MM-DD, optionally HH:MM[:SS[.fff]] and Z or ±HH:MM)' : 'a whole number from 0 to 100,000'} (the first at ${table.primaryKey} = ${bad.firstKey}): ${bad.count === 1 ? 'its record is' : 'their records are'} never due until corrected; plan counts them as invalid`,
          at(table, 'columns', name),
        );
      if (c.anonymise === null && !column.nullable && anonymisedByRule(register, table, name))
        push(
          'error',
          'E_ANONYMISE_NOT_NULL',
          `column "${where}.${name}" is anonymised to NULL but is NOT NULL in the database: allow NULL, or anonymise it to a fixed value`,
          at(table, 'columns', name, 'anonymise'),
        );
    }
    for (const [rel, binding] of Object.entries(table.relations ?? {})) {
      const relation = record?.relations?.[rel];
      const target = relation ? tableOfRecord(datamap, relation.to) : undefined;
      if (!target || target.store !== store) continue;
      const local = liveColumns.get(binding.local);
      const remote = liveTables.get(target.table.name)?.columns.find((c) => c.name === binding.remote);
      if (local && remote && kindOf(local.dataType) !== kindOf(remote.dataType))
        push(
          'error',
          'E_RELATION_TYPE',
          `relation "${rel}" joins ${table.name}.${binding.local} (${local.dataType}) to ${target.table.name}.${binding.remote} (${remote.dataType}): the types do not match`,
          at(table, 'relations', rel),
        );
    }
  }
  for (const blocking of blockingForeignKeys(register, store, live.foreignKeys ?? [])) {
    const table = store.tables.find((t) => t.name === blocking.key.table);
    push('error', 'E_FOREIGN_KEY_BLOCKS', blocking.message, table ? at(table, 'name') : at(store, 'tables'));
  }
  for (const [tableName, columns] of scannedColumns(register, datamap, store)) {
    const liveTable = liveTables.get(tableName);
    const table = store.tables.find((t) => t.name === tableName);
    if (!liveTable || !table) continue;
    for (const column of columns) {
      if (column === table.primaryKey || !liveTable.columns.some((c) => c.name === column)) continue;
      const spec = table.columns[column];
      const c = spec === undefined ? undefined : columnOf(spec);
      if (c?.identity === 'email' && !c.hashed && liveTable.indexDefinitions !== undefined) {
        // A person is found by the normalised value: a plain index does not serve that.
        const index = options.identityIndex;
        const served = liveTable.indexDefinitions.some((d) =>
          index
            ? index.serves(d, column)
            : d.includes(`lower(trim(${column}))`) || d.includes(`lower(trim(bothfrom${column}))`),
        );
        if (!served)
          push(
            'warning',
            'W_MISSING_INDEX',
            `column "${store.id}.${tableName}.${column}" identifies people, who are found by its normalised value, and no index serves that: ${index ? index.create(tableName, column) : `CREATE INDEX ${tableName}_${column}_norm_idx ON ${tableName} (lower(trim(${column})))`};`,
            at(table, 'columns', column),
          );
        continue;
      }
      if (!liveTable.indexes.some((idx) => idx[0] === column))
        push(
          'warning',
          'W_MISSING_INDEX',
          `column "${store.id}.${tableName}.${column}" is scanned by retention rules or person searches and has no index: CREATE INDEX ${tableName}_${column}_idx ON ${tableName} (${column});`,
          at(table, 'columns', column),
        );
    }
  }
  return issues;
}

function anonymisedByRule(register: Register, table: TableMap, column: string): boolean {
  const field = fieldOfColumn(table, column);
  return register.retention.some(
    (r) =>
      r.record === table.record &&
      r.then !== undefined &&
      r.then !== 'delete' &&
      r.then.anonymise.some((f) => (typeof f === 'string' ? f : f.field) === field),
  );
}
