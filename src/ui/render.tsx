/**
 * What every console page shares: its Hono types, how it renders in the frame, how it calls a use
 * case as its session's token, how an error or a form is read.
 */
import type { Hono, Context as HonoContext } from 'hono';
import type { z } from 'zod';
import type { Engine } from '../app/engine.js';
import type { Session } from '../app/sessions.js';
import { type Scope, scopeAllows } from '../app/tokens.js';
import { USE_CASES, type UseCaseName } from '../app/use-cases.js';
import { type ErrorCode, RegistreError } from '../core/errors.js';
import { ADMIN_ROUTES } from '../http/routes.js';
import type { Log } from '../http/shared.js';
import { httpStatusOf } from '../http/status.js';
import { COMMON, ERROR_KINDS, type Lang, type Text } from './i18n.js';
import { Layout, type Notice, type PageProps } from './layout.js';

export interface UiEnv {
  Variables: {
    session: Session;
    uiLang: Lang;
    client: string;
  };
}
export type Ui = Hono<UiEnv>;
export type UiContext = HonoContext<UiEnv>;

export const SESSION_COOKIE = 'registre_session';

/** What a page module adds to the console: its routes, over the engine. */
export type ConsolePages = (ui: Ui, engine: Engine, options: ConsoleOptions) => void;

export interface ConsoleOptions {
  readonly log?: Log;
  /** Long use cases stop between batches when this is aborted (the service's shutdown). */
  readonly signal?: AbortSignal;
}

/** The page's language. */
export const langOf = (c: UiContext): Lang => c.get('uiLang');

/** Renders a page of the session in the frame. */
export function render(
  c: UiContext,
  props: Omit<PageProps, 'lang' | 'session' | 'path'>,
  status: 200 | 400 | 403 | 404 | 409 | 423 | 429 | 500 | 503 = 200,
): Response {
  const session = c.get('session');
  const html = (
    <Layout
      {...props}
      lang={langOf(c)}
      path={c.req.path}
      {...(session ? { session: { caller: session.caller, csrf: session.csrf } } : {})}
    />
  );
  return c.html(String(html), status, { 'cache-control': 'no-store' });
}

/** Refuses an action the session's token may not take (its scope is below `needed`). */
export function need(c: UiContext, needed: Scope): void {
  const { caller } = c.get('session');
  if (!scopeAllows(caller.scope, needed))
    throw new RegistreError('E_SCOPE', `this token's scope is ${caller.scope}; this action needs ${needed}`);
}

type Result<N extends UseCaseName> = Awaited<ReturnType<(typeof USE_CASES)[N]['run']>>;

/** Use cases that write only their own audit entry (an export) and the API lets a `read` token run. */
const LOGGED_READS: ReadonlySet<UseCaseName> = new Set(
  ADMIN_ROUTES.filter((r) => r.access === 'read' && USE_CASES[r.useCase].writes).map((r) => r.useCase),
);

/**
 * Runs a use case as the session's token, its scope checked against what the use case does
 * (reading needs `read`, changing anything `operate`, save what the API lets a reader do).
 */
export async function use<N extends UseCaseName>(
  c: UiContext,
  engine: Engine,
  name: N,
  input: z.input<(typeof USE_CASES)[N]['input']>,
  signal?: AbortSignal,
): Promise<Result<N>> {
  const useCase = USE_CASES[name] as unknown as {
    run: (e: Engine, i: unknown, ctx: { actor: string; signal?: AbortSignal }) => Promise<Result<N>>;
    writes: boolean;
    long?: boolean;
  };
  need(c, useCase.writes && !LOGGED_READS.has(name) ? 'operate' : 'read');
  const { actor } = c.get('session').caller;
  return useCase.run(engine, input, { actor, ...(signal && useCase.long ? { signal } : {}) });
}

/** The notice an error shows: its kind in the page's language, its detail as the catalogue says it. */
export function failure(c: UiContext, error: unknown): Notice {
  const lang = langOf(c);
  if (error instanceof RegistreError)
    return {
      kind: 'error',
      title: `${COMMON[lang].error} — ${ERROR_KINDS[error.kind][lang]}`,
      detail: `${error.message} (${error.code})`,
    };
  return { kind: 'error', title: COMMON[lang].error };
}

/**
 * A refused step's notice: a scope too low said as such, an error the page words (`words`) in the
 * page's language, any other as `failure` says it; its detail is the catalogue's message.
 */
export function refusalIn(c: UiContext, error: unknown, words: Partial<Record<ErrorCode, Text>>): Notice {
  const notice = failure(c, error);
  const lang = langOf(c);
  if (!(error instanceof RegistreError)) return notice;
  if (error.code === 'E_SCOPE')
    return { ...notice, title: COMMON[lang].needScope('operate', c.get('session').caller.scope) };
  const text = words[error.code];
  return text ? { ...notice, title: `${COMMON[lang].error} — ${text[lang]}` } : notice;
}

/** The status an error's page is answered with. */
export const statusOf = (error: unknown) =>
  (error instanceof RegistreError ? httpStatusOf(error) : 500) as 400 | 404 | 409 | 500;

/** The form sent (parsed once); a body that cannot be read as a form is the sender's (400). */
export async function bodyOf(c: UiContext): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch {
    throw new RegistreError('E_USAGE', 'the form sent cannot be read: send it again from the console');
  }
}

/** A form's fields as texts (a repeated field: its last value); files are ignored. */
export async function formOf(c: UiContext): Promise<Record<string, string>> {
  const body = await bodyOf(c);
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body))
    if (typeof value === 'string' && key !== '_csrf') fields[key] = value;
  return fields;
}

/** After an action: back to a page (GET), saying what was done (`done` is a key the page words). */
export const backTo = (c: UiContext, path: string, done?: string) =>
  c.redirect(done ? `${path}${path.includes('?') ? '&' : '?'}done=${encodeURIComponent(done)}` : path, 303);

/**
 * The notice `?done=` asks for: the page's word for that action; none for any other value (an
 * object's own key such as `constructor` is not an action, and a link cannot show an empty notice).
 */
export function doneNotice(c: UiContext, words: Readonly<Record<string, string>>): Notice | undefined {
  const done = c.req.query('done');
  const title = done !== undefined && Object.hasOwn(words, done) ? words[done] : undefined;
  return title ? { kind: 'done', title } : undefined;
}
