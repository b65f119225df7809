/**
 * The HTTP API in-process (`app.request`) on one engine over a small demo shop: every admin
 * endpoint's success and failure, scopes, revoked tokens, a distributor's token, body limits,
 * malformed input, rate limits, CORS, the public endpoints, the request page, security headers,
 * the OpenAPI document, and logs free of addresses and tokens.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/app/engine.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { buildApi } from '../src/http/app.js';
import { PUBLIC_ROUTES } from '../src/http/public.js';
import { ADMIN_ROUTES, type Route } from '../src/http/routes.js';
import { expectCleanLogs, logCollector, ORIGIN, serviceShop } from './api-helpers.js';
import { lastCode } from './outbox.js';
import { withShop } from './shop-helpers.js';

const LIMITS = { perClient: 10, perAddress: 3, bodyBytes: 2048 };
const NOTICE = { version: 'v1', sha256: 'a'.repeat(64) };
const SYSTEM = { actor: 'system:api-test' };

let out: string;
let config: string;
let engine: Engine;
let app: Awaited<ReturnType<typeof buildApi>>;
let now = Date.now();
const tick = (ms: number) => {
  now += ms;
};
const { lines, log } = logCollector();
/** Every secret and address a log line must not carry. */
const secrets: string[] = [];
const tokens = { admin: '', operate: '', read: '', distributor: '', other: '' };

/** The statuses each admin route answered (the 401 of the loop without a token left out). */
const answered = new Map<Route, number[]>();
const routeOf = (method: string, path: string) =>
  ADMIN_ROUTES.find(
    (r) =>
      r.method === method.toLowerCase() &&
      new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path.split('?')[0] as string),
  );

interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly raw?: RequestInit['body'];
  readonly headers?: Record<string, string>;
  /** The client's address, as the proxy tells it (the configuration trusts it). */
  readonly client?: string;
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    'x-forwarded-for': `192.0.2.1, ${options.client ?? '198.51.100.1'}`,
    ...options.headers,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: RequestInit['body'] | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const route = routeOf(method, path);
  if (route && !(response.status === 401 && options.token === undefined))
    answered.set(route, [...(answered.get(route) ?? []), response.status]);
  return response;
}

// biome-ignore lint/suspicious/noExplicitAny: the answers' JSON, looked into by each test
const json = async (response: Response): Promise<any> => response.json();

/** The error an answer carries, with its status. */
async function failure(response: Response) {
  const body = await json(response);
  return { status: response.status, ...(body.error as { code: string; message: string; field?: string }) };
}

/** Opens a request through the API and verifies it with the code from the outbox. */
async function verified(type: string, email: string, extra: Record<string, unknown> = {}): Promise<number> {
  secrets.push(email);
  const opened = await json(
    await call('POST', '/api/requests', { token: tokens.operate, body: { type, email, ...extra } }),
  );
  const response = await call('POST', `/api/requests/${opened.id}/verify`, {
    token: tokens.operate,
    body: { code: lastCode(out) },
  });
  expect((await json(response)).status).toBe('verified');
  return opened.id;
}

/** A distributor's end customer: an address whose orders all went through one distributor. */
interface EndCustomer {
  readonly email: string;
  readonly distributor: string;
  readonly order: string;
  readonly otherDistributor: string;
  readonly otherOrder: string;
}
let endCustomer: EndCustomer;

beforeAll(async () => {
  const made = await serviceShop(200, LIMITS);
  out = made.out;
  config = made.config;
  engine = createEngine({
    config: made.config,
    clock: { now: () => new Date(now), today: () => new Date(now).toISOString().slice(0, 10) },
  });
  const make = async (name: string, scope: string, controller?: string) => {
    const row = await USE_CASES.createToken.run(
      engine,
      { name, scope: scope as 'read', ...(controller ? { controller } : {}) },
      SYSTEM,
    );
    secrets.push(row.token);
    return row.token;
  };
  const orders = await withShop(made.config, (conn) =>
    conn.db
      .selectFrom('distributor_orders')
      .select(['id', 'distributor_id', 'end_customer_email'])
      .orderBy('id')
      .execute(),
  );
  const byEmail = new Map<string, Set<string>>();
  for (const o of orders) {
    const email = String(o.end_customer_email);
    byEmail.set(email, (byEmail.get(email) ?? new Set()).add(String(o.distributor_id)));
  }
  const mine = orders.find((o) => byEmail.get(String(o.end_customer_email))?.size === 1);
  const other = orders.find((o) => String(o.distributor_id) !== String(mine?.distributor_id));
  if (!mine || !other) throw new Error('the demo shop has no distributor orders to test with');
  endCustomer = {
    email: String(mine.end_customer_email),
    distributor: String(mine.distributor_id),
    order: String(mine.id),
    otherDistributor: String(other.distributor_id),
    otherOrder: String(other.id),
  };
  secrets.push(endCustomer.email);
  tokens.admin = await make('dpo', 'admin');
  tokens.operate = await make('back-office', 'operate');
  tokens.read = await make('auditor', 'read');
  tokens.distributor = await make('distrib-a', 'operate', endCustomer.distributor);
  tokens.other = await make('distrib-b', 'operate', endCustomer.otherDistributor);
  app = await buildApi(engine, { log });
});

afterAll(async () => {
  await engine?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('tokens and scopes', () => {
  it('every admin endpoint refuses a call without a token (401 E_TOKEN_MISSING) or with an unknown one (401 E_TOKEN_INVALID)', async () => {
    for (const route of ADMIN_ROUTES) {
      const path = route.path.replace(/\{\w+\}/g, '1');
      expect(await failure(await call(route.method, path)), `${route.method} ${path}`).toMatchObject({
        status: 401,
        code: 'E_TOKEN_MISSING',
      });
    }
    expect(
      await failure(await app.request('/api/plan', { headers: { authorization: 'Bearer rgt_nope' } })),
    ).toMatchObject({
      status: 401,
      code: 'E_TOKEN_INVALID',
    });
  });

  it('a read token is refused an operate endpoint, an operate token an admin one (403 E_SCOPE)', async () => {
    const read = await failure(
      await call('POST', '/api/holds', {
        token: tokens.read,
        body: { table: 'customers', id: '1', reason: 'x' },
      }),
    );
    expect(read).toMatchObject({ status: 403, code: 'E_SCOPE' });
    expect(read.message).toContain('needs operate');
    expect(await failure(await call('GET', '/api/tokens', { token: tokens.operate }))).toMatchObject({
      status: 403,
      code: 'E_SCOPE',
    });
    expect(
      await failure(
        await call('POST', '/api/audit/accept-head', { token: tokens.operate, body: { reason: 'x' } }),
      ),
    ).toMatchObject({ status: 403, code: 'E_SCOPE' });
    // The read token reads.
    expect((await call('GET', '/api/holds', { token: tokens.read })).status).toBe(200);
  });

  it('tokens: created (the secret once), listed without secrets, revoked (then 401); a duplicate or a bad name refused', async () => {
    const created = await call('POST', '/api/tokens', {
      token: tokens.admin,
      body: { name: 'site', scope: 'read' },
    });
    expect(created.status).toBe(200);
    const token = (await json(created)).token as string;
    secrets.push(token);
    expect(token).toMatch(/^rgt_/);
    expect((await call('GET', '/api/status', { token })).status).toBe(200);

    const listed = await call('GET', '/api/tokens', { token: tokens.admin });
    const text = await listed.text();
    expect(JSON.parse(text).map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['dpo', 'back-office', 'auditor', 'distrib-a', 'site']),
    );
    for (const secret of [token, tokens.admin, tokens.read]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/rgt_/);
    expect(text).not.toContain('"hash"');

    expect(
      await failure(
        await call('POST', '/api/tokens', { token: tokens.admin, body: { name: 'site', scope: 'read' } }),
      ),
    ).toMatchObject({ status: 409, code: 'E_TOKEN_EXISTS' });
    expect(
      await failure(
        await call('POST', '/api/tokens', { token: tokens.admin, body: { name: 'Site A', scope: 'read' } }),
      ),
    ).toMatchObject({ status: 400, field: 'name' });
    expect(
      await failure(
        await call('POST', '/api/tokens', { token: tokens.admin, body: { name: 'x', scope: 'root' } }),
      ),
    ).toMatchObject({ status: 400, field: 'scope' });

    const revoked = await call('DELETE', '/api/tokens/site', { token: tokens.admin });
    expect(revoked.status).toBe(200);
    expect((await json(revoked)).name).toBe('site');
    expect(await failure(await call('GET', '/api/status', { token }))).toMatchObject({
      status: 401,
      code: 'E_TOKEN_INVALID',
    });
    expect(await failure(await call('DELETE', '/api/tokens/site', { token: tokens.admin }))).toMatchObject({
      status: 404,
      code: 'E_TOKEN_UNKNOWN',
    });
  });

  it("the token's name is the actor the audit log writes for its calls", async () => {
    const added = await call('POST', '/api/holds', {
      token: tokens.operate,
      body: { table: 'customers', id: '2', reason: 'a dispute' },
    });
    expect(added.status).toBe(200);
    const hold = await json(added);
    const exported = await call('GET', '/api/audit/export', { token: tokens.read });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const entries = (await exported.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; data: { actor?: string; id?: number } });
    const entry = entries.filter((e) => e.kind.startsWith('hold')).at(-1);
    expect(entry?.data.actor).toBe('token:back-office');
    expect((await call('DELETE', `/api/holds/${hold.id}`, { token: tokens.operate })).status).toBe(200);
  });
});

describe('a distributor token', () => {
  it('reaches nothing but its own: no plan, its own order explained, not another one', async () => {
    expect(await failure(await call('GET', '/api/plan', { token: tokens.distributor }))).toMatchObject({
      status: 403,
      code: 'E_SCOPE',
    });
    expect(await failure(await call('GET', '/api/holds', { token: tokens.distributor }))).toMatchObject({
      status: 403,
      code: 'E_SCOPE',
    });
    const own = await call('GET', `/api/explain?table=distributor_orders&id=${endCustomer.order}`, {
      token: tokens.distributor,
    });
    expect(own.status).toBe(200);
    expect((await json(own)).records[0]).toMatchObject({
      table: 'distributor_orders',
      id: endCustomer.order,
    });
    expect(
      await failure(
        await call('GET', `/api/explain?table=distributor_orders&id=${endCustomer.otherOrder}`, {
          token: tokens.distributor,
        }),
      ),
    ).toMatchObject({ status: 404, code: 'E_RECORD_NOT_FOUND' });
    // By address: a person's records are the company's to explain.
    expect(
      await failure(
        await call('GET', `/api/explain?email=${encodeURIComponent(endCustomer.email)}`, {
          token: tokens.distributor,
        }),
      ),
    ).toMatchObject({ status: 403, code: 'E_SCOPE' });
  });

  it('sees only the requests forwarded to it, nothing of the person, and runs its own instruction', async () => {
    const id = await verified('erasure', endCustomer.email);
    const ran = await call('POST', `/api/requests/${id}/run`, {
      token: tokens.operate,
      body: { delivery: 'none' },
    });
    expect(ran.status).toBe(200);
    const result = await json(ran);
    expect(result.forwarded.map((f: { controllerId: string }) => f.controllerId)).toContain(
      endCustomer.distributor,
    );

    const listed = await call('GET', '/api/requests', { token: tokens.distributor });
    expect(listed.status).toBe(200);
    const text = await listed.text();
    const list = JSON.parse(text) as { id: number; forwarded: { controllerId: string; id: string }[] }[];
    expect(list.map((r) => r.id)).toEqual([id]);
    expect(list[0]?.forwarded.every((f) => f.controllerId === endCustomer.distributor)).toBe(true);
    expect(list[0]?.forwarded.map((f) => f.id)).toContain(endCustomer.order);
    expect(text).not.toContain(endCustomer.email);
    expect(text).not.toContain('@');

    const shown = await call('GET', `/api/requests/${id}`, { token: tokens.distributor });
    expect(shown.status).toBe(200);
    expect(await shown.text()).not.toContain('@');
    // Another distributor sees none of it.
    expect(await json(await call('GET', '/api/requests', { token: tokens.other }))).toEqual([]);
    expect(await failure(await call('GET', `/api/requests/${id}`, { token: tokens.other }))).toMatchObject({
      status: 404,
      code: 'E_REQUEST_NOT_FOUND',
    });
    expect(
      await failure(await call('POST', `/api/requests/${id}/run`, { token: tokens.other })),
    ).toMatchObject({
      status: 404,
      code: 'E_REQUEST_NOT_FOUND',
    });

    const instructed = await call('POST', `/api/requests/${id}/run`, { token: tokens.distributor });
    expect(instructed.status).toBe(200);
    expect((await json(instructed)).erased).toContainEqual(
      expect.objectContaining({ table: 'distributor_orders', id: endCustomer.order }),
    );
  });
});

describe('bodies, input and routes', () => {
  it('a body over service.limits.bodyBytes is refused (413), with its length told or not', async () => {
    const reason = 'x'.repeat(LIMITS.bodyBytes + 10);
    expect(
      await failure(
        await call('POST', '/api/holds', {
          token: tokens.operate,
          body: { table: 'customers', id: '1', reason },
        }),
      ),
    ).toMatchObject({ status: 413, code: 'E_BODY_TOO_LARGE' });
    // Streamed, without a Content-Length: counted as it is read.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ table: 'customers', id: '1', reason })));
        controller.close();
      },
    });
    const response = await app.request('/api/holds', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.operate}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await failure(response)).toMatchObject({ status: 413, code: 'E_BODY_TOO_LARGE' });
  });

  it('malformed JSON and a body that is not an object are refused (400 E_USAGE)', async () => {
    for (const raw of ['{"table": "customers",', '[1, 2]', 'null']) {
      const answer = await failure(
        await call('POST', '/api/holds', {
          token: tokens.operate,
          raw,
          headers: { 'content-type': 'application/json' },
        }),
      );
      expect(answer, raw).toMatchObject({ status: 400, code: 'E_USAGE' });
    }
  });

  it('a refused input names its field as the JSON spells it (400)', async () => {
    const plan = await failure(await call('GET', '/api/plan?at=2026-13-01', { token: tokens.read }));
    expect(plan).toMatchObject({ status: 400, code: 'E_USAGE', field: 'at' });
    expect(plan.message).toContain('2026-13-01');
    const sweep = await failure(
      await call('POST', '/api/sweeps', { token: tokens.operate, body: { dryRun: true, batchSize: 0 } }),
    );
    expect(sweep).toMatchObject({ status: 400, field: 'batchSize' });
    expect(sweep.message).not.toContain('--batch-size');
    expect(await failure(await call('GET', '/api/requests/abc', { token: tokens.read }))).toMatchObject({
      status: 400,
      field: 'id',
    });
    // A path parameter is decoded once: `%25` is a `%`, refused as an id, not a failure of the service.
    expect(await failure(await call('GET', '/api/requests/%25', { token: tokens.read }))).toMatchObject({
      status: 400,
      field: 'id',
    });
    expect(await failure(await call('DELETE', '/api/tokens/%2525', { token: tokens.admin }))).toMatchObject({
      status: 404,
      code: 'E_TOKEN_UNKNOWN',
    });
    expect(await failure(await call('GET', '/api/holds?colour=red', { token: tokens.read }))).toMatchObject({
      status: 400,
    });
  });

  it('an unknown route or method is 404 E_ROUTE, in JSON', async () => {
    const response = await call('GET', '/api/nothing-here');
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await failure(response)).toMatchObject({ status: 404, code: 'E_ROUTE' });
    expect(await failure(await call('PUT', '/api/plan', { token: tokens.admin }))).toMatchObject({
      status: 404,
      code: 'E_ROUTE',
    });
  });

  it('API answers carry the security headers and a strict CSP, failures too', async () => {
    for (const response of [
      await call('GET', '/api/status', { token: tokens.read }),
      await call('GET', '/api/status'),
      await call('GET', '/api/nothing-here'),
    ]) {
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    }
  });
});

describe('every admin endpoint', () => {
  it('the scheduled runs: one run now, then listed; the same day again is not run twice', async () => {
    const day = '2026-11-03';
    const ran = await json(
      await call('POST', '/api/schedule/runs', { token: tokens.operate, body: { job: 'reminders', day } }),
    );
    expect(ran).toMatchObject({ key: `reminders:${day}`, outcome: 'done' });
    const again = await json(
      await call('POST', '/api/schedule/runs', { token: tokens.operate, body: { job: 'reminders', day } }),
    );
    expect(again).toMatchObject({ key: `reminders:${day}`, outcome: 'finished' });
    const runs = await json(await call('GET', '/api/schedule/runs?job=reminders', { token: tokens.read }));
    expect((runs as { key: string }[]).map((r) => r.key)).toContain(`reminders:${day}`);
    expect(
      await failure(
        await call('POST', '/api/schedule/runs', { token: tokens.operate, body: { job: 'coffee' } }),
      ),
    ).toMatchObject({ status: 400, field: 'job' });
    expect(
      await failure(await call('GET', '/api/schedule/runs?limit=zero', { token: tokens.read })),
    ).toMatchObject({ status: 400, field: 'limit' });
  });

  it('the register and its documents', async () => {
    const shown = await json(await call('GET', '/api/register', { token: tokens.read }));
    expect(shown.issues.filter((i: { severity: string }) => i.severity === 'error')).toEqual([]);
    expect(shown.register.retention.length).toBeGreaterThan(5);
    expect(await failure(await call('GET', '/api/register?x=1', { token: tokens.read }))).toMatchObject({
      status: 400,
    });
    const { names } = await json(await call('GET', '/api/documents', { token: tokens.read }));
    expect(names).toEqual(
      expect.arrayContaining([
        'privacy-notice.fr.html',
        'art30-processor.en.csv',
        'art30.fr.xlsx',
        'register.dpv.jsonld',
      ]),
    );
    expect(await failure(await call('GET', '/api/documents?lang=fr', { token: tokens.read }))).toMatchObject({
      status: 400,
    });
    const notice = await call('GET', '/api/documents/privacy-notice.en.html', { token: tokens.read });
    expect(notice.status).toBe(200);
    expect(notice.headers.get('content-type')).toContain('text/html');
    expect(await notice.text()).toContain('<html lang="en"');
    const xlsx = await call('GET', '/api/documents/art30.fr.xlsx', { token: tokens.read });
    expect(new Uint8Array(await xlsx.arrayBuffer()).slice(0, 2)).toEqual(new Uint8Array([0x50, 0x4b]));
    expect(
      await failure(await call('GET', '/api/documents/secrets.txt', { token: tokens.read })),
    ).toMatchObject({
      status: 404,
      code: 'E_NO_DOCUMENT',
    });
  });

  it('status, check, plan, plan records, forecast', async () => {
    const status = await json(await call('GET', '/api/status', { token: tokens.read }));
    expect(status).toHaveProperty('runs');
    expect(await failure(await call('GET', '/api/status?x=1', { token: tokens.read }))).toMatchObject({
      status: 400,
    });
    const overview = await json(await call('GET', '/api/overview', { token: tokens.read }));
    expect(overview.forecast.months).toHaveLength(12);
    expect(typeof overview.pastDeadline.total).toBe('number');
    expect(await failure(await call('GET', '/api/overview?x=1', { token: tokens.read }))).toMatchObject({
      status: 400,
    });
    const runs = await json(await call('GET', '/api/status?runs=2', { token: tokens.read }));
    expect(runs.runs.length).toBeLessThanOrEqual(2);
    const report = await json(await call('GET', '/api/report', { token: tokens.read }));
    expect(report.chain.whole).toBe(true);
    expect(report.chain.checkpoint.seq).toBeGreaterThan(0);
    expect(report.period.to).toBe(engine.today());
    expect(JSON.stringify(report)).not.toMatch(/@/);
    expect(
      await failure(await call('GET', '/api/report?from=2026-05-01&to=2026-04-01', { token: tokens.read })),
    ).toMatchObject({ status: 400, code: 'E_USAGE', field: 'from' });
    expect(
      await failure(await call('GET', '/api/report?from=2026-02-30', { token: tokens.read })),
    ).toMatchObject({ status: 400, field: 'from' });

    const checked = await call('POST', '/api/check', { token: tokens.read });
    expect(checked.status).toBe(200);
    expect((await json(checked)).issues).toEqual([]);
    expect(
      await failure(await call('POST', '/api/check', { token: tokens.read, body: { deep: true } })),
    ).toMatchObject({ status: 400 });

    const plan = await json(await call('GET', '/api/plan', { token: tokens.read }));
    expect(plan.rules.length).toBeGreaterThan(0);
    const rule =
      (plan.rules as { rule: string; due: number }[]).find((r) => r.due > 1)?.rule ?? plan.rules[0].rule;
    const records = await call('GET', `/api/plan/records?rule=${rule}&limit=2&status=due`, {
      token: tokens.read,
    });
    expect(records.status).toBe(200);
    const page = await json(records);
    expect(page).toMatchObject({ rule, limit: 2, status: ['due'] });
    expect(page.records).toHaveLength(2);
    expect(page.next).not.toBeNull();
    expect(
      await failure(await call('GET', `/api/plan/records?rule=${rule}&status=gone`, { token: tokens.read })),
    ).toMatchObject({ status: 400, field: expect.stringMatching(/^status/) });
    expect(
      await failure(await call('GET', '/api/plan/records?rule=no-such-rule', { token: tokens.read })),
    ).toMatchObject({ status: 400, code: 'E_USAGE' });

    const forecast = await json(await call('GET', '/api/forecast?months=3', { token: tokens.read }));
    expect(forecast.months).toHaveLength(3);
    expect(await failure(await call('GET', '/api/forecast?months=0', { token: tokens.read }))).toMatchObject({
      status: 400,
      field: 'months',
    });
  });

  it('explain, sweeps', async () => {
    const explained = await json(
      await call('GET', '/api/explain?table=customers&id=3', { token: tokens.read }),
    );
    expect(explained.records[0]).toMatchObject({ table: 'customers', id: '3', rule: 'customer-accounts' });
    expect(await failure(await call('GET', '/api/explain', { token: tokens.read }))).toMatchObject({
      status: 400,
      code: 'E_USAGE',
    });
    expect(
      await failure(await call('GET', '/api/explain?table=customers&id=999999', { token: tokens.read })),
    ).toMatchObject({ status: 404, code: 'E_RECORD_NOT_FOUND' });

    const dry = await call('POST', '/api/sweeps', { token: tokens.operate, body: { dryRun: true } });
    expect(dry.status).toBe(200);
    expect((await json(dry)).total).toBeGreaterThan(0);
    // A real sweep is for today at the latest.
    expect(
      await failure(await call('POST', '/api/sweeps', { token: tokens.operate, body: { at: '2099-01-01' } })),
    ).toMatchObject({ status: 400 });
  });

  it('holds: added, listed, released; an unknown one refused', async () => {
    const added = await json(
      await call('POST', '/api/holds', {
        token: tokens.operate,
        body: { table: 'customers', id: '1', reason: 'litigation', until: '2030-01-01' },
      }),
    );
    expect(added.id).toBeGreaterThan(0);
    const listed = await json(await call('GET', '/api/holds', { token: tokens.read }));
    expect(listed.map((h: { id: number }) => h.id)).toContain(added.id);
    expect(await failure(await call('GET', '/api/holds?all=maybe', { token: tokens.read }))).toMatchObject({
      status: 400,
      field: 'all',
    });
    expect(
      await failure(
        await call('POST', '/api/holds', { token: tokens.operate, body: { table: 'customers', id: '1' } }),
      ),
    ).toMatchObject({ status: 400, field: 'reason' });
    expect((await call('DELETE', `/api/holds/${added.id}`, { token: tokens.operate })).status).toBe(200);
    expect(await json(await call('GET', '/api/holds', { token: tokens.read }))).not.toContainEqual(
      expect.objectContaining({ id: added.id }),
    );
    expect(
      (await json(await call('GET', '/api/holds?all=true', { token: tokens.read }))).map(
        (h: { id: number }) => h.id,
      ),
    ).toContain(added.id);
    expect(
      await failure(await call('DELETE', `/api/holds/${added.id}`, { token: tokens.operate })),
    ).toMatchObject({
      status: 409,
      code: 'E_HOLD_RELEASED',
    });
    expect(await failure(await call('DELETE', '/api/holds/99999', { token: tokens.operate }))).toMatchObject({
      status: 404,
      code: 'E_HOLD_NOT_FOUND',
    });
  });

  it('requests: opened, a new code, verified, run, shown, listed; each step refused when it cannot be', async () => {
    const email = 'api-access@example.org';
    secrets.push(email);
    expect(
      await failure(
        await call('POST', '/api/requests', { token: tokens.operate, body: { type: 'gossip', email } }),
      ),
    ).toMatchObject({ status: 400, field: 'type' });
    const opened = await call('POST', '/api/requests', {
      token: tokens.operate,
      body: { type: 'access', email, lang: 'en' },
    });
    expect(opened.status).toBe(200);
    const { id } = await json(opened);
    expect(
      await failure(
        await call('POST', '/api/requests', { token: tokens.operate, body: { type: 'access', email } }),
      ),
    ).toMatchObject({ status: 409, code: 'E_DUPLICATE' });
    const tooSoon = await call('POST', `/api/requests/${id}/code`, { token: tokens.operate });
    expect(await failure(tooSoon)).toMatchObject({ status: 429, code: 'E_CODE_TOO_SOON' });
    // When the next code may go: within the minute.
    expect(Number(tooSoon.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(tooSoon.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    tick(2 * 60_000);
    const first = lastCode(out);
    expect((await call('POST', `/api/requests/${id}/code`, { token: tokens.operate })).status).toBe(200);
    const code = lastCode(out);
    expect(
      await failure(
        await call('POST', `/api/requests/${id}/run`, { token: tokens.operate, body: { delivery: 'none' } }),
      ),
    ).toMatchObject({ status: 403, code: 'E_NOT_VERIFIED' });
    const wrong = code === '000000' ? '111111' : '000000';
    expect(
      await failure(
        await call('POST', `/api/requests/${id}/verify`, { token: tokens.operate, body: { code: wrong } }),
      ),
    ).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    if (first !== code)
      expect(
        await failure(
          await call('POST', `/api/requests/${id}/verify`, { token: tokens.operate, body: { code: first } }),
        ),
      ).toMatchObject({ status: 403 });
    const verifiedAnswer = await call('POST', `/api/requests/${id}/verify`, {
      token: tokens.operate,
      body: { code },
    });
    expect((await json(verifiedAnswer)).status).toBe('verified');

    // A caller never names a server path: the service writes the package in its own folder.
    expect(
      await failure(
        await call('POST', `/api/requests/${id}/run`, {
          token: tokens.operate,
          body: { delivery: 'none', out: join(out, 'access-api') },
        }),
      ),
    ).toMatchObject({ status: 400, field: 'out' });
    expect(
      await failure(await call('GET', `/api/requests/${id}/package`, { token: tokens.operate })),
    ).toMatchObject({ status: 404, code: 'E_NO_PACKAGE' });
    const dry = await call('POST', `/api/requests/${id}/run`, {
      token: tokens.operate,
      body: { delivery: 'none', dryRun: true },
    });
    expect(dry.status).toBe(200);
    expect((await json(dry)).request).toBe(id);
    const shown = await json(await call('GET', `/api/requests/${id}`, { token: tokens.read }));
    expect(shown).toMatchObject({ id, type: 'access', status: 'verified' });
    const ran = await call('POST', `/api/requests/${id}/run`, {
      token: tokens.operate,
      body: { delivery: 'none' },
    });
    expect(ran.status).toBe(200);
    const files = await json(await call('GET', `/api/requests/${id}/package`, { token: tokens.operate }));
    expect(files.files.map((f: { name: string }) => f.name)).toEqual(
      expect.arrayContaining(['access.json', 'access.html']),
    );
    expect((await call('GET', `/api/requests/${id}/package`, { token: tokens.read })).status).toBe(403);
    const downloaded = await call('GET', `/api/requests/${id}/package/access.json`, {
      token: tokens.operate,
    });
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get('content-disposition')).toContain('access.json');
    expect(JSON.parse(await downloaded.text())).toHaveProperty('subject');
    for (const name of ['..%2Fregistre.yaml', '..%2F..%2Fregistre.yaml', 'nothing.txt'])
      expect(
        (await call('GET', `/api/requests/${id}/package/${name}`, { token: tokens.operate })).status,
        name,
      ).toBeGreaterThanOrEqual(400);
    expect(await failure(await call('GET', '/api/requests/99999', { token: tokens.read }))).toMatchObject({
      status: 404,
      code: 'E_REQUEST_NOT_FOUND',
    });
    const listed = await json(await call('GET', '/api/requests', { token: tokens.read }));
    expect(listed.map((r: { id: number }) => r.id)).toContain(id);
    expect(
      await failure(await call('GET', '/api/requests?overdue=perhaps', { token: tokens.read })),
    ).toMatchObject({
      status: 400,
      field: 'overdue',
    });
    expect(await json(await call('GET', '/api/requests?overdue=true', { token: tokens.read }))).toEqual([]);

    expect(
      await failure(await call('POST', '/api/requests/99999/code', { token: tokens.operate })),
    ).toMatchObject({
      status: 404,
    });
  });

  it('requests: extended, refused, a restriction lifted; each refused when it cannot be', async () => {
    const id = await verified('erasure', 'api-extend@example.org');
    const before = await json(await call('GET', `/api/requests/${id}`, { token: tokens.read }));
    expect(
      await failure(
        await call('POST', `/api/requests/${id}/extend`, {
          token: tokens.operate,
          body: { months: 3, reason: 'x' },
        }),
      ),
    ).toMatchObject({ status: 400, field: 'months' });
    const extended = await json(
      await call('POST', `/api/requests/${id}/extend`, {
        token: tokens.operate,
        body: { months: 2, reason: 'several stores to search' },
      }),
    );
    expect(extended.due > before.due).toBe(true);
    expect(
      await failure(
        await call('POST', `/api/requests/${id}/extend`, {
          token: tokens.operate,
          body: { months: 1, reason: 'again' },
        }),
      ),
    ).toMatchObject({ status: 409 });

    expect(
      await failure(await call('POST', `/api/requests/${id}/refuse`, { token: tokens.operate, body: {} })),
    ).toMatchObject({ status: 400, field: 'reason' });
    const refused = await call('POST', `/api/requests/${id}/refuse`, {
      token: tokens.operate,
      body: { reason: 'manifestly unfounded' },
    });
    expect((await json(refused)).status).toBe('refused');
    expect(
      await failure(
        await call('POST', `/api/requests/${id}/refuse`, {
          token: tokens.operate,
          body: { reason: 'again' },
        }),
      ),
    ).toMatchObject({ status: 409, code: 'E_REQUEST_CLOSED' });

    // A restriction of a customer's processing, run, then lifted.
    const customer = await withShop(config, async (conn) =>
      String(
        (
          await conn.db
            .selectFrom('customers')
            .select('email')
            .orderBy('id', 'desc')
            .executeTakeFirstOrThrow()
        ).email,
      ),
    );
    const restriction = await verified('restriction', customer);
    expect(
      await failure(
        await call('POST', `/api/requests/${restriction}/lift-restriction`, { token: tokens.operate }),
      ),
    ).toMatchObject({ status: 409 });
    expect(
      (
        await call('POST', `/api/requests/${restriction}/run`, {
          token: tokens.operate,
          body: { delivery: 'none' },
        })
      ).status,
    ).toBe(200);
    const lifted = await call('POST', `/api/requests/${restriction}/lift-restriction`, {
      token: tokens.operate,
    });
    expect(lifted.status).toBe(200);
    expect(await lifted.text()).toContain(String(restriction));
  });

  it('consents: recorded, withdrawn, status, check, proof', async () => {
    const visitor = 'api-visitor-1';
    expect(
      await failure(
        await call('POST', '/api/consents', {
          token: tokens.operate,
          body: { visitor, purposes: ['audience-statistics'], choice: 'given' },
        }),
      ),
    ).toMatchObject({ status: 400, field: 'notice' });
    const recorded = await call('POST', '/api/consents', {
      token: tokens.operate,
      body: { visitor, purposes: ['audience-statistics'], choice: 'given', notice: NOTICE },
    });
    expect(recorded.status).toBe(200);
    const check = await json(
      await call('GET', `/api/consents/check?visitor=${visitor}&purpose=audience-statistics`, {
        token: tokens.read,
      }),
    );
    expect(check.current).toBe(true);
    expect(
      await failure(await call('GET', `/api/consents/check?visitor=${visitor}`, { token: tokens.read })),
    ).toMatchObject({ status: 400, field: 'purpose' });
    const status = await json(
      await call('GET', `/api/consents/status?visitor=${visitor}`, { token: tokens.read }),
    );
    expect(status.purposes.length).toBeGreaterThan(0);
    expect(await failure(await call('GET', '/api/consents/status', { token: tokens.read }))).toMatchObject({
      status: 400,
    });

    tick(1000);
    const withdrawn = await json(
      await call('POST', '/api/consents/withdraw', { token: tokens.operate, body: { visitor } }),
    );
    expect(withdrawn.purposes).toEqual(['audience-statistics']);
    expect(
      await failure(
        await call('POST', '/api/consents/withdraw', { token: tokens.operate, body: { purposes: ['x'] } }),
      ),
    ).toMatchObject({ status: 400 });
    const after = await json(
      await call('GET', `/api/consents/check?visitor=${visitor}&purpose=audience-statistics`, {
        token: tokens.read,
      }),
    );
    expect(after.current).toBe(false);

    const proof = await json(
      await call('GET', `/api/consents/proof?visitor=${visitor}`, { token: tokens.read }),
    );
    expect(proof.events).toHaveLength(2);
    expect(
      await failure(
        await call('GET', `/api/consents/proof?visitor=${visitor}&email=someone%40example.org`, {
          token: tokens.read,
        }),
      ),
    ).toMatchObject({ status: 400 });
  });

  it('suppression: an address listed, then found; a malformed one refused', async () => {
    const email = 'api-suppressed@example.org';
    secrets.push(email);
    const added = await json(
      await call('POST', '/api/suppression', { token: tokens.operate, body: { email } }),
    );
    expect(added.added).toBe(true);
    expect(
      await failure(
        await call('POST', '/api/suppression', { token: tokens.operate, body: { email: 'not an address' } }),
      ),
    ).toMatchObject({ status: 400, field: 'email' });
    const check = await json(
      await call('GET', `/api/suppression/check?email=${encodeURIComponent(email.toUpperCase())}`, {
        token: tokens.read,
      }),
    );
    expect(check.listed).toBe(true);
    expect(
      (
        await json(
          await call('GET', '/api/suppression/check?email=kept%40example.org', { token: tokens.read }),
        )
      ).listed,
    ).toBe(false);
    expect(await failure(await call('GET', '/api/suppression/check', { token: tokens.read }))).toMatchObject({
      status: 400,
      field: 'email',
    });
  });

  it('the register of breaches: recorded, listed, shown, decided, people told, exported', async () => {
    const body = {
      discoveredAt: '2026-11-20T10:00:00Z',
      kinds: ['confidentiality'],
      nature: 'payments backup exposed',
      records: ['payments'],
      categories: ['payment-card'],
      consequences: 'card fraud attempts',
      measures: 'server closed',
    };
    const recorded = await call('POST', '/api/breaches', { token: tokens.operate, body });
    expect(recorded.status).toBe(200);
    const breach = await json(recorded);
    expect(breach).toMatchObject({ deadline: '2026-11-23T10:00:00.000Z', status: 'overdue' });
    expect(breach.affected.records).toBeGreaterThan(0);
    expect(
      await failure(
        await call('POST', '/api/breaches', {
          token: tokens.operate,
          body: { ...body, categories: ['nope'] },
        }),
      ),
    ).toMatchObject({ status: 400, code: 'E_BREACH_SCOPE', field: 'categories' });
    expect(await failure(await call('POST', '/api/breaches', { token: tokens.read, body }))).toMatchObject({
      status: 403,
    });
    const listed = await json(await call('GET', '/api/breaches', { token: tokens.read }));
    expect(listed.map((b: { id: number }) => b.id)).toContain(breach.id);
    expect(await failure(await call('GET', '/api/breaches?open=1', { token: tokens.read }))).toMatchObject({
      status: 400,
    });
    const shown = await json(await call('GET', `/api/breaches/${breach.id}`, { token: tokens.read }));
    expect(shown.letters.en.text).toContain('What happened\nPayments backup exposed.');
    expect(await failure(await call('GET', '/api/breaches/999', { token: tokens.read }))).toMatchObject({
      status: 404,
      code: 'E_BREACH_NOT_FOUND',
    });
    const notified = await call('POST', `/api/breaches/${breach.id}/notification`, {
      token: tokens.operate,
      body: { notify: false, reason: 'tokens only, revoked', version: 0 },
    });
    expect(await json(notified)).toMatchObject({ status: 'not-notified', version: 1 });
    expect(
      await failure(
        await call('POST', `/api/breaches/${breach.id}/notification`, {
          token: tokens.operate,
          body: { notify: true, notifiedAt: '2026-11-21T10:00:00Z', version: 0 },
        }),
      ),
    ).toMatchObject({ status: 409, code: 'E_BREACH_CHANGED' });
    const told = await call('POST', `/api/breaches/${breach.id}/people`, {
      token: tokens.operate,
      body: { inform: true },
    });
    expect(await json(told)).toMatchObject({ information: { decision: 'inform' } });
    expect(
      await failure(
        await call('POST', `/api/breaches/${breach.id}/people`, {
          token: tokens.operate,
          body: { inform: false },
        }),
      ),
    ).toMatchObject({ status: 400, field: 'reason' });
    const csv = await call('GET', '/api/breach-register?format=csv&lang=en', { token: tokens.read });
    expect(csv.headers.get('content-disposition')).toContain('breach-register.en.csv');
    expect(await csv.text()).toContain('tokens only, revoked');
    const xlsx = await call('GET', '/api/breach-register?format=xlsx', { token: tokens.read });
    expect(new Uint8Array(await xlsx.arrayBuffer()).slice(0, 2)).toEqual(new Uint8Array([0x50, 0x4b]));
    expect(
      await failure(await call('GET', '/api/breach-register?format=pdf', { token: tokens.read })),
    ).toMatchObject({ status: 400, field: 'format' });
  });

  it('audit: verified, exported, the head accepted by an admin', async () => {
    const verifiedLog = await json(await call('GET', '/api/audit/verify', { token: tokens.read }));
    expect(verifiedLog.problems).toEqual([]);
    expect(
      await failure(await call('GET', '/api/audit/verify?full=1', { token: tokens.read })),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await failure(await call('GET', '/api/audit/export?since=1', { token: tokens.read })),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await failure(await call('POST', '/api/audit/accept-head', { token: tokens.admin, body: {} })),
    ).toMatchObject({ status: 400, field: 'reason' });
    const accepted = await call('POST', '/api/audit/accept-head', {
      token: tokens.admin,
      body: { reason: 'checked after the API tests' },
    });
    expect(accepted.status).toBe(200);
    const exported = await (await call('GET', '/api/audit/export', { token: tokens.read })).text();
    const last = JSON.parse(exported.trim().split('\n').at(-1) as string) as {
      kind: string;
      data: { actor: string };
    };
    expect(last.data.actor).toBe('token:dpo');
  });
});

describe('the public endpoints', () => {
  it('record a consent from the site (CORS), then check it', async () => {
    const visitor = 'site-visitor-7';
    const recorded = await call('POST', '/api/public/consents', {
      client: '203.0.113.10',
      headers: { origin: ORIGIN },
      body: { visitor, purposes: ['audience-statistics'], choice: 'given', notice: NOTICE },
    });
    expect(recorded.status).toBe(200);
    expect(recorded.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const check = await call(
      'GET',
      `/api/public/consents/check?visitor=${visitor}&purpose=audience-statistics`,
      {
        client: '203.0.113.10',
      },
    );
    expect(await json(check)).toEqual({ current: true, state: expect.any(String) });
    expect(
      await failure(
        await call('POST', '/api/public/consents', {
          client: '203.0.113.10',
          body: {
            visitor,
            purposes: ['audience-statistics'],
            choice: 'given',
            notice: NOTICE,
            source: 'import',
          },
        }),
      ),
    ).toMatchObject({
      status: 400,
      field: 'source',
      message: 'La demande envoyée est incomplète ou mal formée.',
    });
    // An address is not taken here: not told as an address to correct.
    expect(
      await failure(
        await call('POST', '/api/public/consents?lang=en', {
          client: '203.0.113.10',
          body: {
            email: 'x@example.org',
            purposes: ['audience-statistics'],
            choice: 'given',
            notice: NOTICE,
          },
        }),
      ),
    ).toMatchObject({ status: 400, field: 'email', message: 'What was sent is incomplete or malformed.' });
    expect(
      await failure(
        await call('GET', `/api/public/consents/check?visitor=${visitor}`, { client: '203.0.113.10' }),
      ),
    ).toMatchObject({ status: 400, field: 'purpose' });
    // The audit log names the website as the actor.
    const exported = await (await call('GET', '/api/audit/export', { token: tokens.read })).text();
    expect(exported).toContain('"actor":"public:website"');
  });

  it('CORS: a preflight from an allowed origin is answered; a refused origin gets no CORS header and its POST is 403', async () => {
    const preflight = (origin: string) =>
      call('OPTIONS', '/api/public/consents', {
        client: '203.0.113.11',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    // A refusal is readable by the site too.
    const invalid = await call('POST', '/api/public/consents', {
      client: '203.0.113.11',
      headers: { origin: ORIGIN },
      body: { visitor: 'v-site' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    // The site's script may read Retry-After.
    expect(invalid.headers.get('access-control-expose-headers')).toBe('Retry-After');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const posted = await call('POST', '/api/public/consents', {
      client: '203.0.113.11',
      headers: { origin: 'https://evil.example' },
      body: { visitor: 'v-evil', purposes: ['audience-statistics'], choice: 'given', notice: NOTICE },
    });
    expect(posted.headers.get('access-control-allow-origin')).toBeNull();
    expect(await failure(posted)).toMatchObject({ status: 403, code: 'E_ORIGIN' });
    // Logged and counted under its endpoint's pattern, though the middleware refused it.
    expect(lines.findLast((l) => l.msg === 'call')).toMatchObject({
      status: 403,
      route: '/api/public/consents',
    });
    const check = await json(
      await call('GET', '/api/public/consents/check?visitor=v-evil&purpose=audience-statistics', {
        client: '203.0.113.11',
      }),
    );
    expect(check.current).toBe(false);
  });

  /** The code messages in the outbox (a code no longer usable is purged from it). */
  const codeFiles = () => {
    try {
      return readdirSync(join(out, '.registre', 'outbox'))
        .filter((n) => /-request-\d+-code-/.test(n))
        .sort();
    } catch {
      return [];
    }
  };
  const statusOf = async (email: string) =>
    (await json(await call('GET', '/api/requests', { token: tokens.read }))).filter(
      (r: { askedBy: string }) => r.askedBy === email,
    );

  it('open a request and verify it by address and code, with no request number; a wrong address is a wrong code counting nothing', async () => {
    const email = 'public-person@example.org';
    secrets.push(email);
    const client = '203.0.113.12';
    const opened = await call('POST', '/api/public/requests', {
      client,
      body: { type: 'access', email, lang: 'en' },
    });
    expect(opened.status).toBe(200);
    expect(await json(opened)).toEqual({ status: 'accepted' });
    const code = lastCode(out);
    // More wrong-address tries than a request allows wrong codes: none counted against it.
    for (let i = 0; i < 6; i++)
      expect(
        await failure(
          await call('POST', '/api/public/requests/verify', {
            client,
            body: { email: 'stranger@example.org', code },
          }),
        ),
      ).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    const [row] = await statusOf(email);
    expect(row).toMatchObject({ status: 'received' });
    const shown = await json(await call('GET', `/api/requests/${row.id}`, { token: tokens.read }));
    expect(shown.status).toBe('received');
    const done = await call('POST', '/api/public/requests/verify', {
      client,
      body: { email: email.toUpperCase(), code: ` ${code} ` },
    });
    expect(await json(done)).toEqual({ id: row.id, type: 'access', status: 'verified', due: row.due });
    // The number is not a way in any more.
    expect(
      (await call('POST', `/api/public/requests/${row.id}/verify`, { client, body: { email, code } })).status,
    ).toBe(404);
    expect(
      await failure(
        await call('POST', '/api/public/requests', { client: '203.0.113.13', body: { type: 'access' } }),
      ),
    ).toMatchObject({ status: 400, field: 'email' });
    expect(
      await failure(
        await call('POST', '/api/public/requests', {
          client: '203.0.113.13',
          body: { type: 'access', email, set: {} },
        }),
      ),
    ).toMatchObject({ status: 400, code: 'E_USAGE', field: 'set' });
  });

  it('an expired code is not the end: a new code by address, or the same request opened again, and the request is verified', async () => {
    const email = 'expired@example.org';
    secrets.push(email);
    const client = '203.0.113.15';
    expect(
      (await call('POST', '/api/public/requests', { client, body: { type: 'erasure', email } })).status,
    ).toBe(200);
    const first = lastCode(out);
    tick(16 * 60_000);
    expect(
      await failure(
        await call('POST', '/api/public/requests/verify', { client, body: { email, code: first } }),
      ),
    ).toMatchObject({ status: 403, code: 'E_CODE_EXPIRED' });
    // Opening it again is not a duplicate: a new code for the open request.
    const again = await call('POST', '/api/public/requests', { client, body: { type: 'erasure', email } });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual({ status: 'accepted' });
    const second = lastCode(out);
    expect(second).not.toBe(first);
    expect(await statusOf(email)).toHaveLength(1);
    // Within the minute, another code is refused, with when to come back.
    const soon = await call('POST', '/api/public/requests/code', { client, body: { email } });
    expect(await failure(soon)).toMatchObject({ status: 429, code: 'E_CODE_TOO_SOON' });
    expect(Number(soon.headers.get('retry-after'))).toBeGreaterThan(0);
    // Past the hour: the address's window of opens and codes starts again.
    tick(61 * 60_000);
    const code = await call('POST', '/api/public/requests/code', {
      client,
      body: { email, type: 'erasure' },
    });
    expect(await json(code)).toEqual({ status: 'accepted' });
    const third = lastCode(out);
    expect(third).not.toBe(second);
    const done = await json(
      await call('POST', '/api/public/requests/verify', {
        client,
        body: { email, code: third, type: 'erasure' },
      }),
    );
    expect(done).toMatchObject({ type: 'erasure', status: 'verified' });
  });

  it('answers the same whether the address has an open request or not: no number, no date, no duplicate', async () => {
    const known = 'known@example.org';
    const unknown = 'unknown@example.org';
    secrets.push(known, unknown);
    const ask = (email: string, client: string) =>
      call('POST', '/api/public/requests', { client, body: { type: 'access', email } });
    expect((await ask(known, '203.0.113.16')).status).toBe(200);
    tick(61_000);
    const [again, fresh] = [await ask(known, '203.0.113.17'), await ask(unknown, '203.0.113.17')];
    expect(again.status).toBe(fresh.status);
    const [againBody, freshBody] = [await json(again), await json(fresh)];
    expect(againBody).toEqual(freshBody);
    expect(JSON.stringify(againBody)).not.toMatch(/\d/);
    expect(await statusOf(known)).toHaveLength(1);
    // A code asked for an address with no request: the same answer, and no message sent (past
    // the hour, so that both addresses start a window of opens and codes).
    tick(61 * 60_000);
    const nobody = 'nobody@example.org';
    secrets.push(nobody);
    const before = codeFiles();
    const [forKnown, forNobody] = [
      await call('POST', '/api/public/requests/code', { client: '203.0.113.18', body: { email: known } }),
      await call('POST', '/api/public/requests/code', { client: '203.0.113.18', body: { email: nobody } }),
    ];
    expect(forKnown.status).toBe(200);
    expect(forNobody.status).toBe(200);
    expect(await json(forKnown)).toEqual(await json(forNobody));
    // One message: the known address's new code; none to the address with no request.
    expect(codeFiles().filter((f) => !before.includes(f))).toHaveLength(1);
    // Asked again within the minute: the same refusal for both.
    const [soonKnown, soonNobody] = [
      await failure(
        await call('POST', '/api/public/requests/code', { client: '203.0.113.18', body: { email: known } }),
      ),
      await failure(
        await call('POST', '/api/public/requests/code', { client: '203.0.113.18', body: { email: nobody } }),
      ),
    ];
    expect(soonKnown).toEqual(soonNobody);
    expect(soonKnown).toMatchObject({ status: 429, code: 'E_CODE_TOO_SOON' });
    // A code tried on an address with no request: the same wrong code as a wrong one.
    const [wrongKnown, wrongNobody] = [
      await failure(
        await call('POST', '/api/public/requests/verify', {
          client: '203.0.113.18',
          body: { email: known, code: '1234567' },
        }),
      ),
      await failure(
        await call('POST', '/api/public/requests/verify', {
          client: '203.0.113.18',
          body: { email: nobody, code: '1234567' },
        }),
      ),
    ];
    expect(wrongKnown).toEqual(wrongNobody);
  });

  it('a refusal is a fixed sentence in French by default, in English by lang, ?lang= or Accept-Language, with no CLI hint', async () => {
    const email = 'lingua@example.org';
    secrets.push(email);
    const client = '203.0.113.19';
    const verify = (options: {
      body?: Record<string, unknown>;
      path?: string;
      headers?: Record<string, string>;
    }) =>
      call('POST', options.path ?? '/api/public/requests/verify', {
        client,
        body: { email, code: '000000', ...options.body },
        ...(options.headers ? { headers: options.headers } : {}),
      });
    const fr = await failure(await verify({}));
    expect(fr).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    expect(fr.message).toMatch(/^Ce code ne correspond pas\. Vérifiez le dernier code reçu et réessayez\./);
    const en = await failure(await verify({ body: { lang: 'en' } }));
    expect(en.message).toMatch(
      /^This code does not match\. Check the latest code you received and try again\./,
    );
    expect((await failure(await verify({ path: '/api/public/requests/verify?lang=en' }))).message).toBe(
      en.message,
    );
    expect((await failure(await verify({ headers: { 'accept-language': 'en-GB,en;q=0.9' } }))).message).toBe(
      en.message,
    );
    const usage = await failure(
      await call('POST', '/api/public/requests', {
        client,
        body: { type: 'access', email: 'not an address' },
      }),
    );
    expect(usage).toEqual({
      status: 400,
      code: 'E_USAGE',
      field: 'email',
      message: 'Indiquez une adresse électronique valide.',
    });
    const type = await failure(
      await call('POST', '/api/public/requests?lang=en', { client, body: { type: 'gossip', email } }),
    );
    expect(type).toMatchObject({ field: 'type', message: 'Choose the kind of your request.' });
    const origin = await failure(
      await call('POST', '/api/public/requests/verify', {
        client,
        headers: { origin: 'https://evil.example' },
        body: { email, code: '000000' },
      }),
    );
    expect(origin).toMatchObject({ status: 403, code: 'E_ORIGIN' });
    expect(origin.message).toBe('Ce site n’est pas autorisé à envoyer cette demande.');
    const large = await failure(
      await call('POST', '/api/public/requests', {
        client,
        body: { type: 'access', email, visitor: 'x'.repeat(LIMITS.bodyBytes) },
      }),
    );
    expect(large).toMatchObject({
      status: 413,
      code: 'E_BODY_TOO_LARGE',
      message: 'Ce qui a été envoyé est trop volumineux.',
    });
    for (const message of [fr, en, usage, type, origin, large].map((e) => e.message))
      expect(message).not.toMatch(/registre|request (verify|list|send-code)|--|`/);
    // An admin endpoint keeps its own message.
    expect(
      (
        await failure(
          await call('POST', '/api/requests', { token: tokens.operate, body: { type: 'gossip', email } }),
        )
      ).message,
    ).toContain('gossip');
  });

  it("the code's limits apply: five wrong codes lock the request; the right one then finds nothing to verify", async () => {
    const email = 'guesser@example.org';
    secrets.push(email);
    const client = '203.0.113.14';
    expect(
      (await call('POST', '/api/public/requests', { client, body: { type: 'access', email } })).status,
    ).toBe(200);
    const code = lastCode(out);
    const wrong = code === '000000' ? '111111' : '000000';
    const guess = (c: string) =>
      call('POST', '/api/public/requests/verify', { client, body: { email, code: c } });
    for (let i = 0; i < 4; i++)
      expect(await failure(await guess(wrong))).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    // The fifth wrong code locks it, told as a wrong code (a 423 told a stranger the address had a
    // request); the right one comes too late.
    expect(await failure(await guess(wrong))).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    expect(await failure(await guess(code))).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    const [row] = await statusOf(email);
    expect(row.status).toBe('locked');
  });

  it('429 past the per-client limit, with Retry-After; another client is still served, and the next minute too', async () => {
    const client = '203.0.113.20';
    const check = (who: string) =>
      call('GET', '/api/public/consents/check?visitor=v-limit&purpose=audience-statistics', { client: who });
    for (let i = 0; i < LIMITS.perClient; i++) expect((await check(client)).status).toBe(200);
    const limited = await check(client);
    expect(await failure(limited)).toMatchObject({ status: 429, code: 'E_RATE_LIMITED' });
    expect(lines.findLast((l) => l.msg === 'call')).toMatchObject({
      status: 429,
      route: '/api/public/consents/check',
    });
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect((await check('203.0.113.21')).status).toBe(200);
    tick(61_000);
    expect((await check(client)).status).toBe(200);
  });

  it('429 past the per-address limit on opening requests, whatever the client and the spelling', async () => {
    const email = 'often@example.org';
    secrets.push(email);
    // Within one hour's window (fixed windows: crossing an hour's end would start the count again).
    tick(3_600_000 - (now % 3_600_000) + 1_000);
    // Each of another kind, a minute apart (one code a minute per address).
    const types = ['access', 'erasure', 'portability', 'restriction'];
    for (let i = 0; i < LIMITS.perAddress; i++) {
      tick(61_000);
      const opened = await call('POST', '/api/public/requests', {
        client: `203.0.113.${30 + i}`,
        body: { type: types[i], email: i % 2 ? email.toUpperCase() : email },
      });
      expect(opened.status).toBe(200);
    }
    const limited = await call('POST', '/api/public/requests', {
      client: '203.0.113.40',
      body: { type: types[LIMITS.perAddress], email: ` ${email}` },
    });
    expect(await failure(limited)).toMatchObject({ status: 429, code: 'E_RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(60);
  });
});

describe('the request page', () => {
  const form = (fields: Record<string, string>) => ({
    raw: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

  it('is French by default, English by ?lang= or Accept-Language; a plain form with labels, no script allowed', async () => {
    const fr = await call('GET', '/request');
    expect(fr.status).toBe(200);
    expect(fr.headers.get('content-type')).toMatch(/text\/html/);
    const csp = fr.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(csp).toContain("form-action 'self'");
    // Its own style sheet, and nothing else, is let in.
    expect(csp).toContain("style-src 'self'");
    const html = await fr.text();
    expect(html).toContain('<html lang="fr">');
    expect(html).toMatch(/<form method="post" action="\/request\?lang=fr">/);
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="type">');
    expect(html).toMatch(/<input id="email" name="email" type="email"/);
    expect(html).not.toMatch(/<script/i);
    expect(await (await call('GET', '/request?lang=en')).text()).toContain('<html lang="en">');
    expect(
      await (
        await call('GET', '/request', { headers: { 'accept-language': 'de-DE, en-GB;q=0.8, fr;q=0.5' } })
      ).text(),
    ).toContain('<html lang="en">');
    const css = await call('GET', '/request.css');
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
    expect(html).toContain('<link rel="stylesheet" href="/request.css">');
  });

  it('opens a request, asks for a new code, then verifies it with the code, by address, without a line of script', async () => {
    const email = 'page-person@example.org';
    secrets.push(email);
    const client = '203.0.113.50';
    const codePage = await call('POST', '/request?lang=en', { client, ...form({ type: 'erasure', email }) });
    expect(codePage.status).toBe(200);
    const html = await codePage.text();
    expect(html).toContain('Enter the code you received');
    // No request number anywhere: the address and the type are what the page carries.
    expect(html).not.toMatch(/name="id"|no\. \d/);
    expect(html).toContain(`name="email" value="${email}"`);
    expect(html).toContain('name="type" value="erasure"');
    expect(html).toMatch(
      /<form method="post" action="\/request\/code\?lang=en"[^>]*>[\s\S]*Send me a new code/,
    );
    const first = lastCode(out);

    const wrong = await call('POST', '/request/verify?lang=en', {
      client,
      ...form({ email, type: 'erasure', code: first === '000000' ? '111111' : '000000' }),
    });
    expect(wrong.status).toBe(403);
    const wrongPage = await wrong.text();
    expect(wrongPage).toMatch(/role="alert"[\s\S]*name="code"/);
    expect(wrongPage).toContain('This code does not match.');
    expect(wrongPage).not.toMatch(/attempt\(s\)|request \d/);

    // A new code at once is refused, in French on the French page, with when to come back.
    const soon = await call('POST', '/request/code?lang=fr', { client, ...form({ email, type: 'erasure' }) });
    expect(soon.status).toBe(429);
    expect(Number(soon.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await soon.text()).toContain('Attendez une minute');
    tick(61_000);
    const again = await call('POST', '/request/code?lang=en', {
      client,
      ...form({ email, type: 'erasure' }),
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('a new code was just sent');
    const code = lastCode(out);
    expect(code).not.toBe(first);

    const done = await call('POST', '/request/verify?lang=en', {
      client,
      ...form({ email, type: 'erasure', code: ` ${code} ` }),
    });
    expect(done.status).toBe(200);
    const page = await done.text();
    expect(page).toContain('Request verified');
    const id = /no\. (\d+) is verified/.exec(page)?.[1];
    expect((await json(await call('GET', `/api/requests/${id}`, { token: tokens.read }))).status).toBe(
      'verified',
    );
  });

  it('shows a refused input on the form again, escaped, in French', async () => {
    const refused = await call('POST', '/request', {
      client: '203.0.113.51',
      ...form({ type: 'gossip', email: '"><b>x</b>@example.org' }),
    });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('role="alert"');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&quot;&gt;&lt;b&gt;x&lt;/b&gt;');
    // A fixed French sentence for the field, not the internal English message.
    expect(html).toContain('Choisissez le type de votre demande.');
    expect(html).not.toContain('one of access');
  });

  it('opening the same request again on the page is not a duplicate: the code page again, nothing told', async () => {
    const email = 'page-twice@example.org';
    secrets.push(email);
    const client = '203.0.113.52';
    tick(61_000);
    expect((await call('POST', '/request', { client, ...form({ type: 'access', email }) })).status).toBe(200);
    tick(61_000);
    const again = await call('POST', '/request', { client, ...form({ type: 'access', email }) });
    expect(again.status).toBe(200);
    const html = await again.text();
    expect(html).toContain('Saisissez le code reçu');
    expect(html).not.toMatch(/E_DUPLICATE|déjà|already|\d{4}-\d{2}-\d{2}/);
  });
});

describe('the OpenAPI document', () => {
  it('validates, and lists every admin and public path', async () => {
    const response = await call('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const document = await json(response);
    const result = await validate(structuredClone(document));
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.valid).toBe(true);
    for (const route of ADMIN_ROUTES)
      expect(document.paths[route.path]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    for (const path of PUBLIC_ROUTES) expect(document.paths[path], path).toBeDefined();
    expect(document.paths['/api/plan'].get.security).toEqual([{ bearer: [] }]);
  });

  it('is read at /docs, whose CSP lets in the reader from its CDN', async () => {
    const docs = await call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
    expect(docs.headers.get('content-security-policy')).toContain('script-src https://cdn.jsdelivr.net');
  });
});

describe('after every call', () => {
  it('each admin endpoint was answered with a success and with a failure other than 401', () => {
    const missing = ADMIN_ROUTES.filter((route) => {
      const statuses = answered.get(route) ?? [];
      return !statuses.some((s) => s < 300) || !statuses.some((s) => s >= 400 && s !== 401);
    }).map((r) => `${r.method} ${r.path}: ${(answered.get(r) ?? []).join(',')}`);
    expect(missing).toEqual([]);
  });

  it('the state store keeps the tokens hashed, never their secrets', () => {
    const dir = join(out, '.registre');
    const stored = readdirSync(dir)
      .filter((name) => name.startsWith('state.sqlite'))
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('');
    expect(stored).toContain(createHash('sha256').update(tokens.operate).digest('hex'));
    for (const token of Object.values(tokens)) expect(stored).not.toContain(token);
  });

  it('no log line names an address, carries a token or a query string', () => {
    expectCleanLogs(lines, secrets);
    expect(lines.some((l) => l.actor === 'token:back-office')).toBe(true);
    expect(lines.filter((l) => l.msg === 'call').length).toBeGreaterThan(100);
    expect(JSON.stringify(lines)).not.toContain('203.0.113');
  });
});
