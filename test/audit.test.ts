/**
 * The audit log on the state store: a tampered, truncated or emptied log is found, and a sweep then
 * refuses; digests are keyed.
 */
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { openProject } from '../src/app/project.js';
import { AT, editConfig, KEY, shop, snapshot, verdicts } from './shop-helpers.js';
import {
  openState,
  runArchiveRead,
  runAuditExport,
  runAuditVerify,
  runHoldAdd,
  runSweep,
} from './use-cases.js';

describe('15-18. the audit log', () => {
  const tampered = async (config: string, statement: string) => {
    const copy = mkdtempSync(join(tmpdir(), 'registre-tamper-'));
    cpSync(readConfig(config).dir, copy, { recursive: true });
    const db = new Database(join(copy, '.registre', 'state.sqlite'));
    db.exec(statement);
    db.close();
    return join(copy, 'registre.yaml');
  };

  it('a truncated tail, an emptied log and deleted holds are found; the sweep then refuses', async () => {
    const { config } = await shop(60, 22);
    const due = (await verdicts(config)).find((v) => v.table === 'web_visits' && v.status === 'due');
    await runHoldAdd(config, { table: 'web_visits', id: String(due?.id), reason: 'case 9' });
    await runSweep(config, { at: AT, today: AT, batchSize: 10 });
    const verified = await runAuditVerify(config);
    expect(verified.problems).toEqual([]);
    expect(verified.warnings).toEqual([]);
    const n = verified.entries;
    for (const statement of [`DELETE FROM audit_log WHERE position > ${n - 5}`, 'DELETE FROM audit_log']) {
      const copy = await tampered(config, statement);
      const problems = (await runAuditVerify(copy)).problems.map((p) => p.message).join('\n');
      expect(problems, statement).toMatch(/truncated|no longer holds|not in the log/);
      await expect(runSweep(copy, { at: AT, today: AT })).rejects.toThrow();
    }
    const copy = await tampered(config, 'DELETE FROM holds');
    expect((await runAuditVerify(copy)).problems.map((p) => p.message).join('\n')).toContain(
      'missing from the holds table',
    );
    const before = await snapshot(copy);
    await expect(runSweep(copy, { at: AT, today: AT })).rejects.toThrow(/holds table does not match/);
    expect(await snapshot(copy)).toEqual(before);
  });

  it('a hold whose record was swapped for another in the holds table is found; the sweep refuses', async () => {
    const { config } = await shop(60, 22);
    const due = (await verdicts(config)).filter((v) => v.table === 'web_visits' && v.status === 'due');
    const [kept, other] = due as [(typeof due)[number], (typeof due)[number]];
    const hold = await runHoldAdd(config, { table: 'web_visits', id: String(kept.id), reason: 'case 10' });
    expect((await runAuditVerify(config)).problems).toEqual([]);
    // The hold now "holds" another record: the one the DPO held would be open to the sweep.
    const copy = await tampered(config, `UPDATE holds SET record_key = '${other.id}' WHERE id = ${hold.id}`);
    expect((await runAuditVerify(copy)).problems.map((p) => p.message)).toContain(
      `hold ${hold.id} holds shop.web_visits ${other.id} in the holds table, another record in the log: the table was edited`,
    );
    const before = await snapshot(copy);
    await expect(runSweep(copy, { at: AT, today: AT })).rejects.toThrow(/holds table does not match/);
    expect(await snapshot(copy)).toEqual(before);
    const moved = await tampered(config, `UPDATE holds SET table_name = 'prospects' WHERE id = ${hold.id}`);
    expect((await runAuditVerify(moved)).problems.map((p) => p.problem)).toContain('edited');
  });

  it('without a key, verify warns; a key added later is not read as tampering; a wrong key says so', async () => {
    const { config } = await shop(20, 23);
    editConfig(config, (t) => t.replace(/^hmacKey: .*$/m, ''));
    await runHoldAdd(config, { table: 'web_visits', id: '1', reason: 'case 1' });
    const bare = await runAuditVerify(config);
    expect(bare.problems).toEqual([]);
    expect(bare.warnings.join('\n')).toContain('anyone with write access');
    editConfig(config, (t) => `${t}hmacKey: env:REGISTRE_TEST_HMAC_KEY\n`);
    await runHoldAdd(config, { table: 'web_visits', id: '2', reason: 'case 2' });
    const keyed = await runAuditVerify(config);
    expect(keyed.problems).toEqual([]);
    expect(keyed.warnings.join('\n')).toContain('sealed without a key');
    process.env.REGISTRE_OTHER_KEY = 'another-key-entirely-0123456789-abcdefghij';
    const other = join(readConfig(config).dir, 'other.yaml');
    writeFileSync(
      other,
      readFileSync(config, 'utf8').replace('env:REGISTRE_TEST_HMAC_KEY', 'env:REGISTRE_OTHER_KEY'),
    );
    const wrong = await runAuditVerify(other);
    expect(wrong.problems.map((p) => p.problem)).not.toContain('edited');
    expect(wrong.problems.map((p) => p.problem)).toContain('other-key');
  });

  it('digests are keyed; holds and archive reads carry the actor and the keyed hash of the reason', async () => {
    const { config } = await shop(20, 25);
    await runHoldAdd(config, { table: 'web_visits', id: '5', reason: 'tax audit 2026', actor: 'os:dpo' });
    await runArchiveRead(config, 'customers', undefined, 'tax audit 2026', 'os:auditor');
    const log = (await runAuditExport(config))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const hold = log.find((e) => e.kind === 'hold.add');
    const read = log.find((e) => e.kind === 'archive.read');
    const digest = (v: string) => createHmac('sha256', KEY).update(`registre digest\u0000${v}`).digest('hex');
    // One entry per hold case; each record by store, table and the keyed hash of its key.
    expect(hold.data.holds).toEqual([{ hold: 1, store: 'shop', table: 'web_visits', keys: digest('5') }]);
    expect(hold.data.holds[0].keys).not.toBe(createHmac('sha256', '').update('5').digest('hex'));
    expect(hold.data.actor).toBe('os:dpo');
    expect(read.data.actor).toBe('os:auditor');
    expect(hold.data.reason).toBe(digest('tax audit 2026'));
    expect(read.data.reason).toBe(hold.data.reason);
    const state = await openState(await openProject(config));
    expect((await state.reasons()).get(hold.data.reason)).toBe('tax audit 2026');
    await state.close();
    expect(JSON.stringify(log)).not.toContain('tax audit');
  });
});

describe('holds, files, return packages, audit (SQLite)', () => {
  it('audit verify finds an edited, a deleted, a reordered and an inserted entry in the state store', async () => {
    const { config } = await shop(20, 2);
    await runSweep(config, { at: AT, today: AT, batchSize: 10 });
    const state = join(readConfig(config).dir, '.registre', 'state.sqlite');
    const tamper = async (statement: string) => {
      const copy = mkdtempSync(join(tmpdir(), 'registre-tamper-'));
      cpSync(readConfig(config).dir, copy, { recursive: true });
      const db = new Database(join(copy, '.registre', 'state.sqlite'));
      db.exec(statement);
      db.close();
      return (await runAuditVerify(join(copy, 'registre.yaml'))).problems;
    };
    expect(existsSync(state)).toBe(true);
    expect(
      await tamper(`UPDATE audit_log SET data = replace(data, '"count":', '"count":1') WHERE seq = 3`),
    ).toMatchObject([{ seq: 3, problem: 'edited' }]);
    // The chain says where; the head's number of entries says it too (issue 18, item 6).
    expect(await tamper('DELETE FROM audit_log WHERE seq = 4')).toMatchObject([
      { seq: 5, problem: 'deleted' },
      { problem: 'deleted', message: expect.stringContaining('entries were deleted from it') },
    ]);
    expect(
      (
        await tamper(
          'UPDATE audit_log SET position = -position WHERE seq IN (5, 6); UPDATE audit_log SET position = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE seq IN (5, 6)',
        )
      ).map((p) => p.problem),
    ).toContain('reordered');
    const inserted = await tamper(
      `UPDATE audit_log SET position = -position - 1 WHERE position >= 3; UPDATE audit_log SET position = -position WHERE position < 0; INSERT INTO audit_log (position, seq, at, kind, data, prev_hash, hash) SELECT 3, 3, at, kind, data, prev_hash, hash FROM audit_log WHERE seq = 2`,
    );
    expect(inserted.map((p) => p.problem)).toContain('inserted');
  });
});
