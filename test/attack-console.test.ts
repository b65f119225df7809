/**
 * The DPO's console attacked, in-process (`app.request`, a hand clock) over a small demo shop:
 * what an outsider or a hurried operator tries against its forms (CSRF, origins), its sessions
 * (signed out, revoked, expired, tampered, guessed, fixed), its sign-in (open redirects, rate
 * limit, what a wrong token learns), its pages (stored values escaped), its downloads (paths,
 * links, types), a read token's writes, where addresses may leak (URLs, log, audit log), broken
 * forms, the static files' names, and a refusal sent twice at once.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/app/engine.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { buildApi } from '../src/http/app.js';
import { expectCleanLogs, handClock, logCollector, serviceShop } from './api-helpers.js';
import { lastCode } from './outbox.js';
import { customerEmails, customRegister } from './shop-helpers.js';

const HOST = 'registre.test';
const SELF = `http://${HOST}`;
const SYSTEM = { actor: 'system:attack-console' };
const XSS = `"'><script>alert(1)</script><img src=x onerror=alert(1)>`;

let out: string;
let config: string;
let customer = '';
let engine: Engine;
let app: Awaited<ReturnType<typeof buildApi>>;
/** What no log line may carry: the tokens, the addresses the test used. */
const secrets: string[] = [];
const tokens = { admin: '', operate: '', read: '' };
const { lines, log } = logCollector();
const { clock, tick, toNextHour } = handClock();

interface CallOptions {
  readonly cookie?: string;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string | undefined>;
  readonly client?: string;
}

/** A call as a browser on the console's own page makes it (its Origin), unless told otherwise. */
async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const given: Record<string, string | undefined> = {
    host: HOST,
    'x-forwarded-for': options.client ?? '198.51.100.20',
    ...(method !== 'GET' ? { origin: SELF } : {}),
    ...(options.cookie ? { cookie: `registre_session=${options.cookie}` } : {}),
    ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...options.headers,
  };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) headers[k] = v;
  return app.request(path, {
    method,
    headers,
    ...(options.form ? { body: new URLSearchParams(options.form).toString() } : {}),
  });
}

interface Signed {
  readonly cookie: string;
  readonly csrf: string;
}

const cookieOf = (response: Response) =>
  /registre_session=([^;]*)/.exec(response.headers.get('set-cookie') ?? '')?.[1] ?? '';
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function signIn(token: string, client = '198.51.100.30'): Promise<Signed> {
  const response = await call('POST', '/console/login', { form: { token }, client });
  expect(response.status).toBe(303);
  const cookie = cookieOf(response);
  const page = await (await call('GET', '/console/people', { cookie })).text();
  return { cookie, csrf: csrfOf(page) };
}

/** The console's POST routes, a number put for an id. */
const consolePosts = (id = 1) => [
  ...new Set(
    app.routes
      .filter((r) => r.method === 'POST' && r.path.startsWith('/console'))
      .map((r) => r.path.replace(/:id\{.*\}(?=\/|$)/, String(id))),
  ),
];

const auditCount = async () =>
  (await USE_CASES.exportAudit.run(engine, {}, SYSTEM)).trim().split('\n').length;

afterAll(async () => {
  await engine?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

beforeAll(async () => {
  const made = await serviceShop(40, { perClient: 10_000, perAddress: 1_000, bodyBytes: 65_536 });
  out = made.out;
  config = made.config;
  // The register's own texts carry markup: the pages and documents must show it as text.
  customRegister(config, 'organisation.yaml', (t) =>
    t.replace('name: NEGOMARKETS', `name: ${JSON.stringify(XSS)}`),
  );
  const newsletter = join(out, 'register', 'newsletter.yaml');
  writeFileSync(
    newsletter,
    readFileSync(newsletter, 'utf8').replace(
      'fr: Vous adresser notre newsletter (si vous nous en avez fait la demande),',
      `fr: ${JSON.stringify(XSS)},`,
    ),
  );
  engine = createEngine({ config, clock });
  const make = async (name: string, scope: 'admin' | 'operate' | 'read') => {
    const { token } = await USE_CASES.createToken.run(engine, { name, scope }, SYSTEM);
    secrets.push(token);
    return token;
  };
  tokens.admin = await make('root', 'admin');
  tokens.operate = await make('dpo', 'operate');
  tokens.read = await make('auditor', 'read');
  const [first] = await customerEmails(config, 1);
  customer = first?.email as string;
  secrets.push(customer);
  app = await buildApi(engine, { log });
});

describe('CSRF', () => {
  it('a write without the secret, with another session’s, from another origin, with Origin: null or through a GET is refused and changes nothing', async () => {
    const mine = await signIn(tokens.operate);
    const theirs = await signIn(tokens.operate);
    const before = (await USE_CASES.listHolds.run(engine, {}, SYSTEM)).length;
    const hold = { email: customer, reason: 'csrf probe' };
    const attempts: [string, CallOptions][] = [
      ['no secret', { cookie: mine.cookie, form: hold }],
      ['empty secret', { cookie: mine.cookie, form: { ...hold, _csrf: '' } }],
      ['another session’s', { cookie: mine.cookie, form: { ...hold, _csrf: theirs.csrf } }],
      [
        'a wrong header beats a right field',
        {
          cookie: mine.cookie,
          form: { ...hold, _csrf: mine.csrf },
          headers: { 'x-csrf-token': theirs.csrf, 'hx-request': 'true' },
        },
      ],
      [
        'another origin',
        {
          cookie: mine.cookie,
          form: { ...hold, _csrf: mine.csrf },
          headers: { origin: 'https://evil.example' },
        },
      ],
      [
        'a suffix origin',
        {
          cookie: mine.cookie,
          form: { ...hold, _csrf: mine.csrf },
          headers: { origin: `${SELF}.evil.example` },
        },
      ],
      [
        'Origin: null',
        { cookie: mine.cookie, form: { ...hold, _csrf: mine.csrf }, headers: { origin: 'null' } },
      ],
      [
        'no Origin, cross-site',
        {
          cookie: mine.cookie,
          form: { ...hold, _csrf: mine.csrf },
          headers: { origin: undefined, 'sec-fetch-site': 'cross-site' },
        },
      ],
    ];
    for (const [what, options] of attempts) {
      const response = await call('POST', '/console/people/hold', options);
      expect(response.status, what).toBe(403);
      expect(await response.text(), what).toContain('E_ORIGIN');
    }
    for (const method of ['PUT', 'DELETE', 'PATCH'])
      expect(
        (await call(method, '/console/people/hold', { cookie: mine.cookie, form: hold })).status,
        method,
      ).toBe(403);
    const viaGet = await call(
      'GET',
      `/console/people/hold?email=${encodeURIComponent(customer)}&reason=x&_csrf=${mine.csrf}`,
      {
        cookie: mine.cookie,
      },
    );
    expect(viaGet.status).toBe(404);
    expect((await USE_CASES.listHolds.run(engine, {}, SYSTEM)).length).toBe(before);
    // Every write of the console, whatever its page: without the secret it is refused before it runs.
    const posts = consolePosts();
    expect(posts).toEqual(
      expect.arrayContaining([
        '/console/breaches',
        '/console/breaches/1/decide',
        '/console/breaches/1/inform',
      ]),
    );
    const audited = await auditCount();
    for (const path of posts.filter((p) => p !== '/console/login')) {
      const response = await call('POST', path, {
        cookie: mine.cookie,
        form: { reason: 'csrf probe', notify: 'no' },
      });
      expect(response.status, path).toBe(403);
      expect(await response.text(), path).toContain('E_ORIGIN');
    }
    expect(await auditCount()).toBe(audited);
    // The htmx path: the secret in its header, no field.
    const htmx = await call('POST', '/console/audit/verify', {
      cookie: mine.cookie,
      form: {},
      headers: { 'x-csrf-token': mine.csrf, 'hx-request': 'true' },
    });
    expect(htmx.status).toBe(200);
    // Sign-in from another site (login CSRF) is refused.
    for (const origin of ['https://evil.example', 'null'])
      expect(
        (await call('POST', '/console/login', { form: { token: tokens.read }, headers: { origin } })).status,
        origin,
      ).toBe(403);
  });
});

describe('sessions', () => {
  const signedIn = async (cookie: string) => {
    const response = await call('GET', '/console', { cookie });
    return response.status === 200;
  };

  it('a session ends with sign-out, with its token’s revocation and after eight hours', async () => {
    const out1 = await signIn(tokens.operate);
    expect(await signedIn(out1.cookie)).toBe(true);
    expect(
      (await call('POST', '/console/logout', { cookie: out1.cookie, form: { _csrf: out1.csrf } })).status,
    ).toBe(303);
    expect(await signedIn(out1.cookie)).toBe(false);

    const made = await USE_CASES.createToken.run(engine, { name: 'short-lived', scope: 'operate' }, SYSTEM);
    secrets.push(made.token);
    const revoked = await signIn(made.token);
    expect(await signedIn(revoked.cookie)).toBe(true);
    await USE_CASES.revokeToken.run(engine, { name: 'short-lived' }, SYSTEM);
    expect(await signedIn(revoked.cookie)).toBe(false);
    // The same name made again: the old session does not come back with it.
    const again = await USE_CASES.createToken.run(engine, { name: 'short-lived', scope: 'admin' }, SYSTEM);
    secrets.push(again.token);
    expect(await signedIn(revoked.cookie)).toBe(false);

    const old = await signIn(tokens.read);
    tick(8 * 3_600_000 - 60_000);
    expect(await signedIn(old.cookie)).toBe(true);
    tick(61_000);
    expect(await signedIn(old.cookie)).toBe(false);
  });

  it('a guessed, short, malformed or tampered cookie opens nothing; sign-in gives a new id (no fixation)', async () => {
    const { cookie } = await signIn(tokens.operate);
    for (const guess of ['', 'a', 'A'.repeat(43), `${cookie}x`, cookie.slice(0, -1), '../../etc', '%00']) {
      const response = await call('GET', '/console', { cookie: guess });
      expect(response.status, guess).toBe(303);
      expect(response.headers.get('location'), guess).toMatch(/^\/console\/login\?next=/);
    }
    // htmx without a session: told where to sign in, nothing else.
    const htmx = await call('POST', '/console/audit/verify', { form: {}, headers: { 'hx-request': 'true' } });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('hx-redirect')).toBe('/console/login?next=%2Fconsole');
    expect(await htmx.text()).toBe('');
    // An id set before sign-in (a planted cookie) is replaced, not kept.
    const fixed = 'F'.repeat(43);
    const login = await call('POST', '/console/login', {
      form: { token: tokens.operate },
      headers: { cookie: `registre_session=${fixed}` },
    });
    expect(cookieOf(login)).not.toBe(fixed);
    expect(cookieOf(login)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(login.headers.get('set-cookie')).toMatch(/SameSite=Strict/i);
    // A row changed outside registre (its expiry moved, its token swapped) is refused.
    const state = await engine.state('write');
    const db = state.conn.db as unknown as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
    await db.updateTable('console_sessions').set({ expires_at: '2999-01-01T00:00:00.000Z' }).execute();
    const tampered = await call('GET', '/console', { cookie });
    expect(tampered.status).toBe(500);
    expect(await tampered.text()).toContain('E_STATE_TAMPERED');
    await db.deleteFrom('console_sessions').execute();
  });
});

describe('sign-in', () => {
  it('`next` sends the browser back to a console page only', async () => {
    const evil = [
      '//evil.example',
      '/\\evil.example',
      '/console@evil.example',
      '/console.evil.example',
      '/console//evil.example',
      '/console/\\evil.example',
      '/console/%2F%2Fevil.example',
      '/console/..%2F..%2F%2Fevil.example',
      '%2F%2Fevil.example',
      'https://evil.example/console',
      'javascript:alert(1)',
      '/console/\tjavascript:alert(1)',
      '/console\r\nLocation: https://evil.example',
      `/console?x=${XSS}`,
    ];
    for (const [i, next] of evil.entries()) {
      const response = await call('POST', '/console/login', {
        form: { token: tokens.read, next },
        client: `198.51.100.${100 + i}`,
      });
      expect(response.status, next).toBe(303);
      const location = response.headers.get('location') ?? '';
      const resolved = new URL(location, SELF);
      expect(resolved.origin, next).toBe(SELF);
      expect(resolved.pathname, next).toMatch(/^\/console(\/|$)/);
      expect(location, next).not.toMatch(/[\\\s]|\/\/|%2f|%5c/i);
    }
    // Kept where it is safe: a console page and its query.
    const good = await call('POST', '/console/login', {
      form: { token: tokens.read, next: '/console/requests/3?lang=fr' },
      client: '198.51.100.99',
    });
    expect(good.headers.get('location')).toBe('/console/requests/3?lang=fr');
    // The field itself is escaped where the page shows it back.
    const shown = await (await call('GET', `/console/login?next=${encodeURIComponent(XSS)}`)).text();
    expect(shown).not.toContain('<script>alert');
    const refused = await (
      await call('POST', '/console/login', {
        form: { token: 'rgt_nope', next: XSS },
        client: '198.51.100.98',
      })
    ).text();
    expect(refused).not.toContain('<script>alert');
  });

  it('ten attempts a minute per client; an unknown and a revoked token are answered alike; a distributor’s token does not sign in', async () => {
    toNextHour();
    const made = await USE_CASES.createToken.run(engine, { name: 'gone', scope: 'admin' }, SYSTEM);
    secrets.push(made.token);
    await USE_CASES.revokeToken.run(engine, { name: 'gone' }, SYSTEM);
    const answer = async (token: string, client: string) => {
      const response = await call('POST', '/console/login', { form: { token }, client });
      const text = (await response.text()).replace(/name="_csrf" value="[^"]*"/g, '');
      return { status: response.status, text, cookie: response.headers.get('set-cookie') };
    };
    const unknown = await answer(`rgt_${'x'.repeat(43)}`, '203.0.113.1');
    const revoked = await answer(made.token, '203.0.113.2');
    expect(unknown.status).toBe(401);
    expect(revoked).toEqual(unknown);
    expect(unknown.cookie).toBeNull();
    expect(unknown.text).not.toContain(made.token);

    const distributor = await USE_CASES.createToken.run(
      engine,
      { name: 'distrib', scope: 'admin', controller: '101' },
      SYSTEM,
    );
    secrets.push(distributor.token);
    const byDistributor = await call('POST', '/console/login', {
      form: { token: distributor.token },
      client: '203.0.113.3',
    });
    expect(byDistributor.status).toBe(403);
    expect(byDistributor.headers.get('set-cookie')).toBeNull();

    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (await call('POST', '/console/login', { form: { token: `rgt_guess${i}` }, client: '203.0.113.4' }))
          .status,
      );
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // The right token, once the limit is reached, waits too; another client does not.
    expect(
      (await call('POST', '/console/login', { form: { token: tokens.read }, client: '203.0.113.4' })).status,
    ).toBe(429);
    expect(
      (await call('POST', '/console/login', { form: { token: tokens.read }, client: '203.0.113.5' })).status,
    ).toBe(303);
    tick(61_000);
    expect(
      (await call('POST', '/console/login', { form: { token: tokens.read }, client: '203.0.113.4' })).status,
    ).toBe(303);
  });
});

describe('stored and echoed values', () => {
  it('every page shows markup from the store, the register or the input as text', async () => {
    const [, second, third] = await customerEmails(config, 3);
    const other = second?.email as string;
    secrets.push(other, third?.email as string);
    await USE_CASES.addHold.run(engine, { email: customer, reason: XSS }, SYSTEM);
    const opened = await USE_CASES.openRequest.run(engine, { type: 'erasure', email: other }, SYSTEM);
    await USE_CASES.refuseRequest.run(engine, { id: opened.id, reason: XSS }, SYSTEM);
    await USE_CASES.recordConsent.run(
      engine,
      {
        email: customer,
        purposes: ['newsletter-sending'],
        choice: 'given',
        notice: { version: XSS, sha256: 'a'.repeat(64) },
        consentId: '"><svg/onload=alert(1)>',
      },
      SYSTEM,
    );
    const breach = await USE_CASES.recordBreach.run(
      engine,
      {
        discoveredAt: new Date(clock.now().getTime() - 3_600_000).toISOString(),
        kinds: ['confidentiality'],
        nature: XSS,
        records: ['payments'],
        people: 3,
        consequences: { fr: XSS, en: XSS },
        measures: XSS,
      },
      SYSTEM,
    );
    await USE_CASES.decideBreach.run(engine, { id: breach.id, notify: false, reason: XSS }, SYSTEM);
    await USE_CASES.informBreach.run(engine, { id: breach.id, inform: false, reason: XSS }, SYSTEM);
    const { cookie, csrf } = await signIn(tokens.operate);
    const pages: [string, string, Record<string, string>?][] = [
      ['GET', '/console/breaches'],
      ['GET', `/console/breaches/${breach.id}`],
      ['GET', '/console/breaches?done=constructor'],
      ['GET', `/console/breaches/${breach.id}?done=${encodeURIComponent(XSS)}`],
      ['GET', `/console/breach-register?format=html&lang=en`],
      ['GET', `/console/breach-register?format=${encodeURIComponent(XSS)}`],
      [
        'POST',
        '/console/breaches',
        { discoveredAt: XSS, kinds: XSS, nature: XSS, nature_other: XSS, records: XSS, people: XSS },
      ],
      [
        'POST',
        '/console/breaches',
        {
          discoveredAt: '2020-01-01T10:00',
          kinds: 'integrity',
          nature: XSS,
          records: XSS,
          consequences: XSS,
          measures: XSS,
        },
      ],
      ['POST', `/console/breaches/${breach.id}/decide`, { notify: 'yes', notifiedAt: XSS, reference: XSS }],
      ['POST', `/console/breaches/${breach.id}/inform`, { inform: XSS, reason: XSS, version: XSS }],
      ['GET', '/console'],
      ['GET', '/console/register'],
      ['GET', '/console/requests'],
      ['GET', `/console/requests/${opened.id}`],
      ['GET', '/console/sweeps'],
      ['GET', `/console/report?from=${encodeURIComponent(XSS)}`],
      ['GET', `/console/report`],
      ['GET', `/console/${encodeURIComponent(XSS)}`],
      ['GET', `/console/documents/${encodeURIComponent(XSS)}`],
      ['GET', `/console/requests?done=${encodeURIComponent(XSS)}`],
      ['GET', `/console/consents?done=${encodeURIComponent(XSS)}`],
      ['GET', '/console/consents?done=constructor'],
      ['GET', '/console/consents?done=__proto__'],
      ['GET', `/console/requests/${opened.id}?done=constructor`],
      ['GET', '/console/requests?done=toString'],
      ['POST', '/console/people', { email: customer }],
      ['POST', '/console/people', { email: XSS }],
      ['POST', '/console/people/hold', { email: customer, reason: 'r', until: XSS, target: XSS }],
      ['POST', '/console/consents', { subject: customer }],
      ['POST', '/console/consents', { kind: 'visitor', subject: XSS }],
      ['POST', '/console/consents/suppression/check', { email: XSS }],
      ['POST', '/console/requests', { type: 'objection', email: third?.email as string, purpose: XSS }],
      ['POST', '/console/requests', { type: XSS, email: XSS }],
      ['POST', `/console/requests/${opened.id}/extend`, { months: XSS, reason: XSS }],
    ];
    for (const [method, path, form] of pages) {
      const response = await call(method, path, {
        cookie,
        ...(form ? { form: { ...form, _csrf: csrf } } : {}),
      });
      const text = await response.text();
      expect(response.status, path).toBeLessThan(500);
      // A `done` that is no action's word (an object's own key) shows no notice, not an empty one.
      expect(text, `${method} ${path}`).not.toMatch(/<strong><\/strong>|native code|\[object /);
      expect(text, `${method} ${path}`).not.toMatch(
        /<script>alert|<img src=x|<svg\/onload|href="javascript:/i,
      );
    }
    // The documents shown in the browser (inline): escaped too, under the console's CSP, not sniffed.
    const register = await (await call('GET', '/console/register', { cookie })).text();
    const views = [...register.matchAll(/href="(\/console\/documents\/[^"?]+\?view=1)"/g)].map(
      (m) => m[1] as string,
    );
    expect(views.length).toBeGreaterThan(0);
    for (const view of views) {
      const response = await call('GET', view, { cookie });
      expect(response.status, view).toBe(200);
      expect(response.headers.get('content-disposition'), view).toMatch(/^inline/);
      expect(response.headers.get('content-security-policy'), view).toMatch(/script-src 'self'/);
      expect(response.headers.get('x-content-type-options'), view).toBe('nosniff');
      expect(await response.text(), view).not.toMatch(/<script>alert|<img src=x/);
    }
  });
});

describe('downloads', () => {
  it('a package file is read from its folder only (no .., no encoded slash, no planted link); files are not sniffed', async () => {
    const [, , , fourth] = await customerEmails(config, 4);
    const email = fourth?.email as string;
    secrets.push(email);
    const { cookie, csrf } = await signIn(tokens.operate);
    const opened = await call('POST', '/console/requests', {
      cookie,
      form: { _csrf: csrf, type: 'access', email },
    });
    expect(opened.status).toBe(303);
    const screen = opened.headers.get('location')?.split('?')[0] as string;
    const id = Number(screen.split('/').pop());
    const form = (f: Record<string, string>) => ({ cookie, form: { _csrf: csrf, ...f } });
    expect((await call('POST', `${screen}/verify`, form({ code: lastCode(out) }))).status).toBe(303);
    expect((await call('POST', `${screen}/run`, form({ delivery: 'none' }))).status).toBe(303);
    const packages = join(out, '.registre', 'packages');
    const [folder] = readdirSync(packages).filter((n) => n.startsWith(`request-${id}-`));
    symlinkSync(out, join(packages, folder as string, 'up'));
    mkdirSync(join(out, 'elsewhere'));
    writeFileSync(join(out, 'elsewhere', 'secret.txt'), 'not for the console');
    symlinkSync(join(out, 'elsewhere'), join(packages, folder as string, 'files-link'));
    symlinkSync(join(out, 'elsewhere', 'secret.txt'), join(packages, folder as string, 'file-link.txt'));
    const page = await (await call('GET', screen, { cookie })).text();
    expect(page).not.toMatch(/up\/|files-link|file-link/);
    const links = [...page.matchAll(/href="([^"]*\/package\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const response = await call('GET', link, { cookie });
      expect(response.status, link).toBe(200);
      expect(response.headers.get('content-disposition'), link).toMatch(/^attachment/);
      expect(response.headers.get('x-content-type-options'), link).toBe('nosniff');
    }
    for (const name of [
      'up/registre.yaml',
      'up%2Fregistre.yaml',
      '..%2Fregistre.yaml',
      '%2e%2e/%2e%2e/registre.yaml',
      '..%5C..%5Cregistre.yaml',
      'files-link/secret.txt',
      'file-link.txt',
      '%2Fetc%2Fpasswd',
      'access.json%00.txt',
    ]) {
      const response = await call('GET', `${screen}/package/${name}`, { cookie });
      expect(response.status, name).toBeGreaterThanOrEqual(400);
      expect(await response.text(), name).not.toMatch(/not for the console|hmacKey|state:/);
    }
    for (const name of ['..%2Fregistre.yaml', '%2e%2e%2fregistre.yaml', '..', 'art30.fr.csv%00.html'])
      expect((await call('GET', `/console/documents/${name}`, { cookie })).status, name).toBe(404);
    const exported = await call('GET', '/console/audit/export', { cookie });
    expect(exported.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(exported.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('a read token', () => {
  // The console's POST routes that only read (a search by POST keeps an address out of the URL).
  const READS = new Set([
    '/console/login',
    '/console/logout',
    '/console/audit/verify',
    '/console/people',
    '/console/consents',
    '/console/consents/proof',
    '/console/consents/suppression/check',
  ]);

  it('every write of the console is refused (403) and changes nothing; what only reads changes nothing either', async () => {
    const [, , , , fifth] = await customerEmails(config, 5);
    const email = fifth?.email as string;
    secrets.push(email);
    const request = await USE_CASES.openRequest.run(engine, { type: 'restriction', email }, SYSTEM);
    const hold = await USE_CASES.addHold.run(engine, { email, reason: 'kept for the read token' }, SYSTEM);
    const posts = consolePosts(request.id);
    expect(posts.length).toBeGreaterThan(15);
    const { cookie, csrf } = await signIn(tokens.read);
    const fields = {
      _csrf: csrf,
      email,
      subject: email,
      reason: 'a read token tries',
      id: String(hold.id),
      type: 'erasure',
      code: '000000',
      months: '1',
      delivery: 'none',
      token: tokens.operate,
    };
    const before = await auditCount();
    const refused: string[] = [];
    for (const path of posts.filter((p) => p !== '/console/login' && p !== '/console/logout')) {
      const response = await call('POST', path, { cookie, form: fields });
      if (READS.has(path)) expect(response.status, path).toBe(200);
      else {
        expect(response.status, path).toBe(403);
        expect(await response.text(), path).toContain('E_SCOPE');
        refused.push(path);
      }
    }
    expect(refused).toContain(`/console/requests/${request.id}/run`);
    expect(refused).toEqual(
      expect.arrayContaining([
        '/console/breaches',
        `/console/breaches/${request.id}/decide`,
        `/console/breaches/${request.id}/inform`,
      ]),
    );
    expect(await auditCount()).toBe(before);
    expect((await USE_CASES.showRequest.run(engine, { id: request.id }, SYSTEM)).status).toBe('received');
    expect(
      (await USE_CASES.listHolds.run(engine, {}, SYSTEM)).find((h) => h.id === hold.id)?.releasedAt ?? null,
    ).toBeNull();
    expect(
      readdirSync(join(out, '.registre', 'packages')).filter((n) => n.startsWith(`request-${request.id}-`)),
    ).toEqual([]);
  });
});

describe('addresses', () => {
  it('what the console does is logged under the token’s name, with no address in a URL, a log line or the audit log', async () => {
    const [, , , , , sixth] = await customerEmails(config, 6);
    const email = sixth?.email as string;
    secrets.push(email);
    const mark = await auditCount();
    const { cookie, csrf } = await signIn(tokens.operate);
    const locations: string[] = [];
    for (const [path, form] of [
      ['/console/people', { email }],
      ['/console/people/hold', { email, reason: 'litigation' }],
      ['/console/consents', { subject: email }],
      ['/console/consents/suppression/check', { email }],
      ['/console/consents/suppression/add', { email, reason: 'objection' }],
      ['/console/requests', { type: 'objection', email, purpose: 'newsletter-sending' }],
      ['/console/requests', { type: 'access', email: 'not-an-address@' }],
    ] as const) {
      const response = await call('POST', path, { cookie, form: { _csrf: csrf, ...form } });
      expect(response.status, path).toBeLessThan(500);
      locations.push(response.headers.get('location') ?? '');
    }
    for (const location of locations) expect(location).not.toMatch(/@|%40/);
    const entries = (await USE_CASES.exportAudit.run(engine, {}, SYSTEM))
      .trim()
      .split('\n')
      .slice(mark)
      .map((l) => JSON.parse(l) as { kind: string; data: { actor?: string } });
    expect(entries.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['console.login', 'hold.add', 'suppression.add']),
    );
    for (const entry of entries) {
      expect(entry.data.actor, entry.kind).toBe('token:dpo');
      expect(JSON.stringify(entry)).not.toMatch(/@/);
    }
  });
});

describe('after every call', () => {
  it('no log line names an address, carries a token or a query string', () => {
    expectCleanLogs(lines, secrets);
  });
});

describe('malformed bodies', () => {
  it('a broken form is a 400, not a failure of the service', async () => {
    const { cookie, csrf } = await signIn(tokens.operate);
    const statuses: number[] = [];
    for (const [type, body] of [
      ['multipart/form-data; boundary=x', 'garbage'],
      ['multipart/form-data', `--x\r\ncontent-disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--x--`],
      ['application/x-www-form-urlencoded', `_csrf=${csrf}&email=%E0%A4%A&reason=%`],
      ['application/json', JSON.stringify({ _csrf: csrf, email: customer })],
    ] as const) {
      const response = await app.request('/console/people', {
        method: 'POST',
        headers: {
          host: HOST,
          origin: SELF,
          cookie: `registre_session=${cookie}`,
          'content-type': type,
          'x-forwarded-for': '198.51.100.50',
        },
        body,
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([400, 400, 200, 403]);
    expect(lines.filter((l) => l.msg === 'unexpected error')).toEqual([]);
  });
});

describe('assets', () => {
  it('only the console’s own files are served, with their type, not sniffed; an object’s key is not a file', async () => {
    const page = await (await call('GET', '/console/login')).text();
    const assets = [...page.matchAll(/(?:href|src)="(\/console\/assets\/[^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    expect(assets.length).toBe(2);
    for (const asset of assets) {
      const response = await call('GET', asset);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('x-content-type-options'), asset).toBe('nosniff');
    }
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '..%2F..%2Fpackage.json'])
      expect((await call('GET', `/console/assets/${name}`)).status, name).toBe(404);
  });
});

describe('a hurried operator', () => {
  it('a refusal sent twice at once (a double click) is done once: one audit entry, the other told', async () => {
    const [, , , , , , seventh] = await customerEmails(config, 7);
    const email = seventh?.email as string;
    secrets.push(email);
    const opened = await USE_CASES.openRequest.run(engine, { type: 'erasure', email }, SYSTEM);
    const { cookie, csrf } = await signIn(tokens.operate);
    const mark = await auditCount();
    const form = { _csrf: csrf, reason: 'manifestly unfounded: the same request sent every day' };
    const answers = await Promise.all(
      [1, 2].map(() => call('POST', `/console/requests/${opened.id}/refuse`, { cookie, form })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([303, 409]);
    const entries = (await USE_CASES.exportAudit.run(engine, {}, SYSTEM)).trim().split('\n').slice(mark);
    expect(entries.filter((e) => e.includes('"request.refuse')).length).toBe(1);
    // Its reason's text is kept once (the two wrote it at once: neither fails for it).
    expect(
      [...(await (await engine.state('read')).reasons()).values()].filter((t) => t === form.reason),
    ).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'unexpected error')).toEqual([]);
  });
});

describe('a hurried operator, on a breach', () => {
  it('a decision sent twice at once (a double click) is made once: one audit entry, the other told it is stale', async () => {
    const breach = await USE_CASES.recordBreach.run(
      engine,
      {
        discoveredAt: new Date(clock.now().getTime() - 7_200_000).toISOString(),
        kinds: ['availability'],
        nature: 'The orders database was down for an hour.',
        records: ['orders'],
        consequences: 'Orders delayed.',
        measures: 'Restored from the backup.',
      },
      SYSTEM,
    );
    const { cookie, csrf } = await signIn(tokens.operate);
    const mark = await auditCount();
    const form = {
      _csrf: csrf,
      version: String(breach.version),
      notify: 'no',
      reason: 'no data was lost or disclosed: unlikely to result in a risk',
    };
    const answers = await Promise.all(
      [1, 2].map(() => call('POST', `/console/breaches/${breach.id}/decide?lang=en`, { cookie, form })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([303, 409]);
    const stale = answers.find((a) => a.status === 409) as Response;
    expect(await stale.text()).toContain('This breach changed since the page was shown');
    const entries = (await USE_CASES.exportAudit.run(engine, {}, SYSTEM)).trim().split('\n').slice(mark);
    expect(entries.filter((e) => e.includes('"breach.decide')).length).toBe(1);
    expect((await USE_CASES.showBreach.run(engine, { id: breach.id }, SYSTEM)).version).toBe(
      breach.version + 1,
    );
    expect(lines.filter((l) => l.msg === 'unexpected error')).toEqual([]);
  });
});
