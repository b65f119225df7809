/**
 * Reads a data map (YAML) and checks it against its register: every record bound to one table,
 * every field to a column, every relation to a join, every category declared.
 */

import { hasErrors, type Issue, issueCollector } from '../issues.js';
import type { Register } from '../register/register-load.js';
import { findRecord, isCnilCategory } from '../register/register-model.js';
import { SourceLocator } from '../source-locator.js';
import { parseYamlSource, positionsOf, type YamlSource } from '../yaml-source.js';
import { columnOf, columnOfField, type DataMap, tableOfRecord } from './columns.js';
import { type ColumnSpec, DataMapFile, type StoreMap, type TableMap } from './datamap-schema.js';

export type { DataMap } from './columns.js';

export interface DataMapResult {
  readonly datamap: DataMap | null;
  readonly issues: readonly Issue[];
  /** Where the data map's stores and tables were read (what its `locate` reads). */
  readonly locator?: SourceLocator;
}

export function parseDataMap(sources: readonly YamlSource[]): DataMapResult {
  const issues: Issue[] = [];
  const located = new SourceLocator();
  const stores: StoreMap[] = [];
  for (const source of sources) {
    const { parsed, data, issues: found } = parseYamlSource(source, DataMapFile);
    located.addFile(source.file, positionsOf(parsed));
    for (const issue of found) issues.push(issue);
    if (!data) continue;
    data.stores.forEach((store, si) => {
      located.remember(store, source.file, ['stores', si]);
      store.tables.forEach((table, ti) => {
        located.remember(table, source.file, ['stores', si, 'tables', ti]);
      });
      stores.push(store);
    });
  }
  const locate = located.locate;
  if (hasErrors(issues)) return { datamap: null, issues, locator: located };
  return { datamap: { stores, locate }, issues, locator: located };
}

export function validateDataMap(register: Register, datamap: DataMap): Issue[] {
  const { issues, error, warn } = issueCollector(datamap.locate);
  const categoryExists = (id: string) =>
    isCnilCategory(id) || register.dataCategories.some((c) => c.id === id);

  const storeIds = new Set<string>();
  const boundRecords = new Map<string, string>();
  for (const store of datamap.stores) {
    if (storeIds.has(store.id))
      error('E_DUPLICATE_ID', store, ['id'], `store "${store.id}" is declared twice`);
    storeIds.add(store.id);
    const names = new Set<string>();
    for (const table of store.tables) {
      const where = `${store.id}.${table.name}`;
      if (names.has(table.name)) error('E_DUPLICATE_ID', table, ['name'], `table "${where}" is mapped twice`);
      names.add(table.name);
      if (table.columns[table.primaryKey] === undefined)
        error(
          'E_UNKNOWN_COLUMN',
          table,
          ['primaryKey'],
          `table "${where}": primary key "${table.primaryKey}" is not among its columns`,
        );
      for (const [name, spec] of Object.entries(table.columns)) checkColumn(table, where, name, spec);
      if (table.consent) {
        const subject = table.columns[table.consent.subject];
        const identity = subject === undefined ? undefined : columnOf(subject).identity;
        if (identity !== 'email' && identity !== 'visitor-id')
          error(
            'E_CONSENT_SUBJECT',
            table,
            ['consent', 'subject'],
            `table "${where}": the consent subject "${table.consent.subject}" must be a column with identity email or visitor-id`,
          );
        for (const column of Object.keys(table.consent.withdrawn ?? {}))
          if (table.columns[column] === undefined)
            error(
              'E_UNKNOWN_COLUMN',
              table,
              ['consent', 'withdrawn', column],
              `table "${where}": consent.withdrawn sets "${column}", which is not among its columns`,
            );
      }
      if (table.record === undefined) {
        const personal = Object.entries(table.columns).filter(([, s]) => columnOf(s).category !== undefined);
        if (personal.length)
          warn(
            'W_PERSONAL_DATA_WITHOUT_RECORD',
            table,
            ['name'],
            `table "${where}" holds personal data (${personal.map(([n]) => n).join(', ')}) but binds no register record: no retention rule reaches it`,
          );
        continue;
      }
      const record = findRecord(register, table.record);
      if (!record) {
        error(
          'E_UNKNOWN_RECORD',
          table,
          ['record'],
          `table "${where}" binds record "${table.record}", which the register does not declare`,
        );
        continue;
      }
      const first = boundRecords.get(record.id);
      if (first)
        error(
          'E_DUPLICATE_BINDING',
          table,
          ['record'],
          `record "${record.id}" is bound twice (first to ${first})`,
        );
      boundRecords.set(record.id, where);
      for (const [name, spec] of Object.entries(table.columns)) {
        const field = columnOf(spec).field;
        if (field !== undefined && record.fields[field] === undefined)
          error(
            'E_UNKNOWN_FIELD',
            table,
            ['columns', name, 'field'],
            `table "${where}": record "${record.id}" has no field "${field}"`,
          );
      }
      for (const field of Object.keys(record.fields)) {
        if (columnOfField(table, field) === undefined)
          error(
            'E_UNMAPPED_FIELD',
            table,
            ['columns'],
            `table "${where}": field "${field}" of record "${record.id}" has no column (add it, or "field: ${field}" on the column that holds it)`,
          );
      }
      for (const [rel, spec] of Object.entries(record.relations ?? {})) {
        const binding = table.relations?.[rel];
        if (!binding) {
          error(
            'E_UNBOUND_RELATION',
            table,
            ['relations'],
            `table "${where}": relation "${rel}" of record "${record.id}" has no join (relations: { ${rel}: { local: …, remote: … } })`,
          );
          continue;
        }
        if (table.columns[binding.local] === undefined)
          error(
            'E_UNKNOWN_COLUMN',
            table,
            ['relations', rel, 'local'],
            `table "${where}": relation "${rel}" joins on column "${binding.local}", which the table does not have`,
          );
        const target = tableOfRecord(datamap, spec.to);
        if (!target) {
          error(
            'E_UNBOUND_RECORD',
            table,
            ['relations', rel],
            `table "${where}": relation "${rel}" leads to record "${spec.to}", which no table binds`,
          );
          continue;
        }
        if (target.store !== store)
          error(
            'E_CROSS_STORE_RELATION',
            table,
            ['relations', rel],
            `table "${where}": relation "${rel}" leads to ${target.store.id}.${target.table.name}, in another store; joins stay within one store`,
          );
        if (target.table.columns[binding.remote] === undefined)
          error(
            'E_UNKNOWN_COLUMN',
            table,
            ['relations', rel, 'remote'],
            `table "${where}": relation "${rel}" joins on ${target.table.name}.${binding.remote}, which that table does not have`,
          );
      }
      for (const rel of Object.keys(table.relations ?? {}))
        if (!record.relations?.[rel])
          error(
            'E_UNKNOWN_RELATION',
            table,
            ['relations', rel],
            `table "${where}": record "${record.id}" has no relation "${rel}" in the register`,
          );
    }
  }
  for (const record of register.records)
    if (!boundRecords.has(record.id))
      issues.push({
        severity: 'warning',
        code: 'W_RECORD_NOT_BOUND',
        message: `record "${record.id}" of the register is bound to no table: its retention rules reach nothing`,
        ...register.locate(record, 'id'),
      });

  function checkColumn(table: TableMap, where: string, name: string, spec: ColumnSpec): void {
    const c = columnOf(spec);
    if (c.category !== undefined && !categoryExists(c.category))
      error(
        'E_UNKNOWN_REFERENCE',
        table,
        ['columns', name, 'category'],
        `column "${where}.${name}": data category "${c.category}" is not declared in the register`,
      );
    if (c.none && (c.category !== undefined || c.identity !== undefined))
      error(
        'E_CONTRADICTION',
        table,
        ['columns', name],
        `column "${where}.${name}" is declared both personal and not personal`,
      );
    if (c.identity !== undefined && c.category === undefined)
      error(
        'E_IDENTITY_WITHOUT_CATEGORY',
        table,
        ['columns', name],
        `column "${where}.${name}" identifies a person; give it its data category`,
      );
  }
  return issues;
}
