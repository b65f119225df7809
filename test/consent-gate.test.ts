/**
 * Issue 20, consent-gated enforcement: a visitor who withdraws (or refuses, or whose consent
 * expired) has their web visits due at once; plan counts them with the reason `no consent`,
 * explain names the ledger event that decided it, and the sweep deletes them and no other
 * visitor's; a held visit stays; a withdrawal counts from its day, never a day before; the
 * ledger's address consents gate the talent pool through the data map's effects.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../src/adapters/sql/connect.js';
import { recordConsent, withdrawConsent } from '../src/app/consent.js';
import { type Context, createEngine, type Engine } from '../src/app/engine.js';
import { explainAll } from '../src/app/explain.js';
import { addHold } from '../src/app/holds.js';
import { plan } from '../src/app/plan.js';
import { sweep } from '../src/app/sweep.js';
import { DIALECTS } from './dialects.js';
import { AT, shopIn, stateInShopServer } from './shop-helpers.js';

const API: Context = { actor: 'api:consent-gate-test' };
const NOTICE = { version: 'banner-1', sha256: createHash('sha256').update('banner text').digest('hex') };
const NOW = new Date(`${AT}T12:00:00.000Z`);
const BEFORE = '2026-11-26';

type Visit = { id: number; visitor_id: string; occurred_at: unknown };
const day = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);

describe.each(DIALECTS)('consent-gated retention on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  let dir = '';
  let config = '';
  let engine: Engine;
  /** Visitors, most visits first. */
  let recent: string[] = [];
  let visits: Visit[] = [];
  beforeAll(async () => {
    ({ out: dir, config } = await shopIn(database, 40, 5, drops));
    // On a server, the ledger is there too: its verdicts' SQL runs on that dialect.
    stateInShopServer(config);
    engine = createEngine({ config, clock: { now: () => NOW, today: () => AT } });
    visits = await onShop(async (conn) =>
      (await conn.db.selectFrom('web_visits').select(['id', 'visitor_id', 'occurred_at']).execute()).map(
        (r) => ({ id: Number(r.id), visitor_id: String(r.visitor_id), occurred_at: r.occurred_at }),
      ),
    );
    // Visitors whose visits all hold a plain valid date (the demo also stores odd ones, which are
    // `invalid`: never due, with or without a consent, until corrected).
    const plain = (v: Visit) =>
      v.occurred_at instanceof Date || /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(String(v.occurred_at));
    const odd = new Set(visits.filter((v) => !plain(v)).map((v) => v.visitor_id));
    const counts = new Map<string, number>();
    for (const v of visits)
      if (!odd.has(v.visitor_id)) counts.set(v.visitor_id, (counts.get(v.visitor_id) ?? 0) + 1);
    recent = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([v]) => v);
  });
  afterAll(async () => {
    await engine?.close();
    for (const drop of drops) await drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /** The shop through the engine's own connection (a PGlite folder takes one instance at a time). */
  const shopConn = async () => {
    const store = (await engine.project()).datamap.stores.find((x) => x.id === 'shop');
    if (!store) throw new Error('no shop store');
    return engine.store(store);
  };
  const onShop = async <T>(f: (conn: Connection) => Promise<T>) => f(await shopConn());
  const webLine = async (at: string) =>
    (await plan(engine, { at }, API)).rules.find((r) => r.rule === 'web-visits');

  it('makes a withdrawn, a refused and an expired visitor due at once; the sweep deletes their visits and no one else’s', async () => {
    expect(recent.length).toBeGreaterThanOrEqual(5);
    const [withdrawn, refused, expired, keptGiven, held] = recent as [string, string, string, string, string];
    const before = await webLine(AT);
    expect(before?.noConsent).toBeUndefined();
    const dueBefore = before?.due ?? 0;
    for (const visitor of [withdrawn, keptGiven, held])
      await recordConsent(
        engine,
        {
          visitor,
          purposes: ['audience-statistics'],
          choice: 'given',
          notice: NOTICE,
          at: '2026-06-01T10:00:00Z',
          source: 'banner',
        },
        API,
      );
    await recordConsent(
      engine,
      {
        visitor: refused,
        purposes: ['audience-statistics'],
        choice: 'refused',
        notice: NOTICE,
        at: '2026-11-27T08:00:00Z',
        source: 'banner',
      },
      API,
    );
    // Given 13 months before AT: it expired on AT.
    await recordConsent(
      engine,
      {
        visitor: expired,
        purposes: ['audience-statistics'],
        choice: 'given',
        notice: NOTICE,
        at: '2025-10-27T10:00:00Z',
        source: 'banner',
      },
      API,
    );
    const w = await withdrawConsent(engine, { visitor: withdrawn, at: '2026-11-27T09:00:00Z' }, API);
    expect(w.purposes).toEqual(['audience-statistics']);
    await withdrawConsent(engine, { visitor: held, at: '2026-11-27T09:30:00Z' }, API);
    const heldVisit = visits.find((v) => v.visitor_id === held) as Visit;
    await addHold(
      engine,
      { table: 'web_visits', id: String(heldVisit.id), reason: 'a dispute about this visit' },
      API,
    );

    const lost = (visitor: string) => visits.filter((v) => v.visitor_id === visitor);
    const dueByDate = (v: Visit) => day(v.occurred_at) <= '2025-10-27';
    const lostVisits = [withdrawn, refused, expired, held].flatMap(lost);
    const line = await webLine(AT);
    expect(line?.noConsent).toBe(lostVisits.length);
    // Every one of them is due (those due by their date already were), but the held visit.
    const newlyDue = lostVisits.filter((v) => !dueByDate(v) && v.id !== heldVisit.id).length;
    expect(newlyDue).toBeGreaterThan(0);
    expect(line?.due).toBe(dueBefore + newlyDue - (dueByDate(heldVisit) ? 1 : 0));

    // Nothing a day early: on the day before, the refusal and withdrawals had not happened, and the
    // consent given 13 months before had not expired yet.
    expect((await webLine(BEFORE))?.noConsent).toBeUndefined();

    // explain names the reason and the ledger event.
    const one = lost(withdrawn).find((v) => !dueByDate(v)) as Visit;
    const [explained] = (await explainAll(engine, { at: AT, table: 'web_visits', id: String(one.id) }, API))
      .records;
    expect(explained?.status).toBe('due');
    expect(explained?.deadline).toBe(AT);
    expect(explained?.purposes[0]).toMatchObject({
      reason: 'no consent',
      consent: { event: w.events[0], state: 'withdrawn', ended: AT },
    });
    const kept = visits.find((v) => v.visitor_id === keptGiven) as Visit;
    const [given] = (await explainAll(engine, { at: AT, table: 'web_visits', id: String(kept.id) }, API))
      .records;
    expect(given?.status).toBe(dueByDate(kept) ? 'due' : 'active');
    expect(given?.purposes[0]?.reason).toBeUndefined();

    const report = await sweep(engine, { at: AT }, API);
    expect(report.lines.find((l) => l.rule === 'web-visits')).toBeDefined();
    const after = await onShop(
      async (conn) =>
        new Set((await conn.db.selectFrom('web_visits').select('id').execute()).map((r) => Number(r.id))),
    );
    const gone = new Set([withdrawn, refused, expired]);
    for (const v of visits) {
      if (v.id === heldVisit.id) expect(after.has(v.id), 'the held visit stays').toBe(true);
      else if (gone.has(v.visitor_id) || v.visitor_id === held || dueByDate(v))
        expect(after.has(v.id), `visit ${v.id} of a visitor without consent`).toBe(false);
      else expect(after.has(v.id), `visit ${v.id} of another visitor`).toBe(true);
    }
    // The gate table is gone: nothing of registre's is left in the shop's store.
    const tables = await onShop(async (conn) => (await conn.db.introspection.getTables()).map((t) => t.name));
    expect(tables.filter((t) => t.startsWith('registre_consent_'))).toEqual([]);
    // Nothing more is due for want of consent once swept (the held visit stays held).
    const swept = await webLine(AT);
    expect(swept?.noConsent).toBe(1);
    expect(swept?.due).toBe(0);
  });

  it('gates a talent-pool candidate whose address withdrew: the effect takes them out of the pool', async () => {
    // A candidate in the talent pool, with a mixed-case address (the ledger hashes it normalised).
    const candidate = { id: 900_001, email: 'Pool.Candidate@Example.org' };
    const bool = (v: boolean) => (database.name === 'postgres' || database.name === 'pglite' ? v : v ? 1 : 0);
    await onShop(async (conn) =>
      conn.db
        .insertInto('candidates')
        .values({
          id: candidate.id,
          email: candidate.email,
          first_name: 'Pool',
          last_name: 'Candidate',
          phone: null,
          city: 'Lyon',
          cv_path: null,
          job_ref: 'JOB-1',
          status: 'rejected',
          applied_at: '2026-01-02 10:00:00',
          process_ended_at: '2026-02-01 10:00:00',
          last_contact_at: '2026-02-01 10:00:00',
          talent_pool_consent: bool(true),
          talent_pool_consent_at: '2026-02-01 10:00:00',
        })
        .execute(),
    );
    const email = ' pool.candidate@EXAMPLE.org';
    const given = {
      email,
      purposes: ['talent-pool'],
      choice: 'given' as const,
      notice: NOTICE,
      at: '2026-01-05T10:00:00Z',
      source: 'form' as const,
    };
    await recordConsent(engine, given, API);
    const [pooled] = (
      await explainAll(engine, { at: AT, table: 'candidates', id: String(candidate.id) }, API)
    ).records;
    expect(pooled).toMatchObject({ status: 'active', rule: 'talent-pool', deadline: '2028-02-01' });
    const withdrawn = await withdrawConsent(engine, { email, purposes: ['talent-pool'] }, API);
    expect(withdrawn.effects).toEqual([
      expect.objectContaining({ table: 'candidates', changed: [String(candidate.id)] }),
    ]);
    const row = await onShop(async (conn) =>
      conn.db
        .selectFrom('candidates')
        .select(['talent_pool_consent', 'talent_pool_consent_at'])
        .where('id', '=', candidate.id)
        .executeTakeFirst(),
    );
    expect(Number(row?.talent_pool_consent === true ? 1 : row?.talent_pool_consent)).toBe(0);
    expect(row?.talent_pool_consent_at ?? null).toBeNull();
    // Out of the pool: the closed-candidates rule, 3 months after the end of the process, is past.
    const [closed] = (
      await explainAll(engine, { at: AT, table: 'candidates', id: String(candidate.id) }, API)
    ).records;
    expect(closed).toMatchObject({ status: 'due', rule: 'candidates-closed', deadline: '2026-05-01' });
  });
});
