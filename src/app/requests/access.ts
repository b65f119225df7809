/** Access (art. 15) and portability (art. 20): the packages written for the person. */
import { join } from 'node:path';
import {
  preparePackageFolder,
  readFileInside,
  writePackageFile,
} from '../../adapters/files/package-files.js';
import { otherData, personalData } from '../../adapters/sql/person.js';
import type { RequestRow } from '../../adapters/state/state-store.js';
import type { ConsentEvent } from '../../core/consent/consent.js';
import { recordsCsv } from '../../core/csv.js';
import { columnOf } from '../../core/datamap/columns.js';
import type { TableMap } from '../../core/datamap/datamap-schema.js';
import { RegistreError } from '../../core/errors.js';
import { designatedDpo } from '../../core/register/organisation-contacts.js';
import type { Register } from '../../core/register/register-load.js';
import { findRecord } from '../../core/register/register-model.js';
import type { LocalText } from '../../core/register/register-schema.js';
import {
  type AccessPackage,
  accessHtml,
  type Both,
  CNIL,
  type PackageField,
} from '../../core/requests/access-html.js';
import { archiveFilesDir, foldersOf, type Project } from '../project.js';
import { basesOf, type PersonItem } from './person.js';
import { purposeOf, type Row } from './shared.js';

// -- access and portability

function both(text: LocalText | undefined, fallback: string): Both {
  if (text === undefined) return { fr: fallback, en: fallback };
  if (typeof text === 'string') return { fr: text, en: text };
  return { fr: text.fr ?? text.en ?? fallback, en: text.en ?? text.fr ?? fallback };
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A column's heading in both languages: the register field's title, else its label, else its name. */
function titleOf(register: Register, table: TableMap, column: string): Both {
  const spec = table.columns[column];
  const field = (spec && columnOf(spec).field) || column;
  const fieldSpec = table.record ? findRecord(register, table.record)?.fields[field] : undefined;
  if (fieldSpec && typeof fieldSpec === 'object') {
    if (fieldSpec.title) return both(fieldSpec.title, column);
    if (fieldSpec.label) {
      const label = both(fieldSpec.label, column);
      return { fr: capitalised(label.fr), en: capitalised(label.en) };
    }
  }
  return { fr: column, en: column };
}

function titlesOf(register: Register, table: TableMap): Record<string, Both> {
  return Object.fromEntries(Object.keys(table.columns).map((c) => [c, titleOf(register, table, c)]));
}

function recordName(register: Register, table: TableMap): Both {
  return both(table.record ? findRecord(register, table.record)?.name : undefined, table.name);
}

function shown(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return v;
}

const comparable = (v: unknown) =>
  typeof v === 'string' ? v.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase() : String(v);

/**
 * The values the person gave about themself (their own columns, no third person's): a third
 * person's column is shown only when it holds one of these (an order sent to the person), else
 * masked (a gift's recipient, art. 15(4)).
 */
function ownValues(items: readonly PersonItem[]): Set<string> {
  const own = new Set<string>();
  for (const i of items) {
    for (const [column, spec] of Object.entries(i.table.columns)) {
      const c = columnOf(spec);
      const v = i.row[column];
      if (c.thirdParty || c.secret || c.hashed || v === null || v === undefined || v === '') continue;
      if (c.category !== undefined || c.identity !== undefined) own.add(comparable(v));
    }
    const first = i.row.first_name;
    const last = i.row.last_name;
    if (typeof first === 'string' && typeof last === 'string') {
      own.add(comparable(`${first} ${last}`));
      own.add(comparable(`${last} ${first}`));
    }
  }
  return own;
}

/** Every column of a record but its keys: shown, described (a secret), masked (a third person's) or a file. */
function fieldsOf(register: Register, item: PersonItem, own: Set<string>): PackageField[] {
  const columns = Object.entries(item.table.columns).filter(
    ([column, spec]) => spec !== 'key' && column !== item.table.primaryKey && column in item.row,
  );
  const third = columns.filter(([c, spec]) => {
    const v = item.row[c];
    return columnOf(spec).thirdParty && v !== null && v !== undefined && v !== '';
  });
  const mask = third.some(([c]) => !own.has(comparable(item.row[c])));
  return columns.map(([column, spec]) => {
    const c = columnOf(spec);
    const title = titleOf(register, item.table, column);
    const base = { column, title };
    const v = item.row[column];
    if (c.secret || c.hashed)
      return { ...base, secret: true as const, stored: v !== null && v !== undefined };
    if (c.thirdParty && mask && v !== null && v !== undefined && v !== '')
      return { ...base, masked: true as const };
    if (c.file && typeof v === 'string' && v !== '') return { ...base, value: v, folder: c.file };
    return { ...base, value: shown(v) };
  });
}

function recipientsOf(register: Register, item: PersonItem): { id: string; name: Both }[] {
  const ids = new Set<string>();
  for (const p of item.explanation.purposes)
    for (const r of purposeOf(register, p.purpose)?.activity.recipients ?? []) ids.add(r);
  return [...ids].map((id) => ({ id, name: both(register.recipients.find((r) => r.id === id)?.name, id) }));
}

/** A consent event of the person, and under which of the request's identifiers it was found. */
export type LedgerEvent = ConsentEvent;

export function accessPackage(
  register: Register,
  items: readonly PersonItem[],
  row: RequestRow,
  generated: string,
  ledger: readonly LedgerEvent[] = [],
): AccessPackage {
  const own = items.filter((i) => !i.explanation.processor);
  const mine = ownValues(own);
  const org = register.organisation;
  const contactEmail = org?.rights?.email ?? designatedDpo(org)?.email;
  const sources = new Map<string, Both>();
  for (const i of items) {
    const source = i.table.record ? findRecord(register, i.table.record)?.source : undefined;
    if (source && i.table.record) sources.set(i.table.record, both(source, ''));
  }
  return {
    subject: { request: row.id, person: row.person },
    generated,
    records: own.map((i) => {
      const record = i.table.record ? findRecord(register, i.table.record) : undefined;
      const fields = fieldsOf(register, i, mine);
      return {
        store: i.store.id,
        table: i.table.name,
        id: i.id,
        record: i.table.record,
        name: recordName(register, i.table),
        archived: i.archived,
        fields,
        data: Object.fromEntries(
          fields.filter((f) => 'value' in f && f.value !== undefined).map((f) => [f.column, f.value]),
        ),
        purposes: basesOf(register, i).map((p) => ({
          ...p,
          name: both(purposeOf(register, p.purpose)?.purpose.name, p.purpose),
        })),
        recipients: recipientsOf(register, i),
        deadline: i.explanation.deadline,
        status: i.restricted ? 'restricted' : i.explanation.status,
        ...(record?.source ? { source: both(record.source, '') } : {}),
      };
    }),
    consents: own.flatMap((i) =>
      basesOf(register, i)
        .filter((p) => p.legalBasis === 'consent')
        .map((p) => ({
          purpose: p.purpose,
          name: both(purposeOf(register, p.purpose)?.purpose.name, p.purpose),
          record: recordName(register, i.table),
          table: i.table.name,
          id: i.id,
          proof: otherData(i.table, i.row),
          titles: titlesOf(register, i.table),
        })),
    ),
    ledger: ledger.map((e) => ({
      event: e.event,
      purpose: e.purpose,
      name: both(purposeOf(register, e.purpose)?.purpose.name, e.purpose),
      choice: e.choice,
      at: e.at,
      notice: e.notice,
      source: e.source,
      consentId: e.consentId,
      language: e.language,
      subject: e.subject.kind,
    })),
    processor: items
      .filter((i) => i.explanation.processor)
      .map((i) => ({
        controller: i.controller?.name ?? null,
        controllerId: i.controller?.id ?? null,
        record: recordName(register, i.table),
        table: i.table.name,
        id: i.id,
        data: personalData(i.table, i.row),
        titles: titlesOf(register, i.table),
        ...(i.table.record && sources.has(i.table.record)
          ? { source: sources.get(i.table.record) as Both }
          : {}),
      })),
    rights: {
      contact: {
        ...(contactEmail ? { email: contactEmail } : {}),
        ...(org?.rights?.address ? { address: both(org.rights.address, '') } : {}),
      },
      authority: CNIL,
    },
  };
}

/** A file name of the package for a record's file: `files/table-id-column-name`. */
function packedName(item: PersonItem, column: string, path: string): string {
  const name = path.split(/[\\/]/).pop() ?? 'file';
  return `${item.table.name}-${item.id}-${column}-${name}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Writes access.json, access.html and a copy of each file the records name (a CV, a video), read
 * inside its configured folder only (or the archive's files for an archived record).
 */
export function writeAccess(
  project: Project,
  items: readonly PersonItem[],
  folder: string,
  row: RequestRow,
  today: string,
  ledger: readonly LedgerEvent[] = [],
): string[] {
  const register = project.register;
  const pkg = accessPackage(register, items, row, today, ledger);
  const written: string[] = [];
  const filesDir = join(folder, 'files');
  let made = false;
  const folders = foldersOf(project);
  const own = items.filter((i) => !i.explanation.processor);
  const records = pkg.records.map((record, n) => {
    const item = own[n] as PersonItem;
    const fields = record.fields.map((f) => {
      if (!('folder' in f) || typeof f.value !== 'string') return f;
      const root = item.archived
        ? join(archiveFilesDir(project), item.store.id, f.folder)
        : folders[f.folder];
      let content: Buffer | undefined;
      try {
        content = root ? readFileInside(root, f.value, f.folder) : undefined;
      } catch (error) {
        if (!(error instanceof RegistreError)) throw error;
        return { ...f, file: null, fileError: error.code };
      }
      if (content === undefined) return { ...f, file: null };
      if (!made) {
        preparePackageFolder(filesDir);
        made = true;
      }
      const name = packedName(item, f.column, f.value);
      written.push(writePackageFile(filesDir, name, content));
      return { ...f, file: `files/${name}` };
    });
    return { ...record, fields };
  });
  const full: AccessPackage = { ...pkg, records };
  return [
    writePackageFile(folder, 'access.json', `${JSON.stringify(full, null, 2)}\n`),
    writePackageFile(folder, 'access.html', accessHtml(register, full)),
    ...written,
  ];
}

/** Art. 20: what the person provided, on consent or contract; not invoices, nothing derived. */
export function writePortability(
  register: Register,
  items: readonly PersonItem[],
  folder: string,
  row: RequestRow,
  today: string,
): string[] {
  const provided = items.filter(
    (i) =>
      !i.archived &&
      !i.explanation.processor &&
      basesOf(register, i).some((p) => p.legalBasis === 'consent' || p.legalBasis === 'contract') &&
      !basesOf(register, i).some((p) => p.legalBasis === 'legal-obligation'),
  );
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const i of provided) {
    const rows = byTable.get(i.table.name) ?? [];
    rows.push({
      id: i.id,
      ...withoutSecrets(i.table, { ...personalData(i.table, i.row), ...otherData(i.table, i.row) }),
    });
    byTable.set(i.table.name, rows);
  }
  const files = [
    writePackageFile(
      folder,
      'portability.json',
      `${JSON.stringify({ request: row.id, generated: today, data: Object.fromEntries(byTable) }, null, 2)}\n`,
    ),
  ];
  for (const [table, rows] of byTable) files.push(writePackageFile(folder, `${table}.csv`, recordsCsv(rows)));
  return files;
}

/** A secret (a password hash, a payment token) or a keyed hash never leaves in a package. */
function withoutSecrets(table: TableMap, data: Row): Row {
  return Object.fromEntries(
    Object.entries(data).filter(([column]) => {
      const spec = table.columns[column];
      return !(spec && (columnOf(spec).secret || columnOf(spec).hashed));
    }),
  );
}
