/**
 * Issue 20: the README's banner snippets, end to end without a browser. Each block marked
 * `<!-- banner-test: … -->` runs as it is written: the collector in a process of its own, the
 * cookieconsent and tarteaucitron snippets in `node:vm` with a fake banner, `document` and
 * `localStorage` around the real `crypto.subtle`, their posts going to the collector. Its file is
 * then imported, and the visitor's `audience-statistics` consent must go from given to withdrawn
 * (or be refused) with the banner's notice version and text hash.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsent, consentProof, importConsents } from '../src/app/consent.js';
import { type Context, createEngine, type Engine } from '../src/app/engine.js';
import { ROOT, shop, sleep } from './shop-helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CTX: Context = { actor: 'test:banner' };

/** The code of the README block marked `<!-- banner-test: name -->`. */
function block(name: string): string {
  const at = README.indexOf(`<!-- banner-test: ${name} -->`);
  expect(at, `README block ${name}`).toBeGreaterThan(0);
  const code = /```js\n([\s\S]*?)```/.exec(README.slice(at))?.[1];
  if (!code) throw new Error(`no js block after the ${name} marker`);
  return code;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A port nobody listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

async function until(done: () => boolean, what: string, ms = 8_000): Promise<void> {
  for (const start = Date.now(); !done(); await sleep(25))
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
}

/** A page: the globals a snippet reads, its posts forwarded to the collector and kept. */
function page(port: number, globals: Record<string, unknown>, shared?: { storage: Map<string, string> }) {
  const posted: string[] = [];
  const cookies = new Map<string, string>();
  const listeners = new Map<string, (() => void)[]>();
  const storage = shared?.storage ?? new Map<string, string>();
  const document = {
    get cookie() {
      return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    addEventListener: (type: string, f: () => void) =>
      listeners.set(type, [...(listeners.get(type) ?? []), f]),
  };
  const context = vm.createContext({
    document,
    localStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => storage.set(k, String(v)),
    },
    crypto: webcrypto,
    TextEncoder,
    setTimeout,
    clearTimeout,
    fetch: async (url: string, init: { method: string; headers: Record<string, string>; body: string }) => {
      posted.push(init.body);
      const res = await fetch(`http://127.0.0.1:${port}${url}`, {
        method: init.method,
        headers: init.headers,
        body: init.body,
      });
      if (res.status !== 204) throw new Error(`the collector answered ${res.status}`);
      return res;
    },
    ...globals,
  });
  return {
    posted,
    cookies,
    storage,
    run: (code: string) => vm.runInContext(code, context),
    /** What tarteaucitron does when it writes a service's choice: the event, on `document`. */
    dispatch: (type: string) => {
      for (const f of listeners.get(type) ?? []) f();
    },
  };
}

const KEYS = ['at', 'choice', 'consentId', 'language', 'notice', 'purposes', 'source', 'visitor'];

describe('the README banner snippets, posted to the collector and imported', () => {
  let dir = '';
  let engine: Engine;
  let collector: ChildProcess | undefined;
  let port = 0;
  let collected = '';

  beforeAll(async () => {
    let config: string;
    ({ out: dir, config } = await shop(5, 3));
    engine = createEngine({ config });
    writeFileSync(join(dir, 'collector.mjs'), block('collector'));
    port = await freePort();
    collector = spawn(process.execPath, ['collector.mjs'], {
      cwd: dir,
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    collector.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(() => out.includes('collecting'), 'the collector to listen');
    collected = join(dir, 'consents.jsonl');
  });

  afterAll(async () => {
    collector?.kill();
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The collector's file, as objects. */
  const lines = () =>
    readFileSync(collected, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  const BANNER_TEXTS = {
    fr: {
      consentModal: { title: 'Des cookies ?', description: 'Nous mesurons l’audience si vous l’acceptez.' },
    },
    en: { consentModal: { title: 'Cookies?', description: 'We measure the audience if you agree.' } },
  };
  const CC_VISITOR = '3f2a9c0d1b7e4a65';
  let ccConsentId = '';
  let ccRefusal = '';

  it('cookieconsent v3: a first consent accepting analytics, then a change revoking it; another visitor refuses', async () => {
    let preferences = {
      acceptType: 'all',
      acceptedCategories: ['necessary', 'analytics'],
      rejectedCategories: [] as string[],
    };
    let config: {
      onFirstConsent: (a: { cookie: object }) => Promise<void>;
      onChange: (a: { cookie: object; changedCategories: string[] }) => Promise<void>;
      revision: number;
    } = undefined as never;
    const CookieConsent = {
      run: (c: typeof config) => {
        config = c;
      },
      getUserPreferences: () => preferences,
    };
    const browser = page(port, { CookieConsent, BANNER_TEXTS });
    browser.run(block('cookieconsent'));
    expect(config.revision).toBe(3);
    ccConsentId = webcrypto.randomUUID();
    const cookie = (at: number) => ({
      categories: preferences.acceptedCategories,
      revision: config.revision,
      data: null,
      consentId: ccConsentId,
      consentTimestamp: new Date(Date.now() - 3_000).toISOString(),
      lastConsentTimestamp: new Date(Date.now() - at).toISOString(),
      languageCode: 'fr',
      services: {},
    });
    // The tracker loads once analytics is accepted, and sets its cookie a moment later.
    setTimeout(() => browser.cookies.set('_pk_id.1.1fff', `${CC_VISITOR}.1764000000.`), 300);
    await config.onFirstConsent({ cookie: cookie(2_000) });
    // Revoked: the banner clears the analytics cookies, then calls onChange.
    browser.cookies.delete('_pk_id.1.1fff');
    preferences = {
      acceptType: 'necessary',
      acceptedCategories: ['necessary'],
      rejectedCategories: ['analytics'],
    };
    await config.onChange({ cookie: cookie(1_000), changedCategories: ['analytics'] });

    const posted = browser.posted.map((b) => JSON.parse(b) as Record<string, unknown>);
    const notice = { version: '3', sha256: sha256(JSON.stringify(BANNER_TEXTS.fr)) };
    expect(posted).toEqual([
      expect.objectContaining({
        visitor: CC_VISITOR,
        purposes: ['audience-statistics'],
        choice: 'given',
        notice,
      }),
      expect.objectContaining({
        visitor: CC_VISITOR,
        purposes: ['audience-statistics'],
        choice: 'withdrawn',
        notice,
      }),
    ]);
    for (const p of posted) {
      expect(Object.keys(p).sort()).toEqual(KEYS);
      expect(p).toMatchObject({ source: 'banner', consentId: ccConsentId, language: 'fr' });
    }

    // A visitor who refuses at once: no analytics cookie ever, the consent id stands for them.
    preferences = {
      acceptType: 'necessary',
      acceptedCategories: ['necessary'],
      rejectedCategories: ['analytics'],
    };
    const other = page(port, { CookieConsent, BANNER_TEXTS });
    other.run(block('cookieconsent'));
    ccRefusal = webcrypto.randomUUID();
    await config.onFirstConsent({ cookie: { ...cookie(500), consentId: ccRefusal, languageCode: 'en' } });
    expect(other.posted.map((b) => JSON.parse(b))).toEqual([
      expect.objectContaining({
        visitor: ccRefusal,
        purposes: ['audience-statistics'],
        choice: 'refused',
        notice: { version: '3', sha256: sha256(JSON.stringify(BANNER_TEXTS.en)) },
        language: 'en',
      }),
    ]);
    // What the collector wrote is what the banner posted, a line each.
    expect(lines()).toEqual([...posted, ...other.posted.map((b) => JSON.parse(b))]);
  });

  const TAC_VISITOR = 'a1b2c3d4e5f60718';
  const LANG = {
    alertBigPrivacy:
      'Ce site utilise des cookies et vous donne le contrôle sur ce que vous souhaitez activer',
    analytic: { title: 'Mesure d’audience', details: 'Des statistiques de fréquentation.' },
  };
  let tacConsentId = '';

  it('tarteaucitron: events debounced, accept all then deny the analytics service; nothing sent again on the next page', async () => {
    const tarteaucitron = {
      job: ['matomo', 'youtube'],
      services: { matomo: { key: 'matomo', type: 'analytic' }, youtube: { key: 'youtube', type: 'video' } },
      state: {} as Record<string, boolean | 'wait'>,
      lang: LANG,
      getLanguage: () => 'fr',
    };
    const browser = page(port, { tarteaucitron });
    browser.run(block('tarteaucitron'));
    // The page loads: each service waits for a choice (tarteaucitron writes 'wait'): nothing is sent.
    tarteaucitron.state = { matomo: 'wait', youtube: 'wait' };
    browser.dispatch('tac.consent_updated');
    browser.dispatch('tac.consent_updated');
    await sleep(800);
    expect(browser.posted).toEqual([]);

    // "Accept all": one event per service written, one post after them; the tracker sets its cookie.
    tarteaucitron.state = { matomo: true, youtube: true };
    browser.dispatch('tac.consent_updated');
    browser.dispatch('tac.consent_updated');
    setTimeout(() => browser.cookies.set('_pk_id.3.ab12', `${TAC_VISITOR}.1764000000.`), 200);
    await until(() => browser.posted.length === 1, 'the acceptance');
    await sleep(50);
    // Matomo denied: its cookie purged, one event.
    browser.cookies.delete('_pk_id.3.ab12');
    tarteaucitron.state = { matomo: false, youtube: true };
    browser.dispatch('tac.consent_updated');
    await until(() => browser.posted.length === 2, 'the withdrawal');
    // The snippet notes what it sent once the POST has answered: the next page reads that note.
    await until(
      () =>
        (JSON.parse(browser.storage.get('registre-consent') ?? '{}') as { sent?: Record<string, string> })
          .sent?.['audience-statistics'] === 'withdrawn',
      'the withdrawal noted',
    );

    const saved = JSON.parse(browser.storage.get('registre-consent') ?? '{}') as { id: string };
    tacConsentId = saved.id;
    const notice = { version: '2026-11', sha256: sha256(JSON.stringify(LANG)) };
    const posted = browser.posted.map((b) => JSON.parse(b) as Record<string, unknown>);
    expect(posted).toEqual([
      expect.objectContaining({
        visitor: TAC_VISITOR,
        purposes: ['audience-statistics'],
        choice: 'given',
        notice,
      }),
      expect.objectContaining({
        visitor: TAC_VISITOR,
        purposes: ['audience-statistics'],
        choice: 'withdrawn',
        notice,
      }),
    ]);
    for (const p of posted) {
      expect(Object.keys(p).sort()).toEqual(KEYS);
      expect(p).toMatchObject({ source: 'banner', consentId: tacConsentId, language: 'fr' });
    }

    // The next page of the same browser: the same choice written again is not sent again.
    const next = page(port, { tarteaucitron }, { storage: browser.storage });
    next.run(block('tarteaucitron'));
    next.dispatch('tac.consent_updated');
    await sleep(800);
    expect(next.posted).toEqual([]);
    expect(lines().slice(-2)).toEqual(posted);
  });

  it('registre consent import reads the collected file: given then withdrawn, with the notice version and hash', async () => {
    const imported = await importConsents(engine, { file: collected }, CTX);
    expect(imported).toMatchObject({ lines: 5, events: 5, rows: 5, duplicates: 0, refused: [] });

    const cc = await consentProof(engine, { visitor: CC_VISITOR }, CTX);
    expect(
      cc.events.map((e) => [e.purpose, e.choice, e.notice.version, e.notice.sha256, e.consentId]),
    ).toEqual([
      ['audience-statistics', 'given', '3', sha256(JSON.stringify(BANNER_TEXTS.fr)), ccConsentId],
      ['audience-statistics', 'withdrawn', '3', sha256(JSON.stringify(BANNER_TEXTS.fr)), ccConsentId],
    ]);
    expect(
      (await checkConsent(engine, { visitor: CC_VISITOR, purpose: 'audience-statistics' }, CTX)).state,
    ).toBe('withdrawn');
    expect(
      (await checkConsent(engine, { visitor: ccRefusal, purpose: 'audience-statistics' }, CTX)).state,
    ).toBe('refused');

    const tac = await consentProof(engine, { visitor: TAC_VISITOR }, CTX);
    expect(
      tac.events.map((e) => [e.choice, e.notice.version, e.notice.sha256, e.consentId, e.source]),
    ).toEqual([
      ['given', '2026-11', sha256(JSON.stringify(LANG)), tacConsentId, 'banner'],
      ['withdrawn', '2026-11', sha256(JSON.stringify(LANG)), tacConsentId, 'banner'],
    ]);
    expect(
      (await checkConsent(engine, { visitor: TAC_VISITOR, purpose: 'audience-statistics' }, CTX)).state,
    ).toBe('withdrawn');
    // The same file imported again appends nothing.
    expect(await importConsents(engine, { file: collected }, CTX)).toMatchObject({
      events: 0,
      duplicates: 5,
    });
  });
});
