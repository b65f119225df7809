/**
 * YAML sources checked against a zod schema, with every issue placed at a file, line and column.
 * Shared by the register and the data map.
 */
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Issue, IssuePath } from './issues.js';
import { LEGAL_BASES } from './register/vocabulary.js';
import { type Positions, pathKey } from './source-locator.js';

export interface YamlSource {
  /** The file's name as it should appear in messages (relative to where the user stands). */
  readonly file: string;
  readonly text: string;
}

export interface ParsedFile {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

/** Finds the YAML node at `path`; for a key that is not there, the deepest node that is. */
function nodeAt(doc: Document.Parsed, path: IssuePath, keyOf?: string): Node | null {
  let node: unknown = doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (!pair) return node as Node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
    } else {
      return (node as Node) ?? null;
    }
  }
  if (keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === keyOf);
    if (pair && isScalar(pair.key)) return pair.key as Node;
  }
  return (node as Node) ?? null;
}

export function position(
  parsed: ParsedFile,
  path: IssuePath,
  keyOf?: string,
): { line: number; column: number } {
  const node = nodeAt(parsed.doc, path, keyOf);
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = parsed.lines.linePos(offset);
  return { line, column: col };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const EXPECTED_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a text',
  number: 'a number',
  boolean: 'true or false',
};

function valueAt(data: unknown, path: IssuePath): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

type ZodIssue = z.core.$ZodIssue;

/** Of a union's failed branches, the one that went deepest (not "wrong type at the root"). */
function bestBranch(branches: readonly (readonly ZodIssue[])[]): readonly ZodIssue[] {
  const score = (issues: readonly ZodIssue[]) =>
    issues.reduce((s, i) => {
      if (i.path.length === 0 && i.code === 'invalid_type') return s + 100;
      if (i.path.length === 0 && i.code === 'unrecognized_keys') return s + 50;
      return s + 1;
    }, 0);
  let best = branches[0] ?? [];
  for (const b of branches) if (score(b) < score(best)) best = b;
  return best;
}

function translateZodIssue(
  zi: ZodIssue,
  base: IssuePath,
  data: unknown,
): Omit<Issue, 'file' | 'line' | 'column'>[] {
  const path = [...base, ...(zi.path as (string | number)[])];
  const at = path.length ? path.join('.') : 'the file';
  const key = path[path.length - 1];
  switch (zi.code) {
    case 'invalid_union': {
      const allRootTypeErrors = zi.errors.every((b) =>
        b.every((i) => i.path.length === 0 && i.code === 'invalid_type'),
      );
      if (allRootTypeErrors) {
        return [
          {
            severity: 'error',
            code: 'E_TYPE',
            path,
            message: `${at} has ${describe(valueAt(data, path))}; expected ${unionExpectation(key)}`,
          },
        ];
      }
      const rootOnly = zi.errors.every((b) => b.length === 1 && b[0]?.path.length === 0);
      if (rootOnly) {
        const options = zi.errors.flatMap((b) => {
          const i = b[0] as ZodIssue;
          if (i.code === 'invalid_value') return i.values.map((v) => JSON.stringify(v));
          if (i.code === 'invalid_type') return [EXPECTED_WORDS[i.expected] ?? i.expected];
          return [];
        });
        return [
          {
            severity: 'error',
            code: 'E_INVALID_VALUE',
            path,
            message: `${at} is ${JSON.stringify(valueAt(data, path))}; expected ${[...new Set(options)].join(', ')}`,
          },
        ];
      }
      return bestBranch(zi.errors).flatMap((i) => translateZodIssue(i, path, data));
    }
    case 'unrecognized_keys':
      return zi.keys.map((k) => ({
        severity: 'error' as const,
        code: 'E_UNKNOWN_KEY',
        path: [...path, k],
        message: `unknown key "${k}" in ${at}`,
      }));
    case 'invalid_type': {
      const actual = valueAt(data, path);
      if (actual === undefined)
        return [
          {
            severity: 'error',
            code: 'E_REQUIRED',
            path,
            message: `${at} is required (${EXPECTED_WORDS[zi.expected] ?? zi.expected})`,
          },
        ];
      return [
        {
          severity: 'error',
          code: 'E_TYPE',
          path,
          message: `${at} has ${describe(actual)}; expected ${EXPECTED_WORDS[zi.expected] ?? zi.expected}`,
        },
      ];
    }
    case 'invalid_value': {
      const actual = valueAt(data, path);
      const options = zi.values.map((v) => `"${String(v)}"`).join(', ');
      if (actual === undefined)
        return [
          { severity: 'error', code: 'E_REQUIRED', path, message: `${at} is required (one of ${options})` },
        ];
      if (key === 'legalBasis') {
        const purpose = valueAt(data, path.slice(0, -1)) as { id?: unknown } | undefined;
        return [
          {
            severity: 'error',
            code: 'E_UNKNOWN_LEGAL_BASIS',
            path,
            message: `purpose "${String(purpose?.id ?? '?')}" has legal basis ${JSON.stringify(actual)}; expected one of ${LEGAL_BASES.join(', ')}`,
          },
        ];
      }
      return [
        {
          severity: 'error',
          code: 'E_INVALID_VALUE',
          path,
          message: `${at} is ${JSON.stringify(actual)}; expected one of ${options}`,
        },
      ];
    }
    case 'invalid_format':
      return [
        {
          severity: 'error',
          code: 'E_FORMAT',
          path,
          message: `${at} is ${JSON.stringify(valueAt(data, path))}: ${zi.message}`,
        },
      ];
    case 'too_small':
      return [{ severity: 'error', code: 'E_EMPTY', path, message: `${at} must not be empty` }];
    default:
      return [{ severity: 'error', code: 'E_INVALID', path, message: `${at}: ${zi.message}` }];
  }
}

function unionExpectation(key: string | number | undefined): string {
  switch (key) {
    case 'anchor':
    case 'financialYearEnd':
    case 'from':
      return 'a field name or a date expression (latest, earliest, max, min, financialYearEnd, from/add)';
    case 'keep':
    case 'add':
      return 'a duration ("13 months") or {months: field}';
    case 'then':
      return '"delete" or {anonymise: [fields]}';
    default:
      return 'a text, or a mapping {fr: …, en: …}';
  }
}

export interface ParsedSource<T> {
  readonly parsed: ParsedFile;
  /** The validated content, or null when the file has errors. */
  readonly data: T | null;
  readonly issues: readonly Issue[];
}

/** Parses one YAML file and checks it against a schema; issues carry their position. */
export function parseYamlSource<T>(source: YamlSource, schema: z.ZodType<T>): ParsedSource<T> {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const parsed: ParsedFile = { file: source.file, doc, lines };
  const issues: Issue[] = [];
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const { line, col } = lines.linePos(err.pos[0]);
      const duplicate = err.code === 'DUPLICATE_KEY';
      issues.push({
        severity: 'error',
        code: duplicate ? 'E_DUPLICATE_KEY' : 'E_YAML_SYNTAX',
        path: [],
        file: source.file,
        line,
        column: col,
        message: duplicate
          ? 'this key appears twice in the same mapping'
          : (err.message.split('\n')[0] ?? 'malformed YAML'),
      });
    }
    return { parsed, data: null, issues };
  }
  let data: unknown;
  try {
    // The yaml package stops alias expansion past a limit (a "billion laughs" file): say where.
    data = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  } catch (error) {
    issues.push({
      severity: 'error',
      code: 'E_YAML_ALIASES',
      path: [],
      file: source.file,
      line: 1,
      column: 1,
      message: `the file expands its aliases (*name) too many times to be read safely: ${(error as Error).message.split('\n')[0]}`,
    });
    return { parsed, data: null, issues };
  }
  const result = schema.safeParse(data);
  if (result.success) return { parsed, data: result.data, issues };
  for (const zi of result.error.issues) {
    for (const issue of translateZodIssue(zi, [], data)) {
      const keyOf = issue.code === 'E_UNKNOWN_KEY' ? String(issue.path[issue.path.length - 1]) : undefined;
      const pos = position(parsed, keyOf ? issue.path.slice(0, -1) : issue.path, keyOf);
      issues.push({ ...issue, file: source.file, ...pos });
    }
  }
  return { parsed, data: null, issues };
}

/**
 * The line and column of every node of a parsed file, by path: what SourceLocator places issues
 * with. A mapping's entry is placed at its value (at its key when it has none), as nodeAt does.
 */
export function positionsOf(parsed: ParsedFile): Positions {
  const out: Record<string, readonly [number, number]> = {};
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (node === null || node === undefined) return;
    const { line, col } = parsed.lines.linePos((node as Node).range?.[0] ?? 0);
    out[pathKey(path)] = [line, col];
    if (isMap(node)) {
      for (const pair of node.items)
        if (isScalar(pair.key)) visit(pair.value ?? pair.key, [...path, String(pair.key.value)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        visit(item, [...path, i]);
      });
    }
  };
  visit(parsed.doc.contents, []);
  return out;
}

/**
 * What a text left to fill in looks like: a bracketed "à compléter" / "to complete", a TODO,
 * TBD, FIXME or XXX, lorem ipsum, or an address at the reserved `.example` domain.
 */
const PLACEHOLDER =
  /\[[^\]]*(?:à compléter|a completer|à préciser|to complete|to be completed|to fill in)[^\]]*\]|\b(?:TODO|TBD|FIXME|XXX)\b|lorem ipsum|[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.example\b/i;

/** Whether a text still holds a placeholder (the same test `validate` applies to the files). */
export function hasPlaceholder(text: string): boolean {
  return PLACEHOLDER.test(text);
}

/**
 * Every scalar of a file that still holds a placeholder, with its position; the values of keys
 * in `skipKeys` are left out (a rule's `todo` is reported on its own).
 */
export function placeholdersIn(
  parsed: ParsedFile,
  skipKeys: readonly string[] = [],
): { path: IssuePath; line: number; column: number; text: string }[] {
  const found: { path: IssuePath; line: number; column: number; text: string }[] = [];
  const visit = (node: unknown, path: IssuePath): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!skipKeys.includes(key)) visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        visit(item, [...path, i]);
      });
    } else if (isScalar(node) && typeof node.value === 'string') {
      const match = PLACEHOLDER.exec(node.value);
      if (match) {
        const { line, col } = parsed.lines.linePos(node.range?.[0] ?? 0);
        found.push({ path, line, column: col, text: match[0] });
      }
    }
  };
  visit(parsed.doc.contents, []);
  return found;
}
