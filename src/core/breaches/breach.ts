/**
 * A personal data breach as the register of breaches keeps it (art. 33(5)): what happened, when
 * it was discovered, what it touched and how many people, its likely consequences and the
 * measures taken, the decision to notify the supervisory authority (art. 33) and to tell the
 * people (art. 34). Pure: the 72-hour deadline, whether it is overdue, the order of the list.
 */
import type { Language } from '../text.js';

/** Art. 33(1): the authority is notified within 72 hours of the controller becoming aware. */
export const NOTIFY_WITHIN_HOURS = 72;

/** The three kinds of breach the CNIL's guidance names (loss of confidentiality, integrity, availability). */
export const BREACH_KINDS = ['confidentiality', 'integrity', 'availability'] as const;
export type BreachKind = (typeof BREACH_KINDS)[number];

/** A text the DPO wrote: one for both languages, or one per language. */
export type BreachText = string | { readonly fr: string; readonly en: string };

export const textIn = (text: BreachText, lang: Language): string =>
  typeof text === 'string' ? text : text[lang];

/** One table the breach touched: its columns in scope, and what the data map counted in it. */
export interface AffectedTable {
  readonly store: string;
  readonly table: string;
  readonly record: string;
  readonly columns: readonly string[];
  readonly categories: readonly string[];
  /** Rows holding a value in one of the columns. */
  readonly records: number;
  /** Distinct people among them; null when the data map ties the table to no identity. */
  readonly people: number | null;
  /** The identity the people were counted by (`shop.customers.id`). */
  readonly personKey: string | null;
}

export interface Affected {
  readonly tables: readonly AffectedTable[];
  /** Records of every table. */
  readonly records: number;
  /** Distinct people, by identity; null when no table could be tied to one. */
  readonly people: number | null;
  /** People were counted by more than one identity (a customer number, a visitor id): the sum may count someone twice. */
  readonly peopleUpperBound: boolean;
  /** When the stores were counted. */
  readonly countedAt: string;
}

export type NotificationDecision =
  | { readonly decision: 'pending' }
  | {
      readonly decision: 'notify';
      readonly notifiedAt: string;
      readonly reference: string | null;
      /** Art. 33(1): a notification after 72 hours says why. */
      readonly delayReason: string | null;
      readonly decidedAt: string;
      readonly decidedBy: string;
    }
  | {
      readonly decision: 'no-notify';
      readonly reason: string;
      readonly decidedAt: string;
      readonly decidedBy: string;
    };

export type InformationDecision =
  | { readonly decision: 'pending' }
  | {
      readonly decision: 'inform';
      readonly informedAt: string | null;
      readonly decidedAt: string;
      readonly decidedBy: string;
    }
  | {
      readonly decision: 'no-inform';
      readonly reason: string;
      readonly decidedAt: string;
      readonly decidedBy: string;
    };

/** What the register keeps of a breach, besides its number, dates and version (the row's body). */
export interface BreachDetails {
  /** When it happened, if known (an instant, or the start of a period). */
  readonly occurredAt: string | null;
  readonly kinds: readonly BreachKind[];
  readonly nature: BreachText;
  /** What the DPO named: activities, retention rules, records, data categories. */
  readonly scope: {
    readonly activities: readonly string[];
    readonly rules: readonly string[];
    readonly records: readonly string[];
    readonly categories: readonly string[];
  };
  readonly affected: Affected;
  /** The DPO's own estimate of the people, when the stores do not hold all of them (paper, a processor). */
  readonly peopleEstimate: number | null;
  readonly consequences: BreachText;
  readonly measures: BreachText;
  readonly notification: NotificationDecision;
  readonly information: InformationDecision;
}

export interface Breach extends BreachDetails {
  readonly id: number;
  readonly discoveredAt: string;
  /** discoveredAt + 72 hours. */
  readonly deadline: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** Where the notification stands: to decide before the deadline, overdue, or decided. */
export type BreachStatus = 'to-decide' | 'overdue' | 'notified' | 'notified-late' | 'not-notified';

/** A breach as the list and show answer it: with where it stands now. */
export interface BreachView extends Breach {
  readonly status: BreachStatus;
  /** Whole hours left before the deadline (negative: past it); null once decided. */
  readonly hoursLeft: number | null;
  /** Whole minutes left before the deadline (negative: past it, -1 within its first minute); null once decided. */
  readonly minutesLeft: number | null;
  /** The people the register states: counted, else the DPO's estimate. */
  readonly people: number | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function deadlineOf(discoveredAt: string): string {
  return new Date(Date.parse(discoveredAt) + NOTIFY_WITHIN_HOURS * HOUR).toISOString();
}

export function breachStatus(breach: Breach, now: Date): BreachStatus {
  const n = breach.notification;
  if (n.decision === 'notify') return n.notifiedAt > breach.deadline ? 'notified-late' : 'notified';
  if (n.decision === 'no-notify') return 'not-notified';
  return now.getTime() > Date.parse(breach.deadline) ? 'overdue' : 'to-decide';
}

export function viewOf(breach: Breach, now: Date): BreachView {
  const status = breachStatus(breach, now);
  const open = status === 'to-decide' || status === 'overdue';
  const left = Date.parse(breach.deadline) - now.getTime();
  return {
    ...breach,
    status,
    hoursLeft: open ? Math.floor(left / HOUR) : null,
    minutesLeft: open ? Math.floor(left / MINUTE) : null,
    people: breach.affected.people ?? breach.peopleEstimate,
  };
}

const RANK: Record<BreachStatus, number> = {
  overdue: 0,
  'to-decide': 1,
  'notified-late': 2,
  notified: 2,
  'not-notified': 2,
};

/** Overdue first, then those still to decide by their deadline, then the decided, newest first. */
export function orderBreaches(views: readonly BreachView[]): BreachView[] {
  return [...views].sort(
    (a, b) =>
      RANK[a.status] - RANK[b.status] ||
      (RANK[a.status] < 2
        ? a.deadline.localeCompare(b.deadline)
        : b.discoveredAt.localeCompare(a.discoveredAt)) ||
      a.id - b.id,
  );
}
