/**
 * The suppression list as a service: add and check, a mailing list filtered byte for byte, its
 * failure cases, a rotated key that still finds every address (and re-keys an entry on sight, in
 * `suppression add` and in the sweep), an audit log that verifies and names no address; the
 * check's exit codes through the real command.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './dialects.js';
import { AT, hmac, registre, shop, shopIn, withShop } from './shop-helpers.js';
import {
  openRequest,
  runAuditExport,
  runAuditVerify,
  runFilterMailing,
  runKeyGenerate,
  runKeyRotate,
  runRequest,
  runSuppressionAdd,
  runSuppressionCheck,
  runSweep,
  verifyRequest,
} from './use-cases.js';

/** The list's rows of some hashes, as the store holds them. */
const entriesOf = (config: string, hashes: readonly string[]) =>
  withShop(config, async (conn) =>
    (
      (await conn.db
        .selectFrom('suppression_list')
        .select(['email_hmac', 'reason'])
        .where('email_hmac', 'in', hashes)
        .execute()) as { email_hmac: string; reason: string }[]
    ).sort((a, b) => a.email_hmac.localeCompare(b.email_hmac)),
  );

const listSize = (config: string) =>
  withShop(config, async (conn) =>
    Number(
      ((
        await conn.db
          .selectFrom('suppression_list')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst()
      )?.n as number) ?? 0,
    ),
  );

/** Every address a test used: none may be in the audit log. */
function expectNoAddress(log: string, addresses: readonly string[]) {
  for (const a of addresses) {
    expect(log.toLowerCase(), a).not.toContain(a.trim().toLowerCase());
    expect(log.toLowerCase(), a).not.toContain(a.trim().toLowerCase().split('@')[0]);
  }
}

describe.each(DIALECTS)('the suppression list on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('add then check: a mixed-case, padded address finds the same entry; an unknown one is not listed', async () => {
    const { config } = await shopIn(database, 20, 41, drops);
    const before = await listSize(config);
    const first = await runSuppressionAdd(config, {
      email: 'alice.martin@example.org',
      reason: 'unsubscribe',
      today: AT,
    });
    expect(first).toEqual({
      store: 'shop',
      added: true,
      rekeyed: false,
      addedAt: AT,
      reason: 'unsubscribe',
    });
    // The same person, written otherwise: found, and listed once (renewed, its reason kept).
    const checked = await runSuppressionCheck(config, { email: '  Alice.MARTIN@Example.org \t' });
    expect(checked).toEqual({
      store: 'shop',
      listed: true,
      addedAt: AT,
      reason: 'unsubscribe',
      underPreviousKey: false,
    });
    const again = await runSuppressionAdd(config, {
      email: 'ALICE.martin@example.org ',
      today: '2026-12-01',
    });
    expect(again).toMatchObject({
      added: false,
      rekeyed: false,
      addedAt: '2026-12-01',
      reason: 'unsubscribe',
    });
    expect(await entriesOf(config, [hmac('alice.martin@example.org')])).toEqual([
      { email_hmac: hmac('alice.martin@example.org'), reason: 'unsubscribe' },
    ]);
    expect(await listSize(config)).toBe(before + 1);
    // The default reason is an objection.
    expect(await runSuppressionAdd(config, { email: 'bob@example.org', today: AT })).toMatchObject({
      added: true,
      reason: 'objection',
    });
    expect(await runSuppressionCheck(config, { email: 'nobody.here@example.org' })).toEqual({
      store: 'shop',
      listed: false,
    });
    // Refused inputs name their field, never the value given.
    await expect(runSuppressionCheck(config, { email: 'Jean <jean@example.org>' })).rejects.toMatchObject({
      code: 'E_USAGE',
      path: ['email'],
      message: expect.not.stringContaining('jean@'),
    });
    await expect(
      runSuppressionAdd(config, { email: 'carol@example.org', reason: 'bored' as never }),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['reason'] });
    await expect(
      runSuppressionCheck(config, { email: 'carol@example.org', store: 'nowhere' }),
    ).rejects.toMatchObject({ code: 'E_USAGE', path: ['store'] });
    const log = await runAuditExport(config);
    expect(log.match(/"kind":"suppression\.add"/g)).toHaveLength(3);
    expect(log).toContain(hmac('alice.martin@example.org'));
    expectNoAddress(log, ['alice.martin@example.org', 'bob@example.org', 'nobody.here@example.org']);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  }, 120_000);

  it('filter keeps each row byte for byte, leaves out the suppressed ones whatever their case, counts the unreadable ones', async () => {
    const { config, out } = await shopIn(database, 20, 42, drops);
    for (const email of ['suppressed.one@example.org', 'suppressed.two@example.org'])
      await runSuppressionAdd(config, { email, today: AT });
    const kept = [
      'keep.one@example.org,"line one\nline two",y\r\n',
      'keep.two@example.org,"a ""quoted"" word, with a comma",z,an extra column\r\n',
      '"Keep.Three@Example.org" ,"é à ü",w\r\n',
      'keep.four@example.org,last,row',
    ];
    const text = [
      'email,name,note\r\n',
      '"Suppressed.One@Example.org","Dupont, Jean",x\r\n',
      kept[0],
      '  SUPPRESSED.two@example.org  ,b,c,extra\r\n',
      kept[1],
      '\r\n',
      ',no address,\r\n',
      'Jean <jean@example.org>,x,y\r\n',
      'short\r\n',
      '"bad"x@example.org,1,2\r\n',
      kept[2],
      kept[3],
    ].join('');
    writeFileSync(join(out, 'mailing.csv'), text);
    const result = await runFilterMailing(config, { file: 'mailing.csv', out: 'clean.csv', cwd: out });
    expect(result).toEqual({
      store: 'shop',
      out: join(out, 'clean.csv'),
      rows: 10,
      kept: 4,
      removed: 2,
      invalid: 4,
    });
    expect(
      readFileSync(join(out, 'clean.csv')).equals(Buffer.from(`email,name,note\r\n${kept.join('')}`)),
    ).toBe(true);
    // A ";" list (French Excel) with a byte order mark, its address column named, a short row.
    const excel = '\uFEFFnom;Courriel\nDupont;suppressed.one@example.org\nMartin;keep@example.org\nSeul\n';
    writeFileSync(join(out, 'excel.csv'), excel);
    expect(
      await runFilterMailing(config, {
        file: 'excel.csv',
        out: 'excel-clean.csv',
        column: 'courriel',
        cwd: out,
      }),
    ).toMatchObject({ rows: 3, kept: 1, removed: 1, invalid: 1 });
    expect(readFileSync(join(out, 'excel-clean.csv'), 'utf8')).toBe(
      '\uFEFFnom;Courriel\nMartin;keep@example.org\n',
    );
    const log = await runAuditExport(config);
    const filters = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; data: Record<string, unknown> })
      .filter((e) => e.kind === 'suppression.filter');
    expect(filters.map((e) => e.data)).toEqual([
      expect.objectContaining({ store: 'shop', rows: 10, kept: 4, removed: 2, invalid: 4 }),
      expect.objectContaining({ rows: 3, kept: 1, removed: 1, invalid: 1 }),
    ]);
    expectNoAddress(log, ['suppressed.one@example.org', 'keep.one@example.org', 'jean@example.org']);
    expect(log).not.toContain('mailing.csv');
    expect((await runAuditVerify(config)).problems).toEqual([]);
  }, 120_000);

  it('a missing column is refused naming the columns there, an existing output is refused; nothing is written', async () => {
    const { config, out } = await shopIn(database, 20, 43, drops);
    writeFileSync(join(out, 'mailing.csv'), 'Name,E-mail\nJean,jean@example.org\n');
    const written = () => readdirSync(out).filter((f) => f.includes('clean') || f.endsWith('.part'));
    await expect(
      runFilterMailing(config, { file: 'mailing.csv', out: 'clean.csv', cwd: out }),
    ).rejects.toMatchObject({
      code: 'E_CSV_COLUMN',
      message: expect.stringMatching(/no column "email" \(its columns: "Name", "E-mail"\)/),
    });
    expect(written()).toEqual([]);
    writeFileSync(join(out, 'clean.csv'), 'already here\n');
    await expect(
      runFilterMailing(config, { file: 'mailing.csv', out: 'clean.csv', column: 'e-mail', cwd: out }),
    ).rejects.toMatchObject({ code: 'E_OUT_EXISTS' });
    expect(readFileSync(join(out, 'clean.csv'), 'utf8')).toBe('already here\n');
    await expect(
      runFilterMailing(config, { file: 'missing.csv', out: 'other.csv', cwd: out }),
    ).rejects.toMatchObject({ code: 'E_CSV_UNREADABLE' });
    // A quote left open runs to the end of the file: that row is unreadable, the others kept.
    writeFileSync(join(out, 'open.csv'), 'email\nok@example.org\n"open@example.org\nnext@example.org\n');
    expect(
      await runFilterMailing(config, { file: 'open.csv', out: 'open-clean.csv', cwd: out }),
    ).toMatchObject({ rows: 2, kept: 1, invalid: 1 });
    expect(readFileSync(join(out, 'open-clean.csv'), 'utf8')).toBe('email\nok@example.org\n');
    expect(written()).toEqual(['clean.csv', 'open-clean.csv']);
  }, 120_000);

  it('a rotated key still finds every suppressed address; adding one again re-keys its entry, once; so do the sweep and an erasure', async () => {
    const { config, out } = await shopIn(database, 20, 44, drops);
    const listed = [
      { email: 'first@example.org', reason: 'unsubscribe' },
      { email: 'second@example.org', reason: 'objection' },
      { email: 'third@example.org', reason: 'erasure' },
      { email: 'fourth@example.org', reason: 'objection' },
    ] as const;
    for (const { email, reason } of listed) await runSuppressionAdd(config, { email, reason, today: AT });
    // An unsubscribed newsletter subscriber the sweep deletes, listed before the rotation too.
    await withShop(config, (conn) =>
      conn.db
        .insertInto('newsletter_subscribers')
        .values({
          id: 900_001,
          email: 'Leaving@Example.org',
          subscribed_at: '2025-01-04 10:00:00',
          unsubscribed_at: '2026-11-20 09:12:00',
        })
        .execute(),
    );
    await runSuppressionAdd(config, {
      email: 'leaving@example.org',
      reason: 'unsubscribe',
      today: '2026-11-21',
    });
    // A subscriber who objected, then asks for erasure after the rotation.
    await withShop(config, (conn) =>
      conn.db
        .insertInto('newsletter_subscribers')
        .values({ id: 900_002, email: 'erase.me@example.org', subscribed_at: '2026-01-04 10:00:00' })
        .execute(),
    );
    await runSuppressionAdd(config, { email: 'erase.me@example.org', reason: 'objection', today: AT });
    const size = await listSize(config);
    const { path } = runKeyGenerate(join(out, '.registre', 'next.key'));
    const rotated = await runKeyRotate(config, `file:${path}`);
    expect(rotated.suppressionLists).toEqual([{ store: 'shop', entries: size, newest: AT }]);
    const newKey = readFileSync(path, 'utf8').trimEnd();
    const hmacNew = (email: string) =>
      createHmac('sha256', newKey).update(email.trim().toLowerCase()).digest('hex');

    for (const { email, reason } of listed)
      expect(await runSuppressionCheck(config, { email: email.toUpperCase() })).toEqual({
        store: 'shop',
        listed: true,
        addedAt: AT,
        reason,
        underPreviousKey: true,
      });
    // The check changed nothing: the entries keep the old key's hashes.
    expect(
      await entriesOf(
        config,
        listed.map((l) => hmac(l.email)),
      ),
    ).toHaveLength(4);
    writeFileSync(
      join(out, 'mailing.csv'),
      `email\n${listed.map((l) => l.email).join('\n')}\nnew.person@example.org\n`,
    );
    expect(await runFilterMailing(config, { file: 'mailing.csv', out: 'clean.csv', cwd: out })).toMatchObject(
      {
        rows: 5,
        kept: 1,
        removed: 4,
      },
    );
    expect(readFileSync(join(out, 'clean.csv'), 'utf8')).toBe('email\nnew.person@example.org\n');

    // Added again: the entry is re-keyed (its reason kept), not listed a second time.
    const again = await runSuppressionAdd(config, { email: ' Second@Example.org', today: '2026-12-02' });
    expect(again).toEqual({
      store: 'shop',
      added: false,
      rekeyed: true,
      addedAt: '2026-12-02',
      reason: 'objection',
    });
    expect(await entriesOf(config, [hmac('second@example.org'), hmacNew('second@example.org')])).toEqual([
      { email_hmac: hmacNew('second@example.org'), reason: 'objection' },
    ]);
    expect(await runSuppressionCheck(config, { email: 'second@example.org' })).toMatchObject({
      listed: true,
      underPreviousKey: false,
    });
    // A new address goes on under the new key.
    expect(
      await runSuppressionAdd(config, { email: 'fifth@example.org', today: '2026-12-02' }),
    ).toMatchObject({
      added: true,
    });
    expect(await entriesOf(config, [hmacNew('fifth@example.org')])).toHaveLength(1);

    // The sweep deletes the subscriber and lists it: its entry of the old key is re-keyed, not doubled.
    await runSweep(config, { at: AT, today: AT });
    await withShop(config, async (conn) =>
      expect(
        await conn.db.selectFrom('newsletter_subscribers').select('id').where('id', '=', 900_001).execute(),
      ).toEqual([]),
    );
    expect(await entriesOf(config, [hmac('leaving@example.org'), hmacNew('leaving@example.org')])).toEqual([
      { email_hmac: hmacNew('leaving@example.org'), reason: 'unsubscribe' },
    ]);

    // So does an erasure: the address listed before the rotation is re-keyed, its reason kept.
    const request = await openRequest(config, { type: 'erasure', email: 'Erase.Me@example.org', today: AT });
    await verifyRequest(config, request.id, { manual: true, reason: 'at the desk' }, { today: AT });
    expect((await runRequest(config, request.id, { at: AT, today: AT, delivery: 'none' })).suppressed).toBe(
      true,
    );
    expect(await entriesOf(config, [hmac('erase.me@example.org'), hmacNew('erase.me@example.org')])).toEqual([
      { email_hmac: hmacNew('erase.me@example.org'), reason: 'objection' },
    ]);

    const log = await runAuditExport(config);
    expectNoAddress(log, [
      ...listed.map((l) => l.email),
      'leaving@example.org',
      'fifth@example.org',
      'erase.me@example.org',
    ]);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  }, 180_000);
});

describe('registre suppression (the command)', () => {
  it('check exits 0 when listed and 1 when not, printing no address; filter and add print their counts', async () => {
    const { config, out } = await shop(10, 45);
    const added = registre([
      'suppression',
      'add',
      '--config',
      config,
      '--email',
      'Listed.Person@example.org',
      '--reason',
      'unsubscribe',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(
      /^added to the suppression list of store shop: unsubscribe, dated \d{4}-\d\d-\d\d\n$/,
    );
    const listed = registre([
      'suppression',
      'check',
      '--config',
      config,
      '--email',
      ' listed.person@EXAMPLE.org',
    ]);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toMatch(/^listed on the suppression list of store shop \(unsubscribe, added /);
    const not = registre(['suppression', 'check', '--config', config, '--email', 'other.person@example.org']);
    expect(not).toMatchObject({
      code: 1,
      stdout: 'not listed on the suppression list of store shop\n',
      stderr: '',
    });
    const json = registre([
      'suppression',
      'check',
      '--config',
      config,
      '--email',
      'other.person@example.org',
      '--json',
    ]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ store: 'shop', listed: false });
    const wrong = registre([
      'suppression',
      'check',
      '--config',
      config,
      '--email',
      'Jean <other.person@example.org>',
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('--email');
    expect(wrong.stderr).not.toContain('other.person');
    expect(registre(['suppression', 'check', '--help']).stdout).toContain(
      'Exit status: 0 when the address is listed, 1 when it is not',
    );

    writeFileSync(join(out, 'mailing.csv'), 'email,name\nlisted.person@example.org,A\nother@example.org,B\n');
    const filtered = registre([
      'suppression',
      'filter',
      '--config',
      config,
      join(out, 'mailing.csv'),
      '--out',
      join(out, 'clean.csv'),
    ]);
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(filtered.stdout).toContain(`1 row of 2 rows written to ${join(out, 'clean.csv')}`);
    expect(filtered.stdout).not.toContain('listed.person');
    expect(readFileSync(join(out, 'clean.csv'), 'utf8')).toBe('email,name\nother@example.org,B\n');
    const again = registre([
      'suppression',
      'filter',
      '--config',
      config,
      join(out, 'mailing.csv'),
      '--out',
      join(out, 'clean.csv'),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  }, 120_000);
});
