import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, exitCodeOf } from '../cli/exit-codes.js';
import { HTTP_STATUSES, httpStatusOf } from '../http/status.js';
import { ERROR_CATALOGUE, ERROR_KINDS, type ErrorCode, type ErrorKind, RegistreError } from './errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
const KINDS = Object.keys(ERROR_KINDS) as ErrorKind[];

/** Codes that meant two things before issue 19, and what each meaning is called now. */
const SPLIT: Record<string, readonly ErrorCode[]> = {
  E_LOCKED: ['E_REQUEST_LOCKED', 'E_LOCK_HELD'],
  E_NOT_FOUND: [
    'E_REQUEST_NOT_FOUND',
    'E_ERASURE_NOT_FOUND',
    'E_RECORD_NOT_FOUND',
    'E_PERSON_NOT_FOUND',
    'E_UNKNOWN_TABLE',
    'E_REGISTER_NOT_FOUND',
    'E_NOTICE_UNREADABLE',
    'E_NOT_FORWARDED',
  ],
  E_NO_HOLD: ['E_HOLD_NOT_FOUND', 'E_HOLD_RELEASED'],
  E_CONFIG: ['E_CONFIG', 'E_NO_CONFIG', 'E_ENV_UNSET'],
  E_REQUEST_CLOSED: ['E_REQUEST_CLOSED', 'E_ADDRESS_ERASED'],
  E_CODE_LIMIT: ['E_CODE_LIMIT', 'E_CODE_TOO_SOON'],
  E_OUT_EXISTS: ['E_OUT_EXISTS', 'E_OUT_CREATE'],
  E_FILE_READ: ['E_FILE_READ', 'E_FILE_PATH'],
};

/** The code (first argument) of every RegistreError constructed in src, its tests included. */
function thrownCodes(): { literals: Map<string, string[]>; forwarded: string[] } {
  const literals = new Map<string, string[]>();
  const forwarded: string[] = [];
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );
  for (const file of files) {
    const text = readFileSync(join(ROOT, 'src', file), 'utf8');
    for (const [, first = ''] of text.matchAll(/new RegistreError\(\s*([^,]*),/g)) {
      const codes = [...first.matchAll(/'(E_[A-Z0-9_]+)'/g)].map((m) => m[1] as string);
      if (codes.length === 0) forwarded.push(`${file}: ${first.trim()}`);
      for (const code of codes) literals.set(code, [...(literals.get(code) ?? []), file]);
    }
  }
  return { literals, forwarded };
}

const START = '<!-- catalogue: generated from src/core/errors.ts, checked by src/core/errors.test.ts -->';
const END = '<!-- end of catalogue -->';

function catalogueMarkdown(): string {
  const kinds = KINDS.map((k) => `| \`${k}\` | ${ERROR_KINDS[k]} | ${EXIT_CODES[k]} | ${HTTP_STATUSES[k]} |`);
  const codes = [...CODES]
    .sort()
    .map((c) => `| \`${c}\` | \`${ERROR_CATALOGUE[c].kind}\` | ${ERROR_CATALOGUE[c].template} |`);
  return [
    START,
    '',
    '| kind | meaning | exit code | HTTP status |',
    '| --- | --- | --- | --- |',
    ...kinds,
    '',
    '| code | kind | meaning |',
    '| --- | --- | --- |',
    ...codes,
    '',
    END,
  ].join('\n');
}

describe('the error catalogue', () => {
  it('gives every code a kind of the closed set and a one-sentence meaning, each its own', () => {
    for (const code of CODES) {
      const { kind, template } = ERROR_CATALOGUE[code];
      expect(KINDS, code).toContain(kind);
      expect(template, code).toMatch(/^[A-Z].*\.$/);
      expect(template, code).not.toContain('\n');
    }
    expect(new Set(CODES.map((c) => ERROR_CATALOGUE[c].template)).size).toBe(CODES.length);
    // Every kind is used: a kind nothing has is not part of the set.
    expect(new Set(CODES.map((c) => ERROR_CATALOGUE[c].kind))).toEqual(new Set(KINDS));
  });

  it('maps every kind to an exit code (usage 2, all else 1, as before) and an HTTP status', () => {
    expect(Object.keys(EXIT_CODES).sort()).toEqual([...KINDS].sort());
    expect(Object.keys(HTTP_STATUSES).sort()).toEqual([...KINDS].sort());
    for (const kind of KINDS) {
      expect(EXIT_CODES[kind], kind).toBe(kind === 'usage' ? 2 : 1);
      expect(HTTP_STATUSES[kind], kind).toBeGreaterThanOrEqual(400);
      expect(HTTP_STATUSES[kind], kind).toBeLessThan(600);
    }
    expect(exitCodeOf(new RegistreError('E_USAGE', '--limit must be a whole number'))).toBe(2);
    expect(exitCodeOf(new RegistreError('E_REQUEST_NOT_FOUND', 'there is no request 7'))).toBe(1);
    expect(httpStatusOf(new RegistreError('E_USAGE', '--limit must be a whole number'))).toBe(400);
    expect(httpStatusOf(new RegistreError('E_REQUEST_NOT_FOUND', 'there is no request 7'))).toBe(404);
    expect(httpStatusOf(new RegistreError('E_REQUEST_LOCKED', 'request 7 is locked'))).toBe(423);
  });

  it('carries its kind, the field at fault and the cause', () => {
    const cause = new Error('inner');
    const error = new RegistreError('E_USAGE', '--limit must be a whole number', { path: ['limit'], cause });
    expect(error).toMatchObject({ code: 'E_USAGE', kind: 'usage', path: ['limit'], cause });
    const bare = new RegistreError('E_LOCK_HELD', 'another sweep is running');
    expect(bare.kind).toBe('busy');
    expect('path' in bare).toBe(false);
    expect('cause' in bare).toBe(false);
  });

  it('holds every code src throws, and nothing src never throws', () => {
    const { literals, forwarded } = thrownCodes();
    const uncatalogued = [...literals.keys()].filter((c) => !(c in ERROR_CATALOGUE));
    expect(uncatalogued, 'codes thrown but not catalogued').toEqual([]);
    expect(
      CODES.filter((c) => !literals.has(c)),
      'catalogued codes nothing throws',
    ).toEqual([]);
    // The only non-literal first argument passes on the code of a RegistreError caught.
    for (const f of forwarded) expect(f).toMatch(/: error\.code$/);
  });

  it('splits the codes that meant two things into distinct codes with distinct meanings', () => {
    for (const [old, codes] of Object.entries(SPLIT)) {
      expect(new Set(codes).size, old).toBe(codes.length);
      for (const code of codes) expect(ERROR_CATALOGUE, `${old} -> ${code}`).toHaveProperty(code);
      const templates = codes.map((c) => ERROR_CATALOGUE[c].template);
      expect(new Set(templates).size, old).toBe(codes.length);
      if (!codes.includes(old as ErrorCode)) expect(ERROR_CATALOGUE, old).not.toHaveProperty(old);
    }
    // A request locked by wrong codes waits for the DPO; a held lock frees itself.
    expect(ERROR_CATALOGUE.E_REQUEST_LOCKED.kind).toBe('locked');
    expect(ERROR_CATALOGUE.E_LOCK_HELD.kind).toBe('busy');
    expect(ERROR_CATALOGUE.E_CODE_TOO_SOON.kind).not.toBe(ERROR_CATALOGUE.E_CODE_LIMIT.kind);
  });

  it('is the table docs/errors.md shows (REGISTRE_WRITE_DOCS=1 rewrites it)', () => {
    const path = join(ROOT, 'docs', 'errors.md');
    const doc = readFileSync(path, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, `${path} lacks the line ${START}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const expected = `${doc.slice(0, start)}${catalogueMarkdown()}${doc.slice(end + END.length)}`;
    // Compared cell by cell: the formatter (biome) pads the tables' columns.
    const cells = (text: string) =>
      text.split('\n').map((line) =>
        line.startsWith('|')
          ? line
              .split('|')
              .map((c) => c.trim().replace(/^-+$/, '-'))
              .join('|')
          : line,
      );
    if (process.env.REGISTRE_WRITE_DOCS === '1' && doc !== expected) writeFileSync(path, expected);
    else expect(cells(doc)).toEqual(cells(expected));
  });
});
