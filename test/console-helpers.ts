/**
 * What the console's browser tests share: the service on a small demo shop over real HTTP (an
 * ephemeral port of 127.0.0.1), Debian's Chromium driven by playwright-core, the accessibility
 * check (axe-core: no serious or critical violation), and screenshots kept as artefacts in
 * test-artifacts/console/. Without /usr/bin/chromium the browser tests are skipped and say why.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createEngine, type Engine } from '../src/app/engine.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { buildApi } from '../src/http/app.js';
import { logCollector, serviceShop } from './api-helpers.js';

export const CHROMIUM = process.env.REGISTRE_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM)
  console.warn(
    `${CHROMIUM} not found: the console's browser tests are skipped. Install Debian's Chromium (apt-get install -y chromium) to run them.`,
  );

export const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts', 'console');

const SYSTEM = { actor: 'test:console' };

export interface ConsoleService {
  readonly url: string;
  readonly engine: Engine;
  readonly out: string;
  readonly config: string;
  readonly tokens: { readonly operate: string; readonly read: string; readonly admin: string };
  readonly lines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** The service on a demo shop of `customers`, listening on 127.0.0.1, with three tokens. */
export async function consoleService(customers = 120): Promise<ConsoleService> {
  const made = await serviceShop(
    customers,
    { perClient: 10_000, perAddress: 1_000, bodyBytes: 65_536 },
    false,
  );
  const engine = createEngine({ config: made.config });
  const make = async (name: string, scope: 'read' | 'operate' | 'admin') =>
    (await USE_CASES.createToken.run(engine, { name, scope }, SYSTEM)).token;
  const tokens = {
    operate: await make('dpo', 'operate'),
    read: await make('auditor', 'read'),
    admin: await make('root', 'admin'),
  };
  const { lines, log } = logCollector();
  const app = await buildApi(engine, { log, clientOf: (c) => getConnInfo(c).remote.address });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    engine,
    out: made.out,
    config: made.config,
    tokens,
    lines,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.close();
      rmSync(made.out, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Signs in on the console's page with a token; lands on the page `next` names (default the dashboard). */
export async function signIn(
  page: Page,
  url: string,
  token: string,
  lang: 'fr' | 'en' = 'en',
): Promise<void> {
  await page.goto(`${url}/console/login?lang=${lang}`);
  await page.getByLabel(lang === 'fr' ? 'Jeton d’API' : 'API token').fill(token);
  await page.getByRole('button', { name: lang === 'fr' ? 'Se connecter' : 'Sign in' }).click();
  await page.waitForURL(/\/console(\/|\?|$)/);
}

/** No serious or critical WCAG 2.1 A/AA violation on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${what}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  expect(bad).toEqual([]);
}

/** Keeps a screenshot of the page as a test artefact. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects what the page's console says about the CSP (a refused script or style is a failure). */
export function cspWatch(page: Page): string[] {
  const refused: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
  });
  return refused;
}

/** A session opened over HTTP with a token (no browser): its cookie, and the CSRF secret of `page`. */
export async function httpSession(
  url: string,
  token: string,
  page = '/console',
): Promise<{ cookie: string; csrf: string }> {
  const signed = await fetch(`${url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: `token=${token}`,
    redirect: 'manual',
  });
  const cookie = (signed.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const html = await (await fetch(`${url}${page}`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] as string };
}

/** The median time of five GETs of a console page (each answered 200), in milliseconds. */
export async function medianTime(url: string, path: string, cookie: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const answer = await fetch(`${url}${path}`, { headers: { cookie } });
    await answer.text();
    times.push(performance.now() - start);
    expect(answer.status, path).toBe(200);
  }
  return times.sort((a, b) => a - b)[2] as number;
}
