/**
 * Issue 21, the scheduler on the embedded (SQLite) state store: two schedulers on one project,
 * both firing every second, run the day's sweep once between them (one claim, one sweep, one
 * `schedule.run` entry), and the next day's again; the DPO is alerted by mail when a sweep fails
 * and when the audit log does not verify; the reminders list requests by id, never by address.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type Clock, createEngine } from '../src/app/engine.js';
import { openRequest } from '../src/app/requests/lifecycle.js';
import { dayIn, listScheduledRuns, runScheduled } from '../src/app/scheduled.js';
import { startScheduler } from '../src/service/scheduler.js';
import { auditCount, editConfig, shop, sleep, until } from './shop-helpers.js';

const CTX = { actor: 'test:scheduler' };
const DAY_MS = 86_400_000;

/** The system's time moved by `offset` (a test moves to the next day). */
function movingClock(): Clock & { offset: number } {
  const clock = {
    offset: 0,
    now: () => new Date(Date.now() + clock.offset),
    today: () => clock.now().toISOString().slice(0, 10),
  };
  return clock;
}

/** The sweep every second; the check and the reminders on a day far away. */
const EVERY_SECOND = `schedule:\n  sweep: "* * * * * *"\n  check: "0 0 1 1 *"\n  reminders: "0 0 1 1 *"\n  timeZone: Europe/Paris\n`;

function outbox(dir: string, tag: RegExp): string[] {
  const folder = join(dir, '.registre', 'outbox');
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names.filter((n) => tag.test(n)).map((n) => readFileSync(join(folder, n), 'utf8'));
}

describe('the scheduler on SQLite', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('two schedulers at the same second run the day’s sweep once, and the next day’s again', async () => {
    const { out, config } = await shop(30, 7);
    dirs.push(out);
    editConfig(config, (t) => `${t}${EVERY_SECOND}`);
    const clock = movingClock();
    const engines = [createEngine({ config, clock }), createEngine({ config, clock })];
    const events: Record<string, unknown>[] = [];
    const schedulers = await Promise.all(
      engines.map((engine) => startScheduler(engine, { log: (e) => events.push(e), leaseMs: 5000 })),
    );
    try {
      expect(schedulers.map((s) => s.mode)).toEqual(['embedded', 'embedded']);
      expect(schedulers[0]?.next().sweep).toMatch(/^\d{4}-\d\d-\d\dT/);
      // Midnight in Paris on the first of January: 23:00 UTC the day before.
      expect(schedulers[0]?.next().check).toMatch(/-12-31T23:00:00/);
      const day = dayIn('Europe/Paris', clock.now());
      const done = (key: string) =>
        until(key, async () => {
          const runs = await listScheduledRuns(engines[0] as (typeof engines)[0], { job: 'sweep' }, CTX);
          return runs.find((r) => r.key === key && r.status === 'done');
        });
      const first = await done(`sweep:${day}`);
      expect(first.attempts).toBe(1);
      expect(first.summary).toMatchObject({ changed: expect.any(Number), skipped: 0 });
      // More ticks of both schedulers: the run stays done, once.
      await sleep(2500);
      const state = join(out, '.registre', 'state.sqlite');
      expect(auditCount(state, 'sweep.start')).toBe(1);
      expect(auditCount(state, 'schedule.run')).toBe(1);
      expect(events.filter((e) => e.event === 'schedule.run' && e.outcome === 'done')).toHaveLength(1);
      expect(events.some((e) => e.event === 'schedule.run' && e.outcome === 'finished')).toBe(true);

      clock.offset += DAY_MS;
      const next = dayIn('Europe/Paris', clock.now());
      expect(next).not.toBe(day);
      await done(`sweep:${next}`);
      await sleep(1500);
      expect(auditCount(state, 'sweep.start')).toBe(2);
      expect(auditCount(state, 'schedule.run')).toBe(2);
      const runs = await listScheduledRuns(engines[1] as (typeof engines)[1], {}, CTX);
      expect(runs.map((r) => r.key)).toEqual([`sweep:${next}`, `sweep:${day}`]);
      // No personal data in the log of the runs.
      const db = new Database(state, { readonly: true });
      const data = db.prepare("SELECT data FROM audit_log WHERE kind = 'schedule.run'").all() as {
        data: string;
      }[];
      db.close();
      for (const { data: d } of data) {
        expect(d).not.toMatch(/@/);
        expect(JSON.parse(d)).toMatchObject({ job: 'sweep', outcome: 'done', actor: 'scheduler' });
      }
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
      await Promise.all(engines.map((e) => e.close()));
    }
  });

  it('alerts the DPO when a sweep fails, and when the audit log does not verify', async () => {
    const { out, config } = await shop(10, 3);
    dirs.push(out);
    const engine = createEngine({ config });
    try {
      // A first sweep: the state store and its log exist.
      const ran = await runScheduled(engine, { job: 'sweep', day: '2026-11-20' }, CTX);
      expect(ran).toMatchObject({ outcome: 'done', key: 'sweep:2026-11-20' });
      expect(outbox(out, /schedule-sweep-2026-11-20/)).toEqual([]);
      // The same key again: finished, nothing run.
      expect(await runScheduled(engine, { job: 'sweep', day: '2026-11-20' }, CTX)).toMatchObject({
        outcome: 'finished',
        status: 'done',
      });

      // A store that cannot be opened: the sweep fails, and the DPO is told.
      editConfig(config, (t) => t.replace(/url: "?sqlite:shop\.sqlite"?/, 'url: sqlite:missing/shop.sqlite'));
      const failed = await runScheduled(engine, { job: 'sweep', day: '2026-11-21' }, CTX);
      expect(failed).toMatchObject({ outcome: 'failed', status: 'failed' });
      expect(failed.summary).toMatchObject({ code: expect.stringMatching(/^E_/), mail: 'sent' });
      const [alert] = outbox(out, /schedule-sweep-2026-11-21/);
      expect(alert).toMatch(/To: dpo@negomarkets\.example/);
      expect(alert).toMatch(/sweep of 2026-11-21 failed/);
      editConfig(config, (t) => t.replace('url: sqlite:missing/shop.sqlite', 'url: sqlite:shop.sqlite'));

      // The log edited behind registre's back: the check alerts, and the next sweep refuses and alerts.
      const state = new Database(join(out, '.registre', 'state.sqlite'));
      state.prepare('DELETE FROM audit_log WHERE position = (SELECT max(position) FROM audit_log)').run();
      state.close();
      const checked = await runScheduled(engine, { job: 'check', day: '2026-11-22' }, CTX);
      expect(checked.outcome).toBe('done');
      expect(checked.summary).toMatchObject({ audit: { problems: expect.any(Number) }, mail: 'sent' });
      expect((checked.summary?.audit as { problems?: number } | undefined)?.problems).toBeGreaterThan(0);
      const [checkAlert] = outbox(out, /schedule-check-2026-11-22/);
      expect(checkAlert).toMatch(/does not verify/);
      const refused = await runScheduled(engine, { job: 'sweep', day: '2026-11-22' }, CTX);
      expect(refused).toMatchObject({ outcome: 'failed', summary: { code: 'E_LOG_BROKEN', mail: 'sent' } });
      expect(outbox(out, /schedule-sweep-2026-11-22/)).toHaveLength(1);
      const runs = await listScheduledRuns(engine, {}, CTX);
      expect(runs.find((r) => r.key === 'sweep:2026-11-22')).toMatchObject({
        status: 'failed',
        alive: false,
      });
    } finally {
      await engine.close();
    }
  });

  it('takes over a run whose process died, and leaves alone one whose process beats', async () => {
    const { out, config } = await shop(10, 5);
    dirs.push(out);
    const engine = createEngine({ config });
    try {
      expect(await runScheduled(engine, { job: 'check', day: '2026-11-20' }, CTX)).toMatchObject({
        outcome: 'done',
      });
      const at = new Date().toISOString();
      const state = new Database(join(out, '.registre', 'state.sqlite'));
      const claim = state.prepare(
        "INSERT INTO scheduled_runs VALUES (?, 'sweep', ?, 'running', ?, 1, ?, ?, ?, NULL, NULL)",
      );
      claim.run('sweep:2026-11-24', '2026-11-24', `${hostname()} pid ${process.pid} #alive`, at, at, at);
      claim.run('sweep:2026-11-25', '2026-11-25', `${hostname()} pid 2147483646 #killed`, at, at, at);
      state.close();
      expect(await runScheduled(engine, { job: 'sweep', day: '2026-11-24' }, CTX)).toMatchObject({
        outcome: 'busy',
        status: 'running',
      });
      const taken = await runScheduled(engine, { job: 'sweep', day: '2026-11-25' }, CTX);
      expect(taken).toMatchObject({ outcome: 'done', attempts: 2 });
      expect(
        (await listScheduledRuns(engine, {}, CTX)).find((r) => r.key === 'sweep:2026-11-24'),
      ).toMatchObject({
        status: 'running',
        alive: true,
      });
    } finally {
      await engine.close();
    }
  });

  it('reminds the DPO of requests due within 7 days and overdue, by id, never by address', async () => {
    const { out, config } = await shop(5, 4);
    dirs.push(out);
    const today = new Date().toISOString().slice(0, 10);
    const engine = createEngine({ config });
    try {
      const none = await runScheduled(engine, { job: 'reminders', day: today }, CTX);
      expect(none).toMatchObject({ outcome: 'done', summary: { due: 0, overdue: 0 } });
      // Received 40 days ago: a month's deadline passed; received 25 days ago: due within the week.
      const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);
      const late = await openRequest(
        engine,
        { type: 'access', email: 'late@example.org', received: ago(40) },
        CTX,
      );
      const soon = await openRequest(
        engine,
        { type: 'erasure', email: 'soon@example.org', received: ago(26) },
        CTX,
      );
      const tomorrow = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
      const sent = await runScheduled(engine, { job: 'reminders', day: tomorrow }, CTX);
      expect(sent).toMatchObject({ outcome: 'done', summary: { due: 1, overdue: 1, mail: 'sent' } });
      const [mail] = outbox(out, new RegExp(`schedule-reminders-${tomorrow}`));
      expect(mail).toMatch(new RegExp(`request ${late.id} \\(access`));
      expect(mail).toMatch(new RegExp(`request ${soon.id} \\(erasure`));
      expect(mail).not.toMatch(/late@example|soon@example/);
    } finally {
      await engine.close();
    }
  });
});
