/**
 * The HMAC key: it keys the suppression list's hashes, the hashes that stand for people and
 * reasons in the audit log, and the audit chain itself. Never in the configuration, never logged:
 * an entry names the key it was sealed with by its id, a keyed hash of a fixed text.
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { RegistreError } from '../errors.js';

/** 256 bits: the HMAC-SHA-256 key length RFC 2104 recommends as a minimum for this hash. */
export const MIN_KEY_BYTES = 32;

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * hmacHex with one key for many texts: the key imported once (a tenth faster than hmacHex on a
 * million short texts, which imports it at every call).
 */
export function hmacHexWith(key: Buffer): (text: string) => string {
  const imported = createSecretKey(key);
  return (text) => createHmac('sha256', imported).update(text).digest('hex');
}

/** A short public name for a key (it reveals nothing of the key). */
export function keyIdOf(key: Buffer): string {
  return hmacHex(key, 'registre key id').slice(0, 16);
}

/** Refuses an empty, short or placeholder key, saying where it came from. */
export function checkKeyStrength(key: Buffer, where: string): Buffer {
  if (key.length < MIN_KEY_BYTES)
    throw new RegistreError(
      'E_WEAK_KEY',
      `${where}: the HMAC key is ${key.length} byte${key.length === 1 ? '' : 's'} long; it must be at least ${MIN_KEY_BYTES} random bytes (registre key generate --out FILE writes one)`,
    );
  if (new Set(key).size < 8)
    throw new RegistreError(
      'E_WEAK_KEY',
      `${where}: the HMAC key repeats a few characters only; use random bytes (registre key generate --out FILE)`,
    );
  return key;
}
