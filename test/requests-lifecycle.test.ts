/**
 * A request's life: deadlines (art. 12(3)), duplicates, identity codes (15 minutes, 5 attempts,
 * by SMTP or the outbox), refusal, the audit trail without an address; and the command's exit
 * codes for bad input, in a real process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  extendRequest,
  liftRestriction,
  listRequests,
  openRequest,
  refuseRequest,
  runAuditExport,
  runDemo,
  runRequest,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'registre.js');
const TODAY = '2026-11-27';

function registre(args: string[], cwd: string) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A small demo shop with its configuration; `extra` is appended to registre.yaml. */
async function project(extra = ''): Promise<{ dir: string; config: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'registre-lifecycle-'));
  const { config } = await runDemo({ out: dir, customers: 30, seed: 3, at: TODAY });
  if (extra) writeFileSync(config, `${readFileSync(config, 'utf8')}${extra}`);
  return { dir, config };
}

function codeIn(text: string): string {
  const match = /verification code is (\d{6})/.exec(text);
  if (!match) throw new Error('no code in the message');
  return match[1] as string;
}

function lastCode(dir: string): string {
  const outbox = join(dir, '.registre', 'outbox');
  return codeIn(readFileSync(join(outbox, readdirSync(outbox).sort().pop() as string), 'utf8'));
}

describe('deadlines, duplicates, extension, refusal', () => {
  let config = '';
  let dir = '';
  beforeAll(async () => {
    ({ config, dir } = await project());
  });

  it('due one month after receipt, clamped to the month end; an extension only within the first month', async () => {
    const jan = await openRequest(config, {
      type: 'access',
      email: 'a1@example.org',
      received: '2027-01-31',
      today: '2027-02-01',
    });
    expect(jan).toMatchObject({ status: 'received', received: '2027-01-31', due: '2027-02-28' });
    const leap = await openRequest(config, {
      type: 'access',
      email: 'a2@example.org',
      received: '2028-01-31',
      today: '2028-02-01',
    });
    expect(leap.due).toBe('2028-02-29');
    // Within the first month: two further months, with a reason.
    const extended = await extendRequest(config, jan.id, 2, 'several stores and the archive', {
      today: '2027-02-28',
    });
    expect(extended.due).toBe('2027-04-30');
    await expect(extendRequest(config, jan.id, 1, 'again', { today: '2027-02-28' })).rejects.toThrow(
      /already extended/,
    );
    // After it: refused.
    await expect(extendRequest(config, leap.id, 1, 'late', { today: '2028-03-01' })).rejects.toMatchObject({
      code: 'E_TOO_LATE',
    });
    await expect(extendRequest(config, leap.id, 3, 'three', { today: '2028-02-02' })).rejects.toThrow(
      /1 or 2/,
    );
    await expect(extendRequest(config, leap.id, 1, ' ', { today: '2028-02-02' })).rejects.toThrow(/reason/);
  });

  it('a second open request of the same type for the same person is a duplicate', async () => {
    const first = await openRequest(config, { type: 'erasure', email: 'Dup@Example.org', today: TODAY });
    await expect(
      openRequest(config, { type: 'erasure', email: ' dup@example.org ', today: TODAY }),
    ).rejects.toThrow(
      `request ${first.id} (erasure, received ${TODAY}) of the same person is still open: this one is a duplicate`,
    );
    // Another type is another request; a refused one no longer blocks.
    await openRequest(config, { type: 'access', email: 'dup@example.org', today: TODAY });
    await expect(refuseRequest(config, first.id, ' ')).rejects.toThrow(/reason/);
    expect((await refuseRequest(config, first.id, 'manifestly excessive', { today: TODAY })).status).toBe(
      'refused',
    );
    await openRequest(config, { type: 'erasure', email: 'dup@example.org', today: TODAY });
  });

  it('list --overdue shows exactly the late ones, overdue first in the full list', async () => {
    const late = await openRequest(config, {
      type: 'portability',
      email: 'late@example.org',
      received: '2026-09-01',
      today: TODAY,
    });
    const onTime = await openRequest(config, {
      type: 'portability',
      email: 'ontime@example.org',
      received: '2026-11-20',
      today: TODAY,
    });
    const closed = await openRequest(config, {
      type: 'restriction',
      email: 'closed@example.org',
      received: '2026-08-01',
      today: TODAY,
    });
    await refuseRequest(config, closed.id, 'not the person', { today: TODAY });
    const overdue = await listRequests(config, { overdue: true, today: TODAY });
    // The January requests of the first test are not late on TODAY (they are in the future).
    expect(overdue.map((r) => r.id)).toEqual([late.id]);
    expect(overdue[0]).toMatchObject({ due: '2026-10-01', daysLeft: -57, overdue: true });
    const all = await listRequests(config, { today: TODAY });
    expect(all[0]?.id).toBe(late.id);
    expect(all.find((r) => r.id === onTime.id)).toMatchObject({ overdue: false, daysLeft: 23 });
    expect(all.at(-1)?.status).toMatch(/refused|done/);
  });

  it('the audit log holds every step with its actor and the keyed hash, never the address', async () => {
    const log = await runAuditExport(config);
    const kinds = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).kind);
    for (const kind of ['request.open', 'request.code', 'request.extend', 'request.refuse'])
      expect(kinds).toContain(kind);
    expect(log).not.toMatch(/@example\.org/i);
    expect(log).not.toContain('manifestly excessive');
    const opened = JSON.parse(
      log
        .trim()
        .split('\n')
        .find((l) => JSON.parse(l).kind === 'request.open') as string,
    );
    expect(opened.data).toMatchObject({
      actor: expect.stringMatching(/^os:/),
      person: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(readdirSync(join(dir, '.registre', 'outbox')).length).toBeGreaterThan(5);
  });
});

describe('bad input: a clear error, nothing recorded', () => {
  let config = '';
  beforeAll(async () => {
    ({ config } = await project());
  });

  it('open refuses what it cannot carry out, and records no request', async () => {
    const cases: [Parameters<typeof openRequest>[1], RegExp][] = [
      [{ type: 'forget', email: 'a@example.org' }, /--type forget: one of access, erasure/],
      [{ type: 'access', email: 'not an address' }, /is not an e-mail address/],
      [{ type: 'access', email: 'a@example.org', received: '2027-02-30' }, /--received/],
      [{ type: 'access', email: 'a@example.org', received: '2026-12-01', today: TODAY }, /is after today/],
      [{ type: 'objection', email: 'a@example.org' }, /names the purpose objected to: --purpose P/],
      [{ type: 'objection', email: 'a@example.org', purpose: 'nope' }, /no such purpose in the register/],
      [
        { type: 'objection', email: 'a@example.org', purpose: 'invoice-retention' },
        /rests on legal-obligation/,
      ],
      [{ type: 'rectification', email: 'a@example.org' }, /says what to correct: --set field=value/],
      [{ type: 'rectification', email: 'a@example.org', set: ['shoe_size=42'] }, /--set shoe_size: no table/],
      [{ type: 'rectification', email: 'a@example.org', set: ['email=nowhere'] }, /is not an e-mail address/],
      [{ type: 'rectification', email: 'a@example.org', set: ['=x'] }, /field=value/],
    ];
    for (const [options, message] of cases)
      await expect(openRequest(config, options)).rejects.toThrow(message);
    expect(await listRequests(config, { today: TODAY })).toEqual([]);
  });

  it('run, lift and verify refuse what does not apply, and change nothing', async () => {
    const access = await openRequest(config, { type: 'access', email: 'b@example.org', today: TODAY });
    await verifyRequest(config, access.id, { manual: true, reason: 'desk' });
    await expect(runRequest(config, access.id, { today: TODAY })).rejects.toThrow(/--out DIR/);
    await expect(runRequest(config, access.id, { today: TODAY, at: '2026-12-01' })).rejects.toThrow(
      /after today/,
    );
    await expect(runRequest(config, access.id, { today: TODAY, onBehalfOf: '1' })).rejects.toThrow(
      /only an erasure is executed on a controller's instruction/,
    );
    await expect(verifyRequest(config, access.id, { code: '123456' })).rejects.toThrow(/already verified/);
    await expect(liftRestriction(config, access.id)).rejects.toThrow(/is not a restriction in force/);
    await expect(runRequest(config, 99, { today: TODAY })).rejects.toThrow('there is no request 99');
    expect((await showRequest(config, access.id, TODAY)).status).toBe('verified');
  });

  it('without the HMAC key, no request is opened', async () => {
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, ''));
    await expect(
      openRequest(config, { type: 'access', email: 'c@example.org', today: TODAY }),
    ).rejects.toMatchObject({
      code: 'E_NO_HMAC_KEY',
    });
  });
});

describe('identity verification', () => {
  let config = '';
  let dir = '';
  beforeAll(async () => {
    ({ config, dir } = await project());
  });

  it('an unverified request cannot run; five wrong codes lock it; the DPO then verifies by hand', async () => {
    const opened = await openRequest(config, { type: 'access', email: 'v@example.org', today: TODAY });
    await expect(runRequest(config, opened.id, { out: join(dir, 'x'), today: TODAY })).rejects.toMatchObject({
      code: 'E_NOT_VERIFIED',
    });
    const right = lastCode(dir);
    const wrong = right === '000000' ? '000001' : '000000';
    for (let left = 4; left >= 1; left--)
      await expect(verifyRequest(config, opened.id, { code: wrong })).rejects.toThrow(
        `${left} attempt(s) left`,
      );
    await expect(verifyRequest(config, opened.id, { code: wrong })).rejects.toMatchObject({
      code: 'E_REQUEST_LOCKED',
    });
    // Locked: even the right code no longer opens it.
    await expect(verifyRequest(config, opened.id, { code: right })).rejects.toMatchObject({
      code: 'E_REQUEST_LOCKED',
    });
    expect((await showRequest(config, opened.id, TODAY)).status).toBe('locked');
    await expect(verifyRequest(config, opened.id, { manual: true, reason: '' })).rejects.toThrow(
      /how the identity/,
    );
    const manual = await verifyRequest(config, opened.id, {
      manual: true,
      reason: 'ID card checked at the desk',
    });
    expect(manual.status).toBe('verified');
  });

  it('a request runs once, even when two runs start together', async () => {
    const opened = await openRequest(config, { type: 'erasure', email: 'twice@example.org', today: TODAY });
    await verifyRequest(config, opened.id, { manual: true, reason: 'desk' });
    const runs = await Promise.allSettled([
      runRequest(config, opened.id, { today: TODAY }),
      runRequest(config, opened.id, { today: TODAY }),
    ]);
    expect(runs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = runs.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(['E_LOCK_HELD', 'E_REQUEST_CLOSED']).toContain(refused.reason.code);
    const log = await runAuditExport(config);
    const runsLogged = log
      .trim()
      .split('\n')
      .filter((l) => JSON.parse(l).kind === 'request.run' && JSON.parse(l).data.request === opened.id);
    expect(runsLogged).toHaveLength(1);
  });

  it('a code is valid 15 minutes', async () => {
    const opened = await openRequest(config, {
      type: 'access',
      email: 'late-code@example.org',
      today: TODAY,
    });
    const code = lastCode(dir);
    const later = new Date(Date.now() + 16 * 60_000);
    await expect(verifyRequest(config, opened.id, { code }, { now: later })).rejects.toMatchObject({
      code: 'E_CODE_EXPIRED',
    });
    expect(
      (await verifyRequest(config, opened.id, { code }, { now: new Date(Date.now() + 14 * 60_000) })).status,
    ).toBe('verified');
  });

  it('the code reaches an SMTP server (smtp-server on loopback)', async () => {
    const received: string[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, _session, callback) {
        let text = '';
        stream.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        stream.on('end', () => {
          received.push(text);
          callback();
        });
      },
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.server.address() as { port: number }).port;
    try {
      const smtp = await project(
        `mail:\n  smtp: smtp://127.0.0.1:${port}\n  from: dpo@negomarkets.example\n`,
      );
      const opened = await openRequest(smtp.config, {
        type: 'access',
        email: 'smtp@example.org',
        today: TODAY,
      });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatch(/^To: smtp@example\.org/m);
      const code = codeIn(received[0]?.replace(/=\r?\n/g, '') ?? '');
      expect((await verifyRequest(smtp.config, opened.id, { code })).status).toBe('verified');
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});

describe('registre request, in a real process', () => {
  let dir = '';
  beforeAll(async () => {
    ({ dir } = await project());
  });

  it('open prints the request as JSON; an unknown person gets an honest empty answer (exit 0)', () => {
    const opened = registre(
      [
        'request',
        'open',
        '--type',
        'access',
        '--email',
        'nobody@example.org',
        '--received',
        '2026-11-20',
        '--json',
      ],
      dir,
    );
    expect(opened.code).toBe(0);
    const request = JSON.parse(opened.stdout);
    expect(request).toEqual({
      id: 1,
      type: 'access',
      status: 'received',
      received: '2026-11-20',
      due: '2026-12-20',
    });
    const unverified = registre(['request', 'run', '1', '--out', 'pkg'], dir);
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toContain("the person's identity is not verified");
    expect(registre(['request', 'verify', '1', '--code', lastCode(dir)], dir).code).toBe(0);
    const run = registre(['request', 'run', '1', '--out', 'pkg'], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('we hold no data about you');
    const listed = registre(['request', 'list', '--json'], dir);
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ id: 1, status: 'done' });
  });

  it('bad input: a malformed address, an unknown request, a missing choice', () => {
    const bad = registre(['request', 'open', '--type', 'access', '--email', 'jeanne.example.org'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"jeanne.example.org" is not an e-mail address');
    const unknown = registre(['request', 'show', '999'], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('there is no request 999');
    expect(registre(['request', 'show', 'one'], dir).code).toBe(2);
    expect(registre(['request', 'open', '--type', 'forget', '--email', 'a@example.org'], dir).code).toBe(2);
    expect(registre(['request', 'verify', '1'], dir).code).toBe(2);
  });
});
