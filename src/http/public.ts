/**
 * What the company's website calls without a token: record a consent event, check a visitor's
 * consent, open a request and verify it with the e-mailed code; and the page, in French and
 * English, where a person does the last two with a plain HTML form (no script needed). Every
 * call is counted against its client (per minute) and, for a request, its address (per hour).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import type { Engine } from '../app/engine.js';
import { parseInput } from '../app/input.js';
import { hitRateLimit } from '../app/tokens.js';
import { USE_CASES } from '../app/use-cases.js';
import { RegistreError } from '../core/errors.js';
import { normaliseEmail } from '../core/identity.js';
import { REQUEST_TYPES } from '../core/requests/requests.js';
import { call, document, type Env, inputOf, type ServiceSettings } from './shared.js';

/** The actor the audit log names for what the website sends. */
export const PUBLIC_ACTOR = 'public:website';

export const PublicOpenInput = z.strictObject({
  type: z.enum(REQUEST_TYPES),
  email: z.string().min(3).max(254),
  lang: z.enum(['fr', 'en']).optional(),
  /** The visitor id of the browser (its web visits are the person's too). */
  visitor: z.string().max(128).optional(),
  /** An objection's or a restriction's purpose. */
  purpose: z.string().max(64).optional(),
});

export const PublicVerifyInput = z.strictObject({
  id: z.number().int().min(1),
  /** The address the request was opened with: a code is tried only on the request of that address. */
  email: z.string().min(3).max(254),
  code: z.string().min(1).max(16),
});

export const PublicCheckInput = z.strictObject({
  visitor: z.string().min(1).max(128),
  purpose: z.string().min(1),
});

export const PUBLIC_ROUTES = [
  '/api/public/consents',
  '/api/public/consents/check',
  '/api/public/requests',
  '/api/public/requests/{id}/verify',
] as const;

/** Opens a request from the public: limited per address; answers only its number and deadline. */
export async function openPublic(engine: Engine, settings: ServiceSettings, body: Record<string, unknown>) {
  const input = parseInput(PublicOpenInput, body);
  await hitRateLimit(engine, 'address', normaliseEmail(input.email), settings.perAddress, 3_600_000);
  const view = (await call(engine, 'openRequest', input, PUBLIC_ACTOR)) as {
    id: number;
    type: string;
    status: string;
    due: string;
  };
  return { id: view.id, type: view.type, status: view.status, due: view.due };
}

/** Verifies a request from the public: the code is tried only when the address is the request's. */
export async function verifyPublic(engine: Engine, settings: ServiceSettings, body: Record<string, unknown>) {
  const input = parseInput(PublicVerifyInput, body);
  await hitRateLimit(engine, 'address', normaliseEmail(input.email), settings.perAddress * 4, 3_600_000);
  const wrong = () => new RegistreError('E_WRONG_CODE', 'the code does not match this request and address');
  let request: { askedBy: string; status: string };
  try {
    request = (await call(engine, 'showRequest', { id: input.id }, PUBLIC_ACTOR)) as typeof request;
  } catch (error) {
    if (error instanceof RegistreError && error.code === 'E_REQUEST_NOT_FOUND') throw wrong();
    throw error;
  }
  // Another address's request: refused as a wrong code, and not counted against that request
  // (a stranger cannot lock someone's request by trying codes on its number).
  if (normaliseEmail(request.askedBy) !== normaliseEmail(input.email)) throw wrong();
  const view = (await call(engine, 'verifyRequest', { id: input.id, code: input.code }, PUBLIC_ACTOR)) as {
    id: number;
    status: string;
    due: string;
  };
  return { id: view.id, status: view.status, due: view.due };
}

const json = async (c: HonoContext, schema: z.ZodType) => inputOf(c, schema);

export function publicRoutes(app: OpenAPIHono<Env>, engine: Engine, settings: ServiceSettings): void {
  const doc = (method: 'get' | 'post', path: string, summary: string, schema: z.ZodType) =>
    document(app, { method, path, summary, tag: 'public', schema, secured: false });

  doc(
    'post',
    '/api/public/consents',
    "Records a visitor's consent choice from the cookie banner (a visitor id; an address's choice goes through POST /api/consents with a token).",
    USE_CASES.recordConsent.input,
  );
  app.post('/api/public/consents', async (c) => {
    const input = await json(c, USE_CASES.recordConsent.input);
    // A browser proves nothing about an address: a choice about an address (a form's) is sent by
    // the site's own server, with a token (POST /api/consents). Here, a visitor id only.
    if (input.email !== undefined)
      throw new RegistreError(
        'E_USAGE',
        "email: the public endpoint records a visitor's choice (visitor); a choice about an address is sent by the site's server with a token (POST /api/consents)",
        { path: ['email'] },
      );
    if (input.source !== undefined && input.source !== 'banner' && input.source !== 'form')
      throw new RegistreError(
        'E_USAGE',
        `source: the website sends banner or form (got ${String(input.source)})`,
        {
          path: ['source'],
        },
      );
    const result = (await call(
      engine,
      'recordConsent',
      { source: 'banner', ...input },
      PUBLIC_ACTOR,
    )) as Record<string, unknown>;
    return c.json(result);
  });

  doc(
    'get',
    '/api/public/consents/check',
    "Whether a visitor's consent to a purpose is current.",
    PublicCheckInput,
  );
  app.get('/api/public/consents/check', async (c) => {
    const input = parseInput(PublicCheckInput, await json(c, PublicCheckInput));
    const result = (await call(engine, 'checkConsent', input, PUBLIC_ACTOR)) as {
      current: boolean;
      state: string;
    };
    return c.json({ current: result.current, state: result.state });
  });

  doc(
    'post',
    '/api/public/requests',
    'Opens a request; the identity code is e-mailed to the address.',
    PublicOpenInput,
  );
  app.post('/api/public/requests', async (c) =>
    c.json(await openPublic(engine, settings, await json(c, PublicOpenInput))),
  );

  doc(
    'post',
    '/api/public/requests/{id}/verify',
    'Verifies a request with the code e-mailed to its address.',
    PublicVerifyInput,
  );
  app.post('/api/public/requests/:id/verify', async (c) =>
    c.json(await verifyPublic(engine, settings, await json(c, PublicVerifyInput))),
  );
}
