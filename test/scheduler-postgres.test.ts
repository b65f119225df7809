/**
 * Issue 21, the scheduler on a PostgreSQL state store (pg-boss): two `registre serve` processes
 * (each its own engine, API and scheduler) scheduled at the same second run one sweep between
 * them; when the one running it is killed (SIGKILL) in the middle of the sweep, the other takes
 * the day's run over and finishes it. Only with REGISTRE_TEST_POSTGRES_URL (a real server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/audit.js';
import { createEngine } from '../src/app/engine.js';
import { dayIn, listScheduledRuns, schedulerSettings } from '../src/app/scheduled.js';
import { bossSchemaOf } from '../src/service/scheduler.js';
import { DIALECTS } from './dialects.js';
import { BIN, editConfig, shopIn, sleep, stateInShopServer, until } from './shop-helpers.js';

const CTX = { actor: 'test:scheduler' };
const BASE = process.env.REGISTRE_TEST_POSTGRES_URL;
// Every second, and a run whose process died is taken over after 3 s (lease, pg-boss's expiry).
const EVERY_SECOND = `schedule:\n  sweep: "* * * * * *"\n  check: "0 0 1 1 *"\n  reminders: "0 0 1 1 *"\n  timeZone: Europe/Paris\n  takeoverSeconds: 3\n`;

interface Service {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** `registre serve` on a free port, its JSON log lines collected. */
function service(config: string, env: NodeJS.ProcessEnv = {}): Service {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', '0'], {
    env: { ...process.env, ...env },
  });
  const events: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    buffered += String(d);
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines)
      if (line.trim()) events.push({ pid: child.pid, ...(JSON.parse(line) as Record<string, unknown>) });
  });
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, events, exited, stderr: () => stderr };
}

async function stopAll(services: readonly Service[]): Promise<void> {
  for (const s of services)
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(
    services.map((s) =>
      Promise.race([s.exited, sleep(20_000).then(() => s.child.kill('SIGKILL'))]).catch(() => {}),
    ),
  );
}

async function countKind(config: string, kind: string): Promise<number> {
  const engine = createEngine({ config });
  try {
    const state = await engine.state('read');
    return (await state.auditEntries([kind])).length;
  } finally {
    await engine.close();
  }
}

describe.skipIf(!BASE || !DIALECTS.some((d) => d.name === 'postgres'))(
  'the scheduler on PostgreSQL (pg-boss)',
  () => {
    const database = DIALECTS.find((d) => d.name === 'postgres');
    const drops: (() => Promise<void>)[] = [];
    const dirs: string[] = [];
    afterAll(async () => {
      for (const drop of drops.reverse()) await drop().catch(() => {});
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    /** A shop, its state store and archive in a schema of the server, scheduled every second. */
    async function project() {
      if (!database) throw new Error('no PostgreSQL');
      const { out, config } = await shopIn(database, 30, 11, drops);
      dirs.push(out);
      expect(stateInShopServer(config)).toBe(true);
      editConfig(config, (t) => `${t}${EVERY_SECOND}`);
      const engine = createEngine({ config });
      let bossSchema: string;
      try {
        const settings = await schedulerSettings(engine);
        expect(settings.stateKind).toBe('postgres');
        bossSchema = bossSchemaOf(settings.stateSchema);
        expect(bossSchema).toMatch(/^registre_test_[0-9a-f]+_boss$/);
        // The state store exists before the services start (as a deployed one does).
        await engine.state('write');
      } finally {
        await engine.close();
      }
      drops.push(async () => {
        const c = new pg.Client({ connectionString: BASE });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`);
        await c.end();
      });
      return { out, config };
    }

    it('two services scheduled at the same second run one sweep between them', async () => {
      const { config } = await project();
      const day = dayIn('Europe/Paris', new Date());
      const services = [service(config), service(config)];
      try {
        await until('both services ready', () => {
          // A service that ended says why (its stderr), rather than a wait that times out.
          const ended = services.find((s) => s.child.exitCode !== null);
          if (ended) throw new Error(`a service exited ${ended.child.exitCode}: ${ended.stderr()}`);
          return services.every((s) => s.events.some((e) => e.msg === 'listening')) ? true : undefined;
        });
        const engine = createEngine({ config });
        try {
          await until('the sweep run done', async () =>
            (await listScheduledRuns(engine, { job: 'sweep' }, CTX)).find(
              (r) => r.key === `sweep:${day}` && r.status === 'done',
            ),
          );
        } finally {
          await engine.close();
        }
        // Both keep enqueueing every second for a while: nothing runs again.
        await sleep(4000);
      } finally {
        await stopAll(services);
      }
      const done = services
        .flatMap((s) => s.events)
        .filter((e) => e.event === 'schedule.run' && e.outcome === 'done');
      expect(done, services.map((s) => s.stderr()).join('\n')).toHaveLength(1);
      expect(
        services.flatMap((s) => s.events).filter((e) => e.event === 'schedule.enqueued').length,
      ).toBeGreaterThan(2);
      expect(await countKind(config, 'sweep.start')).toBe(1);
      expect(await countKind(config, 'schedule.run')).toBe(1);
    });

    it('a service killed in the middle of the sweep: the other finishes the day’s run', async () => {
      const { out, config } = await project();
      const day = dayIn('Europe/Paris', new Date());
      const pause = { REGISTRE_TEST_PAUSE_AT: 'sweep-batch', REGISTRE_TEST_PAUSE_DIR: out };
      const paused = join(out, 'sweep-batch.paused');
      const services = [service(config, pause), service(config, pause)];
      try {
        const first = Number(
          await until('a sweep paused at its first batch', () =>
            existsSync(paused) ? readFileSync(paused, 'utf8') : undefined,
          ),
        );
        const victim = services.find((s) => s.child.pid === first);
        const survivor = services.find((s) => s.child.pid !== first);
        expect(victim).toBeDefined();
        victim?.child.kill('SIGKILL');
        await victim?.exited;
        rmSync(paused);
        // pg-boss expires the killed job, the other process takes the claim over and sweeps again.
        const second = Number(
          await until('the other sweep paused', () =>
            existsSync(paused) ? readFileSync(paused, 'utf8') : undefined,
          ),
        );
        expect(second).toBe(survivor?.child.pid);
        writeFileSync(join(out, 'sweep-batch.go'), '');
        const engine = createEngine({ config });
        try {
          const run = await until('the sweep run done', async () =>
            (await listScheduledRuns(engine, { job: 'sweep' }, CTX)).find(
              (r) => r.key === `sweep:${day}` && r.status === 'done',
            ),
          );
          expect(run.attempts).toBe(2);
          expect(run.holder).toContain(`pid ${second} `);
          const state = await engine.state('read');
          const runs = await state.allRuns();
          expect(runs.map((r) => r.status).sort()).toEqual(['done', 'failed']);
          expect(runs.find((r) => r.status === 'failed')?.summary).toMatchObject({ interrupted: true });
          expect((await verifyAudit(engine, {}, CTX)).problems).toEqual([]);
        } finally {
          await engine.close();
        }
      } finally {
        await stopAll(services);
      }
      expect(await countKind(config, 'sweep.interrupted')).toBe(1);
      expect(await countKind(config, 'schedule.run')).toBe(1);
    });
  },
);
