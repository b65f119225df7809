/** Reads a register from disk: one YAML file, or every YAML file below a folder. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { RegistreError } from '../../core/errors.js';
import { type LoadResult, parseRegister, type RegisterSource } from '../../core/register-load.js';
import { validateRegister } from '../../core/validate-register.js';

const YAML_FILE = /\.ya?ml$/i;

function yamlFilesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith('.') ? [] : yamlFilesBelow(path);
      return YAML_FILE.test(entry.name) ? [path] : [];
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
    throw new RegistreError('E_NOT_FOUND', `no register at ${path}: no such file or folder`, { cause });
  }
  const files = stat.isDirectory() ? yamlFilesBelow(path) : [path];
  if (files.length === 0)
    throw new RegistreError('E_NOT_FOUND', `no register at ${path}: the folder holds no .yaml file`);
  return files.map((file) => ({ file: displayName(file, cwd), text: readFileSync(file, 'utf8') }));
}

/** Reads, parses and validates a register: structural issues first, then semantic ones. */
export function loadRegister(path: string, cwd?: string): LoadResult {
  const result = parseRegister(readRegisterSources(path, cwd));
  if (!result.register) return result;
  return { register: result.register, issues: [...result.issues, ...validateRegister(result.register)] };
}
