/**
 * The consent ledger's rules, without I/O: which purposes a consent can be asked for, how long a
 * consent counts, the state of a subject's consent on a day, and when a consent-based record has
 * lost the consent that justified it.
 *
 * A consent is an append-only series of events (given, refused, withdrawn). On a day D, the
 * state of one purpose is its latest event of D or before: `given` counts until it expires (its
 * day + the purpose's expiry, due on that day as a retention deadline is), then it is `expired`;
 * `refused` and `withdrawn` are what they say; no event is `none` (the ledger knows nothing: the
 * data's own rules apply, nothing is deleted for want of a ledger entry).
 */
import { field, RegistreError } from '../errors.js';
import { addressOf } from '../identity.js';
import type { Register } from '../register/register-load.js';
import type { Purpose } from '../register/register-schema.js';
import { addDuration, type CalendarDate, type Duration, parseDuration } from '../retention/calendar.js';

export const CONSENT_CHOICES = ['given', 'refused', 'withdrawn'] as const;
export type ConsentChoice = (typeof CONSENT_CHOICES)[number];

export const CONSENT_SOURCES = ['banner', 'form', 'import', 'api'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

export type ConsentState = ConsentChoice | 'expired' | 'none';

export type SubjectKind = 'email' | 'visitor';

/** A consent's subject as the ledger stores it: a visitor id as given, an address as its keyed hash. */
export interface Subject {
  readonly kind: SubjectKind;
  readonly id: string;
}

/** One event of the ledger, one purpose (an event for several purposes is one row per purpose). */
export interface ConsentEvent {
  /** The row's number. */
  readonly id: number;
  /** The event's number: the rows recorded together for several purposes share it. */
  readonly event: number;
  readonly subject: Subject;
  readonly purpose: string;
  readonly choice: ConsentChoice;
  /** When the person chose (ISO 8601, UTC). */
  readonly at: string;
  readonly notice: { readonly version: string; readonly sha256: string };
  readonly source: ConsentSource;
  /** The banner's consent id, or one registre generated. */
  readonly consentId: string;
  readonly language: string | null;
  /** When registre recorded it, and who. */
  readonly recordedAt: string;
  readonly actor: string;
}

/** The default expiry of a consent: 13 months for audience measurement, 6 months for a banner's choice. */
const AUDIENCE_EXPIRY: Duration = { amount: 13, unit: 'months' };
const BANNER_EXPIRY: Duration = { amount: 6, unit: 'months' };

const purposesOf = new WeakMap<Register, { consent: Map<string, Purpose>; all: Map<string, Purpose> }>();

/** The register's purposes by id, all and those based on consent (made once per register). */
function purposeMaps(register: Register): { consent: Map<string, Purpose>; all: Map<string, Purpose> } {
  const known = purposesOf.get(register);
  if (known) return known;
  const all = new Map<string, Purpose>();
  const consent = new Map<string, Purpose>();
  for (const activity of register.activities)
    for (const purpose of activity.purposes) {
      all.set(purpose.id, purpose);
      if (purpose.legalBasis === 'consent') consent.set(purpose.id, purpose);
    }
  const maps = { consent, all };
  purposesOf.set(register, maps);
  return maps;
}

/** The consent-based purposes of the register, by id. */
export function consentPurposes(register: Register): ReadonlyMap<string, Purpose> {
  return purposeMaps(register).consent;
}

/**
 * The purposes of an event, checked against the register: each must exist and rest on consent
 * (E_CONSENT_PURPOSE, naming it and the purposes that can be asked).
 */
export function checkConsentPurposes(register: Register, purposes: readonly string[]): string[] {
  const { consent: known, all } = purposeMaps(register);
  const list = () => [...known.keys()].join(', ') || 'none';
  for (const id of purposes) {
    const purpose = all.get(id);
    if (!purpose)
      throw new RegistreError(
        'E_CONSENT_PURPOSE',
        `purpose "${id}" is not in the register; the purposes based on consent are: ${list()}`,
      );
    if (purpose.legalBasis !== 'consent')
      throw new RegistreError(
        'E_CONSENT_PURPOSE',
        `purpose "${id}" rests on ${purpose.legalBasis}, not consent: no consent is asked for it; the purposes based on consent are: ${list()}`,
      );
  }
  return [...new Set(purposes)];
}

/** How long a consent given for `purpose` through `source` counts; null: until withdrawn. */
export function consentExpiry(purpose: Purpose, source: ConsentSource): Duration | null {
  const stated = purpose.consent?.expires.trim();
  if (stated === 'never') return null;
  if (stated !== undefined) {
    const parsed = parseDuration(stated);
    if (parsed.ok) return parsed.duration;
  }
  if (purpose.tags?.includes('statistics')) return AUDIENCE_EXPIRY;
  return source === 'banner' ? BANNER_EXPIRY : null;
}

/** The calendar day (UTC) of an ISO time. */
export const dayOf = (at: string): CalendarDate => new Date(at).toISOString().slice(0, 10);

export interface PurposeState {
  readonly purpose: string;
  readonly state: ConsentState;
  /** The event the state stands on (none for `none`). */
  readonly event?: ConsentEvent;
  /** A given consent's last day before it expires (its expiry day: it no longer counts on it). */
  readonly expires?: CalendarDate;
  /** The day the consent stopped counting: a refusal's or withdrawal's day, an expiry's day. */
  readonly ended?: CalendarDate;
}

/** The latest of events (by time, then by number): the one that decides. */
export function latestEvent<T extends { readonly at: string; readonly id: number }>(
  events: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const e of events) if (!best || e.at > best.at || (e.at === best.at && e.id > best.id)) best = e;
  return best;
}

/**
 * The state of one purpose on day `on`, from the events of one subject for that purpose: the
 * latest of `on` or before decides.
 */
export function purposeState(
  purpose: Purpose,
  events: readonly ConsentEvent[],
  on: CalendarDate,
): PurposeState {
  const latest = latestEvent(events.filter((e) => e.purpose === purpose.id && dayOf(e.at) <= on));
  if (!latest) return { purpose: purpose.id, state: 'none' };
  const day = dayOf(latest.at);
  if (latest.choice !== 'given')
    return { purpose: purpose.id, state: latest.choice, event: latest, ended: day };
  const expiry = consentExpiry(purpose, latest.source);
  const expires = expiry ? (addDuration(day, expiry) ?? undefined) : undefined;
  if (expires !== undefined && expires <= on)
    return { purpose: purpose.id, state: 'expired', event: latest, expires, ended: expires };
  return { purpose: purpose.id, state: 'given', event: latest, ...(expires ? { expires } : {}) };
}

/**
 * Whether a record serving `purposes` (all consent-based) has lost its consent on day `on`: every
 * purpose refused, withdrawn or expired (one given, or one the ledger knows nothing of, keeps it).
 * Then the day it was lost (the latest end) and the event that decided it.
 */
export function consentLost(
  states: readonly PurposeState[],
): { readonly ended: CalendarDate; readonly event: ConsentEvent; readonly state: ConsentState } | undefined {
  if (states.length === 0) return undefined;
  let decisive: PurposeState | undefined;
  for (const s of states) {
    if (s.state === 'given' || s.state === 'none' || !s.ended || !s.event) return undefined;
    if (!decisive || (decisive.ended as string) < s.ended) decisive = s;
  }
  return decisive
    ? { ended: decisive.ended as string, event: decisive.event as ConsentEvent, state: decisive.state }
    : undefined;
}

/** A visitor id: what a site sets in the browser (1 to 200 printable characters, no space). */
export const VISITOR_ID = /^[\x21-\x7e]{1,200}$/;

/** An address as the ledger compares it (normalised); refused, without quoting it, when it cannot be one. */
export function consentAddress(email: string, path: readonly (string | number)[] = ['email']): string {
  const address = addressOf(email);
  if (address === undefined)
    throw new RegistreError('E_USAGE', `${field(String(path.at(-1)))}: not an e-mail address`, {
      path: [...path],
    });
  return address;
}
