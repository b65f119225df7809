import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditEntry, canonicalJson, GENESIS, sealEntry, verifyAuditChain } from './audit-chain.js';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

function chain(n: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 1; i <= n; i++)
    entries.push(
      sealEntry(
        {
          seq: i,
          at: `2026-11-27T10:00:0${i}Z`,
          kind: 'sweep.batch',
          data: { count: i },
          prevHash: entries[i - 2]?.hash ?? GENESIS,
        },
        sha,
      ),
    );
  return entries;
}

describe('the audit chain', () => {
  it('an intact chain verifies', () => {
    expect(verifyAuditChain(chain(5), sha)).toEqual([]);
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 2, y: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":1,"z":2}]},"b":1}',
    );
  });

  it('finds an edited entry', () => {
    const entries = chain(5);
    entries[2] = { ...(entries[2] as AuditEntry), data: { count: 99 } };
    expect(verifyAuditChain(entries, sha)).toMatchObject([{ seq: 3, problem: 'edited' }]);
  });

  it('finds a deleted entry', () => {
    const entries = chain(5);
    entries.splice(2, 1);
    expect(verifyAuditChain(entries, sha)).toMatchObject([{ seq: 4, problem: 'deleted' }]);
  });

  it('finds reordered entries', () => {
    const entries = chain(5);
    [entries[1], entries[2]] = [entries[2] as AuditEntry, entries[1] as AuditEntry];
    expect(verifyAuditChain(entries, sha).map((p) => p.problem)).toContain('reordered');
  });

  it('finds an inserted entry, even one sealed with a valid hash', () => {
    const entries = chain(5);
    const forged = sealEntry(
      {
        seq: 3,
        at: '2026-11-27T10:00:03Z',
        kind: 'sweep.batch',
        data: { count: 0 },
        prevHash: (entries[1] as AuditEntry).hash,
      },
      sha,
    );
    entries.splice(2, 0, forged);
    const problems = verifyAuditChain(entries, sha);
    expect(problems.map((p) => p.problem)).toContain('inserted');
    expect(problems[0]?.seq).toBe(3);
  });

  it('finds the first entries missing', () => {
    expect(verifyAuditChain(chain(4).slice(1), sha)).toMatchObject([{ seq: 2, problem: 'deleted' }]);
  });
});
