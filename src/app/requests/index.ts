/**
 * People's requests (GDPR art. 12, 15 to 21): open, verify the person's identity, carry out,
 * extend, refuse; and `erasure replay` after a backup is restored. Every step is an audit entry
 * with its actor and the person's keyed hash, never an address or a name.
 */

export {
  type AskRequestInput,
  askRequest,
  type CodeAsked,
  type CodeByAddressInput,
  sendCodeByAddress,
  type VerifiedByAddress,
  type VerifyByAddressInput,
  verifyByAddress,
} from './by-address.js';
export { type LetterSent, type SendLettersResult, sendLetters } from './letters.js';
export {
  extendRequest,
  listRequests,
  type OpenOptions,
  type OpenRequestInput,
  openRequest,
  refuseRequest,
  resendCode,
  showRequest,
  type Verification,
  verifyRequest,
} from './lifecycle.js';
export { type ReplayResult, replayErasures } from './replay.js';
export { liftRestriction } from './restriction.js';
export { runRequest } from './run.js';
export {
  type Forwarded,
  parseRequestId,
  type RequestView,
  type RunOptions,
  type RunResult,
} from './shared.js';
