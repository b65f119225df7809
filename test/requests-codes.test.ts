/**
 * Issue 18, the request's lifecycle and the state rows' integrity: identity codes (11, 12), rows
 * edited by hand (13), a run killed between the store's commit and the request's update (15),
 * restrictions and grounds (16), the address after an erasure (19), a failed send and racing
 * opens (24). Real processes where processes race.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, resolveUrl } from '../src/adapters/sql/connect.js';
import { StateStore } from '../src/adapters/state/state-store.js';
import { DEFAULT_STATE_URL } from '../src/core/store-url.js';
import { DIALECTS } from './dialects.js';
import { withShop } from './shop-helpers.js';
import {
  liftRestriction,
  openRequest,
  refuseRequest,
  replayErasures,
  resendCode,
  runDemo,
  runHoldRelease,
  runRequest,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'registre.js');
const TODAY = '2026-11-27';

async function project(
  extra = '',
  stateUrl?: string,
): Promise<{ dir: string; config: string; state: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'registre-codes-'));
  const { config } = await runDemo({ out: dir, customers: 30, seed: 3, at: TODAY });
  if (extra) writeFileSync(config, `${readFileSync(config, 'utf8')}${extra}`);
  if (stateUrl)
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(`url: ${DEFAULT_STATE_URL}`, `url: ${JSON.stringify(stateUrl)}`),
    );
  return { dir, config, state: join(dir, '.registre', 'state.sqlite') };
}

/**
 * `n` processes, each with the app loaded (dist/), calling `call` at the same moment: each says
 * it is ready, then waits on its standard input for the start, written to all of them at once.
 * Each one's answer: `ok`, or the error's code and message; a process that ended otherwise (killed,
 * crashed) answers how it ended, so that a count that is off says why.
 */
async function race(n: number, dir: string, call: string): Promise<string[]> {
  const script = `
    const app = await import(${JSON.stringify(join(ROOT, 'dist', 'app', 'requests', 'index.js'))});
    const { createEngine } = await import(${JSON.stringify(join(ROOT, 'dist', 'app', 'engine.js'))});
    // One engine per process, as one command builds it.
    const once = async (config, f) => {
      const engine = createEngine({ config });
      try {
        return await f(engine, { actor: 'test:race' });
      } finally {
        await engine.close();
      }
    };
    const openRequest = (config, input) => once(config, (e, ctx) => app.openRequest(e, input, ctx));
    const verifyRequest = (config, id, how) => once(config, (e, ctx) => app.verifyRequest(e, { id, ...how }, ctx));
    const start = new Promise((r) => process.stdin.once('data', r));
    process.stdout.write('ready');
    await start;
    process.stdin.destroy();
    try {
      await ${call};
      process.stderr.write('ok');
    } catch (error) {
      process.stderr.write(error.code + ': ' + error.message);
    }`;
  const children = Array.from({ length: n }, () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const ready = new Promise<void>((r) => child.stdout.once('data', () => r()));
    const done = new Promise<string>((r) =>
      child.on('close', (code, signal) =>
        r(code === 0 && err !== '' ? err : `exited ${signal ?? code}: ${err}`),
      ),
    );
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.write('go');
  return Promise.all(children.map((c) => c.done));
}

/** The state stores several processes can share: SQLite, and the servers when their URLs are set. */
const SHARED = DIALECTS.filter((d) => d.name !== 'pglite');

/** The kinds of the audit log's entries, read from the state store of `config`. */
async function kindsOf(config: string, dir: string): Promise<string[]> {
  const url = /^state:\n {2}url: (.*)$/m.exec(readFileSync(config, 'utf8'))?.[1] as string;
  const conn = await connect('state', resolveUrl('state', url.startsWith('"') ? JSON.parse(url) : url), {
    baseDir: dir,
  });
  try {
    const rows = await conn.db.selectFrom('audit_log').select('kind').orderBy('position').execute();
    return rows.map((r) => String(r.kind));
  } finally {
    await conn.close();
  }
}

function outbox(dir: string): string[] {
  try {
    return readdirSync(join(dir, '.registre', 'outbox')).sort();
  } catch {
    return [];
  }
}

function lastCode(dir: string): string {
  const name = outbox(dir).pop() as string;
  const match = /verification code is (\d{6})/.exec(
    readFileSync(join(dir, '.registre', 'outbox', name), 'utf8'),
  );
  if (!match) throw new Error('no code in the outbox');
  return match[1] as string;
}

const wrong = (code: string) => (code === '000000' ? '111111' : '000000');

function kinds(state: string): string[] {
  const db = new Database(state, { readonly: true });
  try {
    return (db.prepare('SELECT kind FROM audit_log ORDER BY position').all() as { kind: string }[]).map(
      (r) => r.kind,
    );
  } finally {
    db.close();
  }
}

function tamper(state: string, statement: string, ...params: unknown[]): void {
  const db = new Database(state);
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

function cli(
  args: string[],
  cwd: string,
): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { child, done: new Promise((r) => child.on('close', (code) => r({ code, out, err }))) };
}

async function customerEmail(config: string, offset = 0): Promise<string> {
  return withShop(config, async (conn) => {
    const row = await conn.db
      .selectFrom('customers')
      .select('email')
      .orderBy('id')
      .offset(offset)
      .limit(1)
      .executeTakeFirstOrThrow();
    return String(row.email).trim().toLowerCase();
  });
}

describe('18.11 identity codes: attempts per request, new codes limited', () => {
  let config = '';
  let dir = '';
  beforeAll(async () => {
    ({ config, dir } = await project());
  });

  it('18.11 send-code does not reset the attempts: 4 wrong, a new code, the next wrong one locks', async () => {
    const opened = await openRequest(config, { type: 'access', email: 'guess@example.org', today: TODAY });
    const first = lastCode(dir);
    for (let i = 0; i < 4; i++)
      await expect(verifyRequest(config, opened.id, { code: wrong(first) })).rejects.toMatchObject({
        code: 'E_WRONG_CODE',
      });
    const later = new Date(Date.now() + 61_000);
    await resendCode(config, opened.id, { now: later });
    const second = lastCode(dir);
    await expect(verifyRequest(config, opened.id, { code: wrong(second) })).rejects.toMatchObject({
      code: 'E_REQUEST_LOCKED',
    });
    expect((await showRequest(config, opened.id, TODAY)).status).toBe('locked');
    await expect(verifyRequest(config, opened.id, { code: second })).rejects.toMatchObject({
      code: 'E_REQUEST_LOCKED',
    });
  });

  it('18.11 at most one new code a minute (saying when the next is allowed), three per request', async () => {
    const opened = await openRequest(config, { type: 'erasure', email: 'codes@example.org', today: TODAY });
    await expect(resendCode(config, opened.id)).rejects.toThrow(/the next may be sent from \d{4}-\d\d-\d\dT/);
    const t0 = Date.now();
    await resendCode(config, opened.id, { now: new Date(t0 + 61_000) });
    await resendCode(config, opened.id, { now: new Date(t0 + 122_000) });
    await expect(resendCode(config, opened.id, { now: new Date(t0 + 300_000) })).rejects.toMatchObject({
      code: 'E_CODE_LIMIT',
      message: expect.stringMatching(/already sent 3 codes/),
    });
    // The outbox keeps the newest code only; the last one still verifies.
    expect(outbox(dir).filter((n) => n.includes(`-request-${opened.id}-code-`))).toHaveLength(1);
    expect((await verifyRequest(config, opened.id, { code: lastCode(dir) })).status).toBe('verified');
    expect(outbox(dir).filter((n) => n.includes(`-request-${opened.id}-code-`))).toHaveLength(0);
  });
});

describe('18.12 each guess answers for itself', () => {
  it('18.12 a wrong code whose lock by another process lands before it answers still says "wrong code"', async () => {
    const { config, dir } = await project();
    const opened = await openRequest(config, { type: 'access', email: 'late@example.org', today: TODAY });
    const bad = wrong(lastCode(dir));
    for (let i = 0; i < 3; i++)
      await expect(verifyRequest(config, opened.id, { code: bad })).rejects.toMatchObject({
        code: 'E_WRONG_CODE',
      });
    // The 4th wrong code is committed; before its command answers, another one's 5th locks the
    // request (what 16 racing processes do now and then). The 4th still answers for itself.
    const store = StateStore.prototype as unknown as { appended: (entry: unknown) => Promise<void> };
    const appended = store.appended;
    let other = true;
    const spy = vi.spyOn(store, 'appended').mockImplementation(async function (this: unknown, entry) {
      await appended.call(this, entry);
      if (!other) return;
      other = false;
      await expect(verifyRequest(config, opened.id, { code: bad })).rejects.toMatchObject({
        code: 'E_REQUEST_LOCKED',
        message: expect.stringMatching(/^wrong code, the 5th/),
      });
    });
    try {
      await expect(verifyRequest(config, opened.id, { code: bad })).rejects.toMatchObject({
        code: 'E_WRONG_CODE',
        message: expect.stringMatching(/1 attempt\(s\) left/),
      });
    } finally {
      spy.mockRestore();
    }
    expect(other).toBe(false);
    const logged = kinds(join(dir, '.registre', 'state.sqlite'));
    expect(logged.filter((k) => k === 'request.verify-failed')).toHaveLength(4);
    expect(logged.filter((k) => k === 'request.locked')).toHaveLength(1);
  });
});

describe.each(SHARED)('18.12 parallel guesses, the state store on $name', (database) => {
  it('18.12 16 processes guessing at once: exactly 5 wrong codes counted, one lock entry', async () => {
    const created = database.name === 'sqlite' ? undefined : await database.create();
    try {
      const { config, dir } = await project('', created?.url);
      const opened = await openRequest(config, { type: 'access', email: 'race@example.org', today: TODAY });
      const bad = wrong(lastCode(dir));
      const runs = await race(
        16,
        dir,
        `verifyRequest(${JSON.stringify(config)}, ${opened.id}, { code: '${bad}' })`,
      );
      const logged = await kindsOf(config, dir);
      expect(logged.filter((k) => k === 'request.verify-failed')).toHaveLength(4);
      expect(logged.filter((k) => k === 'request.locked')).toHaveLength(1);
      // Each process answers for its own attempt: the four counted ones "wrong code", the fifth
      // (the lock) and the eleven refused after it "locked". No other answer.
      expect(
        runs.filter((r) => r.startsWith('E_WRONG_CODE')),
        runs.join('\n'),
      ).toHaveLength(4);
      expect(
        runs.filter((r) => r.startsWith('E_REQUEST_LOCKED')),
        runs.join('\n'),
      ).toHaveLength(12);
      expect(
        runs.filter((r) => r.startsWith('E_REQUEST_LOCKED: wrong code, the 5th')),
        runs.join('\n'),
      ).toHaveLength(1);
      expect((await showRequest(config, opened.id, TODAY)).status).toBe('locked');
    } finally {
      await created?.drop();
    }
  }, 180_000);

  it('18.24 four processes opening the same request at once open one', async () => {
    const created = database.name === 'sqlite' ? undefined : await database.create();
    try {
      const { config, dir } = await project('', created?.url);
      // The state store made first (four processes creating it at once is another race).
      await openRequest(config, { type: 'access', email: 'twice@example.org', today: TODAY });
      const runs = await race(
        4,
        dir,
        `openRequest(${JSON.stringify(config)}, { type: 'erasure', email: 'twice@example.org' })`,
      );
      expect(
        runs.filter((r) => r === 'ok'),
        runs.join('\n'),
      ).toHaveLength(1);
      expect(
        runs.filter((r) => r.startsWith('E_DUPLICATE')),
        runs.join('\n'),
      ).toHaveLength(3);
      // The request just opened by the winner is not yet "a code that could not be sent".
      expect(runs.filter((r) => r.includes('could not be sent'))).toEqual([]);
      expect((await kindsOf(config, dir)).filter((k) => k === 'request.open')).toHaveLength(2);
    } finally {
      await created?.drop();
    }
  }, 180_000);
});

describe('18.13 the state store edited by hand', () => {
  let config = '';
  let state = '';
  beforeAll(async () => {
    ({ config, state } = await project());
  });

  it('18.13 a request row set to verified by hand is refused (E_STATE_TAMPERED), nothing run', async () => {
    const email = await customerEmail(config);
    const opened = await openRequest(config, { type: 'erasure', email, today: TODAY });
    tamper(state, `UPDATE requests SET status = 'verified' WHERE id = ?`, opened.id);
    await expect(runRequest(config, opened.id, { today: TODAY })).rejects.toMatchObject({
      code: 'E_STATE_TAMPERED',
    });
    expect(await customerEmail(config)).toBe(email);
    await expect(showRequest(config, opened.id)).rejects.toMatchObject({ code: 'E_STATE_TAMPERED' });
  });

  it("18.13 a verified request given another person's address by hand is refused", async () => {
    const victim = await customerEmail(config, 1);
    const opened = await openRequest(config, { type: 'access', email: 'me@example.org', today: TODAY });
    await verifyRequest(config, opened.id, { manual: true, reason: 'desk' });
    tamper(state, 'UPDATE requests SET email = ? WHERE id = ?', victim, opened.id);
    await expect(
      runRequest(config, opened.id, { today: TODAY, out: mkdtempSync(join(tmpdir(), 'registre-out-')) }),
    ).rejects.toMatchObject({ code: 'E_STATE_TAMPERED' });
  });

  it('18.13 a row inserted into erasures is not replayed', async () => {
    const { config, state } = await project();
    const email = await customerEmail(config, 2);
    const opened = await openRequest(config, { type: 'erasure', email, today: TODAY });
    await verifyRequest(config, opened.id, { manual: true, reason: 'desk' });
    await runRequest(config, opened.id, { today: TODAY, at: TODAY });
    tamper(
      state,
      `INSERT INTO erasures (id, request_id, person, at_date, records, created_at, mac)
       SELECT 99, request_id, person, at_date, '[{"store":"shop","table":"customers","key":"5","action":"delete"}]', created_at, mac FROM erasures ORDER BY id LIMIT 1`,
    );
    await expect(replayErasures(config, { today: TODAY })).rejects.toMatchObject({
      code: 'E_STATE_TAMPERED',
    });
  });
});

describe('18.15 a run killed between the store commit and the request update', () => {
  it('18.15 SIGKILL after the erasure committed: the intent was logged; the rerun completes the entry', async () => {
    const { config, dir, state } = await project();
    const email = await customerEmail(config, 3);
    const opened = await openRequest(config, { type: 'erasure', email, today: TODAY });
    await verifyRequest(config, opened.id, { manual: true, reason: 'desk' });
    const shopFile = join(dir, 'shop.sqlite');
    const count = () => {
      const db = new Database(shopFile, { readonly: true });
      try {
        return (
          db.prepare('SELECT count(*) AS n FROM customers WHERE lower(trim(email)) = ?').get(email) as {
            n: number;
          }
        ).n;
      } finally {
        db.close();
      }
    };
    expect(count()).toBe(1);
    // The shop is locked for writing: the run logs its intent and waits at the store's commit.
    const shopLock = new Database(shopFile);
    shopLock.exec('BEGIN IMMEDIATE');
    const run = cli(['request', 'run', '--config', config, String(opened.id)], dir);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 2000 && !kinds(state).includes('request.run-intent'); i++) await sleep(10);
    expect(kinds(state)).toContain('request.run-intent');
    await sleep(300);
    // The state store locked in turn, the shop released: the store commits, the request's update waits.
    const stateLock = new Database(state);
    stateLock.exec('BEGIN IMMEDIATE');
    shopLock.exec('ROLLBACK');
    shopLock.close();
    for (let i = 0; i < 2000 && count() > 0; i++) await sleep(10);
    expect(count()).toBe(0);
    run.child.kill('SIGKILL');
    await run.done;
    stateLock.exec('ROLLBACK');
    stateLock.close();
    expect((await showRequest(config, opened.id, TODAY)).status).toBe('running');
    expect(kinds(state)).not.toContain('request.run');
    const rerun = await runRequest(config, opened.id, { today: TODAY });
    expect(rerun.resumed).toBe(true);
    expect(rerun.erased?.some((e) => e.table === 'customers')).toBe(true);
    expect((await showRequest(config, opened.id, TODAY)).status).toBe('done');
    const log = kinds(state);
    expect(log.filter((k) => k === 'request.run')).toHaveLength(1);
    expect(log.indexOf('request.run-intent')).toBeLessThan(log.indexOf('request.run'));
  }, 120_000);
});

describe('18.16 restrictions end with their request; no grounds against direct marketing', () => {
  it("18.16 hold release of a restriction's hold is refused: request restriction lift, logged", async () => {
    const { config, state } = await project();
    const email = await customerEmail(config, 4);
    const opened = await openRequest(config, { type: 'restriction', email, today: TODAY });
    await verifyRequest(config, opened.id, { manual: true, reason: 'desk' });
    const result = await runRequest(config, opened.id, { today: TODAY });
    expect(result.hold).toBeDefined();
    await expect(runHoldRelease(config, result.hold as number)).rejects.toThrow(
      `lift it with registre request restriction lift ${opened.id}`,
    );
    expect(kinds(state)).not.toContain('hold.release');
    const lifted = await liftRestriction(config, opened.id);
    expect(lifted.hold).toBe(result.hold);
    expect(kinds(state).slice(-2)).toEqual(['hold.release', 'request.lift']);
    await expect(liftRestriction(config, opened.id)).rejects.toThrow(/already lifted/);
  });

  it('18.16 --grounds on an objection to direct marketing is refused, nothing run', async () => {
    const { config, state } = await project();
    const opened = await openRequest(config, {
      type: 'objection',
      email: 'prospect@example.org',
      purpose: 'prospect-follow-up',
      today: TODAY,
    });
    await verifyRequest(config, opened.id, { manual: true, reason: 'desk' });
    await expect(
      runRequest(config, opened.id, { today: TODAY, grounds: 'we want to keep calling' }),
    ).rejects.toThrow(/direct marketing/);
    expect(kinds(state)).not.toContain('request.run');
    expect((await showRequest(config, opened.id, TODAY)).status).toBe('verified');
  });
});

describe('18.24 a failed send, racing opens', () => {
  it('18.24 the SMTP server unreachable: the request is recorded with the send failed; send-code retries', async () => {
    const { config, dir } = await project('mail:\n  smtp: smtp://127.0.0.1:1\n  from: dpo@example.org\n');
    const opened = await openRequest(config, { type: 'access', email: 'down@example.org', today: TODAY });
    expect(opened.code).toEqual({ sent: 0, via: 'failed' });
    expect((await showRequest(config, opened.id, TODAY)).code?.via).toBe('failed');
    await expect(
      openRequest(config, { type: 'access', email: 'down@example.org', today: TODAY }),
    ).rejects.toThrow(
      `its identity code could not be sent: send it again with request send-code ${opened.id}`,
    );
    await expect(resendCode(config, opened.id)).rejects.toMatchObject({ code: 'E_MAIL' });
    // The mail server back (here: the outbox), send-code sends it; failures were not counted.
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^mail:\n.*\n.*\n/m, ''));
    const sent = await resendCode(config, opened.id);
    expect(sent.code).toEqual({ sent: 1, via: 'outbox' });
    expect((await verifyRequest(config, opened.id, { code: lastCode(dir) })).status).toBe('verified');
    const text = cli(['request', 'show', '--config', config, String(opened.id)], dir);
    expect((await text.done).code).toBe(0);
  });
});

describe('18.24 a process killed between the open and the code', () => {
  it('18.24 kill -9 before the code is sent: a reopen within the minute is a plain duplicate, later it says send-code', async () => {
    const { config, dir } = await project();
    const pause = mkdtempSync(join(tmpdir(), 'registre-pause-'));
    const opening = spawn(
      process.execPath,
      [BIN, '--config', config, 'request', 'open', '--type', 'access', '--email', 'killed@example.org'],
      {
        cwd: dir,
        env: {
          ...process.env,
          REGISTRE_TEST_PAUSE_AT: 'request-before-code',
          REGISTRE_TEST_PAUSE_DIR: pause,
        },
      },
    );
    const closed = new Promise((r) => opening.on('close', r));
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(pause, 'request-before-code.paused')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(pause, 'request-before-code.paused'))).toBe(true);
    opening.kill('SIGKILL');
    await closed;
    // Recorded, no code: within the minute, the opener may still be sending it.
    const again = openRequest(config, { type: 'access', email: 'killed@example.org', today: TODAY });
    await expect(again).rejects.toMatchObject({ code: 'E_DUPLICATE' });
    await expect(again).rejects.not.toThrow(/could not be sent/);
    // Two minutes on, nobody is: the duplicate says how to send it.
    const inTwoMinutes = Date.now() + 120_000;
    const later = vi.spyOn(Date, 'now').mockReturnValue(inTwoMinutes);
    try {
      await expect(
        openRequest(config, { type: 'access', email: 'killed@example.org', today: TODAY }),
      ).rejects.toThrow(/its identity code could not be sent: send it again with request send-code 1$/);
    } finally {
      later.mockRestore();
    }
    expect((await resendCode(config, 1)).code).toEqual({ sent: 1, via: 'outbox' });
    expect((await verifyRequest(config, 1, { code: lastCode(dir) })).status).toBe('verified');
  });
});

describe('18.19 the address after an erasure', () => {
  it('18.19 erased: no request of the person keeps the address, no outbox file keeps a used code', async () => {
    const { config, dir, state } = await project();
    const email = await customerEmail(config, 5);
    const access = await openRequest(config, { type: 'access', email, today: TODAY });
    await verifyRequest(config, access.id, { code: lastCode(dir) });
    await runRequest(config, access.id, { today: TODAY, out: mkdtempSync(join(tmpdir(), 'registre-out-')) });
    const rectification = await openRequest(config, {
      type: 'rectification',
      email,
      set: [`email=${email.replace('@', '.new@')}`],
      today: TODAY,
    });
    await refuseRequest(config, rectification.id, 'manifestly unfounded');
    const erasure = await openRequest(config, { type: 'erasure', email, today: TODAY });
    await verifyRequest(config, erasure.id, { code: lastCode(dir) });
    await runRequest(config, erasure.id, { today: TODAY, at: TODAY });
    const db = new Database(state, { readonly: true });
    const rows = db.prepare('SELECT id, email, details FROM requests').all() as {
      email: string | null;
      details: string;
    }[];
    db.close();
    const local = email.split('@')[0] as string;
    expect(rows.filter((r) => r.email?.includes(local) || r.details.includes(local))).toEqual([]);
    // One exception (item 23): the erasure's completion letter, which the person must receive
    // (art. 12(3)); the codes and the letters of the person's other requests are gone.
    const holding = outbox(dir).filter((name) =>
      readFileSync(join(dir, '.registre', 'outbox', name), 'utf8').includes(local),
    );
    expect(holding).toEqual(
      outbox(dir).filter((n) => n.includes(`-request-${erasure.id}-letter-completion-`)),
    );
    expect(holding).toHaveLength(1);
  });
});
