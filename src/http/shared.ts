/** What the API's modules share: the caller's variables, the settings, how an input is read, how a route is documented and called. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import type { Context, Engine } from '../app/engine.js';
import type { Caller } from '../app/tokens.js';
import { USE_CASES, type UseCaseName } from '../app/use-cases.js';
import { fieldsAs, RegistreError } from '../core/errors.js';
import type { Lang } from './public-messages.js';
import type { Route } from './routes.js';

/** A structured log line (JSON); never an address, a token or a query string. */
export type Log = (entry: Record<string, unknown>) => void;

export interface Env {
  /** `lang`: the language a public call's refusal is said in, once its body is read. */
  Variables: { caller: Caller; client: string; lang: Lang | undefined };
}

export interface ServiceSettings {
  readonly origins: readonly string[];
  readonly trustProxy: boolean;
  readonly perClient: number;
  readonly perAddress: number;
  readonly bodyBytes: number;
}

export async function serviceSettings(engine: Engine): Promise<ServiceSettings> {
  const project = await engine.project();
  const service = project.loaded.config.service ?? {};
  return {
    origins: service.origins ?? [],
    trustProxy: service.trustProxy ?? false,
    perClient: service.limits?.perClient ?? 120,
    perAddress: service.limits?.perAddress ?? 5,
    bodyBytes: service.limits?.bodyBytes ?? 65_536,
  };
}

/** An error's JSON body: a stable code, a message naming fields as a JSON body spells them. */
export function errorBody(error: RegistreError) {
  const message = fieldsAs(error.message, (name) => name);
  return {
    error: {
      code: error.code,
      message,
      ...(error.path ? { field: error.path.join('.') } : {}),
    },
  };
}

/** The OpenAPI type of a schema's base: what a query string's text is turned into. */
function baseType(schema: z.ZodType): string {
  let s = schema as unknown as { _zod: { def: { type: string; innerType?: unknown; in?: unknown } } };
  for (let i = 0; i < 8; i++) {
    const def = s._zod.def;
    if (
      def.type === 'optional' ||
      def.type === 'default' ||
      def.type === 'nullable' ||
      def.type === 'prefault'
    )
      s = def.innerType as typeof s;
    else if (def.type === 'pipe') s = def.in as typeof s;
    else return def.type;
  }
  return 'unknown';
}

/**
 * The input of a call: path parameters, then the query (GET, DELETE) or the JSON body. Query
 * texts become the schema's numbers, booleans and lists (comma-separated or repeated); anything
 * else is left as written, for the schema to refuse naming the field.
 */
export async function inputOf(c: HonoContext, schema: z.ZodType): Promise<Record<string, unknown>> {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  const convert = (key: string, values: string[]): unknown => {
    const field = shape[key];
    const type = field ? baseType(field) : 'string';
    const one = values[values.length - 1] ?? '';
    if (type === 'number') return /^-?\d{1,15}$/.test(one) ? Number(one) : one;
    if (type === 'boolean') return one === 'true' || one === '' ? true : one === 'false' ? false : one;
    if (type === 'array') return values.flatMap((v) => v.split(',')).filter((v) => v !== '');
    return one;
  };
  const input: Record<string, unknown> = {};
  if (c.req.method === 'POST') {
    const text = await c.req.text();
    if (text.trim() !== '') {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new RegistreError('E_USAGE', 'the body is not valid JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new RegistreError('E_USAGE', 'the body must be a JSON object');
      Object.assign(input, body);
    }
  } else {
    for (const [key, values] of Object.entries(c.req.queries())) input[key] = convert(key, values);
  }
  // Hono's param() is decoded already: decoding it again made `%25` a URIError (a 500).
  for (const [key, value] of Object.entries(c.req.param() as Record<string, string>))
    input[key] = convert(key, [value]);
  return input;
}

/** Hono's form of an OpenAPI path: `/api/requests/{id}` is `/api/requests/:id`. */
export const honoPath = (path: string) =>
  // A file's name at the end of a path may hold folders (`files/photo.jpg`): it takes the rest.
  path.replace(/\{name\}$/, ':name{.+}').replace(/\{(\w+)\}/g, ':$1');

const ANSWER = z.unknown().describe("the use case's result (see the error catalogue for failures)");
const ERROR = z
  .object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) })
  .describe(
    'a failure: a stable code of the error catalogue (docs/errors.md), a message, the field at fault',
  );

/** Documents a route in the OpenAPI registry, from its use case's schema. */
export function document(
  app: OpenAPIHono<Env>,
  route: {
    method: Route['method'];
    path: string;
    summary: string;
    tag: string;
    schema: z.ZodType;
    secured: boolean;
  },
): void {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  // The path's parameters are documented as such, not again in the body or query (a schema with
  // refinements cannot be cut: it is documented whole).
  let rest = route.schema;
  if (params.length > 0)
    try {
      rest = (route.schema as z.ZodObject).omit(Object.fromEntries(params.map((p) => [p, true])) as never);
    } catch {
      rest = route.schema;
    }
  const paramSchema = z.object(Object.fromEntries(params.map((p) => [p, z.string()])));
  app.openAPIRegistry.registerPath({
    method: route.method,
    path: route.path,
    summary: route.summary,
    tags: [route.tag],
    ...(route.secured ? { security: [{ bearer: [] }] } : {}),
    request: {
      ...(params.length ? { params: paramSchema } : {}),
      ...(route.method === 'post'
        ? { body: { content: { 'application/json': { schema: rest as z.ZodType } }, required: false } }
        : { query: rest as z.ZodObject }),
    },
    responses: {
      200: { description: 'done', content: { 'application/json': { schema: ANSWER } } },
      400: {
        description: 'the input is refused; `field` names the one at fault',
        content: { 'application/json': { schema: ERROR } },
      },
      ...(route.secured
        ? {
            401: {
              description: 'no token, or an unknown or revoked one',
              content: { 'application/json': { schema: ERROR } },
            },
            403: {
              description: "the token's scope does not allow the call",
              content: { 'application/json': { schema: ERROR } },
            },
          }
        : {
            429: {
              description: 'too many calls; Retry-After says when to come back',
              content: { 'application/json': { schema: ERROR } },
            },
          }),
    },
  });
}

/** Runs a use case for a caller, with the service's signal for long ones. */
export async function call<N extends UseCaseName>(
  engine: Engine,
  name: N,
  input: Record<string, unknown>,
  actor: string,
  signal?: AbortSignal,
): Promise<unknown> {
  const useCase = USE_CASES[name] as unknown as {
    run: (e: Engine, i: unknown, ctx: Context) => Promise<unknown>;
    long?: boolean;
  };
  return useCase.run(engine, input, { actor, ...(signal && useCase.long ? { signal } : {}) });
}

/** The type a file is sent with, by its extension. */
const FILE_TYPES: Readonly<Record<string, string>> = {
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  jsonld: 'application/ld+json',
  ndjson: 'application/x-ndjson; charset=utf-8',
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * A file as an answer (the API's downloads, the console's documents and packages): its type by
 * its extension, a safe name, never cached; downloaded, or shown in the browser (`inline`).
 */
export function sendFile(
  c: HonoContext,
  file: { readonly name: string; readonly content: Buffer | string },
  disposition: 'inline' | 'attachment' = 'attachment',
): Response {
  const base = file.name.split('/').pop() ?? 'file';
  const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
  return c.body(new Uint8Array(bytes), 200, {
    'content-type': FILE_TYPES[base.split('.').pop() ?? ''] ?? 'application/octet-stream',
    'content-disposition': `${disposition}; filename="${base.replace(/[^\w.-]/g, '_')}"`,
    'cache-control': 'no-store',
  });
}
