/**
 * Issue 20: `registre consent …` through the built command, on a demo shop. Each command; check's
 * exit codes (0 only on a current consent, 3 otherwise, 1 on an error, 2 on a wrong call); the
 * proof page carries each event's notice version and hash, escaped, and no address; an import
 * with bad lines reports each by number and keeps the rest; input errors name the options.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registre, shop, withShop } from './shop-helpers.js';

const TEXT = 'Nous mesurons l’audience avec votre accord.\nWe measure the audience with your consent.\n';
const SHA = createHash('sha256').update(TEXT).digest('hex');
const OTHER = createHash('sha256').update('Recevez notre newsletter.').digest('hex');

let dir = '';
let config = '';
let subscriber = '';
const run = (...args: string[]) => registre(['consent', ...args, '--config', config], dir);

beforeAll(async () => {
  ({ out: dir, config } = await shop(20, 7));
  writeFileSync(join(dir, 'banner-3.txt'), TEXT);
  subscriber = await withShop(config, async (conn) =>
    String(
      (
        await conn.db
          .selectFrom('newsletter_subscribers')
          .select('email')
          .where('unsubscribed_at', 'is', null)
          .orderBy('id')
          .executeTakeFirst()
      )?.email,
    ),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('registre consent', () => {
  it('record: a visitor’s choice with the hash of the notice file; status shows each purpose; check exits 0', () => {
    const recorded = run(
      'record',
      '--visitor',
      'v-cli-1',
      '--purpose',
      'audience-statistics',
      '--choice',
      'given',
      '--notice-version',
      'banner-3',
      '--notice-file',
      'banner-3.txt',
      '--at',
      '2026-11-01T10:00:00Z',
      '--source',
      'banner',
      '--consent-id',
      'cc-cli-1',
      '--language',
      'fr',
    );
    expect(recorded, recorded.stderr).toMatchObject({ code: 0 });
    expect(recorded.stdout).toMatch(
      /^recorded: visitor v-cli-1, given for audience-statistics \(event \d+, 1 row\)/,
    );
    // The same choice posted again is not appended again.
    expect(
      run(
        'record',
        '--visitor',
        'v-cli-1',
        '--purpose',
        'audience-statistics',
        '--choice',
        'given',
        '--notice-version',
        'banner-3',
        '--notice-sha256',
        SHA.toUpperCase(),
        '--at',
        '2026-11-01T10:00:00Z',
        '--consent-id',
        'cc-cli-1',
      ).stdout,
    ).toMatch(/^already recorded/);

    const status = run('status', '--visitor', 'v-cli-1', '--on', '2026-11-27');
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toBe('consent of visitor v-cli-1 on 2026-11-27');
    expect(lines[1]).toMatch(/^purpose\s+state\s+since\s+expires\s+event$/);
    expect(status.stdout).toMatch(/audience-statistics\s+given\s+2026-11-01\s+2027-12-01\s+\d+/);
    expect(status.stdout).toMatch(/newsletter-sending\s+none\s+-\s+-\s+-/);
    const json = JSON.parse(run('status', '--visitor', 'v-cli-1', '--on', '2026-11-27', '--json').stdout);
    expect(json.purposes.find((p: { purpose: string }) => p.purpose === 'audience-statistics')).toMatchObject(
      {
        state: 'given',
        notice: { version: 'banner-3', sha256: SHA },
      },
    );
  });

  it('check: exit 0 only on a current consent, 3 for none, refused, withdrawn or expired, 1 on an error, 2 on a wrong call', () => {
    const check = (visitor: string, purpose: string, on = '2026-11-27') =>
      run('check', '--visitor', visitor, '--purpose', purpose, '--on', on);
    const given = check('v-cli-1', 'audience-statistics');
    expect(given).toMatchObject({ code: 0, stdout: expect.stringContaining('audience-statistics given') });
    expect(check('v-cli-1', 'newsletter-sending')).toMatchObject({
      code: 3,
      stdout: expect.stringContaining('newsletter-sending none'),
    });
    // 13 months later the audience consent has expired.
    expect(check('v-cli-1', 'audience-statistics', '2027-12-01')).toMatchObject({
      code: 3,
      stdout: expect.stringContaining('audience-statistics expired'),
    });
    for (const choice of ['refused', 'withdrawn'])
      expect(
        run(
          'record',
          '--visitor',
          `v-cli-${choice}`,
          '--purpose',
          'audience-statistics',
          '--choice',
          choice,
          '--notice-version',
          'banner-3',
          '--notice-sha256',
          SHA,
          '--at',
          '2026-11-02T10:00:00Z',
        ).code,
      ).toBe(0);
    expect(check('v-cli-refused', 'audience-statistics')).toMatchObject({
      code: 3,
      stdout: expect.stringContaining('refused'),
    });
    expect(check('v-cli-withdrawn', 'audience-statistics')).toMatchObject({
      code: 3,
      stdout: expect.stringContaining('withdrawn'),
    });
    // An error (a purpose not based on consent) is 1, a wrong call 2: never mistaken for a state.
    expect(check('v-cli-1', 'online-account')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('"online-account" rests on contract, not consent'),
    });
    expect(run('check', '--purpose', 'audience-statistics')).toMatchObject({
      code: 2,
      stderr: 'registre: give either --email or --visitor\n',
    });
    const help = registre(['consent', 'check', '--help']);
    expect(help.stdout).toContain(
      'Exit codes:\n  0  the consent is given and has not expired\n  3  it does not count: refused, withdrawn, expired, or no choice recorded\n',
    );
  });

  it('withdraw: one call withdraws every purpose given, applies the effects, and prints the address only as typed', async () => {
    const typed = subscriber.toUpperCase();
    expect(typed).not.toBe(subscriber);
    const record = run(
      'record',
      '--email',
      typed,
      '--purpose',
      'newsletter-sending',
      '--choice',
      'given',
      '--notice-version',
      'form-1',
      '--notice-sha256',
      OTHER,
      '--at',
      '2026-10-01T08:00:00Z',
      '--source',
      'form',
    );
    expect(record.code, record.stderr).toBe(0);
    expect(record.stdout).toContain(`recorded: ${typed}, given for newsletter-sending`);
    expect(run('check', '--email', typed, '--purpose', 'newsletter-sending').code).toBe(0);

    const withdrawn = run('withdraw', '--email', typed, '--at', '2026-11-20T18:00:00Z');
    expect(withdrawn.code, withdrawn.stderr).toBe(0);
    expect(withdrawn.stdout).toMatch(new RegExp(`^withdrawn: ${typed}, newsletter-sending \\(event \\d+\\)`));
    expect(withdrawn.stdout).toMatch(/newsletter_subscribers: unsubscribed_at set on \d+ records? \(/);
    for (const out of [record.stdout, withdrawn.stdout]) expect(out).not.toContain(subscriber);
    const after = await withShop(config, (conn) =>
      conn.db.selectFrom('newsletter_subscribers').select(['email', 'unsubscribed_at']).execute(),
    );
    const mine = after.filter(
      (r) => String(r.email).trim().toLowerCase() === subscriber.trim().toLowerCase(),
    );
    expect(mine.length).toBeGreaterThan(0);
    for (const r of mine) expect(r.unsubscribed_at).not.toBeNull();
    expect(run('check', '--email', typed, '--purpose', 'newsletter-sending')).toMatchObject({
      code: 3,
      stdout: expect.stringContaining('newsletter-sending withdrawn'),
    });
    // Nothing given any more: the purposes still open (never asked) are withdrawn, on record;
    // then nothing is left to withdraw: said, not an error.
    expect(run('withdraw', '--email', typed, '--at', '2026-11-20T18:30:00Z').stdout).toMatch(/^withdrawn: /);
    expect(run('withdraw', '--email', typed).stdout).toMatch(/^nothing to withdraw/);
  });

  it('proof: every event with its notice; the HTML page holds each version and hash, escaped, and no address', () => {
    // A version and a consent id with markup in them: the page shows them, escaped.
    expect(
      run(
        'record',
        '--email',
        subscriber,
        '--purpose',
        'talent-pool',
        '--choice',
        'given',
        '--notice-version',
        'v<3>&"',
        '--notice-sha256',
        SHA,
        '--at',
        '2026-11-21T09:00:00Z',
        '--consent-id',
        '<i>id</i>',
      ).code,
    ).toBe(0);
    const json = JSON.parse(run('proof', '--email', subscriber, '--json').stdout);
    const events = json.events as { choice: string; notice: { version: string; sha256: string } }[];
    const shown = events.map((e) => [e.choice, e.notice.version, e.notice.sha256]);
    expect(shown.slice(0, 2)).toEqual([
      ['given', 'form-1', OTHER],
      ['withdrawn', 'form-1', OTHER],
    ]);
    // The open purposes withdrawn by the second call (no text shown), then the new consent.
    expect(shown.slice(2, -1).every(([c, v]) => c === 'withdrawn' && v === 'none')).toBe(true);
    expect(shown.at(-1)).toEqual(['given', 'v<3>&"', SHA]);
    const text = run('proof', '--email', subscriber);
    expect(text.stdout).toMatch(/event\s+at\s+purpose\s+choice\s+notice\s+sha256\s+source\s+consent id/);
    expect(text.stdout).toContain(OTHER);

    const page = run('proof', '--email', subscriber, '--html', 'proof.html');
    expect(page, page.stderr).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^wrote proof\.html: \d+ event\(s\)/),
    });
    const file = join(dir, 'proof.html');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const html = readFileSync(file, 'utf8');
    for (const e of events) expect(html).toContain(e.notice.sha256);
    expect(html).toContain('<code style="word-break: break-all">form-1</code>');
    expect(html).toContain('v&lt;3&gt;&amp;&quot;');
    expect(html).toContain('&lt;i&gt;id&lt;/i&gt;');
    expect(html).not.toContain('<i>id</i>');
    expect(html).toContain('Preuve du consentement');
    expect(html).toContain('Proof of consent');
    expect(html.toLowerCase()).not.toContain(subscriber.trim().toLowerCase());
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(|@import/i);
    // Never written over a file.
    expect(run('proof', '--email', subscriber, '--html', 'proof.html')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('proof.html already exists'),
    });
    expect(run('proof', '--visitor', 'v-cli-1', '--html', 'v.html', '--json').code).toBe(2);
  });

  it('import: counts on stdout, each refused line by number on stderr, exit 1, the rest imported', () => {
    const line = (visitor: string, choice: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        visitor,
        purposes: ['audience-statistics'],
        choice,
        notice: { version: 'banner-3', sha256: SHA },
        at: '2026-11-03T10:00:00Z',
        source: 'banner',
        consentId: `cc-${visitor}`,
        language: 'en',
        ...extra,
      });
    writeFileSync(
      join(dir, 'choices.jsonl'),
      [
        line('v-imp-1', 'given'),
        '{"visitor": "v-imp-2", ',
        line('v-imp-3', 'refused'),
        line('v-imp-4', 'given', { notice: { version: 'banner-3', sha256: 'abc' } }),
        line('v-imp-5', 'given', { purposes: ['online-account'] }),
        '',
      ].join('\n'),
    );
    const imported = run('import', 'choices.jsonl');
    expect(imported.code).toBe(1);
    expect(imported.stdout).toBe(
      'imported 5 lines: 2 events recorded (2 rows), 0 already in the ledger, 3 line(s) refused\n',
    );
    expect(imported.stderr.split('\n')).toEqual([
      'choices.jsonl:2: refused: not a JSON object',
      'choices.jsonl:4: refused: "notice.sha256" must be a SHA-256 in hexadecimal (64 characters)',
      expect.stringMatching(
        /^choices\.jsonl:5: refused: purpose "online-account" rests on contract, not consent/,
      ),
      '',
    ]);
    expect(
      run('check', '--visitor', 'v-imp-1', '--purpose', 'audience-statistics', '--on', '2026-11-27').code,
    ).toBe(0);
    expect(
      run('check', '--visitor', 'v-imp-3', '--purpose', 'audience-statistics', '--on', '2026-11-27').stdout,
    ).toContain('refused');
    // Again: nothing appended twice; a file of good lines only exits 0.
    writeFileSync(join(dir, 'good.jsonl'), `${line('v-imp-1', 'given')}\n${line('v-imp-6', 'given')}\n`);
    expect(run('import', 'good.jsonl')).toMatchObject({
      code: 0,
      stdout: 'imported 2 lines: 1 event recorded (1 row), 1 already in the ledger, 0 line(s) refused\n',
      stderr: '',
    });
    expect(run('import', 'missing.jsonl')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('missing.jsonl: cannot be read'),
    });
    expect(registre(['consent', 'import', '--help']).stdout).toContain(
      '  1  some lines were refused: each is printed on standard error',
    );
  });

  it('names the options in input errors: --notice-sha256, --purpose, --notice-file, --email or --visitor', () => {
    const base = ['record', '--visitor', 'v-bad', '--choice', 'given', '--notice-version', '1'];
    expect(run(...base, '--purpose', 'audience-statistics', '--notice-sha256', 'abc')).toMatchObject({
      code: 2,
      stderr: 'registre: --notice-sha256 must be a SHA-256 in hexadecimal (64 characters)\n',
    });
    expect(run(...base, '--purpose', 'audience-statistics').stderr).toBe(
      'registre: give --notice-sha256 (the SHA-256 of the text shown, in hexadecimal) or --notice-file (the file of that text, whose SHA-256 is computed)\n',
    );
    expect(run(...base, '--purpose', '', '--notice-sha256', SHA).stderr).toMatch(/^registre: --purpose /);
    expect(run(...base, '--purpose', 'astrology', '--notice-sha256', SHA)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('purpose "astrology" is not in the register'),
    });
    expect(run(...base, '--purpose', 'audience-statistics', '--notice-file', 'nope.txt')).toMatchObject({
      code: 1,
      stderr: 'registre: nope.txt: cannot be read (no such file, or not readable)\n',
    });
    expect(
      run(...base, '--purpose', 'audience-statistics', '--notice-sha256', SHA, '--at', '2026-11-01 10:00'),
    ).toMatchObject({ code: 2, stderr: expect.stringMatching(/^registre: --at must be an ISO 8601 time/) });
    expect(
      run(...base, '--purpose', 'audience-statistics', '--notice-sha256', SHA, '--email', 'a@b.example')
        .stderr,
    ).toBe('registre: give either --email or --visitor\n');
    expect(run('status', '--email', 'not an address')).toMatchObject({
      code: 2,
      stderr: 'registre: --email: not an e-mail address\n',
    });
    expect(JSON.parse(run('proof', '--visitor', 'v-bad', '--json').stdout).events).toEqual([]);
  });
});
