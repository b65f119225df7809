/**
 * The HTTP API: a Hono application over one engine. Every endpoint parses its input (path, query,
 * JSON body), calls a use case with the caller as the actor and renders its result as JSON; the
 * use case's zod schema validates the input and documents it at /openapi.json. Errors are the
 * error catalogue's codes with their kind's status. Nothing about callers is kept in memory:
 * tokens and rate-limit windows are in the state store, shared by every process serving it.
 */
import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context as HonoContext, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { matchedRoutes } from 'hono/route';
import { METHOD_NAME_ALL } from 'hono/router';
import { secureHeaders } from 'hono/secure-headers';
import type { z } from 'zod';
import { controllerOfRecord, forwardedTo } from '../app/controller.js';
import type { Engine } from '../app/engine.js';
import { newPackageFolder } from '../app/requests/packages.js';
import { authenticate, type Caller, hitRateLimit, scopeAllows } from '../app/tokens.js';
import { USE_CASES } from '../app/use-cases.js';
import { RegistreError } from '../core/errors.js';
import { safeMessage } from '../core/safe-message.js';
import { buildConsole } from '../ui/console.js';
import { CONSOLE_PAGES } from '../ui/pages/index.js';
import { publicRoutes } from './public.js';
import { langOf, publicErrorBody, publicInternal } from './public-messages.js';
import { isRequestPage, requestPage, requestPageFailure } from './request-page.js';
import { ADMIN_ROUTES, type Route } from './routes.js';
import {
  call,
  document,
  type Env,
  errorBody,
  honoPath,
  inputOf,
  type Log,
  type ServiceSettings,
  sendFile,
  serviceSettings,
} from './shared.js';
import { httpStatusOf } from './status.js';

export type { Env, Log } from './shared.js';

export interface ApiOptions {
  readonly log?: Log;
  /** Counts each answered call (the service's metrics). */
  readonly onResponse?: (route: string, method: string, status: number, seconds: number) => void;
  /** The client's network address, when the server knows it (the socket's). */
  readonly clientOf?: (c: HonoContext) => string | undefined;
  /** Long use cases (sweep, check) stop between batches when this is aborted (shutdown). */
  readonly signal?: AbortSignal;
  /** Extra endpoints (health, metrics) added by the service. */
  readonly extend?: (app: OpenAPIHono<Env>) => void;
}

const bearerOf = (c: HonoContext) => {
  const header = c.req.header('authorization');
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
};

/** Checks the caller's token and scope; a distributor's token only where its route lets it in. */
function guard(engine: Engine, route: Route): MiddlewareHandler<Env> {
  return async (c, next) => {
    const caller = await authenticate(engine, bearerOf(c));
    c.set('caller', caller);
    if (caller.controllerId !== null && route.controller === undefined)
      throw new RegistreError(
        'E_SCOPE',
        `this token reaches only what is processed for controller ${caller.controllerId}: the requests forwarded to it and its records`,
      );
    if (!scopeAllows(caller.scope, route.access))
      throw new RegistreError(
        'E_SCOPE',
        `this token's scope is ${caller.scope}; ${route.method.toUpperCase()} ${route.path} needs ${route.access}`,
      );
    await next();
  };
}

/** What a distributor's token gets from an endpoint it may call: only its own. */
async function asController(
  engine: Engine,
  route: Route,
  caller: Caller,
  input: Record<string, unknown>,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const controllerId = caller.controllerId as string;
  const notFound = () =>
    new RegistreError(
      'E_REQUEST_NOT_FOUND',
      `no request ${String(input.id)} was forwarded to this controller`,
    );
  switch (route.controller) {
    case 'requests': {
      const result = await call(engine, route.useCase, input, caller.actor);
      if (Array.isArray(result))
        return result.flatMap((r) => forwardedTo(r as Parameters<typeof forwardedTo>[0], controllerId) ?? []);
      const mine = forwardedTo(result as Parameters<typeof forwardedTo>[0], controllerId);
      if (!mine) throw notFound();
      return mine;
    }
    case 'instruction': {
      const { id, dryRun } = input;
      const request = await call(engine, 'showRequest', { id }, caller.actor);
      if (!forwardedTo(request as Parameters<typeof forwardedTo>[0], controllerId)) throw notFound();
      return call(
        engine,
        'runRequest',
        { id, onBehalfOf: controllerId, ...(dryRun !== undefined ? { dryRun } : {}) },
        caller.actor,
        signal,
      );
    }
    case 'explain': {
      if (typeof input.table !== 'string' || typeof input.id !== 'string' || input.email !== undefined)
        throw new RegistreError(
          'E_SCOPE',
          "a controller's token explains one of its records: give table and id",
        );
      const controller = await controllerOfRecord(engine, input.table, input.id);
      if (controller?.id !== controllerId)
        throw new RegistreError(
          'E_RECORD_NOT_FOUND',
          `no record ${input.table} ${input.id} is processed for this controller`,
        );
      return call(engine, route.useCase, input, caller.actor);
    }
    default:
      throw new RegistreError('E_SCOPE', 'this token is limited to one controller');
  }
}

/** The client a public call is counted against: the socket's address, or the proxy's word for it. */
function clientAddress(c: HonoContext, settings: ServiceSettings, options: ApiOptions): string {
  if (settings.trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').pop()?.trim();
    if (last) return last;
  }
  return options.clientOf?.(c) ?? 'unknown';
}

/** The API over `engine`. */
export async function buildApi(engine: Engine, options: ApiOptions = {}): Promise<OpenAPIHono<Env>> {
  const settings = await serviceSettings(engine);
  const log = options.log ?? (() => {});
  const app = new OpenAPIHono<Env>();

  // What every answer carries: security headers, a strict CSP (the pages set their own), timing.
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    // The handler's pattern, also when a middleware refused the call before it (429, 403 origin).
    const handler = matchedRoutes(c).findLast((r) => r.method !== METHOD_NAME_ALL);
    const route =
      handler?.path ?? (c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched');
    options.onResponse?.(route, c.req.method, c.res.status, seconds);
    const caller = c.get('caller');
    log({
      level: c.res.status >= 500 ? 'error' : 'info',
      msg: 'call',
      method: c.req.method,
      route,
      status: c.res.status,
      ms: Math.round(seconds * 10_000) / 10,
      ...(caller ? { actor: caller.actor } : {}),
    });
  });
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      crossOriginResourcePolicy: 'same-origin',
      referrerPolicy: 'no-referrer',
      // The pages (/request, /docs) set their own CSP: the strict one is for what sets none.
      overwrite: false,
    }),
  );
  app.use(
    '*',
    bodyLimit({
      maxSize: settings.bodyBytes,
      onError: () => {
        throw new RegistreError('E_BODY_TOO_LARGE', `the body is larger than ${settings.bodyBytes} bytes`);
      },
    }),
  );
  app.use('*', async (c, next) => {
    c.set('client', clientAddress(c, settings, options));
    await next();
  });

  // What a person meets (the public endpoints, the request page) is said in their language,
  // with a fixed sentence; an admin's caller gets the internal message.
  const publicCall = (c: HonoContext) => c.req.path.startsWith('/api/public/');
  app.onError((error, c) => {
    const lang = c.get('lang') ?? langOf(c);
    if (error instanceof RegistreError) {
      if (error.retryAfter !== undefined) c.header('Retry-After', String(error.retryAfter));
      if (isRequestPage(c)) return requestPageFailure(c, error, lang);
      const byField = c.req.path.startsWith('/api/public/requests');
      const body = publicCall(c) ? publicErrorBody(error, lang, byField) : errorBody(error);
      return c.json(body, httpStatusOf(error) as 400);
    }
    log({ level: 'error', msg: 'unexpected error', route: c.req.routePath, error: safeMessage(error) });
    return c.json(
      publicCall(c) || isRequestPage(c)
        ? publicInternal(lang)
        : { error: { code: 'E_INTERNAL', message: 'the service failed on this call; see its log' } },
      500,
    );
  });
  app.notFound((c) =>
    c.json(
      errorBody(
        new RegistreError('E_ROUTE', `no endpoint ${c.req.method} ${c.req.path} (see /openapi.json)`),
      ),
      404,
    ),
  );

  // The public endpoints a website calls, with CORS for its origins and rate limits.
  const allowed = new Set(settings.origins);
  app.use(
    '/api/public/*',
    cors({
      origin: (origin) => (allowed.has(origin) ? origin : null),
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['Content-Type'],
      // The site's script reads when to come back after a 429.
      exposeHeaders: ['Retry-After'],
      maxAge: 600,
    }),
  );
  app.use('/api/public/*', async (c, next) => {
    c.set('lang', langOf(c));
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.has(origin))
      throw new RegistreError(
        'E_ORIGIN',
        `the origin ${origin} is not among service.origins of the configuration`,
      );
    await hitRateLimit(engine, 'client', c.get('client'), settings.perClient, 60_000);
    await next();
  });
  publicRoutes(app, engine, settings);
  requestPage(app, engine, settings);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  for (const route of ADMIN_ROUTES) {
    const schema = USE_CASES[route.useCase].input as z.ZodType;
    document(app, { ...route, schema, secured: true });
    app.on(route.method.toUpperCase(), honoPath(route.path), guard(engine, route), async (c) => {
      const input = await inputOf(c, schema);
      for (const key of route.today ?? []) if (input[key] === undefined) input[key] = engine.today();
      const caller = c.get('caller');
      // A package is written where the service keeps them, never where a caller says.
      if (route.package && caller.controllerId === null) {
        if (input.out !== undefined)
          throw new RegistreError(
            'E_USAGE',
            'out: the service writes a package in its own folder; read it with GET /api/requests/{id}/package',
            { path: ['out'] },
          );
        if (typeof input.id === 'number') input.out = await newPackageFolder(engine, input.id);
      }
      const result =
        caller.controllerId !== null
          ? await asController(engine, route, caller, input, options.signal)
          : await call(engine, route.useCase, input, caller.actor, options.signal);
      if (typeof result === 'string')
        return c.body(result, 200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
      if (route.file) return sendFile(c, result as { name: string; content: Buffer | string });
      return c.json(result ?? null);
    });
  }

  // The DPO's console: pages over the same engine, signed in with a token.
  app.route(
    '/console',
    buildConsole(engine, CONSOLE_PAGES, {
      log,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );

  options.extend?.(app);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'registre',
      version: '1',
      description:
        "registre's API: the retention plan and sweeps, holds, people's requests, the consent ledger, the suppression list and the audit log of a privacy register. Admin endpoints take a bearer token (`registre token create`); public ones are called by the company's website.",
    },
  });
  // The document's reader; its script and styles come from a CDN, which its own CSP lets in.
  app.get(
    '/docs',
    async (c, next) => {
      await next();
      c.res.headers.set(
        'Content-Security-Policy',
        "default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: https://cdn.jsdelivr.net; connect-src 'self'; frame-ancestors 'none'",
      );
    },
    swaggerUI({ url: '/openapi.json' }),
  );
  return app;
}
