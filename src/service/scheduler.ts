/**
 * The service's scheduler: the daily sweep, check and reminders at the configured hours in the
 * configured time zone (`schedule:` in registre.yaml), each run through `runScheduled`, which
 * claims the run key (`sweep:2026-11-27`) in the state store so that it happens once.
 *
 * On a state store in SQLite (or any store but PostgreSQL), croner timers in this process call it;
 * a run another process holds alive is looked at again after the lease, and taken over once that
 * process is gone. On PostgreSQL, croner enqueues each run into pg-boss (in its own schema) on a
 * `stately` queue with the run key as `singletonKey`, and pg-boss workers run it: several
 * processes enqueue the same job and one of them runs it; a job whose process was killed expires
 * and is retried by another (and the runs table's claim still says once, belt and braces).
 */
import { Cron } from 'croner';
import PgBoss from 'pg-boss';
import type { Context, Engine } from '../app/engine.js';
import {
  DEFAULT_LEASE_MS,
  dayIn,
  runScheduled,
  SCHEDULED_JOBS,
  type ScheduledJob,
  type ScheduledRunResult,
  schedulerSettings,
} from '../app/scheduled.js';
import { RegistreError } from '../core/errors.js';
import { safeMessage } from '../core/safe-message.js';

/** A structured event for the service's log: counts, codes and keys, never personal data. */
export type SchedulerLog = (event: Record<string, unknown>) => void;

/** pg-boss's timings (PostgreSQL only); tests shorten them. */
export interface BossTimings {
  /** A job active this long is failed by pg-boss (then retried): how soon a killed run is taken up. */
  readonly expireInSeconds?: number;
  /** How often one process looks for expired jobs. */
  readonly maintenanceIntervalSeconds?: number;
  /** How often a worker asks for a job. */
  readonly pollingIntervalSeconds?: number;
  /** The wait before a failed (or busy) job is tried again. */
  readonly retryDelaySeconds?: number;
}

export interface SchedulerOptions {
  readonly log: SchedulerLog;
  /** Aborted: as `stop()`. */
  readonly signal?: AbortSignal;
  /** Who the runs are written under in the audit log (default `scheduler`). */
  readonly actor?: string;
  /** A run's claim not beaten for this long is taken over (default a minute). */
  readonly leaseMs?: number;
  /** How long `stop()` waits for a running job to stop between two batches (default 30 s). */
  readonly stopTimeoutMs?: number;
  readonly boss?: BossTimings;
}

export interface Scheduler {
  /** `embedded` (croner in this process, claims in the state store) or `pg-boss` (PostgreSQL). */
  readonly mode: 'embedded' | 'pg-boss';
  /** Stops the timers, asks a running job to stop between two batches, and waits for it (bounded). */
  stop(): Promise<void>;
  /** When each job runs next (ISO instant), null when it is not scheduled. */
  next(): Record<ScheduledJob, string | null>;
}

/** The pg-boss queue of a job. */
export const queueOf = (job: ScheduledJob) => `registre-${job}`;

/** The schema pg-boss keeps its tables in: beside the state store's (`<schema>_boss`), else `registre_boss`. */
export const bossSchemaOf = (stateSchema: string | undefined) =>
  stateSchema ? `${stateSchema}_boss`.slice(0, 63) : 'registre_boss';

/**
 * Starts the scheduler of `engine`'s project, as its configuration says (`schedule.enabled: false`:
 * nothing is scheduled). The caller stops it before closing the engine.
 *
 * @example
 *   const scheduler = await startScheduler(engine, { log: (e) => console.log(JSON.stringify(e)) });
 *   // … on SIGTERM:
 *   await scheduler.stop();
 *   await engine.close();
 */
export async function startScheduler(engine: Engine, options: SchedulerOptions): Promise<Scheduler> {
  const { log } = options;
  const settings = await schedulerSettings(engine);
  const { schedule } = settings;
  // The configuration's takeover time sets the lease and pg-boss's timings; a caller's own win.
  const takeover = schedule.takeoverSeconds;
  const leaseMs = options.leaseMs ?? (takeover ? takeover * 1000 : DEFAULT_LEASE_MS);
  const step = takeover ? Math.max(1, Math.ceil(takeover / 3)) : undefined;
  const timings: BossTimings =
    options.boss ??
    (takeover && step
      ? {
          expireInSeconds: takeover + 1,
          maintenanceIntervalSeconds: step,
          pollingIntervalSeconds: Math.min(2, step),
          retryDelaySeconds: step,
        }
      : {});
  const stopping = new AbortController();
  const ctx: Context = { actor: options.actor ?? 'scheduler', signal: stopping.signal };
  const crons = new Map<ScheduledJob, Cron>();
  const running = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    running.add(p);
    const done = () => running.delete(p);
    p.then(done, done);
    return p;
  };
  let boss: PgBoss | undefined;
  const mode = settings.stateKind === 'postgres' ? 'pg-boss' : 'embedded';

  const report = (result: ScheduledRunResult) =>
    log({
      event: 'schedule.run',
      key: result.key,
      outcome: result.outcome,
      status: result.status,
      attempts: result.attempts,
      ...(result.summary ? { summary: result.summary } : {}),
    });
  const failure = (job: ScheduledJob, error: unknown) =>
    log({
      event: 'schedule.error',
      job,
      code: error instanceof RegistreError ? error.code : 'E_UNEXPECTED',
      message: error instanceof RegistreError ? error.message : safeMessage(error),
    });

  /** The run keys this process is running or watching (embedded): a tick meanwhile adds nothing. */
  const watching = new Set<string>();

  /** Embedded: runs the job for `day`; while another process holds it alive, looks again after the lease. */
  const runEmbedded = async (job: ScheduledJob, day: string, again = false): Promise<void> => {
    const key = `${job}:${day}`;
    if (stopping.signal.aborted || (watching.has(key) && !again)) return;
    watching.add(key);
    let result: ScheduledRunResult;
    try {
      result = await runScheduled(engine, { job, day, leaseMs }, ctx);
    } catch (error) {
      watching.delete(key);
      failure(job, error);
      return;
    }
    report(result);
    if (result.outcome !== 'busy' || stopping.signal.aborted) {
      watching.delete(key);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      void track(runEmbedded(job, day, true));
    }, leaseMs);
    timer.unref();
    timers.add(timer);
  };

  /** Through pg-boss: one job for the run key; stately keeps one queued and one active per key. */
  const enqueue = async (job: ScheduledJob, day: string): Promise<void> => {
    const key = `${job}:${day}`;
    const id = await boss?.send(queueOf(job), { job, day }, { singletonKey: key });
    log({ event: 'schedule.enqueued', key, queued: id !== null && id !== undefined });
  };

  const fire = (job: ScheduledJob) => {
    if (stopping.signal.aborted) return;
    const day = dayIn(schedule.timeZone, engine.clock.now());
    if (mode === 'pg-boss') void track(enqueue(job, day).catch((error) => failure(job, error)));
    else void track(runEmbedded(job, day));
  };

  if (mode === 'pg-boss' && schedule.enabled) {
    const retryDelay = timings.retryDelaySeconds ?? Math.ceil(leaseMs / 1000);
    // Enough retries to outlast a long sweep another process runs (each look is a retry).
    const retryLimit = 1000;
    const expireInSeconds = timings.expireInSeconds ?? 15 * 60;
    boss = new PgBoss({
      connectionString: settings.stateUrl as string,
      schema: bossSchemaOf(settings.stateSchema),
      application_name: 'registre-scheduler',
      max: 4,
      // Croner enqueues (in the schedule's time zone, the run key's day); pg-boss's clock is not used.
      schedule: false,
      expireInSeconds,
      retryLimit,
      retryDelay,
      ...(timings.maintenanceIntervalSeconds
        ? { maintenanceIntervalSeconds: timings.maintenanceIntervalSeconds }
        : {}),
    });
    boss.on('error', (error) => log({ event: 'schedule.queue-error', message: safeMessage(error) }));
    await boss.start();
    for (const job of SCHEDULED_JOBS) {
      const queue = {
        name: queueOf(job),
        policy: 'stately' as const,
        retryLimit,
        retryDelay,
        expireInSeconds,
      };
      // Two processes starting at once may both create it: the second finds it there.
      await boss.createQueue(queue.name, queue).catch(async () => {
        if (!(await boss?.getQueue(queue.name))) await boss?.createQueue(queue.name, queue);
      });
      await boss.work<{ job: ScheduledJob; day: string }>(
        queueOf(job),
        { pollingIntervalSeconds: timings.pollingIntervalSeconds ?? 2 },
        async ([item]) => {
          if (!item) return null;
          const result = await track(
            runScheduled(engine, { job: item.data.job, day: item.data.day, leaseMs }, ctx),
          );
          report(result);
          // Another process runs it (or it was stopped here): tried again later, taken over if that one dies.
          if (result.outcome === 'busy' || result.outcome === 'stopped')
            throw new Error(`${result.key} ${result.outcome}`);
          return { key: result.key, outcome: result.outcome };
        },
      );
    }
  }

  if (schedule.enabled)
    for (const job of SCHEDULED_JOBS) {
      let cron: Cron;
      try {
        cron = new Cron(schedule[job], { timezone: schedule.timeZone, protect: true, unref: true }, () =>
          fire(job),
        );
      } catch (cause) {
        for (const c of crons.values()) c.stop();
        await boss?.stop({ graceful: false });
        throw new RegistreError(
          'E_CONFIG',
          `schedule.${job}: "${schedule[job]}" is not a cron pattern croner reads: ${safeMessage(cause)}`,
          { cause },
        );
      }
      crons.set(job, cron);
    }
  log({
    event: 'schedule.started',
    mode,
    enabled: schedule.enabled,
    timeZone: schedule.timeZone,
    next: Object.fromEntries([...crons].map(([job, c]) => [job, c.nextRun()?.toISOString() ?? null])),
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      for (const c of crons.values()) c.stop();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      stopping.abort(new RegistreError('E_CANCELLED', 'the service is stopping'));
      const timeout = options.stopTimeoutMs ?? 30_000;
      const bounded = (p: Promise<unknown>) =>
        Promise.race([p, new Promise((r) => setTimeout(r, timeout).unref())]);
      await bounded(Promise.allSettled([...running]));
      if (boss) await boss.stop({ graceful: true, timeout, wait: true }).catch(() => {});
      log({ event: 'schedule.stopped', unfinished: running.size });
    })();
    return stopped;
  };
  options.signal?.addEventListener('abort', () => void stop(), { once: true });
  if (options.signal?.aborted) await stop();

  return {
    mode,
    stop,
    next: () =>
      Object.fromEntries(
        SCHEDULED_JOBS.map((job) => [job, crons.get(job)?.nextRun()?.toISOString() ?? null]),
      ) as Record<ScheduledJob, string | null>,
  };
}
