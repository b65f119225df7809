/**
 * The service's API tokens: created (the secret shown once, only its hash kept), listed, revoked;
 * each with a scope (`read` ⊂ `operate` ⊂ `admin`) and, for a distributor, the one controller it
 * reaches. A call to the API names its token's name as the audit log's actor.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { TokenRow } from '../adapters/state/state-store.js';
import { RegistreError } from '../core/errors.js';
import type { Context, Engine } from './engine.js';
import { oneOf, parseInput } from './input.js';

export type { TokenRow } from '../adapters/state/state-store.js';

export const SCOPES = ['read', 'operate', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Whether a token of scope `held` may make a call that needs `needed`. */
export const scopeAllows = (held: string, needed: Scope): boolean =>
  SCOPES.indexOf(held as Scope) >= SCOPES.indexOf(needed);

const TOKEN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const CreateTokenInput = z.strictObject({
  /** The token's name: the actor the audit log writes for its calls (`site`, `dpo-console`, `distributor-3`). */
  name: z.string().regex(TOKEN_NAME, {
    error:
      'must be 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit',
  }),
  scope: oneOf(SCOPES),
  /** A distributor's id: the token reaches only what is held on that controller's behalf. */
  controller: z.string().min(1).max(64).optional(),
});
export type CreateTokenInput = z.input<typeof CreateTokenInput>;

export const TokenNameInput = z.strictObject({ name: z.string().min(1).max(64) });
export type TokenNameInput = z.input<typeof TokenNameInput>;

/** What the API knows of its caller once its token is checked. */
export interface Caller {
  /** The actor in the audit log: `token:` and the token's name. */
  readonly actor: string;
  readonly name: string;
  readonly scope: Scope;
  readonly controllerId: string | null;
}

const PREFIX = 'rgt_';
const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Creates a token; its secret is in the answer, once, and nowhere else. */
export async function createToken(
  engine: Engine,
  input: CreateTokenInput,
  context: Context,
): Promise<TokenRow & { readonly token: string }> {
  const parsed = parseInput(CreateTokenInput, input);
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const state = await engine.state('write');
  const row = await state.tokens.create(
    { name: parsed.name, hash: hashOf(secret), scope: parsed.scope, controllerId: parsed.controller ?? null },
    context.actor,
    engine.clock.now().toISOString(),
  );
  return { ...row, token: secret };
}

export async function listTokens(
  engine: Engine,
  _input: Record<string, never>,
  _context: Context,
): Promise<TokenRow[]> {
  const state = await engine.state('read');
  return state.tokens.list();
}

export async function revokeToken(
  engine: Engine,
  input: TokenNameInput,
  context: Context,
): Promise<TokenRow> {
  const parsed = parseInput(TokenNameInput, input);
  const state = await engine.state('write');
  return state.tokens.revoke(parsed.name, context.actor, engine.clock.now().toISOString());
}

/**
 * The caller a bearer token stands for; E_TOKEN_MISSING without one, E_TOKEN_INVALID when it is
 * unknown or revoked (the same answer for both: a guess learns nothing).
 */
export async function authenticate(engine: Engine, bearer: string | undefined): Promise<Caller> {
  if (bearer === undefined || bearer === '')
    throw new RegistreError(
      'E_TOKEN_MISSING',
      'this endpoint needs an API token: send "Authorization: Bearer <token>"',
    );
  if (!bearer.startsWith(PREFIX) || bearer.length > 128)
    throw new RegistreError('E_TOKEN_INVALID', 'the API token is unknown or revoked');
  const state = await engine.state('write', { wholeWithinMs: 10_000 });
  const row = await state.tokens.live(hashOf(bearer));
  if (!row) throw new RegistreError('E_TOKEN_INVALID', 'the API token is unknown or revoked');
  return {
    actor: `token:${row.name}`,
    name: row.name,
    scope: row.scope as Scope,
    controllerId: row.controllerId,
  };
}

/** Whether any live token exists (the service makes the first admin token when none does). */
export async function liveTokenCount(engine: Engine): Promise<number> {
  const state = await engine.state('write');
  return state.tokens.liveCount();
}

/**
 * Counts a hit of `what` (a client, an address) in a fixed window of `windowMs`, in the state
 * store (shared by every process serving it); refuses past `limit` with E_RATE_LIMITED saying
 * when to come back. `what` is hashed with the state key before it is stored.
 */
export async function hitRateLimit(
  engine: Engine,
  bucket: string,
  what: string,
  limit: number,
  windowMs: number,
): Promise<{ remaining: number; resetAt: number }> {
  const state = await engine.state('write', { wholeWithinMs: 10_000 });
  const key = `${bucket}:${state.digest(`${bucket}\u0000${what}`).slice(0, 64)}`;
  const now = engine.clock.now().getTime();
  const { hits, resetAt } = await state.rateLimits.hit(key, windowMs, now);
  if (hits > limit) {
    const seconds = Math.max(1, Math.ceil((resetAt - now) / 1000));
    throw new RegistreError(
      'E_RATE_LIMITED',
      `too many calls (${limit} per ${Math.round(windowMs / 1000)} s): try again in ${seconds} s`,
      { retryAfter: seconds },
    );
  }
  return { remaining: limit - hits, resetAt };
}
