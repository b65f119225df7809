/**
 * The console's sessions: a DPO signs in with an API token once; the browser then holds a random
 * session id (an HttpOnly cookie), never the token. Each page finds the session, then its token:
 * a revoked token ends every session opened with it. A session lasts eight hours at most.
 */
import { createHash, randomBytes } from 'node:crypto';
import { RegistreError } from '../core/errors.js';
import type { Engine } from './engine.js';
import { authenticate, type Caller, type Scope } from './tokens.js';

export const SESSION_HOURS = 8;

export interface Session {
  readonly caller: Caller;
  /** The secret every form and htmx call of the session sends back (CSRF). */
  readonly csrf: string;
  readonly expiresAt: string;
}

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Signs in with an API token: a new session, its id to set in the cookie (shown nowhere else). */
export async function openSession(engine: Engine, token: string): Promise<Session & { readonly id: string }> {
  const caller = await authenticate(engine, token.trim());
  if (caller.controllerId !== null)
    throw new RegistreError(
      'E_SCOPE',
      "a distributor's token calls the API for its own requests; the console is for the company's own tokens",
    );
  const state = await engine.state('write', { wholeWithinMs: 10_000 });
  const row = (await state.tokens.list()).find((t) => t.name === caller.name && t.revokedAt === null);
  if (!row) throw new RegistreError('E_TOKEN_INVALID', 'the API token is unknown or revoked');
  const id = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const now = engine.clock.now();
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString();
  await state.sessions.open(
    { hash: hashOf(id), tokenId: row.id, tokenName: row.name, csrf, expiresAt },
    now.toISOString(),
  );
  return { id, csrf, expiresAt, caller };
}

/** The session a cookie holds, while it lasts and its token is live; undefined otherwise. */
export async function findSession(engine: Engine, id: string | undefined): Promise<Session | undefined> {
  if (id === undefined || !SESSION_ID.test(id)) return undefined;
  const state = await engine.state('write', { wholeWithinMs: 10_000 });
  const session = await state.sessions.live(hashOf(id), engine.clock.now().toISOString());
  if (!session) return undefined;
  const token = await state.tokens.liveById(session.tokenId);
  if (!token) return undefined;
  return {
    caller: {
      actor: `token:${token.name}`,
      name: token.name,
      scope: token.scope as Scope,
      controllerId: token.controllerId,
    },
    csrf: session.csrf,
    expiresAt: session.expiresAt,
  };
}

/** Signs out: the session ends in the store (a copied cookie no longer works). */
export async function closeSession(engine: Engine, id: string | undefined, actor: string): Promise<void> {
  if (id === undefined || !SESSION_ID.test(id)) return;
  const state = await engine.state('write', { wholeWithinMs: 10_000 });
  await state.sessions.close(hashOf(id), actor);
}
