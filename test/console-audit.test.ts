/**
 * The console's sweeps, audit and inspection report in a real browser, on a shop with some
 * history (a sweep, a hold placed and released, an access request answered, a key rotation): the
 * runs and the preview show what the use cases return, the log verifies and exports whole, the
 * report lists the period's sweeps by rule, the request, the hold, the rotation and the chain's
 * checkpoint, in English and in French, printed to PDF by the same Chromium; a reversed or unknown
 * period is refused on the page; every page accessible.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionReport } from '../src/app/report.js';
import { newPackageFolder } from '../src/app/requests/packages.js';
import type { SweepReport } from '../src/app/sweep.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { day, number } from '../src/ui/i18n.js';
import {
  ARTIFACTS,
  type ConsoleService,
  consoleService,
  cspWatch,
  expectAccessible,
  HAS_CHROMIUM,
  launch,
  screenshot,
  signIn,
} from './console-helpers.js';
import { lastCode } from './outbox.js';

const TEST = { actor: 'test:console-audit' };

let service: ConsoleService;
let swept: SweepReport;
let holdId: number;
let requestId: number;

beforeAll(async () => {
  service = await consoleService();
  const { engine } = service;
  const run = <N extends keyof typeof USE_CASES>(name: N, input: unknown) =>
    // biome-ignore lint/suspicious/noExplicitAny: each use case with its own input
    (USE_CASES[name].run as any)(engine, input, TEST);
  const hold = await run('addHold', { table: 'customers', id: '2', reason: 'dispute D-17' });
  holdId = hold.id;
  await run('releaseHold', { id: holdId });
  swept = await run('sweep', { at: engine.today() });
  const opened = await run('openRequest', { type: 'access', email: 'asker@example.org', lang: 'en' });
  requestId = opened.id;
  await run('verifyRequest', { id: requestId, code: lastCode(service.out) });
  await run('runRequest', {
    id: requestId,
    out: await newPackageFolder(engine, requestId),
    delivery: 'none',
  });
  const key = await run('generateKey', { out: join(service.out, '.registre', 'next.key') });
  await run('rotateKey', { to: key.reference });
}, 60_000);
afterAll(async () => {
  await service?.close();
});

const report = (input = {}) => USE_CASES.inspectionReport.run(service.engine, input, TEST);

describe('without a browser (HTTP)', () => {
  it('the history is there for the report: a sweep that changed records, the request, the hold, the rotation', async () => {
    expect(swept.total).toBeGreaterThan(0);
    const r = await report();
    expect(r.sweeps.find((s) => s.run === swept.run)?.lines).toEqual(swept.lines);
    expect(r.requests.find((q) => q.id === requestId)).toMatchObject({ type: 'access', status: 'done' });
    expect(r.holds.find((h) => h.id === holdId)?.released).not.toBeNull();
    expect(r.keyRotations).toHaveLength(1);
    expect(r.chain.whole).toBe(true);
  });

  it('the audit export and the report need a session', async () => {
    for (const path of ['/console/audit/export', '/console/report', '/console/sweeps']) {
      const answer = await fetch(`${service.url}${path}`, { redirect: 'manual' });
      expect(answer.status, path).toBe(303);
      expect(answer.headers.get('location'), path).toMatch(/^\/console\/login/);
    }
  });
});

describe.skipIf(!HAS_CHROMIUM)('in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let refused: string[];

  beforeAll(async () => {
    browser = await launch();
    context = await browser.newContext({ locale: 'en-GB', acceptDownloads: true });
    page = await context.newPage();
    refused = cspWatch(page);
    await signIn(page, service.url, service.tokens.read, 'en');
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('the sweeps page lists the run with the counts the sweep returned, and the preview the plan’s figures', async () => {
    const started = Date.now();
    await page.goto(`${service.url}/console/sweeps?lang=en`);
    const took = Date.now() - started;
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sweeps and audit');
    const row = page.locator('#runs tbody tr', { hasText: `#${swept.run}` });
    await expect
      .poll(() => row.locator(`[data-run-total="${swept.run}"]`).textContent())
      .toBe(number(swept.total, 'en'));
    const detail = (await row.locator('li').allTextContents()).sort();
    const action = { delete: 'deleted', anonymise: 'anonymised', archive: 'archived' } as Record<
      string,
      string
    >;
    expect(detail).toEqual(
      swept.lines
        .filter((l) => l.count > 0)
        .map(
          (l) =>
            `${l.rule} (${l.table}): ${number(l.count, 'en')} ${action[l.action] ?? 'deleted from the archive'}`,
        )
        .sort(),
    );
    const plan = await USE_CASES.planFigures.run(service.engine, {}, TEST);
    // Every rule with something due, held or restricted, with its figures; then the total.
    const shown = plan.rules.filter((x) => x.due > 0 || x.held > 0 || x.restricted > 0);
    expect(shown.length).toBeGreaterThan(0);
    const rows = page.locator('#preview tbody tr');
    expect(await rows.count()).toBe(shown.length + 1);
    for (const [i, r] of shown.entries())
      expect(await rows.nth(i).locator('td').allTextContents()).toEqual([
        r.rule,
        r.table,
        number(r.due, 'en'),
        number(r.held, 'en'),
        number(r.restricted, 'en'),
      ]);
    expect(await rows.last().locator('td').allTextContents()).toEqual([
      'Total',
      '',
      number(plan.totals.due, 'en'),
      number(plan.totals.held, 'en'),
      number(plan.totals.restricted, 'en'),
    ]);
    await expectAccessible(page, 'sweeps (en)');
    await screenshot(page, 'sweeps');
    console.info(`GET /console/sweeps in Chromium: ${took} ms`);
  });

  it('verify now says the log is whole; the export downloads NDJSON with every entry', async () => {
    await page.goto(`${service.url}/console/sweeps?lang=en`);
    await page.getByRole('button', { name: 'Verify now' }).click();
    const verified = await USE_CASES.verifyAudit.run(service.engine, {}, TEST);
    await expect
      .poll(() => page.locator('#verify-now').textContent())
      .toContain(`The log is whole: ${number(verified.entries, 'en')} entries`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export the log (NDJSON)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^registre-audit-\d{4}-\d{2}-\d{2}\.ndjson$/);
    const text = readFileSync((await download.path()) as string, 'utf8');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(verified.entries);
    const kinds = lines.map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(kinds).toContain('key.rotate');
    expect(kinds).toContain('sweep.done');
  });

  it('the report lists the sweep by rule, the request with its dates, the hold, the rotation and the checkpoint; printed to PDF', async () => {
    const started = Date.now();
    const answer = await page.goto(`${service.url}/console/report?lang=en`);
    const took = Date.now() - started;
    expect(answer?.status()).toBe(200);
    const r: InspectionReport = await report();
    expect(await page.locator('#from').inputValue()).toBe(r.period.from);
    expect(await page.locator('#to').inputValue()).toBe(r.period.to);
    // The sweep: its row, and what it changed rule by rule.
    expect(
      await page.locator('#report-sweeps tbody tr', { hasText: `#${swept.run}` }).textContent(),
    ).toContain(number(swept.total, 'en'));
    const section = page.locator(`section[data-run="${swept.run}"] tbody tr`);
    const changed = swept.lines.filter((l) => l.count > 0);
    expect(await section.count()).toBe(changed.length);
    for (const [i, l] of changed.entries()) {
      const cells = await section.nth(i).locator('td').allTextContents();
      expect(cells[0]).toBe(l.rule);
      expect(cells[1]).toBe(l.table);
      expect(cells[3]).toBe(number(l.count, 'en'));
    }
    // The request, by number and keyed hash, with its dates.
    const q = r.requests.find((x) => x.id === requestId);
    const cells = await page
      .locator('#report-requests tbody tr', { hasText: `#${requestId}` })
      .locator('td')
      .allTextContents();
    expect(cells.slice(3, 6)).toEqual([
      day(q?.received ?? '', 'en'),
      day(q?.due ?? '', 'en'),
      day(q?.closed ?? '', 'en'),
    ]);
    expect(cells[6]).toBe('done, in time');
    // The hold, placed and released; the rotation; the chain with its checkpoint.
    const hold = await page.locator('#report-holds tbody tr', { hasText: `#${holdId}` }).textContent();
    expect(hold).toContain('dispute D-17');
    expect(hold).not.toContain('in force');
    expect(await page.locator('#report-keys tbody tr').count()).toBe(1);
    expect(await page.locator('#report-keys tbody tr').textContent()).toContain(r.keyRotations[0]?.to ?? '?');
    expect(await page.locator('#report-chain').textContent()).toContain('The log is whole');
    expect(await page.locator('[data-figure="entries"]').textContent()).toBe(number(r.chain.entries, 'en'));
    expect(await page.locator('[data-figure="checkpoint-seq"]').textContent()).toBe(
      `entry no. ${number(r.chain.checkpoint?.seq ?? 0, 'en')}`,
    );
    expect(await page.locator('[data-figure="checkpoint-hash"]').textContent()).toBe(
      r.chain.checkpoint?.hash,
    );
    expect(r.chain.checkpoint?.valid).toBe(true);
    // Who signed in to the console: the read token.
    expect(await page.locator('#report-signins').textContent()).toContain('token:auditor');
    // No address, no personal data.
    const html = await page.content();
    expect(html).not.toContain('@');
    await expectAccessible(page, 'report (en)');
    await screenshot(page, 'report');
    // Printed: the top bar, the menu and the form are not.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.top').isVisible()).toBe(false);
    expect(await page.locator('nav.menu').isVisible()).toBe(false);
    expect(await page.locator('form.no-print').isVisible()).toBe(false);
    expect(await page.locator('#report').isVisible()).toBe(true);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    await page.emulateMedia({ media: 'screen' });
    writeFileSync(join(ARTIFACTS, 'report.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect((pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length).toBeGreaterThanOrEqual(1);
    console.info(`GET /console/report in Chromium: ${took} ms`);
  });

  it('the report and the sweeps page in French', async () => {
    await page.goto(`${service.url}/console/report?lang=fr`);
    expect(await page.locator('h1').textContent()).toBe('Rapport d’inspection');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    const r = await report();
    const q = r.requests.find((x) => x.id === requestId);
    const cells = await page
      .locator('#report-requests tbody tr', { hasText: `#${requestId}` })
      .locator('td')
      .allTextContents();
    expect(cells[3]).toBe(day(q?.received ?? '', 'fr'));
    expect(cells[6]).toBe('traitée, dans les délais');
    expect(await page.locator('#report-chain').textContent()).toContain('Le journal est intègre');
    expect(await page.locator('[data-figure="checkpoint-seq"]').textContent()).toBe(
      `entrée n° ${number(r.chain.checkpoint?.seq ?? 0, 'fr')}`,
    );
    expect(await page.locator(`section[data-run="${swept.run}"] h3`).textContent()).toContain(
      `Ce qu’a changé la purge #${swept.run}`,
    );
    await expectAccessible(page, 'report (fr)');
    await screenshot(page, 'report-fr');
    await page.goto(`${service.url}/console/sweeps?lang=fr`);
    expect(await page.locator('h1').textContent()).toBe('Purges et journal');
    expect(await page.locator(`[data-run-total="${swept.run}"]`).textContent()).toBe(
      number(swept.total, 'fr'),
    );
    await expectAccessible(page, 'sweeps (fr)');
    await screenshot(page, 'sweeps-fr');
  });

  it('the period is chosen on the form; a reversed or unknown one is refused with a clear message', async () => {
    await page.goto(`${service.url}/console/report?lang=en`);
    const today = service.engine.today();
    await page.locator('#from').fill(today);
    await page.locator('#to').fill(today);
    await page.getByRole('button', { name: 'Show the report' }).click();
    await page.waitForURL(/from=/);
    expect(new URL(page.url()).searchParams.get('from')).toBe(today);
    expect(await page.locator('#from').inputValue()).toBe(today);
    expect(await page.locator('#report-sweeps tbody tr', { hasText: `#${swept.run}` }).count()).toBe(1);

    const reversed = await page.goto(`${service.url}/console/report?from=2026-05-01&to=2026-04-01&lang=en`);
    expect(reversed?.status()).toBe(400);
    const alert = page.getByRole('alert');
    expect(await alert.textContent()).toContain('The period is refused');
    expect(await alert.textContent()).toContain('is after `to` 2026-04-01');
    expect(await page.locator('#from').inputValue()).toBe('2026-05-01');
    expect(await page.locator('#report').count()).toBe(0);
    await expectAccessible(page, 'report refused (en)');

    const unknown = await page.goto(`${service.url}/console/report?from=2026-02-30&lang=fr`);
    expect(unknown?.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('Période refusée');
    await expectAccessible(page, 'report refused (fr)');
    await screenshot(page, 'report-refused');
    expect(refused).toEqual([]);
  });
});
