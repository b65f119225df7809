/**
 * The console's register of breaches in a real browser: a breach of the card data of `payments`
 * recorded through the form (its refusals shown next to their fields first), its deadline and the
 * count of the data map read on its screen, an overdue one listed first in words, the decision not
 * to notify the CNIL made with its reason, the letters shown as text, and the register exported
 * and read back; each page accessible; a stale decision refused (409) in the page's language.
 */
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
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

const TEST = { actor: 'test:console' };
const HOUR = 3_600_000;

let service: ConsoleService;

beforeAll(async () => {
  service = await consoleService();
});
afterAll(async () => {
  await service?.close();
});

const show = (id: number) => USE_CASES.showBreach.run(service.engine, { id }, TEST);

/** A breach recorded by the use case, discovered `hoursAgo` hours ago. */
const recorded = async (hoursAgo: number, what = 'A laptop holding an export of the orders was stolen.') =>
  (
    await USE_CASES.recordBreach.run(
      service.engine,
      {
        discoveredAt: new Date(Date.now() - hoursAgo * HOUR).toISOString(),
        kinds: ['confidentiality', 'availability'],
        nature: what,
        records: ['orders'],
        consequences: 'Phishing aimed at the customers.',
        measures: 'The laptop is wiped remotely.',
      },
      TEST,
    )
  ).id;

/** The audit entries of `kind` about breach `id`. */
async function entries(kind: string, id?: number) {
  const text = await USE_CASES.exportAudit.run(service.engine, {}, TEST);
  return text
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as { kind: string; data: { breach?: number; breaches?: number[]; actor?: string } },
    )
    .filter((e) => e.kind === kind && (id === undefined || e.data.breach === id));
}

const session = (token: string) => httpSession(service.url, token, '/console/breaches');

describe('without a browser (HTTP)', () => {
  it('the list and a screen answer in well under 300 ms; a read token reads them and exports, and has no form', async () => {
    const id = await recorded(1);
    const { cookie } = await session(service.tokens.read);
    const timed = (path: string) => medianTime(service.url, path, cookie);
    const list = await timed('/console/breaches?lang=en');
    const screen = await timed(`/console/breaches/${id}?lang=en`);
    console.info(
      `console breaches: list ${list.toFixed(1)} ms, screen ${screen.toFixed(1)} ms (median of 5)`,
    );
    expect(list).toBeLessThan(300);
    expect(screen).toBeLessThan(300);
    const page = await (
      await fetch(`${service.url}/console/breaches/${id}?lang=en`, { headers: { cookie } })
    ).text();
    expect(page).toContain('cannot write to it');
    expect(page).not.toContain('action="/console/breaches/');
    // The export only appends its own audit entry: a reader may make it, as through the API.
    const csv = await fetch(`${service.url}/console/breach-register?format=csv&lang=en`, {
      headers: { cookie },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="breach-register.en.csv"');
    expect(await csv.text()).toContain('A laptop holding an export of the orders was stolen.');
    const logged = await entries('breach.export');
    expect(logged.at(-1)?.data.actor).toBe('token:auditor');
    expect(logged.at(-1)?.data.breaches).toContain(id);
    const wrong = await fetch(`${service.url}/console/breach-register?format=pdf`, { headers: { cookie } });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('E_USAGE');
  });

  it('a refused record is shown again (400) with the reason next to its field, in the page’s language', async () => {
    const { cookie, csrf } = await session(service.tokens.operate);
    const before = (await USE_CASES.listBreaches.run(service.engine, {}, TEST)).length;
    const post = async (form: Record<string, string>) => {
      const answer = await fetch(`${service.url}/console/breaches?lang=fr`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: service.url, cookie },
        body: new URLSearchParams({ _csrf: csrf, ...form }).toString(),
        redirect: 'manual',
      });
      return { status: answer.status, html: await answer.text() };
    };
    const form = {
      discoveredAt: new Date(Date.now() - HOUR).toISOString().slice(0, 16),
      kinds: 'integrity',
      nature: 'Des commandes ont été modifiées par erreur.',
      records: 'orders',
      consequences: 'Livraisons erronées.',
      measures: 'Commandes restaurées.',
    };
    const cases: [string, Record<string, string>, string][] = [
      ['kinds', { kinds: '' }, 'Cochez au moins une nature'],
      ['nature', { nature: '   ' }, 'Décrivez ce qui s’est passé.'],
      ['activities', { records: '' }, 'Choisissez au moins un traitement'],
      [
        'categories',
        { categories: 'connection' },
        'Aucune table de ce qui est choisi ne tient cette catégorie.',
      ],
      ['people', { people: '-3' }, 'Un nombre entier de personnes'],
    ];
    for (const [field, change, words] of cases) {
      const { status, html } = await post({ ...form, ...change });
      expect(status, field).toBe(400);
      expect(html, field).toContain(`<p class="field-error bad" id="new-${field}-error"><strong>${words}`);
      expect(html, field).toMatch(
        new RegExp(`id="new-${field}"[^>]*aria-invalid="true"|aria-describedby="new-${field}-error"`),
      );
      // What was typed is kept.
      expect(html, field).toContain('>Livraisons erronées.</textarea>');
    }
    expect((await USE_CASES.listBreaches.run(service.engine, {}, TEST)).length).toBe(before);
  });

  it('a decision sent from a page read before another one is refused (409), said in the page’s language, and changes nothing', async () => {
    const id = await recorded(2);
    const { cookie, csrf } = await session(service.tokens.operate);
    const before = await show(id);
    const post = (form: Record<string, string>) =>
      fetch(`${service.url}/console/breaches/${id}/decide?lang=fr`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: service.url, cookie },
        body: new URLSearchParams({ _csrf: csrf, version: String(before.version), ...form }).toString(),
        redirect: 'manual',
      });
    const first = await post({ notify: 'no', reason: 'the stolen laptop was encrypted' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/console/breaches/${id}?done=decided`);
    const stale = await post({ notify: 'yes', notifiedAt: new Date().toISOString().slice(0, 16) });
    expect(stale.status).toBe(409);
    const text = await stale.text();
    expect(text).toContain('Cette violation a changé depuis l’affichage de la page');
    expect(text).toContain('E_BREACH_CHANGED');
    // The page shows the breach as it now stands, and its new version for the next decision.
    expect(text).toContain('non notifiée : the stolen laptop was encrypted');
    expect(text).toContain(`name="version" value="${before.version + 1}"`);
    const after = await show(id);
    expect(after.notification.decision).toBe('no-notify');
    expect(after.version).toBe(before.version + 1);
    expect(await entries('breach.decide', id)).toHaveLength(1);
  });
});

describe.skipIf(!HAS_CHROMIUM)('the register of breaches in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let refusedByCsp: string[];
  let breach: number;
  let overdue: number;

  beforeAll(async () => {
    browser = await launch();
    const context = await browser.newContext({ locale: 'en-GB', acceptDownloads: true });
    page = await context.newPage();
    refusedByCsp = cspWatch(page);
    await signIn(page, service.url, service.tokens.operate);
    // An older breach, past its 72 hours and undecided.
    overdue = await recorded(80, 'A misdirected e-mail carried an order list.');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('records a breach of the card data of payments through the form, its refusals shown next to their fields', async () => {
    await page.goto(`${service.url}/console`);
    // The dashboard counts the breaches still to decide, and those past their 72 hours.
    const open = (await USE_CASES.listBreaches.run(service.engine, {}, TEST)).filter(
      (b) => b.status === 'to-decide' || b.status === 'overdue',
    );
    expect(open.filter((b) => b.status === 'overdue').map((b) => b.id)).toEqual([overdue]);
    expect(await page.locator('[data-figure="breaches-to-decide"]').textContent()).toBe(String(open.length));
    expect(await page.locator('section[aria-labelledby="breaches-h"]').getAttribute('class')).toBe(
      'card bad',
    );
    expect(await page.locator('section[aria-labelledby="breaches-h"]').textContent()).toContain(
      '1 of them past their 72 hours',
    );
    await page.getByRole('navigation').getByRole('link', { name: 'Data breaches' }).click();
    await page.waitForURL(/\/console\/breaches$/);
    expect(
      await page
        .getByRole('navigation')
        .getByRole('link', { name: 'Data breaches' })
        .getAttribute('aria-current'),
    ).toBe('page');
    await expectAccessible(page, 'breaches (en)');
    const form = page.locator('#record-breach');
    const discovered = new Date(Date.now() - 2 * HOUR);
    await form.getByLabel('Discovered at (UTC)').fill(discovered.toISOString().slice(0, 16));
    await form
      .getByLabel('What happened', { exact: true })
      .fill('A backup of the payments table was exposed.');
    await form.getByLabel('What happened, in French').fill('Une sauvegarde des paiements a été exposée.');
    await form.getByLabel("The register's records").selectOption(['payments']);
    await form.getByLabel('Data categories').selectOption(['payment-card']);
    await form
      .getByLabel('Likely consequences for the people', { exact: true })
      .fill('Attempted card fraud.');
    await form
      .getByLabel('Measures taken or proposed', { exact: true })
      .fill('Server closed, tokens revoked.');
    // No nature ticked: refused by the use case, said next to the boxes, what was typed kept.
    await form.getByRole('button', { name: 'Record the breach' }).click();
    await expect.poll(() => page.locator('#new-kinds-error').textContent()).toContain('Tick at least one');
    expect(await page.locator('.notice.error').textContent()).toContain('E_USAGE');
    expect(await page.locator('#new-nature').inputValue()).toBe(
      'A backup of the payments table was exposed.',
    );
    expect(await page.locator('#new-records option:checked').allTextContents()).toEqual([
      expect.stringContaining('(payments)'),
    ]);
    await expectAccessible(page, 'breach form refused');
    // A discovery in the future: refused next to its field.
    await page.getByLabel('loss of confidentiality').check();
    await page.locator('#new-discoveredAt').fill(new Date(Date.now() + 3 * HOUR).toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Record the breach' }).click();
    await expect.poll(() => page.locator('#new-discoveredAt-error').textContent()).toContain('in the past');
    expect(await page.locator('#new-discoveredAt').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#new-discoveredAt').getAttribute('aria-describedby')).toBe(
      'new-discoveredAt-error',
    );
    // Put right, it is recorded, and its screen shown.
    await page.locator('#new-discoveredAt').fill(discovered.toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Record the breach' }).click();
    await page.waitForURL(/\/console\/breaches\/\d+\?done=recorded$/);
    breach = Number(/breaches\/(\d+)/.exec(page.url())?.[1]);
    expect(await page.locator('.notice.done').textContent()).toContain('The breach is in the register.');

    const shown = await show(breach);
    expect(shown.kinds).toEqual(['confidentiality']);
    expect(shown.scope).toEqual({
      activities: [],
      rules: [],
      records: ['payments'],
      categories: ['payment-card'],
    });
    expect(shown.nature).toEqual({
      en: 'A backup of the payments table was exposed.',
      fr: 'Une sauvegarde des paiements a été exposée.',
    });
    expect(shown.recordedBy).toBe('token:dpo');
    expect(shown.discoveredAt).toBe(`${discovered.toISOString().slice(0, 16)}:00.000Z`);
    // Its deadline, 72 hours after the discovery, and the hours left; the data map's count.
    const facts = page.locator('#breach-facts');
    expect(await facts.textContent()).toContain(`${shown.deadline.slice(11, 16)} UTC`);
    expect(shown.hoursLeft).toBeGreaterThanOrEqual(69);
    // To the minute (floored), as the record was shown: "70 h 58 min left".
    expect(await page.locator('[data-fact="time-left"]').textContent()).toMatch(
      new RegExp(`^${shown.hoursLeft} h( \\d+ min)? left$`),
    );
    expect(shown.affected.records).toBeGreaterThan(0);
    expect(shown.affected.people).toBeGreaterThan(0);
    expect(shown.affected.people).toBeLessThanOrEqual(120);
    expect(await page.locator('[data-figure="records"]').textContent()).toBe(
      shown.affected.records.toLocaleString('en-GB'),
    );
    expect(await page.locator('[data-figure="people"]').textContent()).toBe(String(shown.affected.people));
    const tables = page.locator('#breach-tables tbody tr');
    expect(await tables.count()).toBe(1);
    expect(await tables.first().textContent()).toContain('payments');
    await expectAccessible(page, 'breach screen (en)');
    await screenshot(page, 'breach-en');
  });

  it('lists the overdue one first, in words and in red, then the new one with its hours left', async () => {
    await page.goto(`${service.url}/console/breaches`);
    const rows = page.locator('#breaches tbody tr');
    expect(await rows.first().textContent()).toContain(`#${overdue}`);
    expect(await rows.first().getAttribute('class')).toBe('bad');
    expect(await rows.first().locator('strong').textContent()).toMatch(/^overdue by \d+ h( \d+ min)?$/);
    expect(await rows.first().textContent()).toContain('overdue, to decide');
    const mine = rows.filter({ hasText: `#${breach}` });
    const shown = await show(breach);
    expect(await mine.getAttribute('class')).toBeNull();
    expect(await mine.textContent()).toMatch(new RegExp(`${shown.hoursLeft} h( \\d+ min)? left`));
    expect(await mine.textContent()).toContain('to decide');
    expect(await mine.locator('td.n').allTextContents()).toEqual([
      String(shown.affected.people),
      shown.affected.records.toLocaleString('en-GB'),
    ]);
    await screenshot(page, 'breaches-en');
  });

  it('decides not to notify the CNIL, with its reason; the letters are shown as text in both languages', async () => {
    await page.goto(`${service.url}/console/breaches/${breach}`);
    // Refused without a reason (the browser's own check passed over): said next to the field.
    await page.locator('#no-notify-reason').evaluate((el) => el.removeAttribute('required'));
    await page.getByRole('button', { name: 'Record that it is not notified' }).click();
    await expect
      .poll(() => page.locator('#no-notify-reason-error').textContent())
      .toContain('Give the reason');
    const reason = 'The card numbers were tokenised; only the last four digits were readable.';
    await page.getByLabel('Why it is not notified').fill(reason);
    await page.getByRole('button', { name: 'Record that it is not notified' }).click();
    await page.waitForURL(/\?done=decided$/);
    expect(await page.locator('[data-fact="notification"]').textContent()).toBe(`not notified: ${reason}`);
    const shown = await show(breach);
    expect(shown.notification).toMatchObject({ decision: 'no-notify', reason, decidedBy: 'token:dpo' });
    expect(await entries('breach.decide', breach)).toHaveLength(1);
    const fr = await page.locator('#letter-fr').textContent();
    expect(fr).toContain('Madame, Monsieur,');
    expect(fr).toContain('Une sauvegarde des paiements a été exposée.');
    expect(fr).toContain('13 mois');
    expect(await page.locator('#letter-en').textContent()).toContain(
      'A backup of the payments table was exposed.',
    );
    expect(await page.locator('#letter-en').getAttribute('lang')).toBe('en');
    await expectAccessible(page, 'breach decided');
  });

  it('exports the register: the decision and its reason in the CSV, the XLSX a workbook', async () => {
    await page.goto(`${service.url}/console/breaches`);
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the register, CSV, English' }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe('breach-register.en.csv');
    const text = readFileSync((await csv.path()) as string, 'utf8');
    const row = text.split('\r\n').find((l) => l.startsWith(`${breach};`)) as string;
    expect(row).toContain('A backup of the payments table was exposed.');
    expect(row).toContain('The card numbers were tokenised');
    expect(row).toContain(String((await show(breach)).affected.records));
    const [xlsx] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the register, XLSX, French' }).click(),
    ]);
    expect(xlsx.suggestedFilename()).toBe('breach-register.fr.xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(readFileSync((await xlsx.path()) as string) as unknown as ArrayBuffer);
    const cells = JSON.stringify(book.worksheets[0]?.getSheetValues());
    expect(cells).toContain('Une sauvegarde des paiements a été exposée.');
    const logged = await entries('breach.export');
    expect(logged.at(-1)?.data.actor).toBe('token:dpo');
  });

  it('reads in French, accessible; no script or style was refused by the CSP', async () => {
    await page.goto(`${service.url}/console/breaches?lang=fr`);
    expect(await page.getByRole('link', { name: 'Violations de données' }).getAttribute('aria-current')).toBe(
      'page',
    );
    expect(await page.locator('#breaches tbody tr').first().locator('strong').textContent()).toMatch(
      /^délai dépassé de \d+ h( \d+ min)?$/,
    );
    await expectAccessible(page, 'violations (fr)');
    await page.goto(`${service.url}/console/breaches/${breach}?lang=fr`);
    expect(await page.locator('[data-fact="notification"]').textContent()).toContain('non notifiée : ');
    await expectAccessible(page, 'violation (fr)');
    await screenshot(page, 'breach-fr');
    expect(refusedByCsp).toEqual([]);
  });
});
