/**
 * The frame of every console page: the language, the skip link, the top bar (who is signed in,
 * the other language, sign out), the menu, a notice, the page's content. htmx is loaded from the
 * service itself and configured not to inject styles nor evaluate anything (the CSP allows no
 * inline script or style); every htmx call sends the session's CSRF secret in a header.
 */

import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { Caller } from '../app/tokens.js';
import { ASSETS } from './assets.js';
import { COMMON, type Lang } from './i18n.js';

export const NAV = ['dashboard', 'register', 'requests', 'breaches', 'people', 'sweeps', 'consents'] as const;
export type NavKey = (typeof NAV)[number];

const HREF: Readonly<Record<NavKey, string>> = {
  dashboard: '/console',
  register: '/console/register',
  requests: '/console/requests',
  breaches: '/console/breaches',
  people: '/console/people',
  sweeps: '/console/sweeps',
  consents: '/console/consents',
};

const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
});

export interface Notice {
  readonly kind: 'done' | 'error' | 'warn';
  readonly title: string;
  readonly detail?: string;
}

export interface PageProps {
  readonly lang: Lang;
  readonly title: string;
  /** The menu entry that is this page's (none: the sign-in page). */
  readonly current?: NavKey;
  /** The session's caller and CSRF secret; none on the sign-in page. */
  readonly session?: { readonly caller: Caller; readonly csrf: string };
  /** This page's path, for the link to the other language. */
  readonly path: string;
  readonly notice?: Notice | undefined;
  readonly children?: Child;
}

export const NoticeBox = ({ notice }: { notice: Notice }) => (
  <div class={`notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
    <p>
      <strong>{notice.title}</strong>
    </p>
    {notice.detail ? <p>{notice.detail}</p> : null}
  </div>
);

/** The hidden field every form of the session carries. */
export const Csrf = ({ csrf }: { csrf: string }) => <input type="hidden" name="_csrf" value={csrf} />;

export function Layout(props: PageProps) {
  const t = COMMON[props.lang];
  const other: Lang = props.lang === 'fr' ? 'en' : 'fr';
  const session = props.session;
  return (
    <>
      {raw('<!doctype html>')}
      <html lang={props.lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title>{`${props.title} — registre`}</title>
          <link rel="stylesheet" href={ASSETS.css} />
          <script src={ASSETS.htmx} defer></script>
        </head>
        <body {...(session ? { 'hx-headers': JSON.stringify({ 'x-csrf-token': session.csrf }) } : {})}>
          <a class="skip" href="#main">
            {t.skip}
          </a>
          <header class="top">
            <a class="brand" href="/console">
              {t.console}
            </a>
            <div class="who">
              <a href={`${props.path}?lang=${other}`} hreflang={other} lang={other}>
                {t.otherLang}
              </a>
              {session ? (
                <>
                  <span>
                    {t.signedInAs} <strong>{session.caller.name}</strong> ({t.scope} {session.caller.scope})
                  </span>
                  <form class="inline" method="post" action="/console/logout">
                    <Csrf csrf={session.csrf} />
                    <button type="submit" class="link">
                      {t.signOut}
                    </button>
                  </form>
                </>
              ) : null}
            </div>
          </header>
          {session ? (
            <nav class="menu" aria-label={t.menu}>
              <ul>
                {NAV.map((key) => (
                  <li>
                    <a href={HREF[key]} {...(props.current === key ? { 'aria-current': 'page' } : {})}>
                      {t[key]}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          <main id="main" tabindex={-1}>
            <h1>{props.title}</h1>
            {props.notice ? <NoticeBox notice={props.notice} /> : null}
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}
