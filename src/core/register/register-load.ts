/**
 * Reads register files (YAML text) into one Register, keeping where each item came from so that
 * every issue, structural or semantic, points at a file, line and column.
 */
import { hasErrors, type Issue, type IssuePath } from '../issues.js';
import { SourceLocator } from '../source-locator.js';
import { parseYamlSource, placeholdersIn, positionsOf, type YamlSource } from '../yaml-source.js';
import {
  type Activity,
  type Controller,
  type DataCategory,
  type Declared,
  type HoldRule,
  type Organisation,
  type Recipient,
  type RecordType,
  RegisterFile,
  type RetentionRule,
} from './register-schema.js';
import { SECTIONS } from './vocabulary.js';

export type RegisterSource = YamlSource;

export interface Register {
  readonly organisation: Organisation;
  readonly dataCategories: readonly DataCategory[];
  readonly dataSubjects: readonly Declared[];
  readonly recipients: readonly Recipient[];
  readonly controllers: readonly Controller[];
  readonly records: readonly RecordType[];
  readonly activities: readonly Activity[];
  readonly retention: readonly RetentionRule[];
  readonly holds: readonly HoldRule[];
  /** Where an item (any object of the register) was read: file and path inside it. */
  readonly locate: (item: object, ...subpath: (string | number)[]) => Location;
}

export interface Location {
  readonly file?: string;
  readonly path: IssuePath;
  readonly line?: number;
  readonly column?: number;
}

export interface LoadResult {
  readonly register: Register | null;
  readonly issues: readonly Issue[];
  /** Where the register's items were read (what its `locate` reads). */
  readonly locator?: SourceLocator;
}

/** Parses and merges the files of a register. Structural issues only; see validateRegister for the rest. */
export function parseRegister(sources: readonly RegisterSource[]): LoadResult {
  const issues: Issue[] = [];
  const located = new SourceLocator();
  const merged: Record<string, unknown[]> = Object.fromEntries(SECTIONS.map((s) => [s, []]));
  const organisations: { org: Organisation; file: string }[] = [];

  for (const source of sources) {
    const { parsed, data, issues: found } = parseYamlSource(source, RegisterFile);
    located.addFile(source.file, positionsOf(parsed));
    for (const issue of found) issues.push(issue);
    // A text left to fill in would be published as it is: each one is named where it is.
    for (const p of placeholdersIn(parsed, ['todo']))
      issues.push({
        severity: 'warning',
        code: 'W_PLACEHOLDER',
        file: source.file,
        path: p.path,
        line: p.line,
        column: p.column,
        message: `"${p.text}" is a placeholder: replace it before the documents are published`,
      });
    if (!data) continue;
    const content = data;
    if (content.organisation) {
      organisations.push({ org: content.organisation, file: source.file });
      located.remember(content.organisation, source.file, ['organisation']);
    }
    for (const section of SECTIONS) {
      const items = (content[section] ?? []) as object[];
      items.forEach((item, index) => {
        located.remember(item, source.file, [section, index]);
        if (section === 'activities') {
          (item as Activity).purposes.forEach((p, pi) => {
            located.remember(p, source.file, [section, index, 'purposes', pi]);
          });
        }
        merged[section]?.push(item);
      });
    }
  }

  const locate = located.locate;

  if (hasErrors(issues)) return { register: null, issues, locator: located };
  if (organisations.length === 0) {
    const first = sources[0]?.file;
    issues.push({
      severity: 'error',
      code: 'E_NO_ORGANISATION',
      path: ['organisation'],
      ...(first ? { file: first, line: 1, column: 1 } : {}),
      message: "no file of the register declares the organisation (the controller's identity and contact)",
    });
    return { register: null, issues, locator: located };
  }
  for (const extra of organisations.slice(1)) {
    issues.push({
      severity: 'error',
      code: 'E_DUPLICATE_ORGANISATION',
      ...locate(extra.org),
      message: `the organisation is declared again (first in ${organisations[0]?.file})`,
    });
  }
  const register: Register = {
    organisation: (organisations[0] as { org: Organisation }).org,
    dataCategories: merged.dataCategories as DataCategory[],
    dataSubjects: merged.dataSubjects as Declared[],
    recipients: merged.recipients as Recipient[],
    controllers: merged.controllers as Controller[],
    records: merged.records as RecordType[],
    activities: merged.activities as Activity[],
    retention: merged.retention as RetentionRule[],
    holds: merged.holds as HoldRule[],
    locate,
  };
  return { register, issues, locator: located };
}
