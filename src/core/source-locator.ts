/**
 * Where each item of a set of YAML files was read, so that issues about it can point there: a
 * table of the line and column of every node of each file, by path. The table is plain data, so a
 * parse kept on disk (the parse cache) places issues as exactly as a fresh one, without the YAML
 * parser. No import of the parser or of a schema here.
 */
import type { IssuePath } from './issues.js';

/** Line and column (both from 1) of every node of one file, by path key (see pathKey). */
export type Positions = Readonly<Record<string, readonly [number, number]>>;

/** A path as a key of Positions: each part after a U+001F (the root's key is empty). */
export const pathKey = (path: IssuePath): string => path.map((part) => `\u001f${part}`).join('');

/** Where one item was read: its file and its path inside it. */
export interface ItemPlace {
  readonly file: string;
  readonly path: IssuePath;
}

/**
 * The node at `path`, else its deepest ancestor that exists (a key that is not there points at
 * the mapping that lacks it); the start of the file when there is none.
 */
function positionIn(positions: Positions, path: IssuePath): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const found = positions[pathKey(path.slice(0, n))];
    if (found) return { line: found[0], column: found[1] };
  }
  return { line: 1, column: 1 };
}

export class SourceLocator {
  private readonly files = new Map<string, Positions>();
  private readonly where = new WeakMap<object, ItemPlace>();

  addFile(file: string, positions: Positions): void {
    this.files.set(file, positions);
  }

  remember(item: object, file: string, path: IssuePath): void {
    this.where.set(item, { file, path });
  }

  placeOf(item: object): ItemPlace | undefined {
    return this.where.get(item);
  }

  /** Every file's positions, by file name. */
  positions(): Record<string, Positions> {
    return Object.fromEntries(this.files);
  }

  readonly locate = (
    item: object,
    ...subpath: (string | number)[]
  ): { file?: string; path: IssuePath; line?: number; column?: number } => {
    const w = this.where.get(item);
    if (!w) return { path: subpath };
    const positions = this.files.get(w.file);
    const path = [...w.path, ...subpath];
    return positions ? { file: w.file, path, ...positionIn(positions, path) } : { file: w.file, path };
  };
}

/**
 * A parse kept as plain data (JSON): the value read, its issues, the positions of its files and
 * the place of each of its located items, listed by `items` in a fixed order.
 */
export interface Snapshot<T> {
  readonly value: T | null;
  readonly issues: readonly unknown[];
  readonly files: Record<string, Positions>;
  readonly places: readonly (ItemPlace | null)[];
}

export function takeSnapshot<T>(
  value: T | null,
  issues: readonly unknown[],
  locator: SourceLocator,
  items: (value: T) => readonly object[],
): Snapshot<T> {
  return {
    value,
    issues,
    files: locator.positions(),
    places: value === null ? [] : items(value).map((item) => locator.placeOf(item) ?? null),
  };
}

/** The locator of a snapshot's value: each item of `items` remembered at its place again. */
export function restoreLocator<T>(
  snapshot: Snapshot<T>,
  value: T,
  items: (value: T) => readonly object[],
): SourceLocator {
  const locator = new SourceLocator();
  for (const [file, positions] of Object.entries(snapshot.files)) locator.addFile(file, positions);
  items(value).forEach((item, i) => {
    const place = snapshot.places[i];
    if (place) locator.remember(item, place.file, place.path);
  });
  return locator;
}
