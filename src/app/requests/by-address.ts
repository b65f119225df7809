/**
 * A person's requests found by their address alone: what a website and the request page call,
 * where the caller proves nothing. Opening and asking for a code answer the same whatever the
 * address has open; a code is tried on the address's open requests awaiting verification.
 */
import { z } from 'zod';
import { readPreviousKeys } from '../../adapters/files/config-paths.js';
import type { RequestRow, StateStore } from '../../adapters/state/state-store.js';
import { RegistreError } from '../../core/errors.js';
import { mailboxKey, personHash, previousHashes } from '../../core/identity.js';
import { CODE_INTERVAL_SECONDS } from '../../core/requests/lifecycle.js';
import { REQUEST_TYPES, requireEmail } from '../../core/requests/requests.js';
import type { Context, Engine } from '../engine.js';
import { oneOf, parseInput } from '../input.js';
import type { Project } from '../project.js';
import { hitRateLimit } from '../tokens.js';
import { addRequest, prepareOpen, sendCode, tryCode } from './lifecycle.js';
import { requireKey, withState } from './shared.js';

const email = z.string().min(3).max(254);
const lang = oneOf(['fr', 'en']).optional();

export const AskRequestInput = z.strictObject({
  type: oneOf(REQUEST_TYPES),
  /** The person's address: the identity code is sent to it. */
  email,
  /** The person's language, for the code and the letters. */
  lang,
  /** The visitor id of the browser (its web visits are the person's too). */
  visitor: z.string().max(128).optional(),
  /** An objection's or a restriction's purpose. */
  purpose: z.string().max(64).optional(),
});
export type AskRequestInput = z.input<typeof AskRequestInput>;

export const CodeByAddressInput = z.strictObject({
  email,
  /** Only the request of this type (default: each open one awaiting verification). */
  type: oneOf(REQUEST_TYPES).optional(),
  /** The language of the answer (the edge's; the code goes in the request's own). */
  lang,
});
export type CodeByAddressInput = z.input<typeof CodeByAddressInput>;

export const VerifyByAddressInput = z.strictObject({
  email,
  /** The code e-mailed to the address. */
  code: z.string().min(1).max(16),
  /** Only the request of this type (default: whichever the code is of). */
  type: oneOf(REQUEST_TYPES).optional(),
  lang,
});
export type VerifyByAddressInput = z.input<typeof VerifyByAddressInput>;

/** The one answer to an open or a code asked by address: it says nothing of what the address has. */
export interface CodeAsked {
  readonly status: 'accepted';
}
const ACCEPTED: CodeAsked = { status: 'accepted' };

/** What the person learns once their code is right: their own request. */
export interface VerifiedByAddress {
  readonly id: number;
  readonly type: string;
  readonly status: string;
  readonly due: string;
}

/** The address, or E_USAGE naming the field (the same whatever the address has open). */
function addressOf(text: string): string {
  try {
    return requireEmail(text);
  } catch (error) {
    if (error instanceof RegistreError)
      throw new RegistreError('E_USAGE', error.message, { path: ['email'] });
    throw error;
  }
}

/**
 * One code a minute per address, whether it has a request or not: the request's own limit would
 * answer only for an address that has one.
 */
async function codeGate(engine: Engine, address: string): Promise<void> {
  try {
    await hitRateLimit(engine, 'code', mailboxKey(address), 1, CODE_INTERVAL_SECONDS * 1000);
  } catch (error) {
    if (!(error instanceof RegistreError && error.code === 'E_RATE_LIMITED')) throw error;
    throw new RegistreError(
      'E_CODE_TOO_SOON',
      `a code was asked for this address less than ${CODE_INTERVAL_SECONDS} s ago`,
      error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {},
    );
  }
}

/** The person's open requests awaiting verification (of `type` when given). */
async function awaiting(state: StateStore, project: Project, address: string, type?: string) {
  const person = personHash(requireKey(project), address);
  // A request opened before a key rotation names the person by the key of then.
  const people = [person, ...previousHashes(readPreviousKeys(project.loaded), address, person).keys()];
  const rows = (await Promise.all(people.map((p) => state.requests({ person: p })))).flat();
  return rows.filter((r) => r.status === 'received' && (type === undefined || r.type === type));
}

/**
 * A new code for a request awaiting verification, unless its own limits refuse it (a code less
 * than a minute ago, the most codes a request is sent): the caller is answered the same either way.
 * A failed send is recorded on the request (`mail: failed`) for the DPO, as `open` does.
 */
async function codeQuietly(
  engine: Engine,
  state: StateStore,
  project: Project,
  row: RequestRow,
  actor: string,
) {
  try {
    await sendCode(engine.mailer, state, project, row, actor, engine.clock.now());
  } catch (error) {
    const quiet = ['E_CODE_TOO_SOON', 'E_CODE_LIMIT', 'E_REQUEST_CHANGED', 'E_REQUEST_STATE'];
    if (!(error instanceof RegistreError && quiet.includes(error.code))) throw error;
  }
}

/**
 * Opens a request for an address, or, when one of its type is open already, sends a new code for
 * it if it awaits verification; the answer is the same in every case (no number, no date).
 * @example await askRequest(engine, { type: 'access', email: 'ana@example.org', lang: 'fr' }, { actor: 'public:website' })
 */
export async function askRequest(
  engine: Engine,
  input: AskRequestInput,
  context: Context,
): Promise<CodeAsked> {
  const options = parseInput(AskRequestInput, input);
  const address = addressOf(options.email);
  return withState(engine, 'write', async (state, project) => {
    const prepared = prepareOpen(project, options, engine.today());
    await codeGate(engine, address);
    const opened = await addRequest(state, prepared, context.actor);
    if (!opened.duplicate || opened.row.status === 'received')
      await codeQuietly(engine, state, project, opened.row, context.actor);
    return ACCEPTED;
  });
}

/** A new code for each of the address's requests awaiting verification; the same answer when it has none. */
export async function sendCodeByAddress(
  engine: Engine,
  input: CodeByAddressInput,
  context: Context,
): Promise<CodeAsked> {
  const options = parseInput(CodeByAddressInput, input);
  const address = addressOf(options.email);
  return withState(engine, 'write', async (state, project) => {
    await codeGate(engine, address);
    for (const row of await awaiting(state, project, address, options.type))
      await codeQuietly(engine, state, project, row, context.actor);
    return ACCEPTED;
  });
}

/**
 * Verifies the address's request awaiting verification whose code is `code`. A code that matches
 * none counts as a wrong one against each of them (the fifth locks it, told as a wrong code too); an
 * address with none gets the same E_WRONG_CODE, nothing counted.
 */
export async function verifyByAddress(
  engine: Engine,
  input: VerifyByAddressInput,
  context: Context,
): Promise<VerifiedByAddress> {
  const options = parseInput(VerifyByAddressInput, input);
  const address = addressOf(options.email);
  const code = options.code.trim();
  const now = engine.clock.now();
  return withState(engine, 'write', async (state, project) => {
    const rows = await awaiting(state, project, address, options.type);
    const matching = rows.find(
      (r) =>
        /^\d{6}$/.test(code) && r.codeHash !== null && state.digest(`code:${r.id}:${code}`) === r.codeHash,
    );
    if (matching) {
      // An expired code of the person's own is told as such: only its holder could type it.
      const row = await tryCode(state, project, matching.id, code, context.actor, now);
      return { id: row.id, type: row.type, status: row.status, due: row.due };
    }
    for (const row of rows) {
      try {
        await tryCode(state, project, row.id, code, context.actor, now);
      } catch (error) {
        if (!(error instanceof RegistreError)) throw error;
        // A request without a live code (expired, void) counts nothing, and the attempt that locks
        // one is told as any wrong code: a 423 answered only for an address with a request awaiting
        // verification told a stranger, in five calls, that the address had one.
        if (
          ![
            'E_WRONG_CODE',
            'E_REQUEST_LOCKED',
            'E_CODE_EXPIRED',
            'E_NO_CODE',
            'E_REQUEST_STATE',
            'E_REQUEST_CLOSED',
          ].includes(error.code)
        )
          throw error;
      }
    }
    throw new RegistreError(
      'E_WRONG_CODE',
      'the code matches no request of this address awaiting verification (the fifth wrong code locks a request)',
    );
  });
}
