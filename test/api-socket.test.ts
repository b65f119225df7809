/**
 * The service over a real socket (startService on port 0, fetch): health, readiness, metrics
 * behind a read token, the per-client limit counted by the socket's address (no proxy trusted),
 * the first admin token made once, and a stop that closes the port.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../src/service/server.js';
import { expectCleanLogs, logCollector, serviceShop } from './api-helpers.js';

const LIMITS = { perClient: 5, perAddress: 3, bodyBytes: 1024 };

let out: string;
let config: string;
const { lines, log } = logCollector();
const secrets: string[] = [];

beforeAll(async () => {
  ({ out, config } = await serviceShop(20, LIMITS, false));
});

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('registre serve over a socket', () => {
  it('answers health, readiness and metrics; limits a client by its socket; makes the admin token once; stops', async () => {
    const first = await startService({ config, port: 0, schedule: false, log });
    let stopped = false;
    try {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(first.demo).toBe(false);
      const admin = first.adminToken as string;
      expect(admin).toMatch(/^rgt_/);
      secrets.push(admin);

      const health = await fetch(`${first.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'alive' });
      const ready = await fetch(`${first.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true, stores: { state: 'ok', shop: 'ok' } });

      const created = await fetch(`${first.url}/api/tokens`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'prometheus', scope: 'read' }),
      });
      expect(created.status).toBe(200);
      const read = ((await created.json()) as { token: string }).token;
      secrets.push(read);

      // A request opened, and a call whose path carries its number.
      const opened = await fetch(`${first.url}/api/requests`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'access', email: 'socket-person@example.org' }),
      });
      expect(opened.status).toBe(200);
      secrets.push('socket-person@example.org');
      const { id } = (await opened.json()) as { id: number };
      expect((await fetch(`${first.url}/api/requests/${id}`, { headers: bearer(read) })).status).toBe(200);

      expect((await fetch(`${first.url}/metrics`)).status).toBe(401);
      const distributor = await fetch(`${first.url}/api/tokens`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'distrib', scope: 'admin', controller: '1' }),
      });
      const limited = ((await distributor.json()) as { token: string }).token;
      secrets.push(limited);
      expect((await fetch(`${first.url}/metrics`, { headers: bearer(limited) })).status).toBe(403);
      const metrics = await fetch(`${first.url}/metrics`, { headers: bearer(read) });
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await metrics.text();
      expect(text).toContain('# TYPE registre_http_requests_total counter');
      expect(text).toMatch(/^registre_requests_open 1$/m);
      expect(text).toMatch(/^registre_requests_overdue 0$/m);
      expect(text).toContain('route="/api/requests/:id",method="GET",status="200"');
      expect(text).not.toContain(`/api/requests/${id}"`);

      // A body over the limit, its length told by fetch.
      const big = await fetch(`${first.url}/api/holds`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ table: 'customers', id: '1', reason: 'x'.repeat(LIMITS.bodyBytes) }),
      });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: { code: string } }).error.code).toBe('E_BODY_TOO_LARGE');

      // No proxy trusted: the client is the socket's address, whatever X-Forwarded-For says.
      const check = (n: number) =>
        fetch(`${first.url}/api/public/consents/check?visitor=v1&purpose=audience-statistics`, {
          headers: { 'x-forwarded-for': `198.51.100.${n}` },
        });
      for (let i = 0; i < LIMITS.perClient; i++) expect((await check(i)).status).toBe(200);
      const refused = await check(99);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

      await first.stop();
      stopped = true;
      await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();
    } finally {
      if (!stopped) await first.stop();
    }

    // A second start on the same state store: tokens exist, none is made; the first still works.
    const second = await startService({ config, port: 0, schedule: false, log });
    try {
      expect(second.adminToken).toBeUndefined();
      const tokens = await fetch(`${second.url}/api/tokens`, { headers: bearer(secrets[0] as string) });
      expect(tokens.status).toBe(200);
      expect(((await tokens.json()) as { name: string }[]).map((t) => t.name).sort()).toEqual([
        'admin',
        'distrib',
        'prometheus',
      ]);
    } finally {
      await second.stop();
    }
    expectCleanLogs(lines, secrets);
    expect(lines.filter((l) => l.msg === 'listening')).toHaveLength(2);
    expect(lines.filter((l) => l.msg === 'stopped')).toHaveLength(2);
  });
});
