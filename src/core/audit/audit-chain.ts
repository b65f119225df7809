/**
 * The audit log's hash chain: each entry's hash covers the previous entry's hash and the entry
 * itself, so an edited, deleted, inserted or reordered entry breaks the chain where it happened.
 * Entries hold no personal data: a person appears only as a keyed hash.
 */

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly kind: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
  /**
   * The id of the key the entry was sealed with (see keyIdOf); absent for an entry sealed without
   * a key (plain SHA-256), which anyone with write access could have rewritten.
   */
  readonly keyId?: string;
}

export type UnsealedEntry = Omit<AuditEntry, 'hash'>;

export const GENESIS = '0'.repeat(64);

/** JSON with keys sorted at every level: the same entry always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The text an entry's hash is computed over. */
export function entryText(entry: UnsealedEntry): string {
  return canonicalJson({
    seq: entry.seq,
    at: entry.at,
    kind: entry.kind,
    data: entry.data,
    prevHash: entry.prevHash,
    key: entry.keyId,
  });
}

export type Hasher = (text: string) => string;

export function sealEntry(entry: UnsealedEntry, sha256: Hasher): AuditEntry {
  return { ...entry, hash: sha256(entryText(entry)) };
}

export interface ChainProblem {
  readonly seq: number;
  readonly problem: 'edited' | 'deleted' | 'inserted' | 'reordered' | 'other-key' | 'downgraded';
  readonly message: string;
}

/**
 * The keys a chain can be checked with: the hasher of each key id, and the plain SHA-256 of
 * entries sealed without a key.
 */
export interface KeyRing {
  readonly keyed: ReadonlyMap<string, Hasher>;
  readonly unkeyed: Hasher;
}

/**
 * Checks a chain read in storage order; returns every place it is broken (empty: intact). With a
 * plain hasher every entry is checked with it; with a key ring each entry with the key it names.
 */
export function verifyAuditChain(entries: readonly AuditEntry[], keys: Hasher | KeyRing): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let previous: AuditEntry | null = null;
  let keyedSeen = false;
  const bySeenHash = new Map(entries.map((e) => [e.hash, e]));
  for (const entry of entries) {
    const expectedPrev = previous ? previous.hash : GENESIS;
    const hasher =
      typeof keys === 'function'
        ? keys
        : entry.keyId === undefined
          ? keys.unkeyed
          : keys.keyed.get(entry.keyId);
    if (entry.keyId !== undefined) keyedSeen = true;
    else if (keyedSeen && typeof keys !== 'function')
      problems.push({
        seq: entry.seq,
        problem: 'downgraded',
        message: `entry ${entry.seq} is sealed without a key after keyed entries: it was rewritten by someone without the key`,
      });
    if (hasher === undefined)
      problems.push({
        seq: entry.seq,
        problem: 'other-key',
        message: `entry ${entry.seq} was sealed with key ${entry.keyId}, which is not configured (hmacKey, or previousKeys after a rotation): it cannot be checked`,
      });
    const selfOk = hasher === undefined || hasher(entryText(entry)) === entry.hash;
    if (!selfOk) {
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `entry ${entry.seq} was changed after it was written: its hash no longer matches its content`,
      });
    }
    if (previous && entry.seq === previous.seq) {
      problems.push({
        seq: entry.seq,
        problem: 'inserted',
        message: `two entries are numbered ${entry.seq}: one was inserted`,
      });
    } else if (previous && entry.seq < previous.seq) {
      problems.push({
        seq: entry.seq,
        problem: 'reordered',
        message: `entry ${entry.seq} comes after entry ${previous.seq}: the entries were reordered`,
      });
    } else if (entry.prevHash !== expectedPrev) {
      const linked = bySeenHash.get(entry.prevHash);
      if (previous && entry.seq > previous.seq + 1 && (linked === undefined || linked.seq < previous.seq))
        problems.push({
          seq: entry.seq,
          problem: 'deleted',
          message: `entries ${previous.seq + 1} to ${entry.seq - 1} are missing: entry ${entry.seq} follows an entry that is gone`,
        });
      else if (previous && entry.seq === previous.seq + 1 && selfOk)
        problems.push({
          seq: entry.seq,
          problem: 'inserted',
          message: `entry ${previous.seq} does not belong to the chain: entry ${entry.seq} was linked to another entry (one was inserted or replaced)`,
        });
      else if (!previous)
        problems.push({
          seq: entry.seq,
          problem: 'deleted',
          message: `the log does not start at its first entry: entries before ${entry.seq} are missing`,
        });
      else if (selfOk)
        problems.push({
          seq: entry.seq,
          problem: 'inserted',
          message: `entry ${entry.seq} is not linked to entry ${previous.seq}: an entry was inserted or replaced before it`,
        });
    } else if (previous && entry.seq !== previous.seq + 1 && selfOk) {
      problems.push({
        seq: entry.seq,
        problem: 'inserted',
        message: `entry ${entry.seq} is linked to entry ${previous.seq} but numbered out of sequence: an entry was inserted`,
      });
    }
    previous = entry;
  }
  return problems;
}
