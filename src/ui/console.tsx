/**
 * The DPO's console: server-rendered pages under /console, from the same Hono application and the
 * same engine as the API. A page only reads its input, calls use cases as its session's token
 * (the token's name is the audit log's actor), and renders. Sign-in takes an API token once and
 * gives the browser an HttpOnly, SameSite=Strict session cookie; every form and htmx call carries
 * the session's CSRF secret, and a write must come from the console's own origin.
 */
import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { Engine } from '../app/engine.js';
import { closeSession, findSession, openSession, SESSION_HOURS } from '../app/sessions.js';
import { hitRateLimit } from '../app/tokens.js';
import { RegistreError } from '../core/errors.js';
import { safeMessage } from '../core/safe-message.js';
import { ASSET_FILES } from './assets.js';
import { COMMON, consoleLang, LANG_COOKIE } from './i18n.js';
import { NoticeBox } from './layout.js';
import { loginPage } from './pages/login.js';
import {
  bodyOf,
  type ConsoleOptions,
  type ConsolePages,
  failure,
  formOf,
  langOf,
  render,
  SESSION_COOKIE,
  statusOf,
  type Ui,
  type UiContext,
  type UiEnv,
} from './render.js';

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Where a sign-in may send the browser back to: a console page, never another site. */
const safeNext = (next: string | undefined) =>
  next && /^\/console(\/[\w\-./]*)?(\?[\w=&%.-]*)?$/.test(next) && !next.includes('//') ? next : '/console';

/** The console, mounted under /console by the API. */
export function buildConsole(
  engine: Engine,
  pages: readonly ConsolePages[],
  options: ConsoleOptions = {},
): Ui {
  const ui: Ui = new Hono<UiEnv>();
  const log = options.log ?? (() => {});

  // The console's CSP: its own scripts and styles only; no inline script, style or frame.
  ui.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      crossOriginResourcePolicy: 'same-origin',
      // Not no-referrer: with it a browser sends "Origin: null" on the console's own forms, and
      // the origin check below would refuse them. same-origin tells no other site anything.
      referrerPolicy: 'same-origin',
    }),
  );
  ui.use('*', async (c, next) => {
    const lang = consoleLang(c);
    c.set('uiLang', lang);
    const asked = c.req.query('lang');
    if (asked === 'fr' || asked === 'en')
      setCookie(c, LANG_COOKIE, asked, { path: '/console', sameSite: 'Strict', maxAge: 31_536_000 });
    await next();
  });

  ui.onError((error, c) => {
    if (!(error instanceof RegistreError))
      log({ level: 'error', msg: 'unexpected error', route: c.req.routePath, error: safeMessage(error) });
    const lang = langOf(c);
    const notice = failure(c, error);
    if (c.req.header('hx-request')) return c.html(String(<NoticeBox notice={notice} />), statusOf(error));
    return render(c, { title: COMMON[lang].error, notice }, statusOf(error));
  });

  ui.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    // Own keys only: /assets/constructor is no file (Object's would be found, and fail).
    const file = Object.hasOwn(ASSET_FILES, name) ? ASSET_FILES[name] : undefined;
    if (!file) return c.text('not found', 404);
    return c.body(file.body, 200, {
      'content-type': file.type,
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });

  const secure = (c: UiContext) =>
    new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

  // A write must come from the console's own pages: the browser's Origin says so.
  const sameOrigin = (c: UiContext) => {
    const origin = c.req.header('origin');
    if (origin === undefined) return c.req.header('sec-fetch-site') !== 'cross-site';
    try {
      return new URL(origin).host === c.req.header('host');
    } catch {
      return false;
    }
  };
  const refuseOrigin = () =>
    new RegistreError('E_ORIGIN', 'a console form must be sent from the console itself (Origin)');

  ui.get('/login', (c) => loginPage(c, {}));
  ui.post('/login', async (c) => {
    if (!sameOrigin(c)) throw refuseOrigin();
    const form = await formOf(c);
    try {
      await hitRateLimit(engine, 'console-login', c.get('client') ?? 'unknown', 10, 60_000);
      const session = await openSession(engine, form.token ?? '');
      setCookie(c, SESSION_COOKIE, session.id, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/console',
        secure: secure(c),
        maxAge: SESSION_HOURS * 3600,
      });
      return c.redirect(safeNext(form.next), 303);
    } catch (error) {
      if (!(error instanceof RegistreError)) throw error;
      return loginPage(c, { error, next: form.next }, statusOf(error));
    }
  });

  // Every other page needs a session; a write also its CSRF secret and the console's origin.
  ui.use('*', async (c, next) => {
    const session = await findSession(engine, getCookie(c, SESSION_COOKIE));
    if (!session) {
      const login = `/console/login?next=${encodeURIComponent(c.req.method === 'GET' ? c.req.path : '/console')}`;
      if (c.req.header('hx-request')) {
        c.header('HX-Redirect', login);
        return c.body(null, 401);
      }
      return c.redirect(login, 303);
    }
    c.set('session', session);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (!sameOrigin(c)) throw refuseOrigin();
      const sent = c.req.header('x-csrf-token') ?? String((await bodyOf(c))._csrf ?? '');
      if (!sameSecret(sent, session.csrf))
        throw new RegistreError(
          'E_ORIGIN',
          'the form carries no valid CSRF secret of this session: reload the page and send it again',
        );
    }
    await next();
    return undefined;
  });

  ui.post('/logout', async (c) => {
    await closeSession(engine, getCookie(c, SESSION_COOKIE), c.get('session').caller.actor);
    deleteCookie(c, SESSION_COOKIE, { path: '/console' });
    return c.redirect('/console/login', 303);
  });

  for (const add of pages) add(ui, engine, options);

  ui.all('*', (c) =>
    render(
      c,
      {
        title: langOf(c) === 'fr' ? 'Page introuvable' : 'Page not found',
        notice: {
          kind: 'error',
          title: langOf(c) === 'fr' ? 'Cette page n’existe pas.' : 'This page does not exist.',
        },
      },
      404,
    ),
  );
  return ui;
}
