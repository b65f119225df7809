/**
 * One engine behind every edge: built once, every use case called on it with typed inputs, twice,
 * on SQLite and on PGlite, each store opened once; nothing left open after close(); no use case
 * without an actor; the layers as the dependency check and this test hold them.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeKeyFile } from '../src/adapters/files/key-file.js';
import { type Context, createEngine, type Engine, type ProgressEvent } from '../src/app/engine.js';
import { newPackageFolder } from '../src/app/requests/packages.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { AT, ROOT, shop, shopIn, withShop } from './shop-helpers.js';

const API: Context = { actor: 'api:engine-test' };

/** Every use case of USE_CASES once, in an order that lets each do its work; what each called. */
async function everyUseCase(
  engine: Engine,
  dir: string,
  round: number,
  tick: (minutes: number) => void,
  customer: string,
): Promise<string[]> {
  const called: string[] = [];
  const call = async <N extends keyof typeof USE_CASES>(
    name: N,
    input: Parameters<(typeof USE_CASES)[N]['run']>[1],
    ctx: Context = API,
  ) => {
    called.push(name);
    // biome-ignore lint/suspicious/noExplicitAny: the registry's runs, each with its own input
    return (USE_CASES[name].run as any)(engine, input, ctx);
  };
  const email = `person-${round}@example.org`;
  const events: ProgressEvent[] = [];
  expect((await call('check', {}, { ...API, onProgress: (e) => events.push(e) })).issues).toEqual([]);
  expect(events.at(-1)).toMatchObject({ phase: 'check', done: 1, total: 1 });
  expect((await call('plan', { at: AT })).rules.length).toBeGreaterThan(0);
  const rule = (await call('plan', { at: AT })).rules[0].rule as string;
  expect((await call('planList', { at: AT, rule, limit: 2 })).limit).toBe(2);
  expect((await call('forecast', { from: AT, months: 2 })).months).toHaveLength(2);
  expect((await call('showRegister', {})).register.retention.length).toBeGreaterThan(5);
  expect((await call('listDocuments', {})).names).toContain('register.dpv.jsonld');
  expect(String((await call('makeDocument', { name: 'privacy-notice.fr.md' })).content)).toContain('#');
  // Today's figures: counted once, then served with the time they were counted (fresh counts again).
  const counted = await call('planFigures', { fresh: true });
  expect(counted.figures.cached).toBe(false);
  const kept = await call('planFigures', {});
  expect(kept.figures).toEqual({ cached: true, computedAt: counted.figures.computedAt });
  expect(kept.totals).toEqual(counted.totals);
  expect((await call('forecastFigures', { months: 3 })).months).toHaveLength(3);
  await call('explain', { at: AT, table: 'customers', id: '1' });
  const hold = await call('addHold', { table: 'customers', id: '1', reason: `case ${round}` });
  expect((await call('listHolds', {})).map((h: { id: number }) => h.id)).toContain(hold.id);
  await call('releaseHold', { id: hold.id });
  const sweepEvents: ProgressEvent[] = [];
  const swept = await call('sweep', { at: AT }, { ...API, onProgress: (e) => sweepEvents.push(e) });
  // The total is known before the first batch: the plan's due records.
  if (round === 1) {
    expect(swept.total).toBeGreaterThan(0);
    expect(sweepEvents[0]).toMatchObject({ phase: 'sweep', done: 0 });
    expect(sweepEvents[0]?.total).toBeGreaterThan(0);
    expect(sweepEvents.at(-1)?.done).toBe(swept.total);
  }
  expect((await call('status', {})).runs.length).toBeGreaterThan(0);
  const seen = await call('overview', {});
  expect(seen.sweeps.last?.id).toBe(swept.run);
  expect(seen.pastDeadline.total).toBe((await call('planFigures', {})).totals.due);
  expect(seen.forecast.months).toHaveLength(12);
  const opened = await call('openRequest', { type: 'access', email, lang: 'en' });
  tick(2); // a new code at most once a minute
  await call('resendCode', { id: opened.id });
  await call('verifyRequest', { id: opened.id, code: lastCode(dir) });
  const ran = await call('runRequest', {
    id: opened.id,
    out: await newPackageFolder(engine, opened.id),
    delivery: 'none',
  });
  expect(ran.request).toBe(opened.id);
  const packaged = await call('listPackage', { id: opened.id });
  expect(packaged.files.map((f: { name: string }) => f.name)).toContain('access.json');
  expect(
    JSON.parse(String((await call('readPackageFile', { id: opened.id, name: 'access.json' })).content)),
  ).toHaveProperty('subject');
  expect((await call('showRequest', { id: opened.id })).status).toBe('done');
  // By address alone (the public flow): the same answer opened or not, a new code, verified by it.
  const asker = `asker-${round}@example.org`;
  expect(await call('askRequest', { type: 'portability', email: asker, lang: 'en' })).toEqual({
    status: 'accepted',
  });
  tick(2);
  expect(await call('sendCodeByAddress', { email: asker })).toEqual({ status: 'accepted' });
  expect(await call('verifyByAddress', { email: asker, code: lastCode(dir) })).toMatchObject({
    type: 'portability',
    status: 'verified',
  });
  const refused = await call('openRequest', { type: 'erasure', email });
  await call('extendRequest', { id: refused.id, months: 1, reason: 'several stores' });
  await call('refuseRequest', { id: refused.id, reason: 'manifestly unfounded' });
  await call('sendLetters', { id: refused.id }).catch((error: { code?: string }) => {
    // Every letter went: nothing owed is the answer.
    expect(error.code).toBe('E_NO_LETTER');
  });
  const restriction = await call('openRequest', { type: 'restriction', email: customer });
  await call('verifyRequest', { id: restriction.id, manual: true, reason: 'at the desk' });
  await call('runRequest', { id: restriction.id, delivery: 'none' });
  await call('liftRestriction', { id: restriction.id });
  expect((await call('listRequests', {})).length).toBeGreaterThanOrEqual(3 * round);
  const notice = { version: `v${round}`, sha256: 'a'.repeat(64) };
  // The engine's day is AT (its instant is the real one): the choices are made on that day.
  const chosen = `${AT}T10:0${round}:00Z`;
  const visitor = `visitor-${round}`;
  await call('recordConsent', {
    visitor,
    purposes: ['audience-statistics'],
    choice: 'given',
    notice,
    at: chosen,
  });
  const lines = join(dir, `consents-${round}.jsonl`);
  writeFileSync(
    lines,
    `${JSON.stringify({ email, purposes: ['newsletter-sending'], choice: 'given', notice })}\n`,
  );
  expect((await call('importConsents', { file: lines })).events).toBe(1);
  expect((await call('checkConsent', { visitor, purpose: 'audience-statistics' })).current).toBe(true);
  expect((await call('consentStatus', { email })).purposes.length).toBeGreaterThan(0);
  expect((await call('withdrawConsent', { visitor, at: chosen.replace(':00Z', ':30Z') })).purposes).toEqual([
    'audience-statistics',
  ]);
  expect((await call('consentProof', { visitor })).events).toHaveLength(2);
  await call('replayErasures', { dryRun: true });
  const listed = `listed-${round}@example.org`;
  expect((await call('addSuppression', { email: listed })).added).toBe(true);
  expect(await call('checkSuppression', { email: listed })).toMatchObject({
    listed: true,
    underPreviousKey: false,
  });
  // Round 2 runs after round 1's rotation: round 1's address is found under the previous key.
  expect(await call('checkSuppression', { email: 'listed-1@example.org' })).toMatchObject({
    listed: true,
    underPreviousKey: round === 2,
  });
  writeFileSync(join(dir, `mailing-${round}.csv`), `email\n${listed}\nkept@example.org\n`);
  const filterEvents: ProgressEvent[] = [];
  expect(
    await call(
      'filterMailing',
      { file: join(dir, `mailing-${round}.csv`), out: join(dir, `mailing-${round}-clean.csv`) },
      { ...API, onProgress: (e) => filterEvents.push(e) },
    ),
  ).toMatchObject({ rows: 2, kept: 1, removed: 1, invalid: 0 });
  expect(filterEvents.at(-1)).toMatchObject({ phase: 'filter', done: filterEvents.at(-1)?.total });
  const day = `2026-11-0${round}`;
  expect(await call('runScheduled', { job: 'reminders', day })).toMatchObject({
    key: `reminders:${day}`,
    outcome: 'done',
  });
  expect((await call('listScheduledRuns', {})).map((r: { key: string }) => r.key)).toContain(
    `reminders:${day}`,
  );
  // The register of breaches: a breach of the card data of payments, counted through the data map.
  const breach = await call('recordBreach', {
    discoveredAt: '2026-11-20T10:00:00Z',
    kinds: ['confidentiality'],
    nature: `backup exposed, round ${round}`,
    records: ['payments'],
    categories: ['payment-card'],
    consequences: 'card fraud attempts',
    measures: 'server closed',
  });
  expect(breach.affected.records).toBeGreaterThan(0);
  expect((await call('listBreaches', {})).map((b: { id: number }) => b.id)).toContain(breach.id);
  expect((await call('showBreach', { id: breach.id })).letters.fr.text).toContain('NEGOMARKETS');
  expect(
    await call('decideBreach', { id: breach.id, notify: false, reason: 'tokens only', version: 0 }),
  ).toMatchObject({ status: 'not-notified', version: 1 });
  expect(await call('informBreach', { id: breach.id, inform: true })).toMatchObject({ version: 2 });
  expect(String((await call('exportBreachRegister', { format: 'csv' })).content)).toContain('tokens only');
  const made = await call('createToken', { name: `site-${round}`, scope: 'operate' });
  expect(made.token).toMatch(/^rgt_/);
  expect((await call('listTokens', {})).map((t: { name: string }) => t.name)).toContain(`site-${round}`);
  expect(await call('revokeToken', { name: `site-${round}` })).toMatchObject({ name: `site-${round}` });
  expect(await call('readArchive', { table: 'customers', reason: 'audit' })).toBeInstanceOf(Array);
  expect((await call('verifyAudit', {})).problems).toEqual([]);
  await call('acceptHead', { reason: `checked, round ${round}` });
  const key = await call('generateKey', { out: join(dir, `.registre/next-${round}.key`) });
  await call('rotateKey', { to: key.reference });
  expect((await call('verifyAudit', {})).problems).toEqual([]);
  const exported = (await call('exportAudit', {})) as string;
  expect(exported).toContain('"kind":"key.rotate"');
  // The inspection report from the engine's day (AT; the entries carry the real instant, later):
  // this round's sweep, requests, hold and rotation.
  const report = await call('inspectionReport', { from: AT, to: '2099-12-31' });
  expect(report.period).toEqual({ from: AT, to: '2099-12-31' });
  const sweptRun = report.sweeps.find((s: { run: number }) => s.run === swept.run);
  expect(sweptRun?.total).toBe(swept.total);
  expect(report.requests.map((r: { id: number }) => r.id)).toEqual(
    expect.arrayContaining([opened.id, refused.id, restriction.id]),
  );
  expect(report.requests.find((r: { id: number }) => r.id === refused.id)?.status).toBe('refused');
  expect(report.holds.map((h: { id: number }) => h.id)).toContain(hold.id);
  expect(report.keyRotations).toHaveLength(round);
  const last = JSON.parse(exported.trim().split('\n').at(-1) as string);
  expect(report.chain).toMatchObject({ whole: true, checkpoint: { seq: last.seq, hash: last.hash } });
  await expect(call('inspectionReport', { from: '2026-12-01', to: '2026-01-01' })).rejects.toMatchObject({
    code: 'E_USAGE',
  });
  return called;
}

describe.each(DIALECTS.filter((d) => d.name === 'sqlite' || d.name === 'pglite'))(
  'one engine on $name',
  (database) => {
    it('calls every use case twice with typed inputs, opening each store once; the log names the actor, never os:', async () => {
      const drops: (() => Promise<void>)[] = [];
      try {
        const { config, out } = await shopIn(database, 12, 3, drops);
        // The demo's configuration reads the key from the environment; a rotation needs a file.
        writeKeyFile(join(out, '.registre', 'first.key'));
        writeFileSync(
          config,
          readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: file:.registre/first.key'),
        );
        let now = Date.now();
        const tick = (minutes: number) => {
          now += minutes * 60_000;
        };
        const engine = createEngine({ config, clock: { now: () => new Date(now), today: () => AT } });
        try {
          // A customer with records, whose restriction holds something to lift.
          const customer = await withShop(config, async (conn) =>
            String(
              (await conn.db.selectFrom('customers').select('email').orderBy('id', 'desc').executeTakeFirst())
                ?.email,
            ),
          );
          const first = await everyUseCase(engine, out, 1, tick, customer);
          const second = await everyUseCase(engine, out, 2, tick, customer);
          expect(second).toEqual(first);
          // Every use case but the demo (which makes a project: test below) and the rule listing.
          const all = new Set([...first, 'demo']);
          expect([...all].sort()).toEqual(Object.keys(USE_CASES).sort());
          // One connection per store for the engine's life; the state store once per key in force
          // (each rotation seals with a new key) and after each accepted head.
          expect(engine.opened()).toEqual({ shop: 1, archive: 1, state: 1 + 2 * 2 });
          const log = (await USE_CASES.exportAudit.run(engine, {}, API)) as string;
          const actors = log
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { data: { actor?: string } }).data.actor)
            .filter((a) => a !== undefined);
          expect(actors.length).toBeGreaterThan(20);
          expect(actors.filter((a) => a !== API.actor)).toEqual([]);
        } finally {
          await engine.close();
        }
      } finally {
        for (const drop of drops) await drop();
      }
    }, 300_000);
  },
);

describe('the engine', () => {
  it('demo writes a project through an engine that opens nothing else, and close() leaves no handle open', async () => {
    // Timers come and go with other tests' work: the handles an engine could leave are the rest.
    const handles = () => {
      const n: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (r !== 'Timeout') n[r] = (n[r] ?? 0) + 1;
      return n;
    };
    const was = handles();
    const out = mkdtempSync(join(tmpdir(), 'registre-engine-'));
    const engine = createEngine();
    const events: ProgressEvent[] = [];
    const report = await USE_CASES.demo.run(
      engine,
      { out, customers: 5, seed: 1, at: AT },
      { ...API, onProgress: (e) => events.push(e) },
    );
    expect(events.at(-1)).toMatchObject({ phase: 'generate', done: 5, total: 5 });
    await engine.close();
    const project = createEngine({ config: report.config });
    const plan = await USE_CASES.plan.run(project, { at: AT }, API);
    expect(plan.totals.active).toBeGreaterThan(0);
    await project.close();
    await expect(USE_CASES.plan.run(project, { at: AT }, API)).rejects.toMatchObject({
      code: 'E_ENGINE_CLOSED',
    });
    for (const [kind, n] of Object.entries(handles())) expect(n, kind).toBeLessThanOrEqual(was[kind] ?? 0);
  });

  it('refuses an input its schema refuses, naming the field, before opening anything', async () => {
    const engine = createEngine({ config: join(ROOT, 'no-such-folder', 'registre.yaml') });
    try {
      await expect(USE_CASES.sweep.run(engine, { at: AT, batchSize: 0 }, API)).rejects.toMatchObject({
        code: 'E_USAGE',
        path: ['batchSize'],
        message: '`batchSize` must be a whole number from 1 to 1,000,000 (got 0)',
      });
      await expect(
        USE_CASES.planList.run(engine, { at: '2026-02-30', rule: 'x' }, API),
      ).rejects.toMatchObject({ path: ['at'] });
      await expect(
        // biome-ignore lint/suspicious/noExplicitAny: an input the types refuse, as a JSON body may hold
        USE_CASES.plan.run(engine, { at: AT, limit: 3 } as any, API),
      ).rejects.toMatchObject({ code: 'E_USAGE', path: ['limit'] });
      expect(engine.opened()).toEqual({});
    } finally {
      await engine.close();
    }
  });

  it('a use case called without an actor does not compile', () => {
    const engine = createEngine();
    const call = () =>
      // @ts-expect-error the context's actor is required: nothing is logged under the process's account
      USE_CASES.plan.run(engine, { at: AT }, {});
    expect(typeof call).toBe('function');
  });

  it('src/app prints nothing, reads no configuration path and takes the actor from its caller', () => {
    const files = execFileSync('git', ['ls-files', 'src/app'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const where = relative(ROOT, join(ROOT, file));
      expect(text, where).not.toMatch(/process\.(stdout|stderr)|console\.(log|error|warn)/);
      // The engine is built from the configuration's path, and no use case on the project takes
      // one; register.ts works on the files a command names (validate, docs), before any project.
      if (!/\/(engine|project|register)\.ts$/.test(file))
        expect(text, where).not.toMatch(/configFile: string/);
      expect(text, where).not.toMatch(/currentActor|userInfo\(/);
      expect(statSync(join(ROOT, file)).isFile()).toBe(true);
    }
  });
});

describe('many callers at once', () => {
  it('one engine serves concurrent reads and writes: each store opened once, every hold recorded', async () => {
    const { config } = await shop(20, 6);
    const engine = createEngine({ config, clock: { now: () => new Date(), today: () => AT } });
    try {
      const results = await Promise.all([
        ...Array.from({ length: 6 }, () => USE_CASES.plan.run(engine, { at: AT }, API)),
        ...Array.from({ length: 6 }, (_, i) =>
          USE_CASES.addHold.run(engine, { table: 'customers', id: String(i + 1), reason: `case ${i}` }, API),
        ),
        ...Array.from({ length: 4 }, () =>
          USE_CASES.explain.run(engine, { at: AT, table: 'orders', id: '1' }, API),
        ),
      ]);
      expect(results).toHaveLength(16);
      const holds = await USE_CASES.listHolds.run(engine, {}, API);
      expect(holds.map((h) => h.records[0]?.key).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
      expect((await USE_CASES.verifyAudit.run(engine, {}, API)).problems).toEqual([]);
      expect(engine.opened()).toEqual({ shop: 1, archive: 1, state: 1 });
    } finally {
      await engine.close();
    }
  });
});

describe('the mailer', () => {
  it("is the engine's: a code and a letter go through the one given, none to the outbox", async () => {
    const { config, out } = await shop(5, 9);
    const sent: { to: string; subject: string; text: string }[] = [];
    const engine = createEngine({
      config,
      mailer: async (_project, _from, message) => {
        sent.push(message);
        return { via: 'test', messageId: String(sent.length) };
      },
    });
    try {
      const opened = await USE_CASES.openRequest.run(
        engine,
        { type: 'access', email: 'Mail@Example.org' },
        API,
      );
      expect(sent).toHaveLength(1);
      expect(sent[0]?.to).toBe('mail@example.org');
      const code = /\b(\d{6})\b/.exec(sent[0]?.text ?? '')?.[1] as string;
      await USE_CASES.verifyRequest.run(engine, { id: opened.id, code }, API);
      await USE_CASES.refuseRequest.run(engine, { id: opened.id, reason: 'not the person' }, API);
      expect(sent).toHaveLength(2);
      expect(existsSync(join(out, '.registre', 'outbox'))).toBe(false);
    } finally {
      await engine.close();
    }
  });
});

describe('a sweep stopped by its caller', () => {
  it('ends between two batches: what it did stays applied and logged, the run is failed (E_CANCELLED), the next sweep does the rest', async () => {
    const { config } = await shop(40, 4);
    const engine = createEngine({ config, clock: { now: () => new Date(), today: () => AT } });
    try {
      const planned = (await USE_CASES.plan.run(engine, { at: AT }, API)).totals.due;
      expect(planned).toBeGreaterThan(20);
      const stop = new AbortController();
      const seen: ProgressEvent[] = [];
      await expect(
        USE_CASES.sweep.run(
          engine,
          { at: AT, batchSize: 5 },
          {
            ...API,
            signal: stop.signal,
            onProgress: (e) => {
              seen.push(e);
              if (e.done > 0) stop.abort();
            },
          },
        ),
      ).rejects.toMatchObject({ code: 'E_CANCELLED', kind: 'failed' });
      const done = seen.at(-1)?.done ?? 0;
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(planned);
      const status = await USE_CASES.status.run(engine, {}, API);
      expect(status.runs[0]?.status).toBe('failed');
      expect(status.locks).toEqual([]);
      const log = (await USE_CASES.exportAudit.run(engine, {}, API)) as string;
      expect(log).toContain('"kind":"sweep.failed"');
      expect(log).toContain('"code":"E_CANCELLED"');
      // Nothing was lost and nothing is done twice: the next sweep takes what is left.
      const rest = await USE_CASES.sweep.run(engine, { at: AT }, API);
      expect(rest.total).toBeGreaterThan(0);
      expect((await USE_CASES.plan.run(engine, { at: AT }, API)).totals.due).toBe(0);
      expect((await USE_CASES.verifyAudit.run(engine, {}, API)).problems).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});

describe('Ctrl-C on registre sweep', () => {
  it('stops after the batch under way: exit 1, the run failed and logged, the log whole, the next sweep finishes', async () => {
    const { config } = await shop(30, 11);
    const pause = mkdtempSync(join(tmpdir(), 'registre-pause-'));
    const bin = join(ROOT, 'bin', 'registre.js');
    const child = spawn(
      process.execPath,
      [bin, 'sweep', '--config', config, '--at', AT, '--batch-size', '5'],
      {
        env: { ...process.env, REGISTRE_TEST_PAUSE_AT: 'sweep-batch', REGISTRE_TEST_PAUSE_DIR: pause },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const ended = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(pause, 'sweep-batch.paused')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(pause, 'sweep-batch.paused'))).toBe(true);
    // Paused after its first batch: Ctrl-C, then let it go on.
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(join(pause, 'sweep-batch.go'), '');
    expect(await ended).toBe(1);
    expect(stderr).toContain('stopping after the batch under way');
    expect(stderr).toContain('the sweep was stopped between two batches');
    const engine = createEngine({ config, clock: { now: () => new Date(), today: () => AT } });
    try {
      const status = await USE_CASES.status.run(engine, {}, API);
      expect(status.runs[0]?.status).toBe('failed');
      expect(status.locks).toEqual([]);
      expect((await USE_CASES.verifyAudit.run(engine, {}, API)).problems).toEqual([]);
      expect((await USE_CASES.sweep.run(engine, { at: AT }, API)).total).toBeGreaterThan(0);
      expect((await USE_CASES.plan.run(engine, { at: AT }, API)).totals.due).toBe(0);
    } finally {
      await engine.close();
    }
  });
});

describe('the library', () => {
  it('the built package is imported by its name from another project, and plans a demo shop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registre-library-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'registre'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(
      join(dir, 'plan.js'),
      `import { createEngine, demo, plan, RegistreError } from 'registre';
const ctx = { actor: 'script:library-test' };
const maker = createEngine();
const { config } = await demo(maker, { out: 'shop', customers: 8, seed: 2, at: '${AT}' }, ctx);
await maker.close();
const engine = createEngine({ config });
try {
  const p = await plan(engine, { at: '${AT}' }, ctx);
  const refused = await plan(engine, { at: 'soon' }, ctx).catch((e) => e instanceof RegistreError && e.path.join('.'));
  process.stdout.write(JSON.stringify({ rules: p.rules.length, active: p.totals.active, refused }));
} finally {
  await engine.close();
}
`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['plan.js'], { cwd: dir, encoding: 'utf8' }));
    expect(out.rules).toBeGreaterThan(5);
    expect(out.active).toBeGreaterThan(0);
    expect(out.refused).toBe('at');
    // The package's entry points name files that exist (the types come with `npm run build`).
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(statSync(join(ROOT, pkg.exports['.'].import)).isFile()).toBe(true);
    expect(pkg.main).toBe(pkg.exports['.'].import);
  });
});
