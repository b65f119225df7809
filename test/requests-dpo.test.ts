/**
 * Issue 18, items 21, 25 to 28: what the DPO and a new user read. Keys and stores readable by
 * others, explain and request show telling the whole story, hold numbers, the next page of plan
 * --list, the key reference key generate suggests.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { readKeyRef } from '../src/adapters/files/config-paths.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { StateStore } from '../src/adapters/state/state-store.js';
import { main } from '../src/cli/main.js';
import { DIALECTS } from './dialects.js';
import { AT, ROOT, shop, withShop } from './shop-helpers.js';

/** The command in this process: its exit code and what it printed. */
async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

const temp = () => mkdtempSync(join(tmpdir(), 'registre-dpo-'));

async function customerEmails(config: string, n: number): Promise<{ id: number; email: string }[]> {
  return withShop(config, async (conn) =>
    (
      await conn.db
        .selectFrom('customers')
        .select(['id', 'email'])
        .where('closed_at', 'is', null)
        .orderBy('id')
        .limit(n)
        .execute()
    ).map((r) => ({ id: Number(r.id), email: String(r.email) })),
  );
}

describe.each(DIALECTS)('18.26 hold numbers on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('18.26 each hold case has its own number (1, 2, 3), not its first row id; an unknown or released one is "no hold N" and names no other hold', async () => {
    const { url, drop } = await database.create();
    drops.push(drop);
    const dir = temp();
    const state = await StateStore.open(url, dir, {
      key: Buffer.from('dpo-key-0123456789abcdefghijklmnopqrstuvw'),
    });
    try {
      const records = (n: number, from: number) =>
        Array.from({ length: n }, (_, i) => ({ store: 'shop', table: 'orders', key: String(from + i) }));
      const log = (added: { case: number; ids: readonly number[] }) => ({
        case: added.case,
        holds: added.ids,
      });
      const first = await state.addHolds(records(10, 1), { reason: 'case A' }, log);
      const second = await state.addHolds(records(1, 100), { reason: 'case B' }, log);
      const third = await state.addHolds(records(3, 200), { reason: 'case C' }, log);
      // Before: 1, 11, 12 (the first row's id). Now each case its own number.
      expect([first.case, second.case, third.case]).toEqual([1, 2, 3]);
      expect(second.ids).toEqual([11]);
      expect((await state.holdCase(2))?.records.map((r) => r.key)).toEqual(['100']);
      expect((await state.auditEntries(['hold.add'])).map((e) => e.data.case)).toEqual([1, 2, 3]);
      // Hold 11 is a row of case 2, not a hold: "no hold 11", never "release hold 2".
      const failure = (e: unknown) => e as Error & { code: string };
      const unknown = await state.releaseHold(11).then(() => null, failure);
      expect(unknown).toMatchObject({ code: 'E_NO_HOLD' });
      expect(unknown?.message).toBe('no hold 11: registre hold list --all shows every hold');
      await state.releaseHold(3);
      const again = await state.releaseHold(3).then(() => null, failure);
      expect(again).toMatchObject({ code: 'E_NO_HOLD' });
      expect(again?.message).toMatch(/^no hold 3 in force: it was released on \d{4}-\d{2}-\d{2}$/);
      // Cases 1 and 2 are untouched.
      expect((await state.holds()).map((h) => h.caseId)).toEqual([...Array(10).fill(1), 2]);
      // The next case after a released one is 4, not a reused 3.
      expect((await state.addHolds(records(1, 300), { reason: 'case D' })).case).toBe(4);
    } finally {
      await state.close();
    }
  });

  it('18.26 0007_hold_case_numbers: a store of before keeps the numbers it showed, and numbers the rows of before hold cases by their id', async () => {
    const { url, drop } = await database.create();
    drops.push(drop);
    const dir = temp();
    const state = await StateStore.open(url, dir);
    await state.addHolds([{ store: 'shop', table: 'orders', key: '1' }], { reason: 'old row' });
    await state.addHolds(
      [
        { store: 'shop', table: 'orders', key: '2' },
        { store: 'shop', table: 'orders', key: '3' },
      ],
      { reason: 'old case' },
    );
    // As a store of before left them: a row without a case, a case named by its first row's id.
    await sql`UPDATE holds SET case_id = NULL WHERE id = 1`.execute(state.conn.db);
    await sql`UPDATE holds SET case_id = 2 WHERE id IN (2, 3)`.execute(state.conn.db);
    await sql`DELETE FROM registre_migrations WHERE name = '0007_hold_case_numbers'`.execute(state.conn.db);
    await state.close();
    const again = await StateStore.open(url, dir);
    try {
      expect((await again.holds()).map((h) => [h.id, h.caseId])).toEqual([
        [1, 1],
        [2, 2],
        [3, 2],
      ]);
      expect(
        (await again.addHolds([{ store: 'shop', table: 'orders', key: '4' }], { reason: 'new' })).case,
      ).toBe(3);
    } finally {
      await again.close();
    }
  });
});

describe('18.26 hold release by the command', () => {
  it('18.26 hold release of a row id, an unknown number or a released hold says "no hold N", exit 1, and releases nothing', async () => {
    const { config } = await shop(30, 3);
    const [a, b] = await customerEmails(config, 2);
    const add = await cli([
      '--config',
      config,
      'hold',
      'add',
      '--email',
      a?.email as string,
      '--reason',
      'case 1',
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^hold 1: \d+ records held/);
    const rows = Number(/^hold 1: (\d+) records/.exec(add.stdout)?.[1]);
    expect(rows).toBeGreaterThan(2);
    const next = await cli([
      '--config',
      config,
      'hold',
      'add',
      '--email',
      b?.email as string,
      '--reason',
      'case 2',
    ]);
    expect(next.stdout).toMatch(/^hold 2: /);
    const row = await cli(['--config', config, 'hold', 'release', '3']);
    expect(row.code).toBe(1);
    expect(row.stderr).toBe('registre: no hold 3: registre hold list --all shows every hold\n');
    expect((await cli(['--config', config, 'hold', 'release', '2'])).code).toBe(0);
    const released = await cli(['--config', config, 'hold', 'release', '2']);
    expect(released.code).toBe(1);
    expect(released.stderr).toMatch(/^registre: no hold 2 in force: it was released on /);
    const list = JSON.parse((await cli(['--config', config, 'hold', 'list', '--json'])).stdout);
    expect(list.map((h: { id: number }) => h.id)).toEqual([1]);
    expect(list[0].records).toHaveLength(rows);
    expect((await cli(['--config', config, 'audit', 'verify'])).code).toBe(0);
  });
});

describe('18.27 plan --list, a page at a time', () => {
  it('18.27 the next-page command keeps --config, --at, --status and --limit, and gives the next page; the header reads right for each status', async () => {
    const { config } = await shop(30, 3);
    const first = await cli(['--config', config, 'plan', '--at', AT, '--list', 'web-visits', '--limit', '2']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^web_visits records of rule web-visits that are due for deletion on 2026-11-27/,
    );
    const keys = first.stdout
      .split('\n')
      .slice(2, 4)
      .map((l) => l.split('\t')[0]);
    const more = /^more: registre (.*)$/m.exec(first.stdout)?.[1] as string;
    expect(more).toBe(`plan --config ${config} --list web-visits --at ${AT} --limit 2 --after ${keys[1]}`);
    // The command printed is the next page: two more records, after the last one shown.
    const second = await cli(more.split(' '));
    expect(second.code, second.stderr).toBe(0);
    const next = second.stdout
      .split('\n')
      .slice(2, 4)
      .map((l) => l.split('\t')[0]);
    expect(next).toHaveLength(2);
    expect(Number(next[0])).toBeGreaterThan(Number(keys[1]));
    const statuses = await cli([
      '--config',
      config,
      'plan',
      '--at',
      AT,
      '--list',
      'web-visits',
      '--status',
      'due,archive,held',
      '--limit',
      '1',
    ]);
    expect(statuses.stdout).toMatch(
      /^web_visits records of rule web-visits that are due for deletion or in their archive phase or held on 2026-11-27/,
    );
    expect(statuses.stdout).not.toContain('that are archive');
    expect(statuses.stdout).toMatch(
      new RegExp(
        `^more: registre plan --config ${config} --list web-visits --at ${AT} --status due,archive,held --limit 1 --after \\S+$`,
        'm',
      ),
    );
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
