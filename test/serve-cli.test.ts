/**
 * Issue 21, the README's promise: in a folder with no configuration, `registre serve` (what
 * `npm start` runs) makes the demo shop, listens, prints its address and an admin token, and
 * `curl` of the address with that token answers /api/plan; SIGTERM stops it cleanly (exit 0, the
 * port closed); a second start on the same folder makes no second token.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './shop-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'registre-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `registre serve --port 0` in `dir`; resolves with its address and what it printed once it listens. */
function serve(): Promise<{ child: ChildProcess; url: string; err: () => string; out: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--no-schedule'], { cwd: dir });
  let err = '';
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 90_000);
    child.stderr?.on('data', (d) => {
      err += String(d);
      const m = /registre serves (http:\/\/[\d.:]+)/.exec(err);
      // The address and the token come in one write.
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string, err: () => err, out: () => out });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const stopped = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('registre serve on a fresh folder', () => {
  it('makes the demo shop, prints its address and a token that answers /api/plan, stops on SIGTERM', async () => {
    const first = await serve();
    const token = /admin token \(shown once, stored hashed\): (rgt_\S+)/.exec(first.err())?.[1];
    expect(token, first.err()).toBeDefined();
    expect(first.err()).toContain('demo shop');
    const plan = await fetch(`${first.url}/api/plan`, { headers: { authorization: `Bearer ${token}` } });
    expect(plan.status).toBe(200);
    const body = (await plan.json()) as { rules: { rule: string }[]; totals: { active: number } };
    expect(body.rules.map((r) => r.rule)).toContain('orders');
    expect(body.totals.active).toBeGreaterThan(0);
    expect((await fetch(`${first.url}/api/plan`)).status).toBe(401);
    // The token is in no log line (the log is on stdout, the address and token on stderr).
    expect(first.out()).not.toContain(token as string);
    expect(first.out()).toContain('"route":"/api/plan"');
    expect(await stopped(first.child)).toBe(0);
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();

    const second = await serve();
    expect(second.err()).not.toContain('admin token (shown once');
    expect(second.err()).toContain('registre token create');
    const again = await fetch(`${second.url}/api/plan`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect(await stopped(second.child)).toBe(0);
  }, 180_000);
});
