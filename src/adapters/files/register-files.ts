import { createHash } from 'node:crypto';
/** Reads a register's (or data map's) files from disk: one YAML file, or every YAML file below a folder. Reading only: no parser here. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { RegistreError } from '../../core/errors.js';
import type { RegisterSource } from '../../core/register/register-load.js';

const YAML_FILE = /\.ya?ml$/i;

/**
 * File names in the order a register's files are merged: the locale's. Names of lower-case
 * letters, digits, "." and "-" only (the usual ones) sort the same by code point, without loading
 * the collation tables (about 12 ms of a command's start); a test checks the two orders agree.
 */
export function byFileName(a: string, b: string): number {
  if (PLAIN_NAME.test(a) && PLAIN_NAME.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return a.localeCompare(b);
}
const PLAIN_NAME = /^[a-z0-9.-]*$/;

function yamlFilesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => (entry.isDirectory() ? !entry.name.startsWith('.') : YAML_FILE.test(entry.name)))
    .sort((a, b) => byFileName(a.name, b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? yamlFilesBelow(path) : [path];
    });
}

/** Relative to where the user stands when the file is below it, else as given. */
function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function readRegisterSources(path: string, cwd: string = process.cwd()): RegisterSource[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (cause) {
    throw new RegistreError('E_REGISTER_NOT_FOUND', `no register at ${path}: no such file or folder`, {
      cause,
    });
  }
  const files = stat.isDirectory() ? yamlFilesBelow(path) : [path];
  if (files.length === 0)
    throw new RegistreError('E_REGISTER_NOT_FOUND', `no register at ${path}: the folder holds no .yaml file`);
  let total = 0;
  return files.map((file) => {
    const name = displayName(file, cwd);
    const size = statSync(file).size;
    total += size;
    if (size > MAX_FILE_BYTES || total > MAX_TOTAL_BYTES)
      throw new RegistreError(
        'E_TOO_LARGE',
        `${name}: ${size > MAX_FILE_BYTES ? `the file is ${mib(size)}` : `the register reaches ${mib(total)} with this file`}; a register is refused above ${mib(MAX_FILE_BYTES)} a file and ${mib(MAX_TOTAL_BYTES)} in all (the bundled one is 0.07 MiB)`,
      );
    return { file: name, text: decodeUtf8(readFileSync(file), name) };
  });
}

/** Far above any real register (NEGOMARKETS's is 72 KB), far below what exhausts memory. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_TOTAL_BYTES = 16 * 1024 * 1024;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

/** UTF-8, strictly: a byte that is not is an error at its line and column, never a silent U+FFFD. */
function decodeUtf8(bytes: Buffer, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const good = firstBadByte(bytes);
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, good));
    const lines = before.split('\n');
    throw new RegistreError(
      'E_ENCODING',
      `${name}:${lines.length}:${(lines[lines.length - 1]?.length ?? 0) + 1} E_ENCODING byte 0x${(bytes[good] ?? 0).toString(16).padStart(2, '0')} is not UTF-8: save the file as UTF-8`,
    );
  }
}

/** Where a UTF-8 decoder stops: the first byte that starts no valid sequence, or breaks one. */
function firstBadByte(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i] as number;
    const extra =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (extra < 0 || i + extra >= bytes.length + (extra === 0 ? 1 : 0)) return i;
    for (let k = 1; k <= extra; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += extra + 1;
  }
  return 0;
}

/** A SHA-256 of a register's (or data map's) source files: what a run was made with. */
export function sourcesHash(path: string | null): string {
  if (!path) return '';
  const hash = createHash('sha256');
  for (const source of readRegisterSources(path)) hash.update(`${source.text}\n\u0000`);
  return hash.digest('hex');
}

/**
 * What identifies the files of a register (or data map) without reading them: each file's path,
 * size and modification time in nanoseconds. Cheap enough to check before every use of a cached
 * parse.
 */
export function sourcesStamp(path: string | null): string {
  if (!path) return '';
  try {
    const stat = statSync(path);
    const files = stat.isDirectory() ? yamlFilesBelow(path) : [path];
    return files
      .map((file) => {
        const s = statSync(file, { bigint: true });
        return `${file}:${s.size}:${s.mtimeNs}:${s.ino}`;
      })
      .join('|');
  } catch {
    return `missing:${path}`;
  }
}
