/**
 * The console's requests in a real browser: a request opened on a person's behalf, verified with
 * the code the person received, previewed, run and its package downloaded; others extended and
 * refused with their reasons; each step read back through the use case and the audit log naming
 * the session's token; a read token's actions refused; a wrong code and an unknown request told
 * in the page's language; the request screen worked through with the keyboard alone.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USE_CASES } from '../src/app/use-cases.js';
import {
  type ConsoleService,
  consoleService,
  cspWatch,
  expectAccessible,
  HAS_CHROMIUM,
  httpSession,
  launch,
  medianTime,
  screenshot,
  signIn,
} from './console-helpers.js';
import { lastCode } from './outbox.js';
import { customerEmails } from './shop-helpers.js';

const TEST = { actor: 'test:console' };

let service: ConsoleService;
let people: { id: number; email: string }[];

beforeAll(async () => {
  service = await consoleService();
  people = await customerEmails(service.config, 6);
});
afterAll(async () => {
  await service?.close();
});

const show = (id: number) => USE_CASES.showRequest.run(service.engine, { id }, TEST);
const open = async (type: 'access' | 'erasure' | 'restriction', email: string, lang: 'fr' | 'en' = 'en') =>
  (await USE_CASES.openRequest.run(service.engine, { type, email, lang }, TEST)).id;

/** The audit entries of request `id` of `kind`. */
async function entries(id: number, kind: string) {
  const text = await USE_CASES.exportAudit.run(service.engine, {}, TEST);
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; data: { request?: number; actor?: string } })
    .filter((e) => e.kind === kind && e.data.request === id);
}

// Run in the page (the tests' TypeScript has no DOM types): what takes the keyboard, in the
// document's order, each marked with its rank; and the focused element's rank and outline.
const FOCUSABLE = `Array.from(document.querySelectorAll('a[href], button, input:not([type="hidden"]), select, textarea'))
  .map((el, i) => { el.dataset.k = String(i); return el.tagName.toLowerCase() + ' ' + (el.id || el.textContent.trim()); })`;
const FOCUSED = `(() => { const el = document.activeElement; const style = getComputedStyle(el);
  return { k: el.dataset.k, outline: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) }; })()`;

/** A six-digit code that is not `code`. */
const wrong = (code: string) => (code === '000000' ? '111111' : '000000');

describe('without a browser (HTTP)', () => {
  it('the list and a screen answer in well under 300 ms; an unknown package file is a 404', async () => {
    const id = await open('access', (people[0] as { email: string }).email, 'en');
    const { cookie } = await httpSession(service.url, service.tokens.read);
    const timed = (path: string) => medianTime(service.url, path, cookie);
    const list = await timed('/console/requests');
    const screen = await timed(`/console/requests/${id}`);
    console.info(
      `console requests: list ${list.toFixed(1)} ms, screen ${screen.toFixed(1)} ms (median of 5)`,
    );
    expect(list).toBeLessThan(300);
    expect(screen).toBeLessThan(300);
    const missing = await fetch(`${service.url}/console/requests/${id}/package/access.json`, {
      headers: { cookie },
    });
    expect(missing.status).toBe(404);
    await USE_CASES.refuseRequest.run(service.engine, { id, reason: 'a test of the timings' }, TEST);
  });
});

describe.skipIf(!HAS_CHROMIUM)('the requests in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let refusedByCsp: string[];

  beforeAll(async () => {
    browser = await launch();
    const context = await browser.newContext({ locale: 'en-GB', acceptDownloads: true });
    page = await context.newPage();
    refusedByCsp = cspWatch(page);
    await signIn(page, service.url, service.tokens.operate);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("opens an access request on a person's behalf, verifies it, previews and runs it, downloads its package", async () => {
    const person = people[0] as { email: string };
    await page.goto(`${service.url}/console/requests?lang=en`);
    await expectAccessible(page, 'requests (en)');
    await page.getByLabel('Type').selectOption('access');
    await page.getByLabel("The person's e-mail address").fill(person.email);
    await page.getByLabel("The person's language").selectOption('en');
    await page.getByRole('button', { name: 'Open the request' }).click();
    await page.waitForURL(/\/console\/requests\/\d+\?done=opened$/);
    const id = Number(/requests\/(\d+)/.exec(page.url())?.[1]);
    // The e-mail address went in the form's body, never in a URL.
    expect(page.url()).not.toContain(encodeURIComponent(person.email));
    expect(await page.locator('h1').textContent()).toBe(`Request #${id}`);
    expect(await page.getByRole('status').textContent()).toContain('The request is open');
    const opened = await show(id);
    expect(opened).toMatchObject({ type: 'access', status: 'received', askedBy: person.email, lang: 'en' });
    expect(await page.locator('#request-facts').textContent()).toContain(person.email);
    expect((await entries(id, 'request.open'))[0]?.data.actor).toBe('token:dpo');

    // A wrong code: refused, said in English, the attempt counted; then the right one.
    const code = lastCode(service.out);
    await page.getByLabel('The code the person received (6 digits)').fill(wrong(code));
    const refused = page.waitForResponse((r) => r.url().endsWith(`/requests/${id}/verify`));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    expect((await refused).status()).toBe(403);
    expect(await page.getByRole('alert').textContent()).toContain(
      'This code does not match the last code sent to the person.',
    );
    expect((await entries(id, 'request.verify-failed')).at(-1)?.data.actor).toBe('token:dpo');
    expect((await show(id)).status).toBe('received');
    await page.getByLabel('The code the person received (6 digits)').fill(code);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(/done=verified$/);
    expect((await show(id)).status).toBe('verified');
    expect((await entries(id, 'request.verify'))[0]?.data.actor).toBe('token:dpo');
    await screenshot(page, 'request-verified-en');

    // The preview changes nothing; the run writes the package.
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('#preview-h').count()).toBe(1);
    expect((await show(id)).status).toBe('verified');
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(/done=run$/);
    const done = await show(id);
    expect(done.status).toBe('done');
    expect((await entries(id, 'request.run'))[0]?.data.actor).toBe('token:dpo');
    const { files } = await USE_CASES.listPackage.run(service.engine, { id }, TEST);
    expect(await page.locator('#package tbody tr').count()).toBe(files.length);
    await expectAccessible(page, 'request screen, done (en)');
    await screenshot(page, 'request-done-en');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download access.json' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('access.json');
    const json = readFileSync((await download.path()) as string, 'utf8');
    expect(JSON.parse(json)).toBeTruthy();
    expect(json).toContain(person.email);
    const answer = await page.request.get(`${service.url}/console/requests/${id}/package/access.json`);
    expect(answer.headers()['content-type']).toBe('application/json');
    expect(answer.headers()['content-disposition']).toBe('attachment; filename="access.json"');
    expect((await page.request.get(`${service.url}/console/requests/${id}/package/..%2Fx`)).status()).toBe(
      400,
    );
    expect(refusedByCsp).toEqual([]);
  });

  it('a refused form is shown again with its reason (400) and what was typed', async () => {
    const person = people[3] as { email: string };
    await page.goto(`${service.url}/console/requests`);
    await page.getByLabel('Type').selectOption('rectification');
    await page.getByLabel("The person's e-mail address").fill(person.email);
    await page.getByLabel("A rectification's corrections: one field=value a line").fill('last_name Martin');
    const answer = page.waitForResponse(
      (r) => r.url().endsWith('/console/requests') && r.request().method() === 'POST',
    );
    await page.getByRole('button', { name: 'Open the request' }).click();
    expect((await answer).status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('each line is field=value');
    expect(await page.getByLabel("The person's e-mail address").inputValue()).toBe(person.email);
    expect(await page.getByLabel('Type').inputValue()).toBe('rectification');
    await page.getByLabel("A rectification's corrections: one field=value a line").fill('last_name=Martin');
    await page.getByRole('button', { name: 'Open the request' }).click();
    await page.waitForURL(/\/console\/requests\/\d+\?done=opened$/);
    const id = Number(/requests\/(\d+)/.exec(page.url())?.[1]);
    expect(await show(id)).toMatchObject({
      type: 'rectification',
      status: 'received',
      askedBy: person.email,
    });
    await USE_CASES.refuseRequest.run(service.engine, { id, reason: 'opened by a test' }, TEST);
  });

  it('the list: open requests first, the overdue one marked, closed ones after', async () => {
    const received = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    const late = (
      await USE_CASES.openRequest.run(
        service.engine,
        { type: 'erasure', email: (people[5] as { email: string }).email, received },
        TEST,
      )
    ).id;
    await page.goto(`${service.url}/console/requests`);
    const views = await USE_CASES.listRequests.run(service.engine, {}, TEST);
    const openOnes = views.filter((v) => v.status !== 'done' && v.status !== 'refused');
    const rows = page.locator('#open-requests tbody tr');
    expect(await rows.count()).toBe(openOnes.length);
    expect(await rows.first().textContent()).toContain(`#${late}`);
    expect(await rows.first().getAttribute('class')).toBe('bad');
    expect(await rows.first().textContent()).toMatch(/\d+ day\(s\) late/);
    expect(await page.locator('#closed-requests tbody tr').count()).toBe(views.length - openOnes.length);
    await screenshot(page, 'requests-en');
  });

  it('extends one request and refuses another, each with its reason', async () => {
    const extended = await open('erasure', (people[1] as { email: string }).email);
    await page.goto(`${service.url}/console/requests/${extended}`);
    await page.getByLabel('By how many months (art. 12(3))').selectOption('2');
    await page.locator('#extend-reason').fill('the request names twelve years of orders');
    await page.getByRole('button', { name: 'Extend' }).click();
    await page.waitForURL(/done=extended$/);
    expect((await show(extended)).extended).toEqual({
      months: 2,
      reason: 'the request names twelve years of orders',
    });
    expect(await page.locator('[data-fact="extended"]').textContent()).toContain('twelve years');
    expect((await entries(extended, 'request.extend'))[0]?.data.actor).toBe('token:dpo');

    const refused = await open('restriction', (people[2] as { email: string }).email);
    await page.goto(`${service.url}/console/requests/${refused}`);
    // A refusal without a reason is refused, and nothing changes.
    await page.locator('#refuse-reason').fill('   ');
    const empty = page.waitForResponse((r) => r.url().endsWith(`/requests/${refused}/refuse`));
    await page.getByRole('button', { name: 'Refuse', exact: true }).click();
    expect((await empty).status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('The input is refused.');
    expect((await show(refused)).status).toBe('received');
    await page.locator('#refuse-reason').fill('the fifth identical request this month');
    await page.getByRole('button', { name: 'Refuse', exact: true }).click();
    await page.waitForURL(/done=refused$/);
    const view = await show(refused);
    expect(view).toMatchObject({ status: 'refused', refused: 'the fifth identical request this month' });
    expect(await page.locator('[data-fact="refused"]').textContent()).toBe(
      'the fifth identical request this month',
    );
    expect(await page.locator('main').textContent()).toContain('No action is possible');
    expect((await entries(refused, 'request.refuse'))[0]?.data.actor).toBe('token:dpo');
  });

  it('an unknown request: a 404 said in the page', async () => {
    const answer = await page.goto(`${service.url}/console/requests/987654`);
    expect(answer?.status()).toBe(404);
    expect(await page.getByRole('alert').textContent()).toContain('There is no such request.');
  });

  it("a read token sees a request's screen, but its actions are refused (403)", async () => {
    const id = await open('access', (people[3] as { email: string }).email);
    const context = await browser.newContext({ locale: 'en-GB' });
    const reader = await context.newPage();
    await signIn(reader, service.url, service.tokens.read);
    await reader.goto(`${service.url}/console/requests/${id}`);
    expect(await reader.locator('main').textContent()).toContain('it reads this request but cannot');
    await reader.locator('#refuse-reason').fill('a reader tries');
    const answer = reader.waitForResponse((r) => r.url().endsWith(`/requests/${id}/refuse`));
    await reader.getByRole('button', { name: 'Refuse', exact: true }).click();
    expect((await answer).status()).toBe(403);
    expect(await reader.getByRole('alert').textContent()).toContain('needs a token of scope "operate"');
    expect((await show(id)).status).toBe('received');
    await context.close();
  });

  it('in French: the list, the screen and a wrong code told in French', async () => {
    // The person writes in English (the outbox's code is read in its English sentence); the DPO reads French.
    const id = await open('erasure', (people[4] as { email: string }).email, 'en');
    const context = await browser.newContext({ locale: 'fr-FR' });
    const fr = await context.newPage();
    await signIn(fr, service.url, service.tokens.operate, 'fr');
    await fr.goto(`${service.url}/console/requests?lang=fr`);
    expect(await fr.locator('html').getAttribute('lang')).toBe('fr');
    await expectAccessible(fr, 'demandes (fr)');
    await screenshot(fr, 'requests-fr');
    await fr.goto(`${service.url}/console/requests/${id}`);
    expect(await fr.locator('h1').textContent()).toBe(`Demande n° ${id}`);
    await expectAccessible(fr, 'écran d’une demande (fr)');
    await fr.getByLabel('Code reçu par la personne (6 chiffres)').fill(wrong(lastCode(service.out)));
    await fr.getByRole('button', { name: 'Vérifier', exact: true }).click();
    expect(await fr.getByRole('alert').textContent()).toContain(
      'Ce code ne correspond pas au dernier code envoyé à la personne.',
    );
    await expectAccessible(fr, 'écran d’une demande, code erroné (fr)');
    await screenshot(fr, 'request-wrong-code-fr');
    await context.close();
  });

  it("a request's screen with the keyboard alone: every link, field and button in order, each with a visible focus", async () => {
    const id = await open('access', (people[5] as { email: string }).email);
    await page.goto(`${service.url}/console/requests/${id}?lang=en`);
    await expectAccessible(page, 'request screen, received (en)');
    // What takes the keyboard, in the document's order.
    const expected = (await page.evaluate(FOCUSABLE)) as string[];
    expect(expected.length).toBeGreaterThan(15);
    const reached: string[] = [];
    for (let i = 0; i < expected.length; i++) {
      await page.keyboard.press('Tab');
      const focus = (await page.evaluate(FOCUSED)) as { k: string; outline: string; width: number };
      expect(focus.outline, `${expected[i]}: a visible focus`).not.toBe('none');
      expect(focus.width).toBeGreaterThanOrEqual(2);
      reached.push(expected[Number(focus.k)] ?? `(not expected: ${focus.k})`);
    }
    expect(reached).toEqual(expected);

    // The code typed and sent with Enter, nothing but the keyboard.
    await page.goto(`${service.url}/console/requests/${id}`);
    for (let i = 0; i < expected.length; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement.id')) === 'verify-code') break;
    }
    await page.keyboard.type(lastCode(service.out));
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=verified$/);
    expect((await show(id)).status).toBe('verified');
  });
});
