/**
 * Issue 20: the consent ledger. Choices recorded with their proof (notice version and text hash),
 * states on a day (given, refused, withdrawn, expired, none), a withdrawal in one call with the
 * data map's effects on the address's records, replays never appended twice, bad input refused
 * with its field and nothing recorded, an import that reports bad lines and keeps the rest.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit, verifyAudit } from '../src/app/audit.js';
import {
  checkConsent,
  consentProof,
  consentStatus,
  importConsents,
  recordConsent,
  withdrawConsent,
} from '../src/app/consent.js';
import { type Context, createEngine, type Engine } from '../src/app/engine.js';
import { openRequest, runRequest, verifyRequest } from '../src/app/requests/index.js';
import { DIALECTS } from './dialects.js';
import { AT, shopIn, stateInShopServer, withShop } from './shop-helpers.js';

const API: Context = { actor: 'api:consent-test' };
const TEXT =
  'Nous mesurons l’audience du site avec votre accord. / We measure the audience with your consent.';
const NOTICE = { version: 'banner-3', sha256: createHash('sha256').update(TEXT).digest('hex') };
/** The engine's day and time: the demo shop is generated for AT. */
const NOW = new Date(`${AT}T12:00:00.000Z`);

const day = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);
const error = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: string; message?: string; path?: unknown }) => e,
  );

describe.each(DIALECTS)('the consent ledger on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  let dir = '';
  let config = '';
  let engine: Engine;
  let subscriber = '';
  beforeAll(async () => {
    ({ out: dir, config } = await shopIn(database, 20, 11, drops));
    // On a server, the ledger is there too.
    stateInShopServer(config);
    engine = createEngine({ config, clock: { now: () => NOW, today: () => AT } });
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
  afterAll(async () => {
    await engine?.close();
    for (const drop of drops) await drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a choice with its notice, and tells the state of each purpose on a day', async () => {
    const visitor = 'v-state-1';
    const at = '2026-01-10T09:30:00Z';
    const recorded = await recordConsent(
      engine,
      {
        visitor,
        purposes: ['audience-statistics'],
        choice: 'given',
        notice: NOTICE,
        at,
        source: 'banner',
        consentId: 'cc-1',
        language: 'fr',
      },
      API,
    );
    expect(recorded.rows).toBe(1);
    const status = await consentStatus(engine, { visitor, on: AT }, API);
    const audience = status.purposes.find((p) => p.purpose === 'audience-statistics');
    expect(audience).toMatchObject({ state: 'given', since: '2026-01-10', expires: '2027-02-10' });
    expect(status.purposes.find((p) => p.purpose === 'newsletter-sending')?.state).toBe('none');
    // 13 months later the consent no longer counts: expired, and the check says so.
    expect(
      (await checkConsent(engine, { visitor, purpose: 'audience-statistics', on: '2027-02-09' }, API))
        .current,
    ).toBe(true);
    const late = await checkConsent(
      engine,
      { visitor, purpose: 'audience-statistics', on: '2027-02-10' },
      API,
    );
    expect(late).toMatchObject({ current: false, state: 'expired' });
    // Before the choice, there was none.
    expect(
      (await checkConsent(engine, { visitor, purpose: 'audience-statistics', on: '2026-01-09' }, API)).state,
    ).toBe('none');
  });

  it('never appends the same event twice (a banner that posts again)', async () => {
    const event = {
      visitor: 'v-replay',
      purposes: ['audience-statistics'],
      choice: 'given' as const,
      notice: NOTICE,
      at: '2026-11-01T10:00:00Z',
      consentId: 'cc-replay',
    };
    expect((await recordConsent(engine, event, API)).rows).toBe(1);
    const again = await recordConsent(engine, event, API);
    expect(again).toMatchObject({ rows: 0, duplicates: 1 });
    expect((await consentProof(engine, { visitor: 'v-replay' }, API)).events).toHaveLength(1);
  });

  it('refuses an unknown purpose, a purpose not based on consent, a bad hash or time, naming each; nothing recorded', async () => {
    const base = {
      visitor: 'v-bad',
      choice: 'given' as const,
      notice: NOTICE,
      purposes: ['audience-statistics'],
    };
    const unknown = await error(recordConsent(engine, { ...base, purposes: ['astrology'] }, API));
    expect(unknown).toMatchObject({ code: 'E_CONSENT_PURPOSE' });
    expect(unknown?.message).toContain('"astrology" is not in the register');
    const contract = await error(recordConsent(engine, { ...base, purposes: ['online-account'] }, API));
    expect(contract?.message).toMatch(/"online-account" rests on contract, not consent/);
    const hash = await error(
      recordConsent(engine, { ...base, notice: { version: '1', sha256: 'abc' } }, API),
    );
    expect(hash).toMatchObject({ code: 'E_USAGE', path: ['notice', 'sha256'] });
    const time = await error(recordConsent(engine, { ...base, at: '2026-11-01 10:00' }, API));
    expect(time).toMatchObject({ code: 'E_USAGE', path: ['at'] });
    const future = await error(recordConsent(engine, { ...base, at: '2027-01-01T00:00:00Z' }, API));
    expect(future?.message).toContain('in the future');
    const both = await error(recordConsent(engine, { ...base, email: 'a@b.example' }, API));
    expect(both?.message).toContain('either');
    expect((await consentProof(engine, { visitor: 'v-bad' }, API)).events).toEqual([]);
  });

  it('keeps an address as its keyed hash, never the address; a withdrawal unsubscribes it on the day', async () => {
    const mixed = `  ${subscriber.toUpperCase()} `;
    await recordConsent(
      engine,
      {
        email: mixed,
        purposes: ['newsletter-sending'],
        choice: 'given',
        notice: NOTICE,
        at: '2026-03-01T08:00:00Z',
        source: 'form',
      },
      API,
    );
    const state = await engine.state('read');
    const rows = await state.conn.db.selectFrom('consent_events').selectAll().execute();
    expect(JSON.stringify(rows).toLowerCase()).not.toContain(subscriber.toLowerCase());
    expect(
      (await checkConsent(engine, { email: subscriber, purpose: 'newsletter-sending' }, API)).current,
    ).toBe(true);
    const withdrawn = await withdrawConsent(engine, { email: subscriber, at: '2026-11-20T18:00:00Z' }, API);
    expect(withdrawn.purposes).toEqual(['newsletter-sending']);
    expect(withdrawn.effects).toEqual([
      expect.objectContaining({ table: 'newsletter_subscribers', columns: ['unsubscribed_at'] }),
    ]);
    const after = await withShop(config, (conn) =>
      conn.db.selectFrom('newsletter_subscribers').select(['email', 'unsubscribed_at']).execute(),
    );
    const mine = after.filter(
      (r) => String(r.email).trim().toLowerCase() === subscriber.trim().toLowerCase(),
    );
    expect(mine.length).toBeGreaterThan(0);
    for (const r of mine) expect(day(r.unsubscribed_at)).toBe('2026-11-20');
    const proof = await consentProof(engine, { email: subscriber }, API);
    expect(proof.events.map((e) => [e.choice, e.notice.version, e.notice.sha256])).toEqual([
      ['given', NOTICE.version, NOTICE.sha256],
      ['withdrawn', NOTICE.version, NOTICE.sha256],
    ]);
    expect(
      (await checkConsent(engine, { email: subscriber, purpose: 'newsletter-sending' }, API)).state,
    ).toBe('withdrawn');
    const log = await exportAudit(engine, {}, API);
    expect(log).toContain('"kind":"consent.record"');
    expect(log).toContain('"kind":"consent.effect"');
    expect(log.toLowerCase()).not.toContain(subscriber.trim().toLowerCase());
    expect((await verifyAudit(engine, {}, API)).problems).toEqual([]);
  });

  it('imports JSON lines: a malformed line is reported by number, the rest imported', async () => {
    const file = join(dir, 'choices.jsonl');
    const good = (visitor: string, choice: string) =>
      JSON.stringify({
        visitor,
        purposes: ['audience-statistics'],
        choice,
        notice: NOTICE,
        at: '2026-11-02T10:00:00Z',
        consentId: `cc-${visitor}`,
      });
    writeFileSync(
      file,
      [
        good('v-imp-1', 'given'),
        '{not json',
        good('v-imp-2', 'refused'),
        JSON.stringify({
          visitor: 'v-imp-3',
          purposes: ['online-account'],
          choice: 'given',
          notice: NOTICE,
        }),
        '',
        good('v-imp-4', 'banana'),
      ].join('\n'),
    );
    const imported = await importConsents(engine, { file }, API);
    expect(imported).toMatchObject({ lines: 6, events: 2, rows: 2 });
    expect(imported.refused.map((r) => r.line)).toEqual([2, 4, 6]);
    expect(imported.refused[1]?.error).toContain('online-account');
    expect(
      (await checkConsent(engine, { visitor: 'v-imp-2', purpose: 'audience-statistics' }, API)).state,
    ).toBe('refused');
    const missing = await error(importConsents(engine, { file: join(dir, 'nope.jsonl') }, API));
    expect(missing).toMatchObject({ code: 'E_FILE_READ' });
  });

  it('lists the person’s consents with their proof in the access package: by address and by the visitor id the request names', async () => {
    const visitor = 'v-access-1';
    await recordConsent(
      engine,
      {
        visitor,
        purposes: ['audience-statistics'],
        choice: 'given',
        notice: NOTICE,
        at: '2026-05-05T10:00:00Z',
        source: 'banner',
        consentId: 'cc-access',
      },
      API,
    );
    await recordConsent(
      engine,
      {
        email: subscriber,
        purposes: ['newsletter-sending'],
        choice: 'given',
        notice: { version: 'form-2', sha256: 'd'.repeat(64) },
        at: '2026-11-21T10:00:00Z',
        source: 'form',
      },
      API,
    );
    const opened = await openRequest(engine, { type: 'access', email: subscriber, visitor }, API);
    await verifyRequest(
      engine,
      { id: opened.id, manual: true, reason: 'identity card seen at the desk' },
      API,
    );
    const out = join(dir, `access-${opened.id}`);
    await runRequest(engine, { id: opened.id, out, delivery: 'none' }, API);
    const pkg = JSON.parse(readFileSync(join(out, 'access.json'), 'utf8')) as {
      ledger: {
        purpose: string;
        choice: string;
        subject: string;
        notice: { version: string; sha256: string };
      }[];
    };
    expect(pkg.ledger.map((e) => [e.subject, e.purpose, e.choice, e.notice.version])).toEqual(
      expect.arrayContaining([
        ['visitor', 'audience-statistics', 'given', NOTICE.version],
        ['email', 'newsletter-sending', 'given', 'form-2'],
        ['email', 'newsletter-sending', 'withdrawn', NOTICE.version],
      ]),
    );
    const html = readFileSync(join(out, 'access.html'), 'utf8');
    expect(html).toContain(NOTICE.sha256);
    expect(html).toContain('d'.repeat(64));
    // Another visitor's choices are not there.
    expect(JSON.stringify(pkg)).not.toContain('v-state-1');
  });
});
