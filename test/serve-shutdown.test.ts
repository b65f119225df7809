/**
 * Issue 21: SIGTERM while a sweep runs through the API. The service stops taking calls, the sweep
 * stops between two batches (what it did stays applied and logged; its call is answered
 * E_CANCELLED), the process exits 0, the audit log verifies, and the next sweep takes up the rest.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, registre, shop, sleep } from './shop-helpers.js';

const pauses = mkdtempSync(join(tmpdir(), 'registre-pause-'));
let dir = '';
afterAll(() => {
  rmSync(pauses, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('registre serve stopped in the middle of a sweep', () => {
  it('answers the sweep E_CANCELLED after its batch, exits 0, and the next sweep finishes the day', async () => {
    const made = await shop(300, 5);
    dir = made.out;
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--config', made.config, '--port', '0', '--no-schedule'],
      {
        env: { ...process.env, REGISTRE_TEST_PAUSE_AT: 'sweep-batch', REGISTRE_TEST_PAUSE_DIR: pauses },
      },
    );
    let err = '';
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    for (let i = 0; i < 600 && !/admin token .*: rgt_/.test(err); i++) await sleep(100);
    const url = /registre serves (http:\/\/[\d.:]+)/.exec(err)?.[1] as string;
    const token = /admin token \(shown once, stored hashed\): (rgt_\S+)/.exec(err)?.[1] as string;
    expect(token, err).toBeDefined();

    const sweeping = fetch(`${url}/api/sweeps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batchSize: 20 }),
    });
    // The sweep has committed its first batch and waits at the test's pause.
    for (let i = 0; i < 600 && !existsSync(join(pauses, 'sweep-batch.paused')); i++) await sleep(100);
    expect(existsSync(join(pauses, 'sweep-batch.paused'))).toBe(true);
    child.kill('SIGTERM');
    // The batch may go on only once the service has taken the signal (it says so, then aborts at
    // once): a fixed wait lost that race on a loaded machine and the sweep ran to its end.
    for (let i = 0; i < 600 && !/registre: stopping/.test(err); i++) await sleep(50);
    expect(err).toMatch(/registre: stopping/);
    writeFileSync(join(pauses, 'sweep-batch.go'), '');
    const answer = await sweeping;
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('E_CANCELLED');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    // What the stopped sweep did is logged and whole; the next one does the rest, then nothing is due.
    const verified = registre(['audit', 'verify', '--config', made.config], dir);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const next = registre(['sweep', '--config', made.config, '--json'], dir);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).total).toBeGreaterThan(0);
    const plan = registre(['plan', '--config', made.config, '--json'], dir);
    expect(JSON.parse(plan.stdout).totals.due).toBe(0);
  }, 180_000);
});
