import type { ErrorKind, RegistreError } from '../core/errors.js';

/** The exit code of each kind of error: 2 for a wrong call (as commander's own usage errors), 1 for all else. */
export const EXIT_CODES = {
  usage: 2,
  invalid: 1,
  misconfigured: 1,
  'not-found': 1,
  conflict: 1,
  locked: 1,
  busy: 1,
  'rate-limited': 1,
  'too-large': 1,
  unauthenticated: 1,
  forbidden: 1,
  tampered: 1,
  unavailable: 1,
  failed: 1,
} as const satisfies Record<ErrorKind, number>;

export function exitCodeOf(error: RegistreError): number {
  return EXIT_CODES[error.kind];
}

/**
 * Outcomes that are not errors but that a script must tell apart from success: `consent check`
 * when the consent does not count (refused, withdrawn, expired or none), distinct from 1 (an
 * error) and 2 (a wrong call).
 */
export const NO_CURRENT_CONSENT = 3;
