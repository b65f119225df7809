/**
 * A request's lifecycle as one pure function: `transition(request, event, now)` returns the change
 * of its row and the audit entry that records it, or refuses with a RegistreError. The state store
 * writes both in one transaction, on the condition that the row is still the one read (its status,
 * attempts and version): two processes never both move a request from the same state.
 */
import { field as fieldRef, RegistreError } from '../errors.js';
import { CODE_ATTEMPTS, CODE_TTL_MINUTES, extensionDue, isOpen, type RequestStatus } from './requests.js';

/** Codes a request may be sent in all (the first one with `open` included), and how often. */
export const CODE_SENDS = 3;
export const CODE_INTERVAL_SECONDS = 60;

/** How the last code went out: by SMTP, to the outbox, or not at all (the send failed). */
export type MailStatus = 'smtp' | 'outbox' | 'failed';

/** What the lifecycle reads of a request's row. */
export interface LifecycleRequest {
  readonly id: number;
  readonly type: string;
  readonly status: string;
  readonly person: string;
  readonly received: string;
  readonly extendedMonths: number;
  readonly details: Record<string, unknown>;
  readonly codeHash: string | null;
  readonly codeExpiresAt: string | null;
  readonly attempts: number;
  /** Codes sent so far (failed sends not counted), and when the last was. */
  readonly codes: number;
  readonly codeSentAt: string | null;
  readonly mail: MailStatus | null;
  readonly outcome: Record<string, unknown> | null;
}

/** The columns a transition may change. */
export interface RequestChange {
  readonly status?: RequestStatus;
  readonly email?: string | null;
  readonly due?: string;
  readonly extendedMonths?: number;
  readonly details?: Record<string, unknown>;
  readonly codeHash?: string | null;
  readonly codeExpiresAt?: string | null;
  readonly attempts?: number;
  readonly codes?: number;
  readonly codeSentAt?: string | null;
  readonly mail?: MailStatus | null;
  readonly outcome?: Record<string, unknown> | null;
}

export interface AuditDraft {
  readonly kind: string;
  readonly data: Record<string, unknown>;
}

export interface Transition {
  readonly change: RequestChange;
  readonly entry: AuditDraft;
}

export type RequestEvent =
  /** A new code, its keyed hash computed by the caller; `via` the transport that will carry it. */
  | {
      readonly kind: 'code-sent';
      readonly codeHash: string;
      readonly via: 'smtp' | 'outbox';
      readonly actor: string;
    }
  /** The transport refused the code just reserved: it is void, and not counted. */
  | { readonly kind: 'send-failed'; readonly error: string; readonly actor: string }
  /** A code typed by the person: whether it matches the pending one (compared by the caller). */
  | { readonly kind: 'code'; readonly matches: boolean; readonly actor: string }
  | { readonly kind: 'manual-verify'; readonly reason: string; readonly actor: string }
  | {
      readonly kind: 'extend';
      readonly months: number;
      readonly reason: string;
      readonly reasonHash: string;
      readonly today: string;
      readonly due?: never;
      readonly actor: string;
    }
  | { readonly kind: 'refuse'; readonly reason: string; readonly reasonHash: string; readonly actor: string }
  /** The run's intent, logged before any store commits: a run killed after it is completed by the next. */
  | {
      readonly kind: 'run-started';
      readonly at: string;
      readonly keys: string;
      readonly found: number;
      readonly plan: Record<string, unknown>;
      readonly actor: string;
    }
  | {
      readonly kind: 'run-done';
      readonly at: string;
      readonly keys: string;
      readonly counts: Record<string, number>;
      readonly outcome: Record<string, unknown>;
      /** Whether the address is cleared (an erasure: only the keyed hash stays). */
      readonly forgetAddress: boolean;
      /**
       * A rectification's corrected values, once written: they leave the request, which keeps the
       * fields and a keyed digest of the values (`digest`), logged with the entry too.
       */
      readonly forgetValues?: { readonly fields: readonly string[]; readonly digest: string };
      readonly resumed: boolean;
      readonly extra: Record<string, unknown>;
      readonly actor: string;
    }
  | { readonly kind: 'lift'; readonly hold: number; readonly actor: string }
  /**
   * A letter to the person (refusal, extension, completion): how it went, recorded on the request
   * whatever its status; `none` when the DPO answers by other means (`--delivery none`).
   */
  | {
      readonly kind: 'letter';
      readonly letter: 'refusal' | 'extension' | 'completion';
      readonly via: 'smtp' | 'outbox' | 'failed' | 'none';
      readonly error?: string;
      readonly actor: string;
    };

/** A letter as the request remembers it (never its address). */
export interface LetterRecord {
  readonly kind: 'refusal' | 'extension' | 'completion';
  readonly via: 'smtp' | 'outbox' | 'failed' | 'none';
  readonly at: string;
  readonly error?: string;
}

const closed = (status: string) => !isOpen(status as RequestStatus);

/** A request's details without a rectification's values: its fields and their keyed digest instead. */
function withoutValues(
  details: Record<string, unknown>,
  kept: { readonly fields: readonly string[]; readonly digest: string },
): Record<string, unknown> {
  const { set: _values, ...rest } = details;
  return { ...rest, fields: [...kept.fields], values: kept.digest };
}

function requireOpen(request: LifecycleRequest): void {
  if (closed(request.status))
    throw new RegistreError('E_REQUEST_CLOSED', `request ${request.id} is already ${request.status}`);
}

/** When the next code may be sent (ISO), or null when it may now; throws when no more may be. */
export function nextCodeAllowed(request: LifecycleRequest, now: Date): string | null {
  if (request.codes >= CODE_SENDS)
    throw new RegistreError(
      'E_CODE_LIMIT',
      `request ${request.id} was already sent ${CODE_SENDS} codes, the most one request may be sent: the DPO verifies the identity by other means (request verify ${request.id} --manual --reason …)`,
    );
  if (request.codeSentAt === null) return null;
  const next = new Date(Date.parse(request.codeSentAt) + CODE_INTERVAL_SECONDS * 1000);
  return next > now ? next.toISOString() : null;
}

export function transition(request: LifecycleRequest, event: RequestEvent, now: Date): Transition {
  const id = request.id;
  const base = { request: id, person: request.person };
  switch (event.kind) {
    case 'code-sent': {
      requireOpen(request);
      if (request.status !== 'received')
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is ${request.status}: no code to send`);
      const next = nextCodeAllowed(request, now);
      if (next !== null)
        throw new RegistreError(
          'E_CODE_TOO_SOON',
          `a code was sent to request ${id} less than a minute ago: the next may be sent from ${next}`,
          { retryAfter: Math.max(1, Math.ceil((Date.parse(next) - now.getTime()) / 1000)) },
        );
      const expires = new Date(now.getTime() + CODE_TTL_MINUTES * 60_000).toISOString();
      // The attempts are the request's, not the code's: a new code does not give new guesses.
      return {
        change: {
          codeHash: event.codeHash,
          codeExpiresAt: expires,
          codes: request.codes + 1,
          codeSentAt: now.toISOString(),
          mail: event.via,
        },
        entry: {
          kind: 'request.code',
          data: { ...base, via: event.via, expires, code: request.codes + 1, actor: event.actor },
        },
      };
    }
    case 'send-failed':
      return {
        change: {
          codeHash: null,
          codeExpiresAt: null,
          codes: Math.max(0, request.codes - 1),
          codeSentAt: null,
          mail: 'failed',
        },
        entry: { kind: 'request.code-failed', data: { ...base, error: event.error, actor: event.actor } },
      };
    case 'code': {
      if (request.status === 'verified')
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is already verified`);
      requireOpen(request);
      if (request.status === 'locked' || request.attempts >= CODE_ATTEMPTS)
        throw new RegistreError(
          'E_REQUEST_LOCKED',
          `request ${id} is locked after ${CODE_ATTEMPTS} wrong codes: the DPO verifies the identity by other means (request verify ${id} --manual --reason …)`,
        );
      if (request.status !== 'received')
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is ${request.status}`);
      if (!request.codeHash || !request.codeExpiresAt)
        throw new RegistreError(
          'E_NO_CODE',
          `request ${id} has no code pending: send one with request send-code ${id}`,
        );
      if (now.toISOString() > request.codeExpiresAt)
        throw new RegistreError(
          'E_CODE_EXPIRED',
          `the code of request ${id} expired at ${request.codeExpiresAt}: send a new one with request send-code ${id}`,
        );
      if (event.matches)
        return {
          change: { status: 'verified', codeHash: null, codeExpiresAt: null },
          entry: { kind: 'request.verify', data: { ...base, method: 'code', actor: event.actor } },
        };
      const attempts = request.attempts + 1;
      const locked = attempts >= CODE_ATTEMPTS;
      return {
        change: locked ? { attempts, status: 'locked', codeHash: null, codeExpiresAt: null } : { attempts },
        entry: {
          kind: locked ? 'request.locked' : 'request.verify-failed',
          data: { ...base, attempts, actor: event.actor },
        },
      };
    }
    case 'manual-verify':
      if (request.status === 'verified')
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is already verified`);
      requireOpen(request);
      if (request.status !== 'received' && request.status !== 'locked')
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is ${request.status}`);
      return {
        change: { status: 'verified', codeHash: null, codeExpiresAt: null },
        entry: {
          kind: 'request.verify',
          data: { ...base, method: 'manual', reason: event.reason, actor: event.actor },
        },
      };
    case 'extend': {
      const due = extensionDue(
        {
          received: request.received,
          extendedMonths: request.extendedMonths,
          status: request.status as RequestStatus,
        },
        event.months,
        event.reason,
        event.today,
      );
      return {
        change: {
          due,
          extendedMonths: event.months,
          details: { ...request.details, extension: event.reason },
        },
        entry: {
          kind: 'request.extend',
          data: { ...base, months: event.months, due, reason: event.reasonHash, actor: event.actor },
        },
      };
    }
    case 'refuse':
      if (event.reason.trim() === '')
        throw new RegistreError(
          'E_USAGE',
          `a refusal gives its reason (art. 12(4)): ${fieldRef('reason')} TEXT`,
        );
      requireOpen(request);
      if (request.status === 'running')
        throw new RegistreError(
          'E_REQUEST_STATE',
          `request ${id} is being carried out (its run was interrupted): run it again to complete it (request run ${id})`,
        );
      return {
        change: { status: 'refused', details: { ...request.details, refused: event.reason }, codeHash: null },
        entry: { kind: 'request.refuse', data: { ...base, reason: event.reasonHash, actor: event.actor } },
      };
    case 'run-started':
      requireOpen(request);
      if (request.status !== 'verified')
        throw new RegistreError(
          'E_NOT_VERIFIED',
          `request ${id} is ${request.status}: the person's identity is not verified; nothing is done before it is (request verify ${id} --code … or --manual --reason …)`,
        );
      return {
        change: {
          status: 'running',
          details: { ...request.details, intent: { at: event.at, keys: event.keys, plan: event.plan } },
        },
        entry: {
          kind: 'request.run-intent',
          data: {
            ...base,
            type: request.type,
            at: event.at,
            found: event.found,
            keys: event.keys,
            actor: event.actor,
          },
        },
      };
    case 'run-done':
      if (request.status !== 'running')
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is ${request.status}, not being run`);
      return {
        change: {
          status: 'done',
          outcome: event.outcome,
          ...(event.forgetAddress ? { email: null } : {}),
          ...(event.forgetValues ? { details: withoutValues(request.details, event.forgetValues) } : {}),
        },
        entry: {
          kind: 'request.run',
          data: {
            request: id,
            type: request.type,
            person: request.person,
            at: event.at,
            counts: event.counts,
            keys: event.keys,
            ...(event.resumed ? { resumed: true } : {}),
            ...(event.forgetValues
              ? { fields: [...event.forgetValues.fields], values: event.forgetValues.digest }
              : {}),
            ...event.extra,
            actor: event.actor,
          },
        },
      };
    case 'letter': {
      const letters = (request.details.letters as LetterRecord[] | undefined) ?? [];
      const record: LetterRecord = {
        kind: event.letter,
        via: event.via,
        at: now.toISOString(),
        ...(event.via === 'failed' && event.error ? { error: event.error } : {}),
      };
      return {
        change: { details: { ...request.details, letters: [...letters, record] } },
        entry:
          event.via === 'failed'
            ? {
                kind: 'request.letter-failed',
                data: { ...base, letter: event.letter, error: event.error ?? 'E_MAIL', actor: event.actor },
              }
            : {
                kind: 'request.letter',
                data: { ...base, letter: event.letter, via: event.via, actor: event.actor },
              },
      };
    }
    case 'lift': {
      const hold = (request.outcome as { hold?: number } | null)?.hold;
      if (request.type !== 'restriction' || request.status !== 'done' || hold === undefined)
        throw new RegistreError('E_REQUEST_STATE', `request ${id} is not a restriction in force`);
      if (request.details.lifted)
        throw new RegistreError('E_REQUEST_STATE', `the restriction of request ${id} was already lifted`);
      return {
        change: { details: { ...request.details, lifted: now.toISOString() } },
        entry: { kind: 'request.lift', data: { ...base, hold, actor: event.actor } },
      };
    }
  }
}
