/**
 * registre serve attacked, in-process (`app.request`) over a small demo shop: what an outsider or
 * a hurried operator tries against the tokens, the package and document downloads, the public
 * endpoints (their limits, their answers), CORS, bodies, and sweeps started twice at once.
 */
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/app/engine.js';
import { USE_CASES } from '../src/app/use-cases.js';
import { buildApi } from '../src/http/app.js';
import { expectCleanLogs, handClock, logCollector, ORIGIN, serviceShop } from './api-helpers.js';
import { lastCode } from './outbox.js';
import { customerEmails } from './shop-helpers.js';

const LIMITS = { perClient: 1000, perAddress: 3, bodyBytes: 4096 };
const SYSTEM = { actor: 'system:attack-test' };

const { lines, log } = logCollector();
const { clock, tick, toNextHour } = handClock();
const secrets: string[] = [];
const tokens = { admin: '', operate: '', read: '' };
let out: string;
let engine: Engine;
let app: Awaited<ReturnType<typeof buildApi>>;

interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly raw?: string;
  readonly headers?: Record<string, string>;
  readonly client?: string;
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    'x-forwarded-for': options.client ?? '198.51.100.7',
    ...options.headers,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
}

// biome-ignore lint/suspicious/noExplicitAny: the answers' JSON, looked into by each test
const json = async (response: Response): Promise<any> => response.json();
const failure = async (response: Response) => ({ status: response.status, ...(await json(response)).error });

afterAll(async () => {
  await engine?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

beforeAll(async () => {
  const made = await serviceShop(40, LIMITS);
  out = made.out;
  engine = createEngine({ config: made.config, clock });
  for (const [key, name] of [
    ['admin', 'dpo'],
    ['operate', 'back-office'],
    ['read', 'auditor'],
  ] as const) {
    tokens[key] = (await USE_CASES.createToken.run(engine, { name, scope: key }, SYSTEM)).token;
    secrets.push(tokens[key]);
  }
  app = await buildApi(engine, { log });
});

describe('package downloads', () => {
  it('a link planted in a package folder is not followed: no file outside the package is served', async () => {
    const [customer] = await customerEmails(join(out, 'registre.yaml'), 1);
    const email = customer?.email as string;
    secrets.push(email);
    const opened = await json(
      await call('POST', '/api/requests', { token: tokens.operate, body: { type: 'access', email } }),
    );
    await call('POST', `/api/requests/${opened.id}/verify`, {
      token: tokens.operate,
      body: { code: lastCode(out) },
    });
    expect(
      (
        await call('POST', `/api/requests/${opened.id}/run`, {
          token: tokens.operate,
          body: { delivery: 'none' },
        })
      ).status,
    ).toBe(200);
    const packages = join(out, '.registre', 'packages');
    const [folder] = readdirSync(packages).filter((n) => n.startsWith(`request-${opened.id}-`));
    // A folder link (to the project, its key and configuration) and a file link beside the files.
    symlinkSync(out, join(packages, folder as string, 'up'));
    mkdirSync(join(out, 'elsewhere'));
    writeFileSync(join(out, 'elsewhere', 'secret.txt'), 'not for the API');
    symlinkSync(join(out, 'elsewhere'), join(packages, folder as string, 'files-link'));
    for (const name of ['up/registre.yaml', 'up%2Fregistre.yaml', 'files-link/secret.txt']) {
      const response = await call('GET', `/api/requests/${opened.id}/package/${name}`, {
        token: tokens.operate,
      });
      expect(response.status, name).toBe(404);
      expect(await response.text(), name).not.toContain('not for the API');
    }
    const listed = await json(
      await call('GET', `/api/requests/${opened.id}/package`, { token: tokens.operate }),
    );
    expect(listed.files.map((f: { name: string }) => f.name).join(' ')).not.toMatch(/up\/|files-link/);
    // Odd names: a NUL byte, an absolute path, a backslash, encoded dots.
    for (const name of [
      'access.json%00.txt',
      '%2Fetc%2Fpasswd',
      '..%5Cregistre.yaml',
      '%2e%2e/registre.yaml',
    ])
      expect(
        (await call('GET', `/api/requests/${opened.id}/package/${name}`, { token: tokens.operate })).status,
        name,
      ).toBeGreaterThanOrEqual(400);
  });
});

describe('the public request endpoints', () => {
  it('the per-address limit counts a mailbox however its domain is spelt (IDN, ASCII form, full-width, decomposed)', async () => {
    // One mailbox to a mail server: nodemailer sends exämple.org as xn--exmple-cua.org, and IDNA
    // maps the full-width and decomposed forms to it.
    const spellings = [
      'variant@exämple.org',
      'variant@xn--exmple-cua.org',
      'variant@EXÄMPLE.org',
      'variant@ｅxämple.org',
      'variant@exa\u0308mple.org',
      'variant@XN--EXMPLE-CUA.ORG',
    ];
    secrets.push('variant');
    toNextHour();
    const statuses: number[] = [];
    for (const [i, email] of spellings.entries()) {
      tick(61_000);
      const response = await call('POST', '/api/public/requests', {
        client: `203.0.113.${100 + i}`,
        body: { type: 'access', email },
      });
      statuses.push(response.status);
    }
    // perAddress is 3: the fourth spelling of the same mailbox is refused.
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
  });

  it('wrong codes answer the same whether the address has a request awaiting verification or not', async () => {
    const answers = async (email: string, client: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await call('POST', '/api/public/requests/verify', {
          client,
          body: { email, code: '000001' },
        });
        seen.push(`${r.status} ${(await json(r)).error.code}`);
      }
      return seen;
    };
    const victim = 'locked-victim@example.org';
    secrets.push(victim);
    tick(61_000);
    expect(
      (
        await call('POST', '/api/public/requests', {
          client: '203.0.113.60',
          body: { type: 'erasure', email: victim },
        })
      ).status,
    ).toBe(200);
    const code = lastCode(out);
    const withRequest = await answers(victim, '203.0.113.61');
    const without = await answers('nobody-here@example.org', '203.0.113.62');
    expect(withRequest).toEqual(without);
    // Locked all the same, for the DPO to verify by other means; the right code comes too late.
    expect(
      await failure(
        await call('POST', '/api/public/requests/verify', {
          client: '203.0.113.63',
          body: { email: victim, code },
        }),
      ),
    ).toMatchObject({ status: 403, code: 'E_WRONG_CODE' });
    const listed = await json(await call('GET', '/api/requests', { token: tokens.read }));
    expect(listed.find((r: { askedBy: string }) => r.askedBy === victim)?.status).toBe('locked');
  });

  it('a body with __proto__ is refused, not merged into the input', async () => {
    const response = await call('POST', '/api/public/consents', {
      raw: '{"visitor":"v-proto","purpose":"audience-statistics","state":"given","__proto__":{"email":"someone@example.org"}}',
    });
    expect(response.status).toBe(400);
  });

  it('CORS: null, a suffix and a differently cased origin are refused (403, no CORS header)', async () => {
    for (const origin of ['null', `${ORIGIN}.evil`, ORIGIN.toUpperCase(), `${ORIGIN}:443`, `${ORIGIN}/`]) {
      const response = await call(
        'GET',
        '/api/public/consents/check?visitor=v1&purpose=audience-statistics',
        {
          headers: { origin },
        },
      );
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('the request page reflects nothing unescaped', async () => {
    const response = await app.request('/request?lang=en', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.70' },
      body: new URLSearchParams({
        type: '"><script>alert(1)</script>',
        email: '"><img src=x onerror=alert(1)>',
      }),
    });
    const text = await response.text();
    expect(text).not.toContain('<script>alert');
    expect(text).not.toContain('<img src=x');
  });
});

describe('tokens', () => {
  it("a token's hash, its prefix alone or a token with a suffix is not a token", async () => {
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(tokens.read).digest('hex');
    for (const bearer of [hash, 'rgt_', `${tokens.read}x`, tokens.read.slice(0, -1), `rgt_${hash}`])
      expect((await call('GET', '/api/status', { token: bearer })).status, bearer.slice(0, 8)).toBe(401);
    expect((await call('GET', '/metrics', {})).status).toBe(404);
  });
});

describe('a revoked token put back', () => {
  it('a token row restored as it was before its revocation (its own old seal) is found by audit verify', async () => {
    const made = (await USE_CASES.createToken.run(
      engine,
      { name: 'restored', scope: 'operate' },
      SYSTEM,
    )) as {
      id: number;
      token: string;
    };
    const state = await engine.state('write');
    const before = await state.conn.db
      .selectFrom('api_tokens' as never)
      .selectAll()
      .where('id' as never, '=', made.id as never)
      .executeTakeFirstOrThrow();
    await USE_CASES.revokeToken.run(engine, { name: 'restored' }, SYSTEM);
    expect((await call('GET', '/api/status', { token: made.token })).status).toBe(401);
    expect((await USE_CASES.verifyAudit.run(engine, {}, SYSTEM)).problems).toEqual([]);
    // Someone with write access to the database puts the old row back, seal and all.
    await state.conn.db
      .deleteFrom('api_tokens' as never)
      .where('id' as never, '=', made.id as never)
      .execute();
    await state.conn.db
      .insertInto('api_tokens' as never)
      .values(before as never)
      .execute();
    const problems = (await USE_CASES.verifyAudit.run(engine, {}, SYSTEM)).problems;
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('was revoked at entry')]);
    // Put right: revoked again, the log and the table agree.
    await USE_CASES.revokeToken.run(engine, { name: 'restored' }, SYSTEM);
    expect((await USE_CASES.verifyAudit.run(engine, {}, SYSTEM)).problems).toEqual([]);
  });
});

describe('not fixed yet', () => {
  it.todo(
    'POST /api/public/requests/code takes as long for an address with a request awaiting verification as for one without (a code is mailed only for the first: the answer is the same, its time is not)',
  );
});

describe('sweeps', () => {
  it('two sweeps started at once: one runs, the other is told the sweep is busy; nothing done twice', async () => {
    const [a, b] = await Promise.all([
      call('POST', '/api/sweeps', { token: tokens.operate, body: {} }),
      call('POST', '/api/sweeps', { token: tokens.operate, body: {} }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([200, 409]).toContain(statuses[1]);
  });
});

describe('after every call', () => {
  it('no log line names an address, carries a token or a query string', () => {
    expectCleanLogs(lines, secrets);
  });
});
