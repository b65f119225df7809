/**
 * The HMAC key: rotation, weak or missing keys refused, the reference key generate suggests, and the
 * key and the files the engine writes readable by their owner only.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { readKeyRef } from '../src/adapters/files/config-paths.js';
import { AT, cli, customerEmails, editConfig, KEY, ROOT, shop } from './shop-helpers.js';
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

const temp = () => mkdtempSync(join(tmpdir(), 'registre-dpo-'));

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

describe('18.28 key generate suggests the reference the configuration reads', () => {
  const bin = join(ROOT, 'bin', 'registre.js');
  const run = (args: string[], cwd: string) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('18.28 --out shop/.registre/k.key beside shop/registre.yaml suggests file:.registre/k.key, names the configuration, and that reference reads the key', async () => {
    const work = temp();
    const { config } = await shop(20, 2);
    const dir = join(work, 'shop');
    mkdirSync(dir);
    writeFileSync(join(dir, 'registre.yaml'), readFileSync(config, 'utf8'));
    // Found from the key's folder up (no --config given, no ./registre.yaml).
    const found = run(['key', 'generate', '--out', 'shop/.registre/k.key'], work);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stderr).toBe(
      'use it with "hmacKey: file:.registre/k.key" in shop/registre.yaml (its paths are relative to its folder)\n',
    );
    expect(statSync(join(dir, '.registre', 'k.key')).mode & 0o777).toBe(0o600);
    // Named by --config: relative to its folder, wherever the key is written.
    const named = run(['--config', 'shop/registre.yaml', 'key', 'generate', '--out', 'keys/k2.key'], work);
    expect(named.stderr).toContain('"hmacKey: file:../keys/k2.key" in shop/registre.yaml');
    // No configuration anywhere: relative to the current folder, and said so.
    const none = run(['key', 'generate', '--out', 'k3.key'], temp());
    expect(none.stderr).toContain(
      '"hmacKey: file:k3.key" in a registre.yaml in this folder (no configuration found',
    );
    // The suggested reference is what the configuration reads: the key is the one written.
    const reference = /hmacKey: (file:\S+)"/.exec(found.stderr)?.[1] as string;
    const loaded = readConfig(join(dir, 'registre.yaml'));
    expect(readKeyRef(loaded, reference, 'hmacKey').toString()).toBe(
      readFileSync(join(dir, '.registre', 'k.key'), 'utf8').trimEnd(),
    );
  });
});

describe('18.21 the key and the stores readable by others', () => {
  it('18.21 a key file readable by others is refused (E_KEY_PERMISSIONS, the file and chmod 600), nothing is changed; at 0600 it is used', async () => {
    const { config, out } = await shop(20, 4);
    const keyFile = join(out, '.registre', 'hmac.key');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: file:.registre/hmac.key'),
    );
    const [person] = await customerEmails(config, 1);
    const email = person?.email as string;
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(keyFile, mode);
      const add = await cli(['--config', config, 'hold', 'add', '--email', email, '--reason', 'case 7']);
      expect(add.code).toBe(1);
      expect(add.stderr).toBe(
        `registre: hmacKey: the HMAC key file ${keyFile} can be read or written by others than its owner (mode 0${mode.toString(8)}); it is not used: run chmod 600 ${keyFile}\n`,
      );
      const opened = await cli(['--config', config, 'request', 'open', '--type', 'access', '--email', email]);
      expect(opened.code).toBe(1);
      expect(opened.stderr).toContain(`run chmod 600 ${keyFile}`);
      expect(opened.stderr).not.toContain(email);
      // A command that only reads refuses it too: the key is no longer the owner's secret.
      expect((await cli(['--config', config, 'hold', 'list'])).stderr).toContain('run chmod 600');
    }
    chmodSync(keyFile, 0o600);
    // Nothing was recorded while it was refused.
    expect(JSON.parse((await cli(['--config', config, 'hold', 'list', '--json'])).stdout)).toEqual([]);
    expect(JSON.parse((await cli(['--config', config, 'request', 'list', '--json'])).stdout)).toEqual([]);
    const add = await cli(['--config', config, 'hold', 'add', '--email', email, '--reason', 'case 7']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toBe('');
  });

  it('18.21 a state or archive store readable by others is used with a warning on standard error: the file, its mode and chmod, no personal data', async () => {
    const { config, out } = await shop(20, 4);
    const [person] = await customerEmails(config, 1);
    const email = person?.email as string;
    const opened = await cli(['--config', config, 'request', 'open', '--type', 'access', '--email', email]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stderr).toBe('');
    const state = join(out, '.registre', 'state.sqlite');
    const archive = join(out, '.registre', 'archive.sqlite');
    // Created readable by their owner only.
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    chmodSync(state, 0o644);
    chmodSync(archive, 0o640);
    const list = await cli(['--config', config, 'request', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    expect(list.stderr).toContain(
      `warning: the state store ${state} can be read or written by others than its owner (mode 0644); it holds people's requests and the audit log: run chmod 600 ${state}\n`,
    );
    expect(list.stderr).toContain(
      `warning: the archive store ${archive} can be read or written by others than its owner (mode 0640); it holds the archived records of people: run chmod 600 ${archive}\n`,
    );
    expect(list.stderr).not.toContain(email);
    expect(list.stderr).not.toContain('@');
    // The same for the commands that read and write them; none for those that do not.
    expect((await cli(['--config', config, 'status'])).stderr).toContain(`warning: the state store ${state}`);
    expect((await cli(['--config', config, 'validate'])).stderr).not.toContain('warning: the state store');
    chmodSync(state, 0o600);
    chmodSync(archive, 0o600);
    expect((await cli(['--config', config, 'status'])).stderr).toBe('');
  });
});
