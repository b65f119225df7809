/**
 * Where the configuration's register, data map and keys are, read from an already parsed
 * configuration. No schema and no YAML parser here: commands load this module cheaply.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkKeyStrength } from '../../core/audit/keys.js';
import type { ConfigFile } from '../../core/config.js';
import { RegistreError } from '../../core/errors.js';
import { BUNDLED_DATAMAP, BUNDLED_REGISTER, bundledPath } from './bundled.js';

export interface LoadedConfig {
  /** The configuration file read, or null when there is none (defaults apply). */
  readonly file: string | null;
  /** Relative paths in the configuration are relative to this folder. */
  readonly dir: string;
  readonly config: ConfigFile;
}

/**
 * The configuration file a command reads: `file`, or `./registre.yaml` when it exists (null when
 * it does not: defaults apply); a named file that is missing is an error.
 */
export function configSource(
  file: string | undefined,
  cwd: string = process.cwd(),
): { path: string; text: string } | null {
  const path = resolve(cwd, file ?? 'registre.yaml');
  if (!existsSync(path)) {
    if (file) throw new RegistreError('E_NO_CONFIG', `no configuration file at ${path}`);
    return null;
  }
  return { path, text: readFileSync(path, 'utf8') };
}

function located(
  loaded: LoadedConfig,
  kind: 'register' | 'datamap',
  value: string | undefined,
): string | null {
  if (value === undefined) return null;
  if (value.startsWith('bundled:')) {
    const path = bundledPath(kind, value.slice('bundled:'.length));
    if (!existsSync(path))
      throw new RegistreError('E_CONFIG', `there is no bundled ${kind} "${value.slice(8)}"`);
    return path;
  }
  return resolve(loaded.dir, value);
}

/** The register the configuration names, else the bundled NEGOMARKETS one. */
export function registerPathOf(loaded: LoadedConfig): string {
  return located(loaded, 'register', loaded.config.register) ?? BUNDLED_REGISTER;
}

/** The data map the configuration names, else (with the bundled register) the bundled one. */
export function datamapPathOf(loaded: LoadedConfig): string | null {
  const named = located(loaded, 'datamap', loaded.config.datamap);
  if (named) return named;
  return registerPathOf(loaded) === BUNDLED_REGISTER ? BUNDLED_DATAMAP : null;
}

/**
 * The key of the keyed hashes (HMAC-SHA-256) that stand for people: `env:VARIABLE` or `file:PATH`
 * in the configuration, never the key itself. Undefined when none is configured.
 */
export function readHmacKey(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const ref = loaded.config.hmacKey;
  return ref === undefined ? undefined : readKeyRef(loaded, ref, 'hmacKey', env);
}

/**
 * The key for a command that can do without it (plan, explain, status, hold list, a dry run):
 * undefined when its variable or file is not there; a weak or malformed key is still an error.
 */
export function readHmacKeyIfAvailable(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
): Buffer | undefined {
  try {
    return readHmacKey(loaded, env);
  } catch (error) {
    if (error instanceof RegistreError && (error.code === 'E_ENV_UNSET' || error.code === 'E_KEY_UNREADABLE'))
      return undefined;
    throw error;
  }
}

/** The keys of before a rotation (previousKeys). */
export function readPreviousKeys(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Buffer[] {
  return (loaded.config.previousKeys ?? []).map((ref, i) =>
    readKeyRef(loaded, ref, `previousKeys[${i}]`, env),
  );
}

/** Reads `env:VARIABLE` or `file:PATH` (trailing white space dropped) and checks its strength. */
export function readKeyRef(
  loaded: { readonly dir: string },
  ref: string,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Buffer {
  if (ref.startsWith('env:')) {
    const value = env[ref.slice(4)];
    if (!value)
      throw new RegistreError('E_ENV_UNSET', `${where}: the environment variable ${ref.slice(4)} is not set`);
    return checkKeyStrength(Buffer.from(value.trimEnd(), 'utf8'), `${where} (${ref})`);
  }
  if (ref.startsWith('file:')) {
    const path = resolve(loaded.dir, ref.slice(5));
    // A key read before, from a file unchanged since (size, time, inode, mode): one stat call, not a
    // read and its checks again (a service reads the key at every write).
    const stamp = keyFileStamp(path);
    const known = stamp === undefined ? undefined : keyFiles.get(path);
    if (known && known.stamp === stamp) return known.key;
    let bytes: Buffer;
    let mode: number;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      // The mode of the file read, not of a path that may change between a check and the read.
      mode = fstatSync(fd).mode;
      bytes = readFileSync(fd);
    } catch (cause) {
      throw new RegistreError('E_KEY_UNREADABLE', `${where}: cannot read the key file ${path}`, { cause });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    // Whoever reads the key can forge the audit log and undo the suppression list's hashes.
    if (process.platform !== 'win32' && (mode & 0o077) !== 0)
      throw new RegistreError(
        'E_KEY_PERMISSIONS',
        `${where}: the HMAC key file ${path} can be read or written by others than its owner (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it is not used: run chmod 600 ${path}`,
      );
    const text = bytes.toString('utf8');
    // A text key file ends with a newline an editor adds: it is not part of the key.
    const key = Buffer.from(text, 'utf8').equals(bytes) ? Buffer.from(text.trimEnd(), 'utf8') : bytes;
    checkKeyStrength(key, `${where} (${path})`);
    if (stamp !== undefined) keyFiles.set(path, { stamp, key });
    return key;
  }
  throw new RegistreError(
    'E_CONFIG',
    `${where} must be env:VARIABLE or file:PATH; the key itself never sits in the configuration`,
  );
}

/** Key files read, by path, with the stamp of the file they were read from. */
const keyFiles = new Map<string, { stamp: string; key: Buffer }>();

function keyFileStamp(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.mode}`;
  } catch {
    return undefined;
  }
}
