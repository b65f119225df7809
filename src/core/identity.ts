/**
 * How a person is named: an e-mail address normalised one way everywhere (TypeScript and SQL),
 * and its keyed hash. The hash is what the suppression list, the requests, the holds and the
 * erasures record (HMAC-SHA-256 of the normalised address, as the data map documents).
 */
import { hmacHex } from './audit/keys.js';

/**
 * The characters stripped from both ends of an address: exactly those JavaScript's `trim()`
 * strips (white space and line terminators), so that hashes made before this list existed still
 * match. The SQL side strips the same list (`identitySql`).
 */
export const IDENTITY_TRIM: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];

const TRIMMED = new Set(IDENTITY_TRIM);

/** Strips `IDENTITY_TRIM` from both ends. */
export function trimIdentity(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && TRIMMED.has(text.charCodeAt(start))) start++;
  while (end > start && TRIMMED.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** An address as it is compared and hashed: trimmed (`IDENTITY_TRIM`), then lower-cased (Unicode). */
export function normaliseEmail(email: string): string {
  return trimIdentity(email).toLowerCase();
}

/**
 * The mailbox an address reaches, as the key a limit counts it under (never hashed as a person):
 * NFKC, lower case, and the domain in its ASCII form without a trailing dot. `ana@exämple.org` and
 * `ana@xn--exmple-cua.org` are one mailbox to a mail server (as `ana@ｅxample.org` is under IDNA's
 * mapping); counted as typed, each spelling had the per-address limit of its own.
 */
export function mailboxKey(email: string): string {
  const text = normaliseEmail(email).normalize('NFKC').toLowerCase();
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const domain = text.slice(at + 1).replace(/\.+$/, '');
  let ascii = domain;
  try {
    ascii = new URL(`http://${domain}`).hostname.replace(/\.+$/, '');
  } catch {
    ascii = domain;
  }
  return `${text.slice(0, at)}@${ascii}`;
}

/** The keyed hash that stands for a person: HMAC-SHA-256 of the normalised address. */
export function personHash(key: Buffer, email: string): string {
  return hmacHex(key, normaliseEmail(email));
}

/**
 * The keyed hashes of an address under the keys of before a rotation, each mapped to `current`
 * (its hash under the key in force): what the suppression list looks up and re-keys.
 */
export function previousHashes(
  previousKeys: readonly Buffer[],
  email: string,
  current: string,
): Map<string, string> {
  const address = normaliseEmail(email);
  return new Map(previousKeys.map((key) => [hmacHex(key, address), current]));
}

/**
 * Whether a text, trimmed, is an e-mail address as a mailing list holds one: one `@` with text on
 * both sides, and no space, angle bracket, quote, comma or semicolon (`Jean <j@x.fr>` or two
 * addresses in one cell are not one address).
 */
export function looksLikeAddress(text: string): boolean {
  return addressOf(text) !== undefined;
}

const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+$/u;

/** The normalised address (`normaliseEmail`) of a text that is one address (`looksLikeAddress`), else undefined. */
export function addressOf(text: string): string | undefined {
  const trimmed = trimIdentity(text);
  return ADDRESS.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

/** Lower-cases ASCII letters only, as SQLite's `lower()` and PostgreSQL's under the "C" collation do. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

const isAscii = (text: string) => {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
};

let capitals: Map<string, string[]> | undefined;

/**
 * Each non-ASCII character by what it lower-cases to (`É` under `é`). Characters that lower-case
 * to plain ASCII (the Kelvin sign) are left out: they would double the spellings of every `k`.
 */
function capitalsByLower(): Map<string, string[]> {
  if (capitals) return capitals;
  capitals = new Map();
  for (let cp = 0x80; cp < 0x20000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const ch = String.fromCodePoint(cp);
    const lower = ch.toLowerCase();
    if (lower === ch || isAscii(lower)) continue;
    capitals.set(lower, [...(capitals.get(lower) ?? []), ch]);
  }
  return capitals;
}

/**
 * The values `asciiLower(trim(column))` can have in a row whose normalised address is `address`
 * (a normalised address): the address itself, and each spelling with non-ASCII capitals
 * (`élodie@x` is also stored as `Élodie@x`, which an ASCII-only `lower()` leaves so). An indexed
 * lookup of these finds every row of the person; `undefined` when there are more than `limit`
 * (an address with many non-ASCII letters), where a search must read the whole column.
 */
export function identitySpellings(address: string, limit = 512): string[] | undefined {
  // An ASCII address (nearly all) has one spelling: the table is built only for the others.
  if (isAscii(address)) return [address];
  const table = capitalsByLower();
  const memo = new Map<number, string[] | undefined>();
  // Every spelling of address[at…], memoised by position.
  const from = (at: number): string[] | undefined => {
    if (at >= address.length) return [''];
    if (memo.has(at)) return memo.get(at);
    const own = String.fromCodePoint(address.codePointAt(at) as number);
    const options = [{ text: own, width: own.length }];
    for (let width = 1; width <= 3 && at + width <= address.length; width++)
      for (const capital of table.get(address.slice(at, at + width)) ?? [])
        options.push({ text: capital, width });
    const out: string[] = [];
    let overflow = false;
    for (const option of options) {
      const rest = from(at + option.width);
      if (rest === undefined || out.length + rest.length > limit) {
        overflow = true;
        break;
      }
      for (const r of rest) out.push(option.text + r);
    }
    const result = overflow ? undefined : [...new Set(out)];
    memo.set(at, result);
    return result;
  };
  return from(0);
}
