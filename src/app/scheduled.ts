/**
 * The service's scheduled jobs (`registre serve`): the daily sweep, the daily check (the stores
 * against the data map, and the audit log verified) and the DPO's reminders of requests due soon
 * or overdue. Each run has a key, `<job>:<day>` (`sweep:2026-11-27`), claimed in the state store:
 * whichever processes are scheduled at that minute, the run happens once, and a run whose process
 * was killed is taken over by another once its claim's lease has run out. Each run ends with its
 * `schedule.run` audit entry (counts and codes, never an address), and an alert to the DPO when a
 * sweep fails or skips rows, or the audit log does not verify.
 */
import { z } from 'zod';
import type { Message } from '../adapters/mail/mailer.js';
import { resolveUrl } from '../adapters/sql/connect.js';
import type { ScheduledRunRow, ScheduledRunStatus } from '../adapters/state/state-store.js';
import { claimAlive } from '../adapters/state/state-store.js';
import { type ScheduleConfig, scheduleOf } from '../core/config.js';
import { RegistreError } from '../core/errors.js';
import { designatedDpo } from '../core/register/organisation-contacts.js';
import { isOpen } from '../core/requests/requests.js';
import { safeMessage } from '../core/safe-message.js';
import { DEFAULT_STATE_URL, parseStoreUrl, type StoreUrl } from '../core/store-url.js';
import { verifyAudit } from './audit.js';
import { check } from './check.js';
import type { Context, Engine } from './engine.js';
import { refreshFigures } from './figures.js';
import { calendarDate, oneOf, parseInput, wholeNumber } from './input.js';
import type { Project } from './project.js';
import { senderOf } from './requests/letters.js';
import { listRequests } from './requests/lifecycle.js';
import { sweep } from './sweep.js';

export const SCHEDULED_JOBS = ['sweep', 'check', 'reminders'] as const;
export type ScheduledJob = (typeof SCHEDULED_JOBS)[number];

/** How long a claim stays alive without a heartbeat: a sweep lock's own time (locks.ts). */
export const DEFAULT_LEASE_MS = 60_000;
/** Requests due within this many days are in the reminders. */
export const REMINDER_DAYS = 7;

export const RunScheduledInput = z.strictObject({
  job: oneOf(SCHEDULED_JOBS),
  /** The day the run is for (default: today in the schedule's time zone); the run key's day. */
  day: calendarDate.optional(),
  /** A claim not beaten for this long (its process killed) is taken over, in milliseconds. */
  leaseMs: wholeNumber(1000, 3_600_000).default(DEFAULT_LEASE_MS),
});
export type RunScheduledInput = z.input<typeof RunScheduledInput>;

export interface ScheduledRunResult {
  /** `<job>:<day>`. */
  readonly key: string;
  readonly job: ScheduledJob;
  readonly day: string;
  /**
   * `done`, `failed`: this call ran it; `finished`: another call had run it already (its
   * `status` says how it went); `busy`: another process is running it (alive); `stopped`: the
   * context's signal stopped it, its claim released for another process to take up at once.
   */
  readonly outcome: 'done' | 'failed' | 'finished' | 'busy' | 'stopped';
  readonly status: ScheduledRunStatus;
  /** The run's summary (counts and codes), when it has one. */
  readonly summary: Record<string, unknown> | null;
  /** This call's attempt: more than 1 when it took over a killed process's run. */
  readonly attempts: number;
}

/** The day `instant` falls on in `timeZone`, YYYY-MM-DD. */
export function dayIn(timeZone: string, instant: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** What one job did: the run's status, its summary, and the alert it calls for (none: no alert). */
interface JobOutcome {
  readonly status: 'done' | 'failed';
  readonly summary: Record<string, unknown>;
  readonly alert?: { readonly subject: string; readonly lines: readonly string[] };
}

type JobRunner = (engine: Engine, project: Project, day: string, ctx: Context) => Promise<JobOutcome>;

const codeOf = (error: unknown): string =>
  error instanceof RegistreError ? error.code : ((error as NodeJS.ErrnoException)?.code ?? 'E_UNEXPECTED');

/** A RegistreError's message is written for the operator (no row's value); anything else: its code only. */
const whyOf = (error: unknown): string =>
  error instanceof RegistreError
    ? `${error.code}: ${error.message}`
    : `${codeOf(error)}: ${safeMessage(error)}`;

const runSweep: JobRunner = async (engine, _project, day, ctx) => {
  const today = engine.today();
  // The run's day in its time zone may be ahead of the UTC day: a sweep never runs early.
  const at = [day, today].sort()[0] ?? today;
  try {
    const report = await sweep(engine, { at }, ctx);
    // The day's figures as the sweep left them, for the API (a failure here fails no sweep).
    await refreshFigures(engine, { actor: ctx.actor }).catch(() => undefined);
    const skipped = report.skipped.length;
    const byTable = new Map<string, number>();
    for (const s of report.skipped)
      byTable.set(`${s.table} (${s.code})`, (byTable.get(`${s.table} (${s.code})`) ?? 0) + 1);
    return {
      status: 'done',
      summary: {
        run: report.run,
        at,
        changed: report.total,
        skipped,
        ...(report.afterHold ? { afterHold: report.afterHold } : {}),
      },
      ...(skipped
        ? {
            alert: {
              subject: `the sweep of ${at} skipped ${skipped} record(s)`,
              lines: [
                `The sweep of ${at} (run ${report.run}) changed ${report.total} record(s) and skipped ${skipped} it could not process; they stay as they were until corrected:`,
                ...[...byTable].map(([what, n]) => `- ${what}: ${n}`),
                'registre status and the sweep run show them.',
              ],
            },
          }
        : {}),
    };
  } catch (error) {
    return {
      status: 'failed',
      summary: { at, code: codeOf(error) },
      alert: {
        subject: `the sweep of ${at} failed`,
        lines: [
          `The scheduled sweep of ${at} failed: ${whyOf(error)}`,
          'What was applied before the failure stays applied and logged; the next sweep takes up the rest.',
        ],
      },
    };
  }
};

const runCheck: JobRunner = async (engine, _project, _day, ctx) => {
  const lines: string[] = [];
  let status: 'done' | 'failed' = 'done';
  const summary: Record<string, unknown> = {};
  try {
    const report = await check(engine, {}, ctx);
    const errors = report.issues.filter((i) => i.severity === 'error');
    summary.stores = report.stores.length;
    summary.errors = errors.length;
    summary.warnings = report.issues.length - errors.length;
    if (errors.length) {
      lines.push(`The check found ${errors.length} error(s) between the data map and the stores:`);
      for (const i of errors.slice(0, 20)) lines.push(`- ${i.code}: ${i.message}`);
      if (errors.length > 20) lines.push(`- and ${errors.length - 20} more: run registre check`);
    }
  } catch (error) {
    status = 'failed';
    summary.code = codeOf(error);
    lines.push(`The check could not run: ${whyOf(error)}`);
  }
  try {
    const audit = await verifyAudit(engine, {}, ctx);
    summary.audit = {
      entries: audit.entries,
      problems: audit.problems.length,
      warnings: audit.warnings.length,
    };
    if (audit.problems.length) {
      lines.push(`The audit log does not verify: ${audit.problems.length} problem(s):`);
      for (const p of audit.problems.slice(0, 20))
        lines.push(`- entry ${p.seq} (${p.problem}): ${p.message}`);
      lines.push(
        'Nothing changes data until the DPO has looked (registre audit verify) and resolved it (registre audit accept-head).',
      );
    }
  } catch (error) {
    status = 'failed';
    summary.audit = { code: codeOf(error) };
    lines.push(`The audit log could not be verified: ${whyOf(error)}`);
  }
  return {
    status,
    summary,
    ...(lines.length ? { alert: { subject: 'the daily check found problems', lines } } : {}),
  };
};

const runReminders: JobRunner = async (engine, _project, day, ctx) => {
  const views = (await listRequests(engine, {}, ctx)).filter((v) => isOpen(v.status));
  const overdue = views.filter((v) => v.overdue);
  const soon = views.filter((v) => !v.overdue && v.daysLeft <= REMINDER_DAYS);
  const summary = { due: soon.length, overdue: overdue.length };
  if (!soon.length && !overdue.length) return { status: 'done', summary };
  // Ids, kinds and dates: never the person's address.
  const line = (v: (typeof views)[number]) =>
    `- request ${v.id} (${v.type}, ${v.status}): due ${v.due}${v.overdue ? `, ${-v.daysLeft} day(s) late` : `, ${v.daysLeft} day(s) left`}`;
  return {
    status: 'done',
    summary,
    alert: {
      subject: `${overdue.length} request(s) overdue, ${soon.length} due within ${REMINDER_DAYS} days`,
      lines: [
        `The requests of people on ${day}:`,
        ...(overdue.length ? ['Overdue:', ...overdue.map(line)] : []),
        ...(soon.length ? [`Due within ${REMINDER_DAYS} days:`, ...soon.map(line)] : []),
        'registre request list shows them.',
      ],
    },
  };
};

const JOBS: Record<ScheduledJob, JobRunner> = { sweep: runSweep, check: runCheck, reminders: runReminders };

/** Where alerts and reminders go: the schedule's `alertsTo`, else the register's DPO, else its contact. */
export function alertsTo(project: Project): string | undefined {
  const org = project.register.organisation;
  return (
    scheduleOf(project.loaded.config).alertsTo ??
    designatedDpo(org)?.email ??
    org?.contact?.email ??
    undefined
  );
}

/**
 * Runs the scheduled `job` for `day` once: claims its key in the state store (another process's
 * live claim: `busy`; a finished run: `finished`; a dead process's claim: taken over), runs it
 * through the use cases (sweep, check and audit verify, list of requests), mails the DPO the
 * alert or the reminders it calls for, and ends the run with its `schedule.run` audit entry.
 * A failure of the job is the run's outcome (`failed`), not an exception; the context's signal
 * stops a sweep between two batches.
 *
 * @example
 *   await runScheduled(engine, { job: 'sweep' }, { actor: 'scheduler' });
 */
export async function runScheduled(
  engine: Engine,
  input: RunScheduledInput,
  ctx: Context,
): Promise<ScheduledRunResult> {
  const { job, day: given, leaseMs } = parseInput(RunScheduledInput, input);
  const project = await engine.project();
  const day = given ?? dayIn(scheduleOf(project.loaded.config).timeZone, engine.clock.now());
  const key = `${job}:${day}`;
  // The claim is made even on a log that does not verify: the run then fails, once, with its alert.
  const state = await engine.state('write', { whole: false });
  const claim = await state.claimScheduledRun(key, job, day, leaseMs);
  if (claim.kind !== 'claimed')
    return {
      key,
      job,
      day,
      outcome: claim.kind,
      status: claim.row.status,
      summary: claim.row.summary,
      attempts: claim.row.attempts,
    };
  const { run } = claim;
  const lost = new AbortController();
  const beat = () => run.beat().catch((error) => lost.abort(error));
  const timer = setInterval(beat, Math.max(250, Math.floor(leaseMs / 4)));
  timer.unref();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, lost.signal]) : lost.signal;
  let outcome: JobOutcome;
  try {
    await run.started();
    outcome = await JOBS[job](engine, project, day, { ...ctx, signal });
  } catch (error) {
    outcome = { status: 'failed', summary: { code: codeOf(error) } };
  } finally {
    clearInterval(timer);
  }
  if (lost.signal.aborted) throw lost.signal.reason;
  if (ctx.signal?.aborted) {
    // Stopped (the service shutting down): left for another process, or the next start, to take up now.
    await run.release();
    return {
      key,
      job,
      day,
      outcome: 'stopped',
      status: 'claimed',
      summary: null,
      attempts: run.row.attempts,
    };
  }
  const summary: Record<string, unknown> = { ...outcome.summary };
  if (outcome.alert) summary.mail = await mailDpo(engine, project, key, outcome.alert);
  const data = { job, key, outcome: outcome.status, attempt: run.row.attempts, actor: ctx.actor, ...summary };
  try {
    await run.finish(outcome.status, summary, { kind: 'schedule.run', data });
  } catch (error) {
    if (error instanceof RegistreError && error.code === 'E_LOCK_LOST') throw error;
    // A log that refuses appends (tampered): the run ends all the same; its alert said why.
    summary.unlogged = codeOf(error);
    await run.finish(outcome.status, summary);
  }
  return {
    key,
    job,
    day,
    outcome: outcome.status,
    status: outcome.status,
    summary,
    attempts: run.row.attempts,
  };
}

/** Sends the DPO a message through the engine's mailer: `sent`, `none` (no address) or the failure's code. */
async function mailDpo(
  engine: Engine,
  project: Project,
  key: string,
  alert: NonNullable<JobOutcome['alert']>,
): Promise<string> {
  const to = alertsTo(project);
  if (!to) return 'none';
  const message: Message = {
    to,
    subject: `[registre] ${project.register.organisation?.name ?? ''}: ${alert.subject}`.replace(': :', ':'),
    text: `${alert.lines.join('\n')}\n\n(scheduled run ${key})\n`,
    tag: `schedule-${key.replace(/[^A-Za-z0-9]/g, '-')}`,
  };
  try {
    await engine.mailer(project, senderOf(project), message);
    return 'sent';
  } catch (error) {
    return `failed ${codeOf(error)}`;
  }
}

export const ListScheduledRunsInput = z.strictObject({
  job: oneOf(SCHEDULED_JOBS).optional(),
  /** The last runs (newest day first): how many. */
  limit: wholeNumber(1, 10_000).default(30),
});
export type ListScheduledRunsInput = z.input<typeof ListScheduledRunsInput>;

export interface ScheduledRunView extends ScheduledRunRow {
  /** For a claimed or running run: whether its process still beats (false: killed, to be taken over). */
  readonly alive: boolean;
}

/** The scheduled runs, newest day first, with their status, times and summary (for metrics and the API). */
export async function listScheduledRuns(
  engine: Engine,
  input: ListScheduledRunsInput,
  _ctx: Context,
): Promise<ScheduledRunView[]> {
  const { job, limit } = parseInput(ListScheduledRunsInput, input);
  const state = await engine.state('read');
  const rows = await state.scheduledRuns({ ...(job ? { job } : {}), limit });
  return rows.map((r) => ({ ...r, alive: claimAlive(r, DEFAULT_LEASE_MS) }));
}

/** What the scheduler needs from the project: its schedule, and where the state store is. */
export interface SchedulerSettings {
  readonly schedule: ScheduleConfig;
  /** The state store's kind (`sqlite`, `pglite`, `postgres`, `mysql`). */
  readonly stateKind: StoreUrl['kind'];
  /** Its URL with `env:` resolved (may carry a password: never print it); PostgreSQL only. */
  readonly stateUrl?: string;
  /** PostgreSQL: the schema of the state store named by the URL's search_path, if it names one. */
  readonly stateSchema?: string;
}

/** The schedule and the state store's kind (and URL on PostgreSQL), from the project's configuration. */
export async function schedulerSettings(engine: Engine): Promise<SchedulerSettings> {
  const project = await engine.project();
  const config = project.loaded.config;
  const url = resolveUrl('state', config.state?.url ?? DEFAULT_STATE_URL);
  const parsed = parseStoreUrl('state', url);
  const schedule = scheduleOf(config);
  if (parsed.kind !== 'postgres') return { schedule, stateKind: parsed.kind };
  const schema = searchPathOf(parsed.url);
  return {
    schedule,
    stateKind: 'postgres',
    stateUrl: parsed.url,
    ...(schema ? { stateSchema: schema } : {}),
  };
}

/** The first schema of a PostgreSQL URL's `options=-c search_path=…`, if any. */
function searchPathOf(url: string): string | undefined {
  try {
    const options = new URL(url).searchParams.get('options') ?? '';
    const found = /search_path\s*=\s*"?([A-Za-z_][A-Za-z0-9_]*)/.exec(options);
    return found?.[1];
  } catch {
    return undefined;
  }
}
