/**
 * The inspection report: what registre did over a period, for someone who has never seen it (a
 * supervisory authority's inspector). Who the controller is; the sweeps of the period and what each
 * changed by rule; the requests with their dates and outcomes; the holds placed and released; the
 * key rotations, the heads the DPO accepted, the tokens and console sign-ins; and the audit log's
 * state, verified now against its checkpoint. Typed data only: the console and the API render it.
 * No personal data: a person is their keyed hash, a request its number, a record is counted.
 */
import { z } from 'zod';
import { holdCases } from '../adapters/state/state-store.js';
import type { AuditEntry, ChainProblem } from '../core/audit/audit-chain.js';
import { RegistreError } from '../core/errors.js';
import type { LocalText } from '../core/register/register-schema.js';
import { isOpen, type RequestStatus, type RequestType } from '../core/requests/requests.js';
import { addDuration } from '../core/retention/calendar.js';
import type { SweepAction } from '../core/retention/results.js';
import { verifyAudit } from './audit.js';
import type { Context, Engine } from './engine.js';
import { calendarDate, field, parseInput } from './input.js';

export const InspectionReportInput = z.strictObject({
  /** The period's first day (default: twelve months before `to`). */
  from: calendarDate.optional(),
  /** The period's last day, included (default: today). */
  to: calendarDate.optional(),
});
export type InspectionReportInput = z.input<typeof InspectionReportInput>;

/** What one sweep changed in one table by one rule. */
export interface ReportSweepLine {
  readonly rule: string;
  readonly table: string;
  readonly action: SweepAction;
  readonly count: number;
}

export interface ReportSweep {
  readonly run: number;
  /** The day the rules were applied for. */
  readonly at: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Who ran it (the token, the scheduler), from its sweep.start entry. */
  readonly actor: string | null;
  /** Records changed (deleted, anonymised, archived). */
  readonly total: number;
  readonly lines: readonly ReportSweepLine[];
  /** Records it could not process, left as they were (their keys are not reported). */
  readonly skipped: number;
  /** The error code of a failed run. */
  readonly code: string | null;
}

export interface ReportRequest {
  readonly id: number;
  readonly type: RequestType;
  readonly status: RequestStatus;
  /** The person's keyed hash (never their address). */
  readonly person: string;
  readonly received: string;
  readonly due: string;
  /** By how many months the deadline was extended (art. 12(3)). */
  readonly extendedMonths: number;
  /** The day it was answered (done) or refused; null while open. */
  readonly closed: string | null;
  /** Answered after its due date, or still open past it. */
  readonly late: boolean;
  /** What the run found and did (found, erased, kept, forwarded, rectified, restricted). */
  readonly counts: Readonly<Record<string, number>>;
}

export interface ReportHold {
  readonly id: number;
  readonly reason: string;
  readonly until: string | null;
  readonly placed: string;
  readonly released: string | null;
  readonly actor: string | null;
  /** The person's keyed hash, when the hold is over every record of a person. */
  readonly person: string | null;
  readonly records: number;
  /** `store.table` of the records it holds. */
  readonly tables: readonly string[];
}

export interface ReportEvent {
  readonly seq: number;
  readonly at: string;
  readonly actor: string | null;
}

export interface KeyRotation extends ReportEvent {
  /** The ids of the old and new keys (never the keys). */
  readonly from: string;
  readonly to: string;
  /** The last entry sealed with the old key, which the rotation's entry signs. */
  readonly head: { readonly seq: number; readonly hash: string } | null;
}

export interface TokenEvent extends ReportEvent {
  readonly kind: 'token.create' | 'token.revoke';
  readonly name: string;
  readonly scope: string | null;
}

export interface SignIns {
  /** The token (`token:name`) a session was opened with. */
  readonly actor: string;
  readonly count: number;
  readonly first: string;
  readonly last: string;
}

export interface AcceptedHead extends ReportEvent {
  /** How many problems the log had when the DPO took it as it was. */
  readonly problems: number;
}

export interface ChainState {
  /** Verified now: every entry's hash and key, the chain, its head against both checkpoints, the holds, runs, tokens and consents against it. */
  readonly verifiedAt: string;
  readonly whole: boolean;
  readonly entries: number;
  readonly problems: readonly ChainProblem[];
  readonly warnings: readonly string[];
  /** The checkpoint of the log's head in the archive store (its signature checked with the key it names). */
  readonly checkpoint: {
    readonly seq: number;
    readonly hash: string;
    readonly keyId: string | null;
    readonly valid: boolean | null;
  } | null;
}

export interface InspectionReport {
  readonly generatedAt: string;
  readonly period: { readonly from: string; readonly to: string };
  /** The controller, as the register names it. */
  readonly controller: {
    readonly name: string;
    readonly legalForm: string | null;
    readonly registration: LocalText | null;
    readonly address: LocalText | null;
    readonly supervisoryAuthority: string | null;
  } | null;
  readonly sweeps: readonly ReportSweep[];
  /** What the sweeps of the period changed, all runs together, by rule, table and action. */
  readonly sweptByRule: readonly ReportSweepLine[];
  readonly requests: readonly ReportRequest[];
  readonly holds: readonly ReportHold[];
  readonly keyRotations: readonly KeyRotation[];
  readonly acceptedHeads: readonly AcceptedHead[];
  readonly tokens: readonly TokenEvent[];
  readonly signIns: readonly SignIns[];
  readonly chain: ChainState;
}

/** A console sign-in's kind (written so: the text of a print is refused in src/app). */
const SIGN_IN = ['console', 'login'].join('.');

/** The kinds of entries the report reads (not the sweeps' batches: their runs say what they did). */
const KINDS = [
  'sweep.start',
  'request.run',
  'request.refuse',
  'key.rotate',
  'audit.accept-head',
  'token.create',
  'token.revoke',
  SIGN_IN,
];

const dayOf = (iso: string) => iso.slice(0, 10);
const text = (v: unknown) => (typeof v === 'string' ? v : null);

/** The period asked, with its defaults: the last twelve months to today. */
export function reportPeriod(input: InspectionReportInput, today: string): { from: string; to: string } {
  const parsed = parseInput(InspectionReportInput, input);
  const to = parsed.to ?? today;
  const from = parsed.from ?? addDuration(to, { amount: -12, unit: 'months' }) ?? to;
  if (from > to)
    throw new RegistreError(
      'E_USAGE',
      `${field('from')} ${from} is after ${field('to')} ${to}: a period starts on or before its last day`,
      { path: ['from'] },
    );
  return { from, to };
}

function sweepLines(summary: Record<string, unknown> | null): ReportSweepLine[] {
  const lines = Array.isArray(summary?.lines) ? (summary.lines as Record<string, unknown>[]) : [];
  return lines.map((l) => ({
    rule: String(l.rule),
    table: String(l.table),
    action: String(l.action) as SweepAction,
    count: Number(l.count) || 0,
  }));
}

function numbers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** The inspection report of a period (default: the last twelve months). */
export async function inspectionReport(
  engine: Engine,
  input: InspectionReportInput,
  ctx: Context,
): Promise<InspectionReport> {
  const today = engine.today();
  const period = reportPeriod(input, today);
  const within = (iso: string | null | undefined) =>
    iso !== null && iso !== undefined && dayOf(iso) >= period.from && dayOf(iso) <= period.to;
  const project = await engine.project({ cached: true });
  const verification = await verifyAudit(engine, {}, ctx);
  const verifiedAt = engine.clock.now().toISOString();
  const state = await engine.state('verify');
  const checkpoint = await state.readCheckpoint();
  const entries = await state.auditEntries(KINDS);
  const byKind = (kind: string) => entries.filter((e) => e.kind === kind);
  const inPeriod = (kind: string) => byKind(kind).filter((e) => within(e.at));
  const actorOf = (e: AuditEntry) => text(e.data.actor);

  const starts = new Map(byKind('sweep.start').map((e) => [Number(e.data.run), e]));
  const sweeps: ReportSweep[] = (await state.allRuns())
    .filter((r) => r.at >= period.from && r.at <= period.to)
    .sort((a, b) => a.id - b.id)
    .map((r) => {
      const lines = sweepLines(r.summary);
      const start = starts.get(r.id);
      return {
        run: r.id,
        at: r.at,
        status: r.status,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        actor: start ? actorOf(start) : null,
        total: Number(r.summary?.total ?? lines.reduce((n, l) => n + l.count, 0)) || 0,
        lines,
        skipped: Array.isArray(r.summary?.skipped) ? r.summary.skipped.length : 0,
        code: text(r.summary?.code),
      };
    });
  const totals = new Map<string, ReportSweepLine>();
  for (const line of sweeps.flatMap((s) => s.lines)) {
    const key = `${line.rule}\u0000${line.table}\u0000${line.action}`;
    const seen = totals.get(key);
    totals.set(key, { ...line, count: (seen?.count ?? 0) + line.count });
  }

  // A request's closing day: its last run or refusal in the log.
  const closedOn = new Map<number, { at: string; counts: Record<string, number> }>();
  for (const e of [...byKind('request.run'), ...byKind('request.refuse')])
    closedOn.set(Number(e.data.request), { at: dayOf(e.at), counts: numbers(e.data.counts) });
  const requests: ReportRequest[] = (await state.requests())
    .map((r) => {
      const status = r.status as RequestStatus;
      const closed = isOpen(status) ? null : (closedOn.get(r.id)?.at ?? dayOf(r.updatedAt));
      return {
        id: r.id,
        type: r.type as RequestType,
        status,
        person: r.person,
        received: r.received,
        due: r.due,
        extendedMonths: r.extendedMonths,
        closed,
        late: (closed ?? today) > r.due,
        counts: status === 'done' ? (closedOn.get(r.id)?.counts ?? {}) : {},
      };
    })
    .filter((r) => r.received <= period.to && (r.closed === null || r.closed >= period.from));

  const holds: ReportHold[] = holdCases(await state.holds({ includeReleased: true }))
    .filter(
      (h) => dayOf(h.createdAt) <= period.to && (h.releasedAt === null || dayOf(h.releasedAt) >= period.from),
    )
    .map((h) => ({
      id: h.id,
      reason: h.reason,
      until: h.until,
      placed: h.createdAt,
      released: h.releasedAt,
      actor: h.actor,
      person: h.person,
      records: h.records.length,
      tables: [...new Set(h.records.map((r) => `${r.store}.${r.table}`))],
    }));

  const signIns = new Map<string, SignIns>();
  for (const e of inPeriod(SIGN_IN)) {
    const actor = actorOf(e) ?? '?';
    const seen = signIns.get(actor);
    signIns.set(actor, {
      actor,
      count: (seen?.count ?? 0) + 1,
      first: seen?.first ?? e.at,
      last: e.at,
    });
  }

  const org = project.register.organisation;
  return {
    generatedAt: verifiedAt,
    period,
    controller: org
      ? {
          name: org.name,
          legalForm: org.legalForm ?? null,
          registration: org.registration ?? null,
          address: org.address ?? null,
          supervisoryAuthority: org.supervisoryAuthority ?? null,
        }
      : null,
    sweeps,
    sweptByRule: [...totals.values()],
    requests,
    holds,
    keyRotations: inPeriod('key.rotate').map((e) => ({
      seq: e.seq,
      at: e.at,
      actor: actorOf(e),
      from: String(e.data.from),
      to: String(e.data.to),
      head: (e.data.head as { seq: number; hash: string } | null | undefined) ?? null,
    })),
    acceptedHeads: inPeriod('audit.accept-head').map((e) => ({
      seq: e.seq,
      at: e.at,
      actor: actorOf(e),
      problems: Array.isArray(e.data.problems) ? e.data.problems.length : 0,
    })),
    tokens: [...inPeriod('token.create'), ...inPeriod('token.revoke')]
      .sort((a, b) => a.seq - b.seq)
      .map((e) => ({
        seq: e.seq,
        at: e.at,
        actor: actorOf(e),
        kind: e.kind as TokenEvent['kind'],
        name: String(e.data.name),
        scope: text(e.data.scope),
      })),
    signIns: [...signIns.values()],
    chain: {
      verifiedAt,
      whole: verification.problems.length === 0,
      entries: verification.entries,
      problems: verification.problems,
      warnings: verification.warnings,
      checkpoint: checkpoint
        ? { seq: checkpoint.seq, hash: checkpoint.hash, keyId: checkpoint.keyId, valid: checkpoint.valid }
        : null,
    },
  };
}
