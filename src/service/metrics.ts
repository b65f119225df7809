/**
 * The service's metrics in the Prometheus text format (prom-client): calls by route and status,
 * and, read from the state store when scraped, sweep runs, records changed, requests open and
 * overdue. Nothing personal: routes are patterns (`/api/requests/:id`), never paths.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sweepRuns } from '../app/audit.js';
import type { Context, Engine } from '../app/engine.js';
import { USE_CASES } from '../app/use-cases.js';

export interface Metrics {
  readonly registry: Registry;
  observe(route: string, method: string, status: number, seconds: number): void;
}

const SYSTEM: Context = { actor: 'system:metrics' };

export function createMetrics(engine: Engine): Metrics {
  const registry = new Registry();
  const calls = new Counter({
    name: 'registre_http_requests_total',
    help: 'Calls answered, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'registre_http_request_duration_seconds',
    help: 'Time to answer a call, by route pattern.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'registre_sweep_runs',
    help: 'Sweep runs in the state store (the last 1,000), by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const all = await sweepRuns(engine, 1000);
      this.reset();
      for (const run of all) this.inc({ status: run.status });
      let total = 0;
      for (const run of all) total += recordsChanged(run.summary);
      changed.set(total);
    },
  });
  const changed = new Gauge({
    name: 'registre_records_changed',
    help: 'Records deleted, anonymised or archived by the sweep runs counted in registre_sweep_runs.',
    registers: [registry],
  });
  // Both from one list of the requests per scrape: the open gauge's collect (registered, so
  // collected, first) sets the overdue one too.
  new Gauge({
    name: 'registre_requests_open',
    help: "People's requests not yet done or refused.",
    registers: [registry],
    async collect() {
      const list = (await USE_CASES.listRequests.run(engine, {}, SYSTEM)) as {
        status: string;
        overdue: boolean;
      }[];
      this.set(list.filter((r) => r.status !== 'done' && r.status !== 'refused').length);
      overdue.set(list.filter((r) => r.overdue).length);
    },
  });
  const overdue = new Gauge({
    name: 'registre_requests_overdue',
    help: "People's requests past their deadline.",
    registers: [registry],
  });
  return {
    registry,
    observe(route, method, status, seconds) {
      calls.inc({ route, method, status: String(status) });
      durations.observe({ route }, seconds);
    },
  };
}

/** The records a run changed: the sum of its lines' counts (a dry run changes none). */
function recordsChanged(summary: Record<string, unknown> | null): number {
  return typeof summary?.total === 'number' ? summary.total : 0;
}
