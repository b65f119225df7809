/** Shared by every part of people's requests: the view of a request, the key, the register's purposes, and the shapes of a run. */

import { z } from 'zod';
import { readHmacKey, readPreviousKeys } from '../../adapters/files/config-paths.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { previousHashes } from '../../core/identity.js';
import type { Register } from '../../core/register/register-load.js';
import { findPurpose, type PurposeRef } from '../../core/register/register-model.js';
import { DELIVERIES, lettersOwed } from '../../core/requests/letters.js';
import type { LetterRecord } from '../../core/requests/lifecycle.js';
import { daysLeft, isOpen, type RequestStatus, type RequestType } from '../../core/requests/requests.js';
import type { Engine } from '../engine.js';
import { calendarDate, oneOf, positiveId } from '../input.js';
import type { Project } from '../project.js';

/** Runs `f` with the engine's state store (`write`: checked whole, the key required) and project. */
export async function withState<T>(
  engine: Engine,
  mode: 'read' | 'write',
  f: (state: StateStore, project: Project) => Promise<T>,
): Promise<T> {
  const project = await engine.project(mode === 'read' ? { cached: true } : {});
  return f(await engine.state(mode), project);
}

export type Row = Record<string, unknown>;

/** A request as commands show it (no address: the person is their keyed hash). */
export interface RequestView {
  readonly id: number;
  readonly type: RequestType;
  readonly status: RequestStatus;
  readonly received: string;
  readonly due: string;
  readonly daysLeft: number;
  readonly overdue: boolean;
  readonly person: string;
  /**
   * Who asked: the address, to the DPO, while the request is open; once it is closed (done,
   * refused) or the person erased, only their keyed hash.
   */
  readonly askedBy: string;
  readonly purpose?: string;
  readonly extended?: { readonly months: number; readonly reason: string };
  readonly refused?: string;
  readonly outcome?: Record<string, unknown>;
  /** How the last identity code went: `failed` when it could not be sent (send-code retries). */
  readonly code?: { readonly sent: number; readonly via: 'smtp' | 'outbox' | 'failed' };
  /** Why the code just sent could not be (the mail server's code and a fixed text, never an address). */
  readonly mailError?: string;
  /** When a restriction was lifted. */
  readonly lifted?: string;
  /** The person's language, when `request open --lang` gave it. */
  readonly lang?: 'fr' | 'en';
  /** The letters to the person (refusal, extension, completion) and how each went. */
  readonly letters?: readonly LetterRecord[];
  /** The letters owed and not delivered (`request send-letters` sends them). */
  readonly lettersOwed?: readonly LetterRecord['kind'][];
  /** Why the letter just sent could not be (the mail server's code and a fixed text). */
  readonly letterError?: string;
}

export function viewOf(row: RequestRow, today: string): RequestView {
  const details = row.details as {
    purpose?: string;
    extension?: string;
    refused?: string;
    lifted?: string;
    lang?: 'fr' | 'en';
    letters?: LetterRecord[];
  };
  const owed = lettersOwed(row);
  const left = daysLeft(row.due, today);
  const open = isOpen(row.status as RequestStatus);
  return {
    id: row.id,
    type: row.type as RequestType,
    status: row.status as RequestStatus,
    received: row.received,
    due: row.due,
    daysLeft: left,
    overdue: open && left < 0,
    person: row.person,
    askedBy: open && row.email ? row.email : row.person,
    ...(details.purpose ? { purpose: details.purpose } : {}),
    ...(row.extendedMonths
      ? { extended: { months: row.extendedMonths, reason: details.extension ?? '' } }
      : {}),
    ...(details.refused ? { refused: details.refused } : {}),
    ...(row.outcome ? { outcome: row.outcome } : {}),
    ...(row.mail ? { code: { sent: row.codes, via: row.mail } } : {}),
    ...(details.lifted ? { lifted: details.lifted } : {}),
    ...(details.lang ? { lang: details.lang } : {}),
    ...(details.letters?.length ? { letters: details.letters } : {}),
    ...(owed.length ? { lettersOwed: owed } : {}),
  };
}

export function requireKey(project: Project): Buffer {
  const key = readHmacKey(project.loaded);
  if (!key)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      'requests refer to people by a keyed hash: set hmacKey in the configuration (registre key generate)',
    );
  return key;
}

/**
 * The person's hashes under the keys of before a rotation, for the suppression list: an address
 * listed before the rotation is re-keyed rather than listed twice (none once the address is gone).
 */
export function rekeying(project: Project, row: RequestRow): Map<string, string> {
  return row.email ? previousHashes(readPreviousKeys(project.loaded), row.email, row.person) : new Map();
}

export async function requireRequest(state: StateStore, id: number): Promise<RequestRow> {
  const row = await state.request(id);
  if (!row)
    throw new RegistreError(
      'E_REQUEST_NOT_FOUND',
      `there is no request ${id}; registre request list shows them`,
    );
  return row;
}

export function parseRequestId(text: string): number {
  if (!/^\d{1,9}$/.test(text.trim()))
    throw new RegistreError(
      'E_USAGE',
      `"${text}" is not a request id (a whole number, as request list shows)`,
    );
  return Number(text);
}

/** A purpose and its activity, by the purpose's id (the register's own look-up). */
export function purposeOf(register: Register, id: string): PurposeRef | undefined {
  return findPurpose(register, id);
}
// ---------------------------------------------------------------------------------------------
// Carrying a request out

export const RunRequestInput = z.strictObject({
  /** The request. */
  id: positiveId,
  /** The day the person's records are judged on (default: today; never later). */
  at: calendarDate.optional(),
  /** Where an access or portability package is written. */
  out: z.string().optional(),
  /** Show what would be done; change nothing. */
  dryRun: z.boolean().default(false),
  /** Execute, on that controller's instruction, what a done erasure forwarded to it. */
  onBehalfOf: z.string().optional(),
  /** An objection to a purpose other than direct marketing: the DPO's compelling legitimate grounds. */
  grounds: z.string().optional(),
  /**
   * How the completion letter goes: `mail` (default; an access or portability package attached),
   * `letter` (the letter only, the package handed over apart), `none` (no letter: the DPO
   * answers by other means).
   */
  delivery: oneOf(DELIVERIES).default('mail'),
});
export type RunRequestInput = z.input<typeof RunRequestInput>;
export type RunOptions = z.output<typeof RunRequestInput>;

/** A record held for a controller, reported to it with the request, executed on its instruction. */
export interface Forwarded {
  readonly controller: string;
  readonly controllerId: string | null;
  readonly store: string;
  readonly table: string;
  readonly id: string;
}

export interface RunResult {
  readonly request: number;
  readonly type: RequestType;
  readonly at: string;
  readonly dryRun: boolean;
  /** "we hold no data about you" when nothing was found. */
  readonly message?: string;
  readonly found: number;
  readonly files?: readonly string[];
  readonly erased?: readonly {
    table: string;
    id: string;
    action: 'delete' | 'anonymise';
    archived?: boolean;
  }[];
  readonly kept?: readonly {
    table: string;
    id: string;
    basis: string;
    until: string | null;
    /** Kept for a hold or a restriction: erased so once it ends (the sweep, erasure replay). */
    afterHold?: 'delete' | 'anonymise';
  }[];
  /** Remembered records left alone: the key now holds another record, or a hold covers it. */
  readonly skipped?: readonly { table: string; id: string; why: string }[];
  readonly forwarded?: readonly Forwarded[];
  readonly rectified?: readonly { table: string; id: string; fields: readonly string[] }[];
  readonly unchanged?: readonly { table: string; id: string; basis: string; fields?: readonly string[] }[];
  readonly restricted?: readonly { table: string; id: string }[];
  readonly hold?: number;
  readonly suppressed?: boolean;
  /** An objection: recorded (the audit log; for direct marketing the suppression list), found or not. */
  readonly objection?: {
    readonly purpose: string;
    readonly suppressionList: boolean;
    /** Processing goes on, on the DPO's compelling legitimate grounds (art. 21(1)). */
    readonly grounds?: boolean;
  };
  /** A run interrupted after its intent was logged, completed by this one. */
  readonly resumed?: boolean;
  /** How the completion letter was delivered (`--delivery`); `folder`: the package's, to attach it again. */
  readonly delivery?: 'mail' | 'letter' | 'none';
  readonly folder?: string;
  /** The completion letter: sent, written to the outbox, failed (and why), or none. */
  readonly letter?: { readonly via: 'smtp' | 'outbox' | 'failed' | 'none'; readonly error?: string };
}

export const NO_DATA = 'we hold no data about you';
