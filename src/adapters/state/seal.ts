/**
 * The state store's keys: the hasher of the log's entries, the seals (keyed MACs) of its rows,
 * the digests that stand for values in the log.
 */
import { createHash } from 'node:crypto';
import type { Hasher, KeyRing } from '../../core/audit/audit-chain.js';
import { hmacHex, keyIdOf } from '../../core/audit/keys.js';
import type { Connection } from '../sql/connect.js';

export interface StateKeys {
  /** The HMAC key in force (hmacKey). */
  readonly key?: Buffer;
  /** Keys of before a rotation: entries they sealed can still be checked. */
  readonly previous?: readonly Buffer[];
  /** Where the keyed checkpoint of the log's head is kept, outside the state store. */
  readonly checkpoint?: Connection;
  /** Close the checkpoint's connection with the state store (it was opened for it alone). */
  readonly ownsCheckpoint?: boolean;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class Sealer {
  /** The keys' ids and the ring, made once: a key's id is itself an HMAC, and rows are sealed by the thousand. */
  private ring: KeyRing | undefined;
  private readonly keyIdInForce: string | undefined;

  constructor(readonly keys: StateKeys) {
    this.keyIdInForce = keys.key ? keyIdOf(keys.key) : undefined;
  }

  /** The hasher of new entries: HMAC with the key in force, plain SHA-256 without one. */
  get hash(): Hasher {
    const key = this.keys.key;
    return key ? (text) => hmacHex(key, text) : sha256;
  }

  get keyId(): string | undefined {
    return this.keyIdInForce;
  }

  get hasKey(): boolean {
    return this.keys.key !== undefined;
  }

  /** Every key the log can be checked with. */
  keyRing(): KeyRing {
    if (this.ring) return this.ring;
    const keyed = new Map<string, Hasher>();
    for (const key of [...(this.keys.previous ?? []), ...(this.keys.key ? [this.keys.key] : [])])
      keyed.set(keyIdOf(key), (text) => hmacHex(key, text));
    this.ring = { keyed, unkeyed: sha256 };
    return this.ring;
  }

  /** A keyed hash that stands for a value in the log (see `StateStore.digest`). */
  digest(value: string): string {
    return this.hash(`registre digest\u0000${value}`);
  }

  /** Whether `digest` stands for `value` under the key its entry was sealed with (see `StateStore.digestMatches`). */
  digestMatches(value: string, digest: string, keyId: string | undefined): boolean {
    const ring = this.keyRing();
    const hash = keyId === undefined ? ring.unkeyed : ring.keyed.get(keyId);
    return hash === undefined || hash(`registre digest\u0000${value}`) === digest;
  }

  /** A row's keyed MAC (`keyId:hex`; `none:` and a plain SHA-256 in a store without a key). */
  seal(text: string): string {
    const key = this.keys.key;
    if (!key) return `none:${sha256(text)}`;
    return `${this.keyIdInForce}:${hmacHex(key, text)}`;
  }

  /**
   * Whether `mac` seals `text` under a key of the ring (the one in force or one of before a
   * rotation). A store opened without any key cannot check: it only shows, never runs.
   */
  sealMatches(text: string, mac: string | null): boolean {
    if (!this.hasKey) return true;
    if (!mac) return false;
    const at = mac.indexOf(':');
    const hash = this.keyRing().keyed.get(mac.slice(0, at));
    return hash !== undefined && hash(text) === mac.slice(at + 1);
  }
}
