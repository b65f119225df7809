/**
 * `registre serve`: one engine, the HTTP API over it (and the scheduler), health and metrics, and
 * a clean stop: on SIGTERM or Ctrl-C it stops accepting calls, asks a long use case under way to
 * stop between two batches (the engine's signal), waits for the calls under way, closes the engine.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { listDocuments } from '../app/documents.js';
import { type Clock, createEngine, type Engine, type Mailer } from '../app/engine.js';
import { forecastFigures, planFigures } from '../app/figures.js';
import { readiness } from '../app/health.js';
import { createToken, liveTokenCount } from '../app/tokens.js';
import { RegistreError } from '../core/errors.js';
import { safeMessage } from '../core/safe-message.js';
import { buildApi, type Log } from '../http/app.js';
import { createMetrics } from './metrics.js';
import { startScheduler } from './scheduler.js';

export interface ServeOptions {
  /** The configuration file; undefined: ./registre.yaml, or the demo shop made on first start. */
  readonly config?: string | undefined;
  readonly host?: string;
  readonly port?: number;
  readonly log?: Log;
  readonly clock?: Clock;
  readonly mailer?: Mailer;
  /** Where the demo shop is made when there is no configuration (default ./demo-shop). */
  readonly demoDir?: string;
  /** Start the scheduler (default true). */
  readonly schedule?: boolean;
}

export interface Service {
  readonly engine: Engine;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** The admin token made on this start (the first one), shown once; undefined when tokens existed. */
  readonly adminToken: string | undefined;
  readonly config: string;
  /** Whether the demo shop was generated on this start. */
  readonly demo: boolean;
  stop(): Promise<void>;
}

export const jsonLog: Log = (entry) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

const SYSTEM = { actor: 'system:serve' };

/** Starts the service; resolves once it listens. */
export async function startService(options: ServeOptions = {}): Promise<Service> {
  const log = options.log ?? jsonLog;
  let config = options.config;
  let demo = false;
  if (config === undefined && !existsSync('registre.yaml')) {
    const dir = resolve(options.demoDir ?? 'demo-shop');
    config = resolve(dir, 'registre.yaml');
    if (!existsSync(config)) {
      log({ level: 'info', msg: 'no registre.yaml here: generating the demo shop', dir });
      const maker = createEngine({ config: undefined, ...(options.clock ? { clock: options.clock } : {}) });
      try {
        const { demo: makeDemo } = await import('../app/demo.js');
        await makeDemo(maker, { out: dir, customers: 1000, seed: 1 }, SYSTEM);
      } finally {
        await maker.close();
      }
      demo = true;
    }
  }
  const engine = createEngine({
    config,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.mailer ? { mailer: options.mailer } : {}),
  });
  const stopping = new AbortController();
  let adminToken: string | undefined;
  try {
    if ((await liveTokenCount(engine)) === 0)
      adminToken = await createToken(engine, { name: 'admin', scope: 'admin' }, SYSTEM).then(
        (made) => made.token,
        (error: unknown) => {
          // Another process starting on the same store made it first: its token is the one.
          if (error instanceof RegistreError && error.code === 'E_TOKEN_EXISTS') return undefined;
          throw error;
        },
      );
  } catch (error) {
    await engine.close();
    throw error;
  }
  const metrics = createMetrics(engine);
  const scheduler =
    options.schedule === false ? undefined : await startSchedulerIfAny(engine, log, stopping.signal);
  const app = await buildApi(engine, {
    log,
    signal: stopping.signal,
    onResponse: metrics.observe,
    clientOf: (c) => {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined;
      }
    },
    extend(api) {
      api.get('/healthz', (c) => c.json({ status: 'alive' }));
      api.get('/readyz', async (c) => {
        const ready = await readiness(engine);
        return c.json(ready, ready.ready ? 200 : 503);
      });
      api.get('/metrics', async (c) => {
        const { authenticate, scopeAllows } = await import('../app/tokens.js');
        const caller = await authenticate(
          engine,
          /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1],
        );
        if (!scopeAllows(caller.scope, 'read') || caller.controllerId !== null)
          return c.json(
            { error: { code: 'E_SCOPE', message: 'metrics need a read token of the company' } },
            403,
          );
        return c.body(await metrics.registry.metrics(), 200, {
          'content-type': metrics.registry.contentType,
        });
      });
    },
  });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolveServer(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log({ level: 'info', msg: 'listening', url, config: config ?? resolve('registre.yaml') });
  // Today's figures counted in the background when none are kept, so that the first plan asked
  // for does not wait for a large shop to be counted; the register's documents made ready (their
  // modules loaded, the register's parse read), so that the console's first register page does
  // not wait for them either (452 ms cold on the 1,000,000-customer shop, 22 ms warm).
  void (async () => {
    await listDocuments(engine, {}, SYSTEM).catch(() => undefined);
    await planFigures(engine, {}, SYSTEM);
    await forecastFigures(engine, {}, SYSTEM);
  })().catch((error) => log({ level: 'warn', msg: 'figures not counted', error: safeMessage(error) }));

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      log({ level: 'info', msg: 'stopping' });
      stopping.abort(new Error('the service is stopping'));
      // No new call is taken; idle keep-alive connections are closed now, busy ones when their
      // call is answered (a long sweep stops between two batches through the signal).
      const closed = new Promise<void>((done) => server.close(() => done()));
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      await closed;
      await scheduler?.stop();
      await engine.close();
      log({ level: 'info', msg: 'stopped' });
    })();
    return stopped;
  };
  return { engine, url, adminToken, config: config ?? resolve('registre.yaml'), demo, stop };
}

/** The scheduler; a failure to start it is logged, and the API serves all the same. */
async function startSchedulerIfAny(
  engine: Engine,
  log: Log,
  signal: AbortSignal,
): Promise<{ stop(): Promise<void> } | undefined> {
  try {
    return await startScheduler(engine, { log, signal });
  } catch (error) {
    log({ level: 'error', msg: 'the scheduler did not start', error: safeMessage(error) });
    return undefined;
  }
}
