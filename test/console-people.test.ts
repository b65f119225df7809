/**
 * The console's people and consents pages in Chromium: a customer searched by e-mail (by POST),
 * their records as explain tells them, a hold placed and released from their page (its reason
 * and actor read back), an unknown address answered plainly, a read token's hold refused; a
 * consent history and its proof, the suppression list checked through htmx and added to. The
 * address typed never shows in a URL the browser asked for nor in the service's log.
 */
import { readFileSync } from 'node:fs';
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
import { customerEmails } from './shop-helpers.js';

const TEST = { actor: 'test:console' };
const REASON = 'Litigation 2026-17: the customer disputes an invoice';
const UNKNOWN = 'nobody-at-all@example.org';
const LISTED = 'no-more-mail@example.org';

let service: ConsoleService;
let customer = '';

beforeAll(async () => {
  service = await consoleService(60);
  const [first] = await customerEmails(service.config, 1);
  customer = first?.email as string;
});
afterAll(async () => {
  await service?.close();
});

describe.skipIf(!HAS_CHROMIUM)('people and consents in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let refused: string[];
  const asked: string[] = [];
  const typed = () => [customer, UNKNOWN, LISTED];

  beforeAll(async () => {
    browser = await launch();
    context = await browser.newContext({ locale: 'en-GB' });
    page = await context.newPage();
    refused = cspWatch(page);
    page.on('request', (r) => void asked.push(r.url()));
    await signIn(page, service.url, service.tokens.operate);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const search = async (p: Page, email: string, button = 'Search') => {
    await p.locator('#person-email').fill(email);
    await Promise.all([p.waitForLoadState('load'), p.getByRole('button', { name: button }).click()]);
  };

  it('finds a customer by e-mail and shows what explain tells of them', async () => {
    await page.goto(`${service.url}/console/people?lang=en`);
    await expectAccessible(page, 'people');
    await search(page, customer);
    await page.locator('#found').waitFor();
    const at = service.engine.today();
    const explained = await USE_CASES.explain.run(service.engine, { at, email: customer }, TEST);
    expect(explained.records.length).toBeGreaterThan(0);
    expect(await page.locator('#found').getAttribute('data-count')).toBe(String(explained.records.length));
    expect(await page.locator('#records tbody tr').count()).toBe(explained.records.length);
    for (const r of explained.records) {
      const row = page.locator('#records tbody tr', {
        has: page.locator(`[data-record="${r.store === 'archive' ? 'archive:' : ''}${r.table}:${r.id}"]`),
      });
      expect(await row.count()).toBe(1);
      expect(await row.locator('[data-status]').getAttribute('data-status')).toBe(r.status);
      if (r.deadline)
        expect(await row.locator('[data-deadline]').getAttribute('data-deadline')).toBe(r.deadline);
    }
    const dated = explained.records.find((r) => r.deadline);
    expect(dated).toBeDefined();
    // The day it goes, as the page writes it.
    expect(await page.locator('#records').textContent()).toContain(
      new Date(`${dated?.deadline}T00:00:00Z`).toLocaleDateString('en-GB', {
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      }),
    );
    expect(await page.locator('#person-consents tbody tr').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'people, a person shown');
    await screenshot(page, 'people-en');
  });

  it('places a hold on the person from their page, read back with its reason and actor, then releases it', async () => {
    // An end already past is refused (400), shown on the page with what was typed.
    await page.locator('#hold-reason').fill(REASON);
    await page.locator('#hold-until').fill('2001-01-01');
    const [refusal] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/console/people/hold')),
      page.getByRole('button', { name: 'Place the hold' }).click(),
    ]);
    expect(refusal.status()).toBe(400);
    await page.getByRole('alert').filter({ hasText: 'already past' }).waitFor();
    expect(await page.locator('#hold-reason').inputValue()).toBe(REASON);
    expect(await page.locator('#records').count()).toBe(1);
    await page.locator('#hold-until').fill('');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Place the hold' }).click(),
    ]);
    const done = page.getByRole('status').filter({ hasText: /Hold no\. \d+ is in force/ });
    await done.waitFor();
    const holds = await USE_CASES.listHolds.run(service.engine, {}, TEST);
    const hold = holds.find((h) => h.reason === REASON);
    expect(hold).toBeDefined();
    expect(hold?.actor).toBe('token:dpo');
    expect(await done.textContent()).toContain(`Hold no. ${hold?.id} is in force`);
    const log = (await USE_CASES.exportAudit.run(service.engine, {}, TEST))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; data: { actor?: string; holds?: unknown[] } });
    const entry = log.filter((e) => e.kind === 'hold.add').at(-1);
    expect(entry?.data.actor).toBe('token:dpo');
    expect(entry?.data.holds).toHaveLength(hold?.records.length ?? -1);
    // Shown as held: in the holds table, and every live record of the person held.
    expect(await page.locator(`#holds [data-hold="${hold?.id}"]`).count()).toBe(1);
    const statuses = await page
      .locator('#records [data-status]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 'held' || s === 'restricted')).toBe(true);
    expect(await page.locator('#holds').textContent()).toContain(REASON);
    expect(await page.locator('#records').textContent()).toContain(`hold no. ${hold?.id}`);
    await screenshot(page, 'people-held-en');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: `Release hold no. ${hold?.id}` }).click(),
    ]);
    await page
      .getByRole('status')
      .filter({ hasText: `Hold no. ${hold?.id} is released` })
      .waitFor();
    expect((await USE_CASES.listHolds.run(service.engine, {}, TEST)).some((h) => h.id === hold?.id)).toBe(
      false,
    );
    expect(await page.locator(`#holds [data-hold="${hold?.id}"]`).count()).toBe(0);
    // One record only: the hold holds that record, nothing else of the person.
    const options = page.locator('#hold-target option');
    const value = (await options.nth(1).getAttribute('value')) as string;
    await page.locator('#hold-target').selectOption(value);
    await page.locator('#hold-reason').fill('one record only');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Place the hold' }).click(),
    ]);
    await page.getByRole('status').filter({ hasText: 'is in force on 1 record(s)' }).waitFor();
    const one = (await USE_CASES.listHolds.run(service.engine, {}, TEST)).find(
      (h) => h.reason === 'one record only',
    );
    expect(one?.records.map((r) => `${r.table}:${r.key}`)).toEqual([value]);
    expect(await page.locator('#records [data-status="held"]').count()).toBe(1);
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: `Release hold no. ${one?.id}` }).click(),
    ]);
    await page.getByRole('status').filter({ hasText: 'is released' }).waitFor();
  });

  it('an unknown address is answered plainly: no record, not an error page', async () => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/console/people') && r.request().method() === 'POST'),
      search(page, UNKNOWN),
    ]);
    expect(response.status()).toBe(200);
    expect(await page.getByRole('status').textContent()).toContain('No record of this person');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.locator('#records').count()).toBe(0);
  });

  it('in French, with a person shown', async () => {
    await page.goto(`${service.url}/console/people?lang=fr`);
    await expectAccessible(page, 'personnes');
    await search(page, customer, 'Rechercher');
    await page.locator('#records').waitFor();
    expect(await page.locator('h1').textContent()).toBe('Personnes et données');
    await expectAccessible(page, 'personnes, une personne affichée');
    await screenshot(page, 'people-fr');
  });

  it("a read token's hold is refused in the page (403), nothing held", async () => {
    const reader = await browser.newContext({ locale: 'en-GB' });
    const p = await reader.newPage();
    p.on('request', (r) => void asked.push(r.url()));
    await signIn(p, service.url, service.tokens.read);
    await p.goto(`${service.url}/console/people?lang=en`);
    await search(p, customer);
    await p.locator('#hold-reason').fill('should not hold');
    const [response] = await Promise.all([
      p.waitForResponse((r) => r.url().endsWith('/console/people/hold')),
      p.getByRole('button', { name: 'Place the hold' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await p.getByRole('alert').waitFor();
    expect(await p.getByRole('alert').textContent()).toContain('Not allowed');
    expect(await p.locator('#hold-reason').inputValue()).toBe('should not hold');
    expect(
      (await USE_CASES.listHolds.run(service.engine, { all: true }, TEST)).some(
        (h) => h.reason === 'should not hold',
      ),
    ).toBe(false);
    await reader.close();
  });

  it("shows a person's consent history and its proof", async () => {
    const notice = { version: 'newsletter-2', sha256: 'ab'.repeat(32) };
    await USE_CASES.recordConsent.run(
      service.engine,
      {
        email: customer,
        purposes: ['newsletter-sending'],
        choice: 'given',
        notice,
        source: 'form',
        consentId: 'console-test-1',
        language: 'fr',
      },
      TEST,
    );
    const proof = await USE_CASES.consentProof.run(service.engine, { email: customer }, TEST);
    await page.goto(`${service.url}/console/consents?lang=en`);
    await expectAccessible(page, 'consents');
    await page.locator('#consent-subject-input').fill(customer);
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Show the history' }).click(),
    ]);
    await page.locator('#consent-events').waitFor();
    expect(await page.locator('#consent-events tbody tr').count()).toBe(proof.events.length);
    const text = (await page.locator('#consent-events').textContent()) ?? '';
    expect(text).toContain('console-test-1');
    expect(text).toContain(notice.sha256);
    expect(text).toContain('newsletter-2');
    expect(text).toContain('test:console');
    expect(await page.locator('#consent-events [data-choice="given"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#consent-subject').textContent()).toContain(proof.subject.id);
    await expectAccessible(page, 'consents, a history shown');
    await screenshot(page, 'consents-en');
    // The proof to hand to an authority, downloaded: the events, never the address.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Download the proof/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('consent-proof.html');
    const html = readFileSync((await download.path()) as string, 'utf8');
    expect(html).toContain('console-test-1');
    expect(html).toContain(proof.subject.id);
    expect(html).not.toContain(customer);
  });

  it('checks an address on the suppression list through htmx, adds one and finds it', async () => {
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    await page.locator('#check-email').fill(LISTED);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect
      .poll(() => page.locator('#suppression-result').textContent())
      .toContain('is not on the suppression list');
    expect(navigations).toBe(0);
    await page.locator('#add-email').fill(LISTED);
    await page.locator('#add-reason').selectOption('unsubscribe');
    await Promise.all([
      page.waitForURL(/done=suppressed/),
      page.getByRole('button', { name: 'Add to the list' }).click(),
    ]);
    await page
      .getByRole('status')
      .filter({ hasText: 'The address is added to the suppression list' })
      .waitFor();
    expect(await USE_CASES.checkSuppression.run(service.engine, { email: LISTED }, TEST)).toMatchObject({
      listed: true,
      reason: 'unsubscribe',
    });
    navigations = 0;
    await page.locator('#check-email').fill(LISTED);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect
      .poll(() => page.locator('#suppression-result').textContent())
      .toMatch(/is on the suppression list since .* \(unsubscribed\)/);
    expect(navigations).toBe(0);
    await expectAccessible(page, 'consents, an address checked');
    // Not an address: 400 on the page; through htmx, the refusal shown in place.
    const csrf = (await page.locator('input[name="_csrf"]').first().getAttribute('value')) as string;
    const bad = await page.request.post(`${service.url}/console/consents/suppression/check`, {
      form: { _csrf: csrf, email: 'not-an-address' },
    });
    expect(bad.status()).toBe(400);
    expect(await bad.text()).toContain('must be one e-mail address');
    const badHtmx = await page.request.post(`${service.url}/console/consents/suppression/check`, {
      form: { _csrf: csrf, email: 'not-an-address' },
      headers: { 'hx-request': 'true' },
    });
    expect(badHtmx.status()).toBe(200);
    expect(await badHtmx.text()).toMatch(/^<div class="notice error" role="alert">/);
    await page.goto(`${service.url}/console/consents?lang=fr`);
    await page.locator('#consent-subject-input').fill(customer);
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Afficher l’historique' }).click(),
    ]);
    await page.locator('#consent-events').waitFor();
    await page.locator('#check-email').fill(LISTED);
    await page.getByRole('button', { name: 'Vérifier', exact: true }).click();
    await expect.poll(() => page.locator('#suppression-result').textContent()).toContain('depuis le');
    await expectAccessible(page, 'consentements');
    await screenshot(page, 'consents-fr');
    expect(refused).toEqual([]);
  });

  it('no address typed shows in a URL the browser asked for, nor in the service’s log', async () => {
    expect(asked.length).toBeGreaterThan(10);
    const encoded = typed().flatMap((a) => [a, encodeURIComponent(a), a.split('@')[0] as string]);
    for (const url of [...asked, page.url()]) for (const a of encoded) expect(url).not.toContain(a);
    expect(service.lines.length).toBeGreaterThan(0);
    const log = JSON.stringify(service.lines);
    for (const a of encoded) expect(log).not.toContain(a);
  });
});
