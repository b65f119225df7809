/**
 * What the company's website calls without a token: record a consent event, check a visitor's
 * consent, open a request, ask for a new code and verify a request with the e-mailed code, by
 * address and code alone. Every call is counted against its client (per minute) and, for a
 * request, its address (per hour). A refusal says a fixed sentence in the caller's language
 * (public-messages.ts), never the internal message.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import type { Engine } from '../app/engine.js';
import { parseInput } from '../app/input.js';
import { hitRateLimit } from '../app/tokens.js';
import { USE_CASES } from '../app/use-cases.js';
import { RegistreError } from '../core/errors.js';
import { mailboxKey } from '../core/identity.js';
import { langOf } from './public-messages.js';
import { call, document, type Env, inputOf, type ServiceSettings } from './shared.js';

/** The actor the audit log names for what the website sends. */
export const PUBLIC_ACTOR = 'public:website';

export const PublicCheckInput = z.strictObject({
  visitor: z.string().min(1).max(128),
  purpose: z.string().min(1),
});

export const PUBLIC_ROUTES = [
  '/api/public/consents',
  '/api/public/consents/check',
  '/api/public/requests',
  '/api/public/requests/code',
  '/api/public/requests/verify',
] as const;

/** The address a body names, for its per-address limit (a missing one is refused by the use case). */
const addressIn = (body: Record<string, unknown>) =>
  typeof body.email === 'string' ? mailboxKey(body.email) : '';

/** Opens a request, or sends a new code for the one of its type open: the same answer either way. */
export async function openPublic(engine: Engine, settings: ServiceSettings, body: Record<string, unknown>) {
  await hitRateLimit(engine, 'address', addressIn(body), settings.perAddress, 3_600_000);
  return USE_CASES.askRequest.run(engine, body as z.input<typeof USE_CASES.askRequest.input>, {
    actor: PUBLIC_ACTOR,
  });
}

/** A new code for the address's requests awaiting verification: the same answer when it has none. */
export async function codePublic(engine: Engine, settings: ServiceSettings, body: Record<string, unknown>) {
  await hitRateLimit(engine, 'address', addressIn(body), settings.perAddress, 3_600_000);
  return USE_CASES.sendCodeByAddress.run(engine, body as z.input<typeof USE_CASES.sendCodeByAddress.input>, {
    actor: PUBLIC_ACTOR,
  });
}

/** Verifies the address's request whose code is the one given. */
export async function verifyPublic(engine: Engine, settings: ServiceSettings, body: Record<string, unknown>) {
  // Its own window: a person typing codes does not use up the opens and codes of the hour.
  await hitRateLimit(engine, 'address-verify', addressIn(body), settings.perAddress * 4, 3_600_000);
  return USE_CASES.verifyByAddress.run(engine, body as z.input<typeof USE_CASES.verifyByAddress.input>, {
    actor: PUBLIC_ACTOR,
  });
}

const json = async (c: HonoContext<Env>, schema: z.ZodType) => inputOf(c, schema);

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

  /** The body, its `lang` taken as the language of a refusal. */
  const body = async (c: HonoContext<Env>, schema: z.ZodType) => {
    const input = await json(c, schema);
    c.set('lang', langOf(c, input));
    return input;
  };

  const steps = [
    {
      path: '/api/public/requests',
      summary:
        'Opens a request and e-mails the identity code to the address; when one of that type is open and awaits verification, a new code is sent for it instead. The answer is the same in every case: `{ "status": "accepted" }`.',
      schema: USE_CASES.askRequest.input,
      run: openPublic,
    },
    {
      path: '/api/public/requests/code',
      summary:
        'Sends a new code for each request of the address awaiting verification (of `type` when given). The answer is the same whether there is one or not: `{ "status": "accepted" }`.',
      schema: USE_CASES.sendCodeByAddress.input,
      run: codePublic,
    },
    {
      path: '/api/public/requests/verify',
      summary:
        "Verifies the address's request whose code is the one e-mailed: its number, type, status and deadline. A wrong code counts against the address's requests awaiting verification; an address with none gets the same E_WRONG_CODE.",
      schema: USE_CASES.verifyByAddress.input,
      run: verifyPublic,
    },
  ] as const;
  for (const step of steps) {
    doc('post', step.path, step.summary, step.schema);
    app.post(step.path, async (c) => c.json(await step.run(engine, settings, await body(c, step.schema))));
  }
}
