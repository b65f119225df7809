/**
 * People's requests (GDPR art. 12 and 15 to 21): their kinds, lifecycle and deadlines, and what an
 * erasure does with each record of the person. Pure: the application layer reads and writes.
 */
import { field as fieldRef, RegistreError } from '../errors.js';
import { addDuration, type CalendarDate } from '../retention/calendar.js';

export const REQUEST_TYPES = [
  'access',
  'erasure',
  'rectification',
  'restriction',
  'portability',
  'objection',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/**
 * received → verified → running → done, or refused; `locked` after five wrong codes (the DPO
 * verifies by hand); `running` from the run's intent, logged before any store commits, to its end.
 */
export const REQUEST_STATUSES = ['received', 'verified', 'locked', 'running', 'done', 'refused'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const CODE_TTL_MINUTES = 15;
export const CODE_ATTEMPTS = 5;

/** Art. 12(3): one month from receipt, clamped to the month's end (2027-01-31 → 2027-02-28). */
export function dueDate(received: CalendarDate, extraMonths = 0): CalendarDate {
  const due = addDuration(received, { amount: 1 + extraMonths, unit: 'months' });
  if (due === null) throw new RegistreError('E_DATE', `no due date for a request received on ${received}`);
  return due;
}

/**
 * An extension of one or two further months (art. 12(3)): only with a reason, once, and only
 * while the first month has not run out (asked on `today` ≤ the first due date).
 */
export function extensionDue(
  request: { received: CalendarDate; extendedMonths: number; status: RequestStatus },
  months: number,
  reason: string,
  today: CalendarDate,
): CalendarDate {
  if (months !== 1 && months !== 2)
    throw new RegistreError(
      'E_USAGE',
      `${fieldRef('months')} ${months}: an extension is 1 or 2 further months (art. 12(3))`,
    );
  if (reason.trim() === '')
    throw new RegistreError('E_USAGE', 'an extension needs a reason: the person is told why (art. 12(3))');
  if (request.status === 'done' || request.status === 'refused')
    throw new RegistreError('E_REQUEST_CLOSED', `the request is ${request.status}: nothing to extend`);
  if (request.extendedMonths > 0)
    throw new RegistreError(
      'E_ALREADY_EXTENDED',
      'the request was already extended: two further months at most, asked once',
    );
  const first = dueDate(request.received);
  if (today > first)
    throw new RegistreError(
      'E_TOO_LATE',
      `the first month ran out on ${first}: an extension must be decided and told to the person within it (art. 12(3))`,
    );
  return dueDate(request.received, months);
}

/** Whole days from `today` to `due` (negative when overdue). */
export function daysLeft(due: CalendarDate, today: CalendarDate): number {
  return Math.round((Date.parse(`${due}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
}

/** A request is open (its deadline runs) until it is done or refused. */
export function isOpen(status: RequestStatus): boolean {
  return status !== 'done' && status !== 'refused';
}

/** The legal bases of art. 17(3) an erasure can keep a record under. */
export type KeepBasis = '17(3)(b)' | '17(3)(e)' | '18';

/** What an erasure does with one record of the person. */
export type ErasureDecision =
  | { readonly kind: 'delete' | 'anonymise' }
  | { readonly kind: 'keep'; readonly basis: KeepBasis; readonly until: CalendarDate | null }
  | { readonly kind: 'forward' };

/**
 * The policy's erasure, record by record: data held for a controller is forwarded (and executed
 * only on that controller's instruction, later); a restricted record is kept (art. 18); a record under a hold, or one
 * that places a hold (an open dispute), is kept for legal claims (17(3)(e)); one kept under a
 * legal obligation and not yet due stays until its deadline (17(3)(b)); the rest is anonymised
 * where its rule anonymises (the row others refer to stays), else deleted.
 */
export function erasureDecision(record: {
  readonly processor: boolean;
  readonly restricted: boolean;
  readonly held: boolean;
  readonly legalObligation: boolean;
  readonly due: boolean;
  readonly deadline: CalendarDate | null;
  readonly action: 'delete' | 'anonymise' | null;
}): ErasureDecision {
  if (record.processor) return { kind: 'forward' };
  if (record.restricted) return { kind: 'keep', basis: '18', until: null };
  if (record.held) return { kind: 'keep', basis: '17(3)(e)', until: null };
  if (record.legalObligation && !record.due)
    return { kind: 'keep', basis: '17(3)(b)', until: record.deadline };
  return { kind: record.action === 'anonymise' ? 'anonymise' : 'delete' };
}

/** A mailbox as typed by a hurried operator, checked before anything is stored or sent. */
export function requireEmail(text: string): string {
  const address = text.trim().toLowerCase();
  if (!/^[^\s@"<>,;]+@[^\s@"<>,;]+\.[a-z0-9-]{2,}$/i.test(address))
    throw new RegistreError('E_USAGE', `${fieldRef('email')}: "${text}" is not an e-mail address`);
  return address;
}

/** `field=value` pairs of a rectification. */
export function parseSettings(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new RegistreError('E_USAGE', `${fieldRef('set')} ${pair}: write field=value`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return out;
}
