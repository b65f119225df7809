/**
 * A register's load as plain data and back (what the parse cache keeps): its content, its issues
 * and where each of its items was read. No YAML parser and no schema here.
 */
import type { Issue } from '../issues.js';
import { restoreLocator, type Snapshot, SourceLocator, takeSnapshot } from '../source-locator.js';
import type { LoadResult, Register } from './register-load.js';
import { SECTIONS } from './vocabulary.js';

/** The register without its `locate`: plain data. */
export type RegisterData = Omit<Register, 'locate'>;

/** The items `locate` knows, in a fixed order: the organisation, each section's items, each purpose. */
function locatedItems(register: RegisterData): object[] {
  return [
    register.organisation,
    ...SECTIONS.flatMap((section) => register[section] as readonly object[]),
    ...register.activities.flatMap((a) => a.purposes),
  ];
}

export function registerSnapshot(result: LoadResult): Snapshot<RegisterData> {
  const { register, issues, locator } = result;
  let data: RegisterData | null = null;
  if (register) {
    const { locate: _, ...rest } = register;
    data = rest;
  }
  return takeSnapshot(data, issues, locator ?? new SourceLocator(), locatedItems);
}

export function registerFromSnapshot(snapshot: Snapshot<RegisterData>): LoadResult {
  const issues = snapshot.issues as Issue[];
  if (!snapshot.value) return { register: null, issues };
  const locator = restoreLocator(snapshot, snapshot.value, locatedItems);
  return { register: { ...snapshot.value, locate: locator.locate }, issues, locator };
}
