/**
 * The console in a real browser: sign in with a token, the dashboard read, the language switched,
 * signed out; the session cookie HttpOnly and SameSite; a form without the session's CSRF secret
 * or from another origin refused; every page accessible (axe-core).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USE_CASES } from '../src/app/use-cases.js';
import {
  type ConsoleService,
  consoleService,
  cspWatch,
  expectAccessible,
  HAS_CHROMIUM,
  launch,
  screenshot,
  signIn,
} from './console-helpers.js';

const TEST = { actor: 'test:console' };

let service: ConsoleService;

let overdue: number;
let hold: number;

beforeAll(async () => {
  service = await consoleService();
  // Something to read on the dashboard: a request received five weeks ago (overdue), one of
  // today, a hold in force.
  const received = new Date(Date.now() - 35 * 86_400_000).toISOString().slice(0, 10);
  overdue = (
    await USE_CASES.openRequest.run(
      service.engine,
      { type: 'erasure', email: 'late@example.org', received, lang: 'en' },
      TEST,
    )
  ).id;
  await USE_CASES.openRequest.run(
    service.engine,
    { type: 'access', email: 'new@example.org', lang: 'fr' },
    TEST,
  );
  hold = (
    await USE_CASES.addHold.run(service.engine, { table: 'customers', id: '1', reason: 'dispute D-12' }, TEST)
  ).id;
});
afterAll(async () => {
  await service?.close();
});

describe('without a browser (HTTP)', () => {
  it('a console page without a session sends to the sign-in page; an unknown token is refused there', async () => {
    const page = await fetch(`${service.url}/console`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login?next=%2Fconsole');
    const login = await fetch(`${service.url}/console/login?lang=en`);
    expect(login.status).toBe(200);
    const csp = login.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const refused = await fetch(`${service.url}/console/login?lang=en`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: service.url },
      body: 'token=rgt_nothing',
      redirect: 'manual',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie') ?? '').not.toContain('registre_session');
    expect(await refused.text()).toContain('Sign-in refused');
  });

  it('a sign-in from another origin is refused; the session cookie is HttpOnly and SameSite=Strict', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const elsewhere = await fetch(`${service.url}/console/login`, {
      method: 'POST',
      headers: { ...form, origin: 'https://evil.example' },
      body: `token=${service.tokens.operate}`,
      redirect: 'manual',
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get('set-cookie')).toBeNull();
    const signed = await fetch(`${service.url}/console/login`, {
      method: 'POST',
      headers: { ...form, origin: service.url },
      body: `token=${service.tokens.operate}&next=//evil.example/`,
      redirect: 'manual',
    });
    expect(signed.status).toBe(303);
    expect(signed.headers.get('location')).toBe('/console');
    const cookie = signed.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^registre_session=[\w-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/console/);
    const session = cookie.split(';')[0] as string;
    const dashboard = await fetch(`${service.url}/console`, { headers: { cookie: session } });
    expect(dashboard.status).toBe(200);
    // A write without the session's CSRF secret, or from another origin, is refused.
    const noSecret = await fetch(`${service.url}/console/audit/verify`, {
      method: 'POST',
      headers: { ...form, cookie: session, origin: service.url },
      body: '',
    });
    expect(noSecret.status).toBe(403);
    const html = await dashboard.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] as string;
    expect(csrf).toBeTruthy();
    const crossSite = await fetch(`${service.url}/console/audit/verify`, {
      method: 'POST',
      headers: { ...form, cookie: session, origin: 'https://evil.example' },
      body: `_csrf=${csrf}`,
    });
    expect(crossSite.status).toBe(403);
    const verified = await fetch(`${service.url}/console/audit/verify`, {
      method: 'POST',
      headers: { ...form, cookie: session, origin: service.url, 'hx-request': 'true' },
      body: `_csrf=${csrf}`,
    });
    expect(verified.status).toBe(200);
    expect(await verified.text()).toMatch(/journal est intègre|log is whole/);
    // Signed out: the same cookie no longer opens a page.
    await fetch(`${service.url}/console/logout`, {
      method: 'POST',
      headers: { ...form, cookie: session, origin: service.url },
      body: `_csrf=${csrf}`,
      redirect: 'manual',
    });
    const after = await fetch(`${service.url}/console`, { headers: { cookie: session }, redirect: 'manual' });
    expect(after.status).toBe(303);
  });

  it('a revoked token ends its sessions', async () => {
    const made = await fetch(`${service.url}/api/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service.tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'short-lived', scope: 'read' }),
    });
    const { token } = (await made.json()) as { token: string };
    const signed = await fetch(`${service.url}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: service.url },
      body: `token=${token}`,
      redirect: 'manual',
    });
    const session = (signed.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await fetch(`${service.url}/console`, { headers: { cookie: session } })).status).toBe(200);
    await fetch(`${service.url}/api/tokens/short-lived`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${service.tokens.admin}` },
    });
    expect(
      (await fetch(`${service.url}/console`, { headers: { cookie: session }, redirect: 'manual' })).status,
    ).toBe(303);
  });
});

describe.skipIf(!HAS_CHROMIUM)('in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let refused: string[];

  beforeAll(async () => {
    browser = await launch();
    context = await browser.newContext({ locale: 'en-GB' });
    page = await context.newPage();
    refused = cspWatch(page);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in with a token and reads the dashboard', async () => {
    await signIn(page, service.url, service.tokens.operate);
    await expect.poll(() => page.title()).toContain('Dashboard');
    const past = page.locator('[data-figure="past-deadline"]');
    const plan = await USE_CASES.planFigures.run(service.engine, {}, TEST);
    expect(Number((await past.textContent())?.replace(/\D/g, ''))).toBe(plan.totals.due);
    await expect.poll(() => page.getByRole('img', { name: /Deletions to come/ }).count()).toBe(1);
    await expect
      .poll(() =>
        page
          .getByRole('table', { name: /Deletions to come/ })
          .locator('tbody tr')
          .count(),
      )
      .toBe(12);
    // Open requests, the overdue one first; the hold.
    const rows = page.getByRole('table').filter({ hasText: 'Days left' }).locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain(`#${overdue}`);
    expect(await rows.first().getAttribute('class')).toBe('bad');
    expect(await page.locator('[data-figure="open-requests"]').textContent()).toBe('2');
    expect(await page.getByRole('table').filter({ hasText: 'dispute D-12' }).textContent()).toContain(
      `#${hold}`,
    );
    await screenshot(page, 'dashboard-en');
    if (process.env.REGISTRE_WRITE_DOCS === '1')
      await page.screenshot({
        path: join(import.meta.dirname, '..', 'docs', 'console-dashboard.png'),
        fullPage: true,
        clip: { x: 0, y: 0, width: 1280, height: 1040 },
      });
    await expectAccessible(page, 'dashboard');
  });

  it('verifies the audit log from the dashboard through htmx, without a reload', async () => {
    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect.poll(() => page.locator('#chain-now').textContent()).toMatch(/The log is whole/);
    expect(refused).toEqual([]);
  });

  it('switches to French and stays in French', async () => {
    await page.goto(`${service.url}/console`);
    await page.getByRole('link', { name: 'Français' }).click();
    await expect.poll(() => page.title()).toContain('Tableau de bord');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await page.goto(`${service.url}/console`);
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await screenshot(page, 'dashboard-fr');
    await expectAccessible(page, 'tableau de bord');
  });

  it('the register: its activities and rules in words, its documents viewed and downloaded', async () => {
    await page.goto(`${service.url}/console/register?lang=en`);
    const { register } = await USE_CASES.showRegister.run(service.engine, {}, TEST);
    const { names } = await USE_CASES.listDocuments.run(service.engine, {}, TEST);
    expect(await page.locator('main section h3').count()).toBe(register?.activities.length);
    for (const name of names) expect(await page.locator(`a[download="${name}"]`).count()).toBe(1);
    await expectAccessible(page, 'register');
    await screenshot(page, 'register-en');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('a[download="art30.en.xlsx"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('art30.en.xlsx');
    const bytes = readFileSync((await download.path()) as string);
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    const view = await page.request.get(`${service.url}/console/documents/privacy-notice.en.html?view=1`);
    expect(view.headers()['content-disposition']).toMatch(/^inline/);
    expect(await view.text()).toContain(register?.organisation.name as string);
    await page.goto(`${service.url}/console/register?lang=fr`);
    await expectAccessible(page, 'registre');
    await page.goto(`${service.url}/console?lang=fr`);
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL(/\/console\/login/);
    await expectAccessible(page, 'sign-in page');
    await page.goto(`${service.url}/console`);
    expect(page.url()).toContain('/console/login');
  });
});
