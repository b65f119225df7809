/**
 * Issue 18, items 21, 25 to 28: what the DPO and a new user read. Keys and stores readable by
 * others, explain and request show telling the whole story, hold numbers, the next page of plan
 * --list, the key reference key generate suggests.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { readKeyRef } from '../src/adapters/files/config-paths.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { StateStore } from '../src/adapters/state/state-store.js';
import { main } from '../src/cli/main.js';
import { DIALECTS } from './dialects.js';
import { AT, hmac, ROOT, shop, withShop } from './shop-helpers.js';
import { openRequest, runExplain, runSweep, verifyRequest } from './use-cases.js';

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
      expect(unknown).toMatchObject({ code: 'E_HOLD_NOT_FOUND' });
      expect(unknown?.message).toBe('no hold 11: registre hold list --all shows every hold');
      await state.releaseHold(3);
      const again = await state.releaseHold(3).then(() => null, failure);
      expect(again).toMatchObject({ code: 'E_HOLD_RELEASED' });
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

/** The code in the newest message of the outbox. */
function lastCode(dir: string): string {
  const outbox = join(dir, '.registre', 'outbox');
  const newest = readdirSync(outbox).sort().pop() as string;
  const match = /verification code is (\d{6})/.exec(readFileSync(join(outbox, newest), 'utf8'));
  if (!match) throw new Error('no code in the outbox');
  return match[1] as string;
}

describe('18.25 explain and requests tell the DPO the whole story', () => {
  let config = '';
  let out = '';
  const verified = async (type: string, email: string, extra: Record<string, unknown> = {}) => {
    const opened = await openRequest(config, { type, email, today: AT, ...extra });
    await verifyRequest(config, opened.id, { code: lastCode(out) }, { today: AT });
    return opened.id;
  };
  const keys = (table: string) =>
    withShop(config, async (conn) =>
      (await conn.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => String(r.id)),
    );
  let visitsBefore: string[] = [];

  beforeAll(async () => {
    ({ config, out } = await shop(40, 7));
    visitsBefore = await keys('web_visits');
    const sweep = await runSweep(config, { at: AT, today: AT });
    expect(sweep.total).toBeGreaterThan(0);
  });

  it('18.25 explain --table of an archived customer shows it from the archive store, not "no record"', async () => {
    const archive = new Database(join(out, '.registre', 'archive.sqlite'), { readonly: true });
    const row = archive.prepare('SELECT record_key, rule, deadline FROM shop__customers LIMIT 1').get() as {
      record_key: string;
      rule: string;
      deadline: string;
    };
    archive.close();
    expect(row).toBeDefined();
    expect(await keys('customers')).not.toContain(row.record_key);
    const explained = await cli([
      '--config',
      config,
      'explain',
      '--table',
      'customers',
      '--id',
      row.record_key,
      '--at',
      AT,
    ]);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(
      new RegExp(`^customers ${row.record_key}: (archive|held|due), deadline ${row.deadline}`),
    );
    expect(explained.stdout).toContain(`in the intermediate archive since`);
    expect(explained.stdout).toContain(`(rule ${row.rule}); deleted from it on ${row.deadline}`);
    const json = JSON.parse(
      (
        await cli([
          '--config',
          config,
          'explain',
          '--table',
          'customers',
          '--id',
          row.record_key,
          '--at',
          AT,
          '--json',
        ])
      ).stdout,
    );
    expect(json).toMatchObject({ store: 'archive', table: 'customers', id: row.record_key, rule: row.rule });
  });

  it('18.25 a record a sweep deleted is said gone, by that sweep; one of a batch, with the runs that may have deleted it', async () => {
    // A visit due alone: the next sweep's batch holds its key only, which the log proves.
    await withShop(config, (conn) =>
      conn.db
        .insertInto('web_visits')
        .values({ id: 900001, visitor_id: 'v-test', page_url: '/', occurred_at: '2020-01-01 10:00:00' })
        .execute(),
    );
    const second = await runSweep(config, { at: AT, today: AT });
    expect(second.total).toBe(1);
    const alone = await cli([
      '--config',
      config,
      'explain',
      '--table',
      'web_visits',
      '--id',
      '900001',
      '--at',
      AT,
    ]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toBe(
      `shop.web_visits 900001 was deleted by the sweep, in run 2 on ${second.at} (rule web-visits, 1 record(s)) (it was due); registre audit export lists each batch\n`,
    );
    // One of a batch of many: the log cannot tell it from the others; the runs are named.
    const after = new Set(await keys('web_visits'));
    const deleted = visitsBefore.find((k) => !after.has(k)) as string;
    expect(deleted).toBeDefined();
    const many = await cli([
      '--config',
      config,
      'explain',
      '--table',
      'web_visits',
      '--id',
      deleted,
      '--at',
      AT,
    ]);
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(
      new RegExp(
        `has no record with id = ${deleted}, and no erasure removed one; the sweep deleted due records of web_visits in run 1 on \\d{4}-\\d{2}-\\d{2} \\(rule web-visits, \\d+ record\\(s\\)\\).*: if it existed, it was one of them`,
      ),
    );
    // A key never used is no record either: the DPO is told what could have removed it, no more.
    const never = await cli([
      '--config',
      config,
      'explain',
      '--table',
      'web_visits',
      '--id',
      '999999',
      '--at',
      AT,
    ]);
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('has no record with id = 999999, and no erasure removed one; the sweep');
    expect(never.stderr).not.toContain('was deleted');
  });

  it('18.25 an erasure: --dry-run says what it would do; show and list say who asked while open, the keyed hash after; explain --email still shows the kept invoices and why, and what is gone', async () => {
    const { id: customer, email } = await withShop(config, async (conn) => {
      const r = await conn.db
        .selectFrom('customers as c')
        .innerJoin('invoices as i', 'i.customer_id', 'c.id')
        .select(['c.id', 'c.email'])
        .where('i.issued_at', '>', '2024-01-01')
        .orderBy('c.id')
        .executeTakeFirstOrThrow();
      return { id: String(r.id), email: String(r.email) };
    });
    const invoices = await withShop(config, async (conn) =>
      (
        await conn.db
          .selectFrom('invoices')
          .select('id')
          .where('customer_id', '=', Number(customer))
          .execute()
      ).map((r) => String(r.id)),
    );
    const id = await verified('erasure', email);
    const show = await cli(['--config', config, 'request', 'show', String(id)]);
    expect(show.stdout).toContain(`request ${id}: erasure, verified, asked by ${email}, received ${AT}`);
    const list = JSON.parse((await cli(['--config', config, 'request', 'list', '--json'])).stdout);
    expect(list.find((r: { id: number }) => r.id === id)).toMatchObject({ askedBy: email });
    // A dry run speaks in the conditional: nothing was done.
    const dry = await cli(['--config', config, 'request', 'run', String(id), '--at', AT, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`dry run on ${AT}`);
    expect(dry.stdout).toContain('nothing was changed');
    expect(dry.stdout).toContain(`  would delete customers ${customer}\n`);
    expect(dry.stdout).toMatch(new RegExp(`^ {2}would keep invoices ${invoices[0]}: 17\\(3\\)\\(b\\)`, 'm'));
    expect(dry.stdout).not.toMatch(/^ {2}(deleted|anonymised|kept|forwarded) /m);
    expect(await keys('customers')).toContain(customer);
    const done = await cli(['--config', config, 'request', 'run', String(id), '--at', AT]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`  deleted customers ${customer}\n`);
    // Closed: the address is no longer shown, only the person's keyed hash.
    const closed = await cli(['--config', config, 'request', 'show', String(id)]);
    expect(closed.stdout).not.toContain(email);
    expect(closed.stdout).toContain(`asked by person ${hmac(email).slice(0, 16)} (keyed hash)`);
    const listed = (await cli(['--config', config, 'request', 'list', '--json'])).stdout;
    expect(listed).not.toContain(email);
    // explain --email: the invoices kept, with why; the customer gone, with what erased it.
    const explained = await cli(['--config', config, 'explain', '--email', email, '--at', AT]);
    expect(explained.code, explained.stderr).toBe(0);
    for (const invoice of invoices)
      expect(explained.stdout).toMatch(
        new RegExp(
          `^invoices ${invoice}: [^\\n]*\\n(?: {2}[^\\n]*\\n)*? {2}kept by the erasure of request ${id} on ${AT}: a legal obligation \\(art\\. 17\\(3\\)\\(b\\)\\)$`,
          'm',
        ),
      );
    expect(explained.stdout).toContain(
      `shop.customers ${customer} was deleted on ${AT} by the erasure of request ${id} (art. 17)`,
    );
    const json = JSON.parse(
      (await cli(['--config', config, 'explain', '--email', email, '--at', AT, '--json'])).stdout,
    );
    expect(json.records.map((r: { table: string; id: string }) => `${r.table}:${r.id}`)).toEqual(
      expect.arrayContaining(invoices.map((i) => `invoices:${i}`)),
    );
    expect(json.records.find((r: { table: string }) => r.table === 'invoices').keptBy).toEqual({
      request: id,
      on: AT,
      basis: '17(3)(b)',
    });
    expect(json.gone).toContainEqual({
      store: 'shop',
      table: 'customers',
      id: customer,
      action: 'delete',
      archived: false,
      by: { kind: 'erasure', request: id, on: AT },
    });
    // Asked about by its key: gone, and why.
    const byKey = await cli([
      '--config',
      config,
      'explain',
      '--table',
      'customers',
      '--id',
      customer,
      '--at',
      AT,
    ]);
    expect(byKey.code).toBe(0);
    expect(byKey.stdout).toBe(
      `shop.customers ${customer} was deleted on ${AT} by the erasure of request ${id} (art. 17); registre request show ${id} tells more\n`,
    );
    await expect(runExplain(config, { table: 'customers', id: customer, at: AT })).rejects.toMatchObject({
      code: 'E_GONE',
    });
  });

  it('18.25 an objection to direct marketing with nothing to delete still records the opt-out (suppression list, audit log) and says so', async () => {
    const email = 'never.seen@example.org';
    const id = await verified('objection', email, { purpose: 'newsletter-sending' });
    const dry = await cli(['--config', config, 'request', 'run', String(id), '--at', AT, '--dry-run']);
    expect(dry.stdout).toContain('would put the address on the suppression list');
    const run = await cli(['--config', config, 'request', 'run', String(id), '--at', AT]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('we hold no data about you');
    expect(run.stdout).toContain(
      '  recorded: the objection to newsletter-sending, by the suppression list and in the audit log\n',
    );
    expect(run.stdout).not.toContain(email);
    await withShop(config, async (conn) => {
      const listed = await conn.db
        .selectFrom('suppression_list')
        .select('reason')
        .where('email_hmac', '=', hmac(email))
        .execute();
      expect(listed).toEqual([{ reason: 'objection' }]);
    });
    const log = (await cli(['--config', config, 'audit', 'export'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const entry = log.find((e) => e.kind === 'request.run' && e.data.request === id);
    expect(entry.data.objection).toEqual({ purpose: 'newsletter-sending', suppressionList: true });
    expect(JSON.stringify(log)).not.toContain(email);
  });
});
