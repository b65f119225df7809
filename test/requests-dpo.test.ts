/**
 * Issue 18, item 25: what the DPO reads. Explain and request show telling the whole story (hold
 * numbers: holds.test.ts; the next page of plan --list: retention-plan.test.ts; keys and stores
 * readable by others, the key reference key generate suggests: keys.test.ts).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastCode } from './outbox.js';
import { AT, cli, hmac, shop, withShop } from './shop-helpers.js';
import { openRequest, runExplain, runSweep, verifyRequest } from './use-cases.js';

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
