/** Key files: random, readable by their owner only, never overwritten. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { keyIdOf } from '../../core/audit/keys.js';
import { RegistreError } from '../../core/errors.js';

/** Writes a new random key (48 bytes, base64: 64 characters) to a file with mode 0600. */
export function writeKeyFile(out: string): { path: string; keyId: string } {
  const path = resolve(out);
  if (existsSync(path))
    throw new RegistreError(
      'E_EXISTS',
      `${path} already exists: a key is never overwritten (it would orphan every hash made with it)`,
    );
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(48).toString('base64');
  writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { path, keyId: keyIdOf(Buffer.from(key, 'utf8')) };
}
