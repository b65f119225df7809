import type { ErrorKind, RegistreError } from '../core/errors.js';

/**
 * The HTTP status of each kind of error, for the API. Choices that could go either way:
 * - misconfigured 500: the server's own configuration is wrong; no change to the request fixes it.
 * - locked 423 (WebDAV's Locked): the request stays locked until the DPO acts.
 * - busy 409, not 423 or 503: another operation holds what is asked for, for now; 409 tells the
 *   client to look again and retry, 503 would read as the server down to every monitor.
 * - rate-limited 429: the message says from when the next attempt is allowed.
 * - tampered 500, not 409: the server's stored state no longer proves itself; no retry or change
 *   to the request helps, the operator must investigate (audit verify, audit accept-head).
 * - unavailable 503: a store or the mail server behind registre did not answer; retrying may work.
 */
export const HTTP_STATUSES = {
  usage: 400,
  invalid: 400,
  misconfigured: 500,
  'not-found': 404,
  conflict: 409,
  locked: 423,
  busy: 409,
  'rate-limited': 429,
  'too-large': 413,
  unauthenticated: 401,
  forbidden: 403,
  tampered: 500,
  unavailable: 503,
  failed: 500,
} as const satisfies Record<ErrorKind, number>;

export function httpStatusOf(error: RegistreError): number {
  return HTTP_STATUSES[error.kind];
}
