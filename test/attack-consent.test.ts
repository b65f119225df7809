/**
 * Attacks on issue 20 (the consent ledger, consent-gated retention, the suppression list as a
 * service). Each test proves one problem (it fails until the product is fixed), or is kept as a
 * regression test of something that held (said so in its comment).
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../src/adapters/sql/connect.js';
import { exportAudit, verifyAudit } from '../src/app/audit.js';
import { check } from '../src/app/check.js';
import {
  checkConsent,
  consentProof,
  importConsents,
  recordConsent,
  withdrawConsent,
} from '../src/app/consent.js';
import { type Context, createEngine, type Engine } from '../src/app/engine.js';
import { explainAll } from '../src/app/explain.js';
import { addHold, releaseHold } from '../src/app/holds.js';
import { rotateKey } from '../src/app/keys.js';
import { plan } from '../src/app/plan.js';
import { sweep } from '../src/app/sweep.js';
import { DIALECTS } from './dialects.js';
import { AT, ROOT, shop, shopIn, stateInShopServer } from './shop-helpers.js';

const API: Context = { actor: 'api:attack-consent' };
const NOTICE = { version: 'attack-1', sha256: createHash('sha256').update('attack notice').digest('hex') };
const NOW = new Date(`${AT}T12:00:00.000Z`);
/** A second key, for a rotation. */
process.env.REGISTRE_ATTACK_KEY_2 = 'attack-second-hmac-key-0123456789-abcdefghij';

const day = (v: unknown) =>
  v === null || v === undefined ? null : (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);

/** A SQLite shop and an engine on it, made fresh for each test (they change the data and the key). */
async function sqliteShop(customers = 20) {
  const { out, config } = await shop(customers, 31);
  const engines: Engine[] = [];
  const open = () => {
    const e = createEngine({ config, clock: { now: () => NOW, today: () => AT } });
    engines.push(e);
    return e;
  };
  const onShop = async <T>(engine: Engine, f: (conn: Connection) => Promise<T>) => {
    const store = (await engine.project()).datamap.stores.find((s) => s.id === 'shop');
    if (!store) throw new Error('no shop store');
    return f(await engine.store(store));
  };
  const close = async () => {
    for (const e of engines) await e.close().catch(() => {});
    rmSync(out, { recursive: true, force: true });
  };
  return { out, config, open, onShop, close };
}

async function insertCandidate(conn: Connection, id: number, email: string, pool: boolean) {
  const b = (v: boolean) => (conn.dialect === 'postgres' ? v : v ? 1 : 0);
  await conn.db
    .insertInto('candidates')
    .values({
      id,
      email,
      first_name: 'Pool',
      last_name: 'Candidate',
      phone: null,
      city: 'Lyon',
      cv_path: null,
      job_ref: 'JOB-1',
      status: 'rejected',
      applied_at: '2026-01-02 10:00:00',
      process_ended_at: '2026-09-01 10:00:00',
      last_contact_at: '2026-09-01 10:00:00',
      talent_pool_consent: b(pool),
      talent_pool_consent_at: pool ? '2026-09-01 10:00:00' : null,
    })
    .execute();
}

async function activeSubscriber(engine: Engine, onShop: Awaited<ReturnType<typeof sqliteShop>>['onShop']) {
  return onShop(engine, async (conn) => {
    const row = await conn.db
      .selectFrom('newsletter_subscribers')
      .select(['id', 'email', 'subscribed_at'])
      .where('unsubscribed_at', 'is', null)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), email: String(row.email) };
  });
}

const subscriberRow = (
  engine: Engine,
  onShop: Awaited<ReturnType<typeof sqliteShop>>['onShop'],
  id: number,
) =>
  onShop(engine, (conn) =>
    conn.db
      .selectFrom('newsletter_subscribers')
      .select(['id', 'unsubscribed_at'])
      .where('id', '=', id)
      .executeTakeFirst(),
  );

describe('attacks on the consent ledger and its gate (SQLite)', () => {
  let s: Awaited<ReturnType<typeof sqliteShop>>;
  beforeAll(async () => {
    s = await sqliteShop();
  });
  afterAll(async () => {
    await s?.close();
  });

  /**
   * PROBLEM (trust, correctness): after a key rotation, the SQL gate (plan, sweep) groups the
   * ledger's events by keyed hash, so a withdrawal recorded under the old key still counts after
   * the person consented again under the new key: the sweep deletes a talent-pool candidate whose
   * consent is current, while `consent check` and `explain` (which merge every key) say it counts.
   */
  it('a consent given again after a key rotation still counts for plan and sweep (not only for check and explain)', async () => {
    const engine = s.open();
    const email = 'Rotated.Candidate@Example.org';
    const id = 910_001;
    await s.onShop(engine, (conn) => insertCandidate(conn, id, email, true));
    const talent = { email, purposes: ['talent-pool'], notice: NOTICE, source: 'form' as const };
    await recordConsent(engine, { ...talent, choice: 'given', at: '2026-01-05T10:00:00Z' }, API);
    await withdrawConsent(engine, { email, purposes: ['talent-pool'], at: '2026-03-01T10:00:00Z' }, API);
    await rotateKey(engine, { to: 'env:REGISTRE_ATTACK_KEY_2' }, API);
    await engine.close();
    const after = s.open();
    // The person joins the pool again: the ledger records it under the new key, the shop flags them.
    await recordConsent(after, { ...talent, choice: 'given', at: '2026-09-01T10:00:00Z' }, API);
    await s.onShop(after, (conn) =>
      conn.db.updateTable('candidates').set({ talent_pool_consent: 1 }).where('id', '=', id).execute(),
    );
    expect((await checkConsent(after, { email, purpose: 'talent-pool' }, API)).current).toBe(true);
    const [explained] = (await explainAll(after, { at: AT, table: 'candidates', id: String(id) }, API))
      .records;
    expect(explained).toMatchObject({ status: 'active', rule: 'talent-pool' });
    // The SQL must say the same: no record of this rule lost its consent.
    const line = (await plan(after, { at: AT }, API)).rules.find((r) => r.rule === 'talent-pool');
    expect.soft(line?.noConsent ?? 0, 'plan counts the candidate as without consent').toBe(0);
    await sweep(after, { at: AT }, API);
    const still = await s.onShop(after, (conn) =>
      conn.db.selectFrom('candidates').select('id').where('id', '=', id).executeTakeFirst(),
    );
    expect(still, 'the sweep deleted a candidate whose consent is current').toBeDefined();
  });
});

describe('attacks on a withdrawal’s effects (SQLite)', () => {
  let s: Awaited<ReturnType<typeof sqliteShop>>;
  beforeAll(async () => {
    s = await sqliteShop();
  });
  afterAll(async () => {
    await s?.close();
  });

  /**
   * PROBLEM (correctness, trust): an import applies the effects of every refusal or withdrawal it
   * read, even one a later line of the same import overtook (the person subscribed again): the
   * subscriber is marked unsubscribed (then deleted and put on the suppression list by the sweep)
   * while the ledger says the consent is given.
   */
  it('an import does not unsubscribe a person whose withdrawal a later consent in the same file overtook', async () => {
    const engine = s.open();
    const { id, email } = await activeSubscriber(engine, s.onShop);
    const line = (choice: string, at: string) =>
      JSON.stringify({ email, purposes: ['newsletter-sending'], choice, notice: NOTICE, at, source: 'form' });
    const file = join(s.out, 'overtaken.jsonl');
    writeFileSync(
      file,
      `${line('withdrawn', '2026-11-01T10:00:00Z')}\n${line('given', '2026-11-10T10:00:00Z')}\n`,
    );
    const imported = await importConsents(engine, { file }, API);
    expect(imported.refused).toEqual([]);
    expect((await checkConsent(engine, { email, purpose: 'newsletter-sending' }, API)).current).toBe(true);
    const row = await subscriberRow(engine, s.onShop, id);
    expect(day(row?.unsubscribed_at), 'unsubscribed although the consent is given').toBeNull();
  });

  /**
   * PROBLEM (correctness, trust): a withdrawal that arrives late (an import of old events, a
   * collector's file read after a newer post) is applied to the records even though the ledger
   * holds a newer consent: the ledger's own rule ("the latest event decides; an import of old
   * events does not overtake a newer one") is not the effects' rule.
   */
  it('a late-arriving older withdrawal does not unsubscribe a person whose newer consent is in the ledger', async () => {
    const engine = s.open();
    const subscribers = await s.onShop(engine, (conn) =>
      conn.db
        .selectFrom('newsletter_subscribers')
        .select(['id', 'email'])
        .where('unsubscribed_at', 'is', null)
        .orderBy('id')
        .execute(),
    );
    const target = subscribers[0] as { id: number; email: string };
    const email = String(target.email);
    const base = { email, purposes: ['newsletter-sending'], notice: NOTICE, source: 'form' as const };
    await recordConsent(engine, { ...base, choice: 'given', at: '2026-11-10T10:00:00Z' }, API);
    const late = await recordConsent(
      engine,
      { ...base, choice: 'withdrawn', at: '2026-10-01T10:00:00Z' },
      API,
    );
    expect(late.rows).toBe(1);
    expect((await checkConsent(engine, { email, purpose: 'newsletter-sending' }, API)).current).toBe(true);
    const row = await subscriberRow(engine, s.onShop, Number(target.id));
    expect(day(row?.unsubscribed_at), 'unsubscribed by a withdrawal the ledger says is overtaken').toBeNull();
  });
});

describe('attacks on the ledger’s integrity (SQLite)', () => {
  let s: Awaited<ReturnType<typeof sqliteShop>>;
  let visitors: string[] = [];
  beforeAll(async () => {
    s = await sqliteShop();
    const engine = s.open();
    // Visitors with visits of the last months (due only for want of consent).
    visitors = await s.onShop(engine, async (conn) =>
      (
        await conn.db
          .selectFrom('web_visits')
          .select('visitor_id')
          .where('occurred_at', '>=', '2026-10-01')
          .where('occurred_at', '<=', '2026-11-26 23:59:59')
          .groupBy('visitor_id')
          .orderBy('visitor_id')
          .execute()
      ).map((r) => String(r.visitor_id)),
    );
    await engine.close();
  });
  afterAll(async () => {
    await s?.close();
  });

  const withdrawn = async (visitor: string) => {
    const engine = s.open();
    await recordConsent(
      engine,
      {
        visitor,
        purposes: ['audience-statistics'],
        choice: 'given',
        notice: NOTICE,
        at: '2026-10-01T10:00:00Z',
        source: 'banner',
      },
      API,
    );
    const w = await withdrawConsent(engine, { visitor, at: '2026-11-20T10:00:00Z' }, API);
    const line = (await plan(engine, { at: AT }, API)).rules.find((r) => r.rule === 'web-visits');
    expect(line?.noConsent ?? 0).toBeGreaterThan(0);
    await engine.close();
    return w.events[0] as number;
  };
  const byHand = (sqlText: string, ...params: unknown[]) => {
    const db = new Database(join(s.out, '.registre', 'state.sqlite'));
    try {
      return db.prepare(sqlText).run(...params).changes;
    } finally {
      db.close();
    }
  };
  const noticed = async (engine: Engine) => {
    const problems = (await verifyAudit(engine, {}, API)).problems;
    const planned = await plan(engine, { at: AT }, API).then(
      () => null,
      (e: { code?: string }) => e.code ?? 'error',
    );
    return { problems: problems.length, plan: planned };
  };

  /**
   * PROBLEM (trust): a withdrawal row deleted from the ledger by hand goes unnoticed: the audit
   * log's `consent.record` entry (rows' range, digest of seals) is never compared with the ledger,
   * `audit verify` finds nothing, and plan (and the sweep) silently keep the visitor's visits.
   */
  it('a deleted withdrawal row is noticed by audit verify, or stops plan and sweep', async () => {
    const visitor = visitors[0] as string;
    const event = await withdrawn(visitor);
    expect(byHand('DELETE FROM consent_events WHERE event = ?', event)).toBe(1);
    const engine = s.open();
    const seen = await noticed(engine);
    expect(seen.problems > 0 || seen.plan === 'E_STATE_TAMPERED', 'the deletion went unnoticed').toBe(true);
  });

  /**
   * PROBLEM (trust): a row is checked against its seal only when read, and plan and sweep read
   * only each subject's latest event: a withdrawal whose time (or purpose, or subject) was changed
   * by hand so that it is no longer the latest is never read there, so never found tampered; the
   * visits it made due are kept.
   */
  it('a withdrawal row moved back in time by hand is noticed by audit verify, or stops plan and sweep', async () => {
    const visitor = visitors[1] as string;
    const event = await withdrawn(visitor);
    expect(byHand("UPDATE consent_events SET at = '2026-01-01T00:00:00.000Z' WHERE event = ?", event)).toBe(
      1,
    );
    const engine = s.open();
    const seen = await noticed(engine);
    expect(seen.problems > 0 || seen.plan === 'E_STATE_TAMPERED', 'the change went unnoticed').toBe(true);
  });

  /**
   * HELD (regression): a latest row changed by hand (withdrawn made given) is found tampered by
   * plan, and the sweep changes nothing.
   */
  it('a latest row changed by hand stops plan and sweep with E_STATE_TAMPERED', async () => {
    const visitor = visitors[2] as string;
    const event = await withdrawn(visitor);
    expect(byHand("UPDATE consent_events SET choice = 'given' WHERE event = ?", event)).toBe(1);
    const engine = s.open();
    await expect(plan(engine, { at: AT }, API)).rejects.toMatchObject({ code: 'E_STATE_TAMPERED' });
    await expect(sweep(engine, { at: AT }, API)).rejects.toMatchObject({ code: 'E_STATE_TAMPERED' });
    expect(byHand("UPDATE consent_events SET choice = 'withdrawn' WHERE event = ?", event)).toBe(1);
  });
});

describe('attacks on a withdrawal that meets an error, a hold, or no ledger entry (SQLite)', () => {
  let s: Awaited<ReturnType<typeof sqliteShop>>;
  let subscribers: { id: number; email: string }[] = [];
  beforeAll(async () => {
    s = await sqliteShop(80);
    const engine = s.open();
    subscribers = await s.onShop(engine, async (conn) =>
      (
        await conn.db
          .selectFrom('newsletter_subscribers')
          .select(['id', 'email'])
          .where('unsubscribed_at', 'is', null)
          // Active on the days these tests look at: subscribed or clicked within 3 years.
          .where((eb) =>
            eb.or([eb('subscribed_at', '>=', '2025-01-01'), eb('last_click_at', '>=', '2025-01-01')]),
          )
          .orderBy('id')
          .execute()
      ).map((r) => ({ id: Number(r.id), email: String(r.email) })),
    );
    await engine.close();
    expect(subscribers.length).toBeGreaterThanOrEqual(4);
  });
  afterAll(async () => {
    await s?.close();
  });
  const shopFile = () => join(s.out, 'shop.sqlite');
  const renameTable = (from: string, to: string) => {
    const db = new Database(shopFile());
    try {
      db.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
    } finally {
      db.close();
    }
  };

  /**
   * PROBLEM (correctness): the ledger is written before the effects are applied, and a retry
   * never applies them: when the shop's store fails after the withdrawal was recorded, the same
   * post again is a replay (no effect, `rows: 0`), and `consent withdraw` again finds no current
   * consent ("nothing to withdraw", exit 0). The subscriber is never unsubscribed, while the
   * ledger says withdrawn.
   */
  it('a withdrawal whose effects failed gets them when it is sent again', async () => {
    const [a, b] = subscribers as [{ id: number; email: string }, { id: number; email: string }];
    const setup = s.open();
    for (const who of [a, b])
      await recordConsent(
        setup,
        {
          email: who.email,
          purposes: ['newsletter-sending'],
          choice: 'given',
          notice: NOTICE,
          at: '2026-06-01T10:00:00Z',
          source: 'form',
        },
        API,
      );
    await setup.close();
    const refusal = {
      email: a.email,
      purposes: ['newsletter-sending'],
      choice: 'withdrawn' as const,
      notice: NOTICE,
      at: '2026-11-20T10:00:00Z',
      source: 'banner' as const,
      consentId: 'cc-retry-1',
    };
    renameTable('newsletter_subscribers', 'newsletter_subscribers_away');
    try {
      const failing = s.open();
      await expect(recordConsent(failing, refusal, API)).rejects.toBeDefined();
      await expect(withdrawConsent(failing, { email: b.email }, API)).rejects.toBeDefined();
      await failing.close();
    } finally {
      renameTable('newsletter_subscribers_away', 'newsletter_subscribers');
    }
    const engine = s.open();
    // The banner posts the same choice again; the operator runs the withdrawal again.
    const again = await recordConsent(engine, refusal, API);
    const rerun = await withdrawConsent(engine, { email: b.email }, API);
    expect((await checkConsent(engine, { email: a.email, purpose: 'newsletter-sending' }, API)).state).toBe(
      'withdrawn',
    );
    expect((await checkConsent(engine, { email: b.email, purpose: 'newsletter-sending' }, API)).state).toBe(
      'withdrawn',
    );
    expect.soft(again.effects.length + rerun.effects.length).toBeGreaterThan(0);
    expect
      .soft(day((await subscriberRow(engine, s.onShop, a.id))?.unsubscribed_at), 'a replayed withdrawal')
      .toBe('2026-11-20');
    expect
      .soft(day((await subscriberRow(engine, s.onShop, b.id))?.unsubscribed_at), 'a withdrawal run again')
      .toBe(AT);
  });

  /**
   * PROBLEM (correctness, over-retention): a withdrawal's effects skip a held record (right), but
   * nothing applies them once the hold is released: the subscriber who withdrew stays subscribed,
   * kept up to 3 years on a consent the ledger says was withdrawn (the newsletter rule is not
   * gated, so only the effect would end it).
   */
  it('a held subscriber who withdrew is unsubscribed (or due) once the hold is released', async () => {
    const who = subscribers[2] as { id: number; email: string };
    const engine = s.open();
    await recordConsent(
      engine,
      {
        email: who.email,
        purposes: ['newsletter-sending'],
        choice: 'given',
        notice: NOTICE,
        at: '2026-06-01T10:00:00Z',
        source: 'form',
      },
      API,
    );
    const hold = await addHold(
      engine,
      { table: 'newsletter_subscribers', id: String(who.id), reason: 'a complaint about this subscription' },
      API,
    );
    const w = await withdrawConsent(engine, { email: who.email, at: '2026-11-20T10:00:00Z' }, API);
    expect(w.effects[0]?.kept).toEqual([{ key: String(who.id), status: 'held' }]);
    await releaseHold(engine, { id: hold.id }, API);
    const later = '2026-12-15';
    const [explained] = (
      await explainAll(engine, { at: later, table: 'newsletter_subscribers', id: String(who.id) }, API)
    ).records;
    expect(
      (await checkConsent(engine, { email: who.email, purpose: 'newsletter-sending', on: later }, API)).state,
    ).toBe('withdrawn');
    expect(explained?.status, 'a subscriber without consent kept after the hold').toBe('due');
  });

  /**
   * PROBLEM (trust, operator trap): `consent withdraw --email` of a subscriber the ledger never
   * saw consent (subscribed before the ledger, or by a form that did not post) records nothing and
   * changes nothing ("nothing to withdraw", exit 0): the person's withdrawal leaves no proof, and
   * they stay subscribed. The withdrawal of the purposes their records serve should be recorded
   * and its effects applied.
   */
  it('a withdrawal of a subscriber unknown to the ledger is recorded and unsubscribes them', async () => {
    const who = subscribers[3] as { id: number; email: string };
    const engine = s.open();
    const w = await withdrawConsent(engine, { email: who.email }, API);
    expect.soft(w.rows, 'no withdrawal recorded').toBeGreaterThan(0);
    expect
      .soft(day((await subscriberRow(engine, s.onShop, who.id))?.unsubscribed_at), 'still subscribed')
      .toBe(AT);
    expect((await consentProof(engine, { email: who.email }, API)).events.length).toBeGreaterThan(0);
  });
});

describe.each(DIALECTS)('attacks on visitor ids on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  let dir = '';
  let engine: Engine;
  beforeAll(async () => {
    const made = await shopIn(database, 10, 33, drops);
    dir = made.out;
    // The ledger in the server's database, as a server deployment keeps it.
    stateInShopServer(made.config);
    engine = createEngine({ config: made.config, clock: { now: () => NOW, today: () => AT } });
  });
  afterAll(async () => {
    await engine?.close();
    for (const drop of drops) await drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * PROBLEM on MySQL/MariaDB (trust, correctness): the ledger's `subject` column takes the
   * server's default collation (utf8mb4_general_ci: case-insensitive), while a visitor id is
   * case-sensitive (the gate table compares it as varbinary for that reason). Two visitors whose
   * ids differ in case share one history: `consent check` of one answers with the other's consent,
   * the proof of one lists the other's events, and the gate's `PARTITION BY subject` lets one
   * visitor's consent hide the other's refusal (plan and sweep keep their visits).
   */
  it('two visitor ids that differ only in case are two visitors', async () => {
    const upper = 'Attack-Visitor-X';
    const lower = 'attack-visitor-x';
    const store = (await engine.project()).datamap.stores.find((x) => x.id === 'shop');
    if (!store) throw new Error('no shop store');
    const conn = await engine.store(store);
    await conn.db
      .insertInto('web_visits')
      .values(
        [upper, lower].map((visitor_id, i) => ({
          id: 990_001 + i,
          visitor_id,
          ip_address: null,
          user_agent: null,
          page_url: '/attack',
          referrer: null,
          occurred_at: '2026-11-01 10:00:00',
        })),
      )
      .execute();
    const event = { purposes: ['audience-statistics'], notice: NOTICE, source: 'banner' as const };
    await recordConsent(
      engine,
      { ...event, visitor: lower, choice: 'refused', at: '2026-11-05T10:00:00Z' },
      API,
    );
    await recordConsent(
      engine,
      { ...event, visitor: upper, choice: 'given', at: '2026-11-06T10:00:00Z' },
      API,
    );
    const checked = await checkConsent(engine, { visitor: lower, purpose: 'audience-statistics' }, API);
    expect.soft(checked.state, 'the other visitor’s consent answers for this one').toBe('refused');
    const proof = await consentProof(engine, { visitor: lower }, API);
    expect.soft(proof.events.map((e) => e.subject.id)).toEqual([lower]);
    const line = (await plan(engine, { at: AT }, API)).rules.find((r) => r.rule === 'web-visits');
    expect(line?.noConsent ?? 0, 'the refusing visitor’s visit is not counted').toBe(1);
  });
});

describe.each(DIALECTS)('the SQL verdict and the pure one agree on random ledgers, on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  let dir = '';
  let engine: Engine;
  beforeAll(async () => {
    const made = await shopIn(database, 5, 35, drops);
    dir = made.out;
    stateInShopServer(made.config);
    engine = createEngine({ config: made.config, clock: { now: () => NOW, today: () => AT } });
  });
  afterAll(async () => {
    await engine?.close();
    for (const drop of drops) await drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * HELD (regression): for visitors with random histories (given, refused, withdrawn; times on
   * day boundaries, ties, the expiry day of 13 months and a month-end clamped one, events after the evaluation day; ids with
   * quotes, backslashes and SQL's wildcards), plan --list (SQL, the gate table) and explain (pure)
   * give every visit the same status and deadline, on several days.
   */
  it('plan --list and explain give each visit the same status and deadline', async () => {
    const { planList } = await import('../src/app/plan.js');
    const times = [
      '2025-10-26T23:59:59.999Z',
      '2025-10-27T00:00:00.000Z',
      '2025-10-27T10:00:00+01:00',
      '2025-10-27T23:30:00-01:00',
      '2025-10-28T00:00:00Z',
      '2025-10-31T12:00:00Z',
      '2026-01-31T12:00:00Z',
      '2026-10-26T23:59:59Z',
      '2026-10-27T00:00:00Z',
      '2026-11-26T23:30:00+01:00',
      '2026-11-26T23:59:59.999Z',
      '2026-11-27T00:00:00Z',
      '2026-11-27T11:00:00Z',
    ];
    const choice = fc.constantFrom<'given' | 'refused' | 'withdrawn'>(
      'given',
      'given',
      'refused',
      'withdrawn',
    );
    const histories = fc.sample(
      fc.array(fc.record({ choice, at: fc.constantFrom(...times), tie: fc.boolean() }), {
        minLength: 1,
        maxLength: 4,
      }),
      { numRuns: 120, seed: 20 },
    );
    const odd = ["o'brien", 'q"x', 'back\\slash', '50%_off', 'x;--', 'UPPER', 'upper2'];
    const ids = histories.map((_, i) => `${odd[i % odd.length]}-${i}`);
    const store = (await engine.project()).datamap.stores.find((x) => x.id === 'shop');
    if (!store) throw new Error('no shop store');
    const conn = await engine.store(store);
    await conn.db
      .insertInto('web_visits')
      .values(
        ids.map((visitor_id, i) => ({
          id: 980_000 + i,
          visitor_id,
          ip_address: null,
          user_agent: null,
          page_url: '/p',
          referrer: null,
          occurred_at: '2026-10-15 10:00:00',
        })),
      )
      .execute();
    for (const [i, history] of histories.entries())
      for (const [n, e] of history.entries())
        await recordConsent(
          engine,
          {
            visitor: ids[i] as string,
            purposes: ['audience-statistics'],
            choice: e.choice,
            notice: NOTICE,
            at: e.at,
            source: 'banner',
            // Same time, same choice: another consent id, so both are kept (a tie broken by number).
            consentId: `cc-${i}-${e.tie ? 0 : n}`,
          },
          API,
        );
    const seen = new Set<string>();
    // 2025-10-31 + 13 months is 2026-11-30 (31 November clamped): the day it expires, and the one before.
    for (const at of ['2026-10-26', '2026-10-27', '2026-11-26', AT, '2026-11-29', '2026-11-30']) {
      const listed = new Map<string, string | null>();
      let after: string | undefined;
      for (;;) {
        const page = await planList(
          engine,
          { at, rule: 'web-visits', status: ['due', 'active'], limit: 10_000, ...(after ? { after } : {}) },
          API,
        );
        for (const r of page.records) listed.set(r.key, `${r.status} ${r.deadline}`);
        if (!page.next) break;
        after = page.next;
      }
      const differ: string[] = [];
      for (const [i] of ids.entries()) {
        const key = String(980_000 + i);
        const [x] = (await explainAll(engine, { at, table: 'web_visits', id: key }, API)).records;
        const pure = `${x?.status} ${x?.deadline}`;
        if (listed.get(key) !== pure) differ.push(`${at} ${ids[i]}: sql ${listed.get(key)}, pure ${pure}`);
      }
      expect(differ).toEqual([]);
      for (const [i] of ids.entries()) seen.add(listed.get(String(980_000 + i))?.split(' ')[0] ?? 'none');
    }
    // The histories reach both verdicts: the test compares something.
    expect([...seen].sort()).toEqual(['active', 'due']);
  });
});

const SERVERS = DIALECTS.filter((d) => d.name === 'postgres' || d.name === 'mysql');

describe.skipIf(SERVERS.length === 0).each(SERVERS)(
  'a sweep killed with its gate table open, on $name',
  (database) => {
    const drops: (() => Promise<void>)[] = [];
    let dir = '';
    let config = '';
    beforeAll(async () => {
      const made = await shopIn(database, 10, 37, drops);
      dir = made.out;
      config = made.config;
    });
    afterAll(async () => {
      for (const drop of drops) await drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });

    /**
     * PROBLEM (operational, personal data left behind): a sweep killed (kill -9, OOM, a reboot)
     * while its gate table is in a server's shop database leaves the table there, with the withdrawn
     * visitors' ids: the next plan of the same day does not drop it (only one a day old, and only
     * when a new gate is opened), and `registre check` reports the shop's schema broken
     * (E_UNDECLARED_TABLE) until then. Needs `npm run build` (the sweep runs as a command).
     */
    it('leaves no registre_consent_ table that check reports, once the next evaluation ran', async () => {
      const engine = createEngine({ config, clock: { now: () => NOW, today: () => AT } });
      const store = (await engine.project()).datamap.stores.find((x) => x.id === 'shop');
      if (!store) throw new Error('no shop store');
      const conn = await engine.store(store);
      const visitor = String(
        (await conn.db.selectFrom('web_visits').select('visitor_id').orderBy('id').executeTakeFirstOrThrow())
          .visitor_id,
      );
      await recordConsent(
        engine,
        {
          visitor,
          purposes: ['audience-statistics'],
          choice: 'refused',
          notice: NOTICE,
          at: '2026-11-20T10:00:00Z',
        },
        API,
      );
      await engine.close();
      const pause = mkdtempSync(join(tmpdir(), 'registre-attack-pause-'));
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin', 'registre.js'), 'sweep', '--config', config, '--at', AT, '--batch-size', '2'],
        {
          env: { ...process.env, REGISTRE_TEST_PAUSE_AT: 'sweep-batch', REGISTRE_TEST_PAUSE_DIR: pause },
          stdio: 'ignore',
        },
      );
      const ended = new Promise((r) => child.on('close', r));
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(pause, 'sweep-batch.paused')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(join(pause, 'sweep-batch.paused'))).toBe(true);
      child.kill('SIGKILL');
      await ended;
      rmSync(pause, { recursive: true, force: true });
      const next = createEngine({ config, clock: { now: () => NOW, today: () => AT } });
      try {
        const gates = async () =>
          (await (await next.store(store)).db.introspection.getTables())
            .map((t) => t.name)
            .filter((n) => n.startsWith('registre_consent_'));
        expect(await gates(), 'the killed sweep left its gate').toHaveLength(1);
        await plan(next, { at: AT }, API);
        const report = await check(next, {}, API);
        expect
          .soft(report.issues.filter((i) => i.message.includes('registre_consent_')).map((i) => i.code))
          .toEqual([]);
        expect(await gates(), 'still there after the next plan').toEqual([]);
      } finally {
        await next.close();
      }
    });
  },
);

describe('attacks on the ledger’s input (SQLite)', () => {
  let s: Awaited<ReturnType<typeof sqliteShop>>;
  let engine: Engine;
  beforeAll(async () => {
    s = await sqliteShop();
    engine = s.open();
  });
  afterAll(async () => {
    await s?.close();
  });
  const base = { purposes: ['audience-statistics'], choice: 'given' as const, notice: NOTICE };
  const importLines = async (name: string, bytes: Buffer) => {
    const file = join(s.out, name);
    writeFileSync(file, bytes);
    return importConsents(engine, { file }, API);
  };
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({ ...base, at: '2026-11-02T10:00:00Z', ...fields });

  /**
   * PROBLEM (cosmetic, operator): a file of JSON lines saved with a byte order mark (as Windows
   * tools write UTF-8) has its first line refused as "not a JSON object", every time it is
   * imported again.
   */
  it('imports the first line of a file that starts with a byte order mark', async () => {
    const imported = await importLines(
      'bom.jsonl',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line({ visitor: 'v-bom-1' })}\r\n`)]),
    );
    expect(imported.refused).toEqual([]);
    expect(imported.rows).toBe(1);
  });

  /**
   * PROBLEM (correctness): a line that is not valid UTF-8 (a Latin-1 export, `josé` as the byte
   * E9) is read with U+FFFD in place of the letter and recorded under the keyed hash of that
   * mangled address: a consent or withdrawal of no one, reported as imported; it should be
   * refused by number as malformed.
   */
  it('refuses an import line that is not valid UTF-8 rather than record a mangled address', async () => {
    const latin1 = Buffer.from(
      `${line({ email: 'jos\u00e9@example.org', purposes: ['newsletter-sending'], choice: 'withdrawn' })}\n`,
      'latin1',
    );
    const imported = await importLines('latin1.jsonl', latin1);
    expect(imported.rows, 'recorded under a mangled address').toBe(0);
    expect(imported.refused.map((r) => r.line)).toEqual([1]);
  });

  /**
   * PROBLEM (correctness, operator): an `at` of a day that does not exist (30 February, 24:00) is
   * taken as another day (2 March, the next day) rather than refused: the ledger records a time
   * the person never chose at.
   */
  it('refuses a time on a day that does not exist', async () => {
    const feb30 = await recordConsent(
      engine,
      { ...base, visitor: 'v-feb-30', at: '2026-02-30T10:00:00Z' },
      API,
    ).then(
      () => null,
      (e: { code?: string }) => e.code,
    );
    expect(feb30).toBe('E_USAGE');
  });

  /**
   * PROBLEM (correctness, operator): the ledger takes as an address what the rest of registre
   * refuses as one (`looksLikeAddress`: no angle bracket, quote, comma or semicolon): a withdrawal
   * of `<jean@x.fr>` or `"jean@x.fr"` (pasted from a mail client or a CSV) is recorded under the
   * hash of that text, a subject no record has; it reports success, and the person's consent still
   * counts.
   */
  it('refuses an address in angle brackets or quotes instead of recording it as another subject', async () => {
    for (const email of ['<jean.attack@example.org>', '"jean.attack@example.org"']) {
      const code = await withdrawConsent(engine, { email, purposes: ['newsletter-sending'] }, API).then(
        () => null,
        (e: { code?: string }) => e.code,
      );
      expect.soft(code, email).toBe('E_USAGE');
    }
  });
});

describe('addresses in messages and in the log (SQLite)', () => {
  let s: Awaited<ReturnType<typeof sqliteShop>>;
  beforeAll(async () => {
    s = await sqliteShop();
  });
  afterAll(async () => {
    await s?.close();
  });

  /**
   * HELD (regression): an import's refused lines name no address, however malformed (in a name,
   * with two at signs, as a purpose of the wrong kind), and the audit log holds none of the
   * addresses recorded, withdrawn or refused.
   */
  it('names no address in refused lines or in the audit log', async () => {
    const engine = s.open();
    const good = ` ${(await activeSubscriber(engine, s.onShop)).email.toUpperCase()}`;
    const bad = ['Jean Dupont <jean.attack@example.org>', 'a@b@attack.example', 'paul attack@example.org'];
    const event = (email: string, choice: string, purposes = ['newsletter-sending']) =>
      JSON.stringify({ email, purposes, choice, notice: NOTICE, at: '2026-11-02T10:00:00Z', source: 'form' });
    const file = join(s.out, 'addresses.jsonl');
    writeFileSync(
      file,
      [
        event(good, 'given'),
        ...bad.map((b) => event(b, 'withdrawn')),
        event(good, 'refused', ['online-account']),
        event(good, 'withdrawn'),
      ].join('\n'),
    );
    const imported = await importConsents(engine, { file }, API);
    expect(imported.refused.map((r) => r.line)).toEqual([2, 3, 4, 5]);
    const text = JSON.stringify(imported).toLowerCase();
    for (const b of [good, ...bad])
      for (const part of b.toLowerCase().split(/[ <>]/))
        if (part.includes('@')) expect(text).not.toContain(part);
    const log = (await exportAudit(engine, {}, API)).toLowerCase();
    expect(log).toContain('consent.effect');
    for (const b of [good, ...bad])
      for (const part of b.toLowerCase().split(/[ <>]/))
        if (part.includes('@')) expect(log).not.toContain(part);
  });
});
