import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AT, editConfig, KEY, shop } from './shop-helpers.js';
import {
  runAuditExport,
  runAuditVerify,
  runExplain,
  runHoldAdd,
  runHoldList,
  runKeyGenerate,
  runKeyRotate,
  runPlan,
  runStatus,
  runSweep,
} from './use-cases.js';

describe('15-18. the audit log', () => {
  it('key rotate links the old chain to the new one; the log verifies with the new key', async () => {
    const { out, config } = await shop(20, 24);
    await runHoldAdd(config, { table: 'web_visits', id: '1', reason: 'case 1' });
    const { path } = runKeyGenerate(join(out, '.registre', 'new.key'));
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    expect(() => runKeyGenerate(path)).toThrow('never overwritten');
    const rotated = await runKeyRotate(config, `file:${path}`);
    expect(rotated.from).not.toBe(rotated.to);
    expect(readFileSync(config, 'utf8')).toContain(`hmacKey: file:${path}`);
    expect(readFileSync(config, 'utf8')).toMatch(/previousKeys:\n\s+- env:REGISTRE_TEST_HMAC_KEY/);
    await runHoldAdd(config, { table: 'web_visits', id: '2', reason: 'case 2' });
    const verified = await runAuditVerify(config);
    expect(verified.problems).toEqual([]);
    const log = (await runAuditExport(config))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const link = log.find((e) => e.kind === 'key.rotate');
    expect(link.data.from).toBe(rotated.from);
    const signature = createHmac('sha256', KEY)
      .update(
        `registre key rotation\u0000${JSON.stringify({ from: link.data.from, to: link.data.to, head: link.data.head, actor: link.data.actor })}`,
      )
      .digest('hex');
    expect(link.data.signature).toBe(signature);
    expect(log[log.length - 1].keyId).toBe(rotated.to);
  });

  it('key rotate refuses the key in force, an unreadable key and a broken log, and changes nothing then', async () => {
    const { out, config } = await shop(20, 24);
    await runHoldAdd(config, { table: 'web_visits', id: '1', reason: 'case 1' });
    const before = readFileSync(config, 'utf8');
    await expect(runKeyRotate(config, 'env:REGISTRE_TEST_HMAC_KEY')).rejects.toThrow('already in force');
    await expect(runKeyRotate(config, `file:${join(out, 'missing.key')}`)).rejects.toThrow(
      'cannot read the key file',
    );
    const { path } = runKeyGenerate(join(out, '.registre', 'next.key'));
    const db = new Database(join(out, '.registre', 'state.sqlite'));
    db.exec(`UPDATE audit_log SET data = replace(data, '"hold":1', '"hold":7')`);
    db.close();
    await expect(runKeyRotate(config, `file:${path}`)).rejects.toThrow('it is not rotated');
    expect(readFileSync(config, 'utf8')).toBe(before);
  });
});

describe('19-21. secrets and personal data stay out of messages', () => {
  it('a key file that is empty, short or a placeholder is refused; read-only commands need no key', async () => {
    const { config } = await shop(20, 26);
    editConfig(config, (t) => t.replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_UNSET_KEY_VARIABLE'));
    delete process.env.REGISTRE_UNSET_KEY_VARIABLE;
    expect((await runPlan(config, AT)).totals.due).toBeGreaterThan(0);
    expect((await runExplain(config, { table: 'web_visits', id: '1', at: AT })).length).toBe(1);
    expect((await runStatus(config)).holds).toBe(0);
    expect(await runHoldList(config, false)).toEqual([]);
    expect((await runSweep(config, { at: AT, today: AT, dryRun: true })).total).toBeGreaterThan(0);
    await expect(runSweep(config, { at: AT, today: AT })).rejects.toThrow(
      'REGISTRE_UNSET_KEY_VARIABLE is not set',
    );
    for (const weak of ['', 'x', 'change-me']) {
      process.env.REGISTRE_UNSET_KEY_VARIABLE = weak;
      if (weak === '') continue;
      await expect(runSweep(config, { at: AT, today: AT })).rejects.toThrow(/at least 32/);
    }
    delete process.env.REGISTRE_UNSET_KEY_VARIABLE;
  });
});

describe('14, 21. the files the engine writes', () => {
  it('the state store, the archive and the key the demo writes are readable by their owner only', async () => {
    const { out, config } = await shop(300, 29);
    await runSweep(config, { at: AT, today: AT });
    for (const f of ['state.sqlite', 'archive.sqlite'])
      expect((statSync(join(out, '.registre', f)).mode & 0o077).toString(8)).toBe('0');
    expect((statSync(join(out, '.registre', 'hmac.key')).mode & 0o777).toString(8)).toBe('600');
  });
});
