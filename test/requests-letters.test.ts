/**
 * Issue 18 item 23: what the person receives. A refusal, an extension and a carried-out request
 * each send a letter in the person's language by the transport of the codes, recorded on the
 * request (`request show` lists it) and in the audit log without the address; a failed one is
 * sent again by `request send-letters`, after an erasure with the address given again. `request
 * open` says "sent" only when it was sent, "written to the outbox" only when it was.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { withShop } from './shop-helpers.js';
import {
  openRequest,
  refuseRequest,
  runDemo,
  runRequest,
  sendLetters,
  showRequest,
  verifyRequest,
} from './use-cases.js';

const TODAY = '2026-11-27';

async function project(extra = ''): Promise<{ dir: string; config: string; state: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'registre-letters-'));
  const { config } = await runDemo({ out: dir, customers: 30, seed: 3, at: TODAY });
  if (extra) writeFileSync(config, `${readFileSync(config, 'utf8')}${extra}`);
  return { dir, config, state: join(dir, '.registre', 'state.sqlite') };
}

/** A message as the person reads it: quoted-printable undone. */
function decoded(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = /^=([0-9A-F]{2})/.exec(joined.slice(i, i + 3));
    if (hex) {
      bytes.push(Number.parseInt(hex[1] as string, 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i] as string, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function outbox(dir: string): string[] {
  try {
    return readdirSync(join(dir, '.registre', 'outbox')).sort();
  } catch {
    return [];
  }
}

const read = (dir: string, name: string) =>
  decoded(readFileSync(join(dir, '.registre', 'outbox', name), 'utf8'));

function lastCode(dir: string): string {
  const name = outbox(dir)
    .filter((n) => /-request-\d+-code-/.test(n))
    .pop() as string;
  const match = /(?:verification code is|code de vérification est) (\d{6})/.exec(read(dir, name));
  if (!match) throw new Error('no code in the outbox');
  return match[1] as string;
}

function letterFiles(dir: string, id: number, kind: string): string[] {
  return outbox(dir).filter((n) => n.includes(`-request-${id}-letter-${kind}-`));
}

/** The audit log's entries (kind and data), read from the SQLite state store. */
function audit(state: string): { kind: string; data: string }[] {
  const db = new Database(state, { readonly: true });
  try {
    return db.prepare('SELECT kind, data FROM audit_log ORDER BY position').all() as {
      kind: string;
      data: string;
    }[];
  } finally {
    db.close();
  }
}

/** A customer's address: one with invoices (kept after an erasure), by offset. */
async function customerWithInvoices(config: string, offset = 0): Promise<string> {
  return withShop(config, async (conn) => {
    const row = await conn.db
      .selectFrom('customers')
      .innerJoin('invoices', 'invoices.customer_id', 'customers.id')
      .select('customers.email')
      .distinct()
      .orderBy('customers.email')
      .offset(offset)
      .limit(1)
      .executeTakeFirstOrThrow();
    return String(row.email).trim().toLowerCase();
  });
}

/** The CLI in this process: its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

/** An SMTP server on loopback keeping what it receives. */
function smtpServer() {
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
        received.push(decoded(text.replace(/\r\n/g, '\n')));
        callback();
      });
    },
  });
  return {
    received,
    start: async () => {
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      return (server.server.address() as { port: number }).port;
    },
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('18.23 letters to the person, by the outbox', () => {
  let dir = '';
  let config = '';
  let state = '';
  beforeAll(async () => {
    ({ dir, config, state } = await project());
  });

  it('18.23 refuse sends the refusal letter (reason, CNIL, court) in the language given at open; show lists it', async () => {
    const email = await customerWithInvoices(config, 0);
    const opened = await openRequest(config, { type: 'access', email, lang: 'fr', today: TODAY });
    const code = read(dir, outbox(dir).pop() as string);
    // The code message, in French only: which request, what to do, what if you did not ask.
    expect(code).toContain("demande d'accès à vos données personnelles (RGPD, art. 15)");
    expect(code).toContain(`(n° ${opened.id})`);
    expect(code).toContain("Si vous n'avez rien demandé, ignorez ce message");
    expect(code).not.toContain('Your verification code');
    const refused = await refuseRequest(config, opened.id, 'demande manifestement excessive', {
      today: TODAY,
    });
    expect(refused.letterError).toBeUndefined();
    const files = letterFiles(dir, opened.id, 'refusal');
    expect(files).toHaveLength(1);
    const letter = read(dir, files[0] as string);
    expect(letter).toMatch(new RegExp(`^To: ${email.replace(/[.+]/g, '\\$&')}`, 'm'));
    expect(letter).toContain('demande manifestement excessive');
    expect(letter).toContain('3 Place de Fontenoy, TSA 80715, 75334 Paris Cedex 07');
    expect(letter).toContain('recours juridictionnel');
    expect(letter).not.toContain('judicial remedy');
    const shown = await cli(['request', 'show', '--config', config, String(opened.id)]);
    expect(shown.out).toMatch(/refusal letter, .*: written to the outbox/);
    const entries = audit(state).filter((e) => e.kind === 'request.letter');
    expect(entries.map((e) => JSON.parse(e.data))).toContainEqual(
      expect.objectContaining({ request: opened.id, letter: 'refusal', via: 'outbox' }),
    );
    for (const e of audit(state)) expect(e.data).not.toContain(email.split('@')[0]);
  });

  it('18.23 extend sends the extension letter: reason, new deadline, art. 12(3); the CLI says where it went', async () => {
    const email = await customerWithInvoices(config, 1);
    const opened = await openRequest(config, { type: 'access', email, lang: 'en', today: TODAY });
    const extended = await cli([
      'request',
      'extend',
      '--config',
      config,
      String(opened.id),
      '--months',
      '2',
      '--reason',
      'several stores and the archive',
    ]);
    expect(extended.code).toBe(0);
    expect(extended.out).toContain('the extension letter was written to the outbox, not sent');
    const letter = read(dir, letterFiles(dir, opened.id, 'extension')[0] as string);
    expect(letter).toContain('several stores and the archive');
    expect(letter).toContain('by 2 months');
    const due = (await showRequest(config, opened.id)).due;
    expect(letter).toContain(`by ${Number(due.slice(8))} `);
    expect(letter).toContain('up to two further months');
    expect(letter).not.toContain('Bonjour');
  });

  it('18.23 an access carried out: the completion letter with the package attached, or none with --delivery none', async () => {
    const email = await customerWithInvoices(config, 2);
    const opened = await openRequest(config, { type: 'access', email, lang: 'en', today: TODAY });
    await verifyRequest(config, opened.id, { code: lastCode(dir) });
    const out = mkdtempSync(join(tmpdir(), 'registre-letters-out-'));
    const run = await runRequest(config, opened.id, { today: TODAY, out });
    expect(run.letter).toEqual({ via: 'outbox' });
    const letter = read(dir, letterFiles(dir, opened.id, 'completion')[0] as string);
    expect(letter).toContain('These files are attached to this message.');
    expect(letter).toMatch(/Content-Disposition: attachment; filename=access\.html/);
    expect(letter).toMatch(/Content-Disposition: attachment; filename=access\.json/);

    const second = await openRequest(config, { type: 'access', email, today: TODAY });
    await verifyRequest(config, second.id, { code: lastCode(dir) });
    const none = await cli([
      'request',
      'run',
      '--config',
      config,
      String(second.id),
      '--out',
      mkdtempSync(join(tmpdir(), 'registre-letters-out-')),
      '--delivery',
      'none',
    ]);
    expect(none.code).toBe(0);
    expect(none.out).toContain('no completion letter was sent (--delivery none)');
    expect(letterFiles(dir, second.id, 'completion')).toEqual([]);
    expect((await showRequest(config, second.id)).lettersOwed).toBeUndefined();
    expect(audit(state).map((e) => JSON.parse(e.data))).toContainEqual(
      expect.objectContaining({ request: second.id, letter: 'completion', via: 'none' }),
    );
  });

  it('18.23 an erasure carried out: the completion letter says what was erased and what was kept, why and until when; only it keeps the address', async () => {
    const email = await customerWithInvoices(config, 3);
    const local = email.split('@')[0] as string;
    const access = await openRequest(config, { type: 'access', email, lang: 'fr', today: TODAY });
    await verifyRequest(config, access.id, { code: lastCode(dir) });
    await runRequest(config, access.id, { today: TODAY, out: mkdtempSync(join(tmpdir(), 'registre-out-')) });
    expect(letterFiles(dir, access.id, 'completion')).toHaveLength(1);
    const erasure = await openRequest(config, { type: 'erasure', email, lang: 'fr', today: TODAY });
    await verifyRequest(config, erasure.id, { code: lastCode(dir) });
    const run = await runRequest(config, erasure.id, { today: TODAY, at: TODAY });
    expect(run.kept?.some((k) => k.table === 'invoices')).toBe(true);
    const [file] = letterFiles(dir, erasure.id, 'completion');
    const letter = read(dir, file as string);
    expect(letter).toContain('Effacé :');
    expect(letter).toMatch(/Factures \(\d+\) : conservé\(s\) pour respecter une obligation légale/);
    expect(letter).toMatch(/jusqu'au \d+(er)? \S+ \d{4}, puis effacé/);
    expect(letter).toContain('Fontenoy');
    // 18.19 with its one exception: the erasure's completion letter, which the person must get.
    const holding = outbox(dir).filter((n) => read(dir, n).includes(local));
    expect(holding).toEqual([file]);
    const db = new Database(state, { readonly: true });
    const rows = db.prepare('SELECT email, details, outcome FROM requests').all() as Record<
      string,
      string | null
    >[];
    db.close();
    expect(rows.filter((r) => JSON.stringify(r).includes(local))).toEqual([]);
    for (const e of audit(state)) expect(e.data).not.toContain(local);
  });
});

describe('18.23 by SMTP', () => {
  const smtp = smtpServer();
  let port = 0;
  beforeAll(async () => {
    port = await smtp.start();
  });
  afterAll(() => smtp.stop());

  it('18.23 request open says "sent" when SMTP sent the code, "written to the outbox" only when it was', async () => {
    const mailed = await project(
      `mail:\n  smtp: smtp://127.0.0.1:${port}\n  from: dpo@negomarkets.example\n`,
    );
    const before = smtp.received.length;
    const sent = await cli([
      'request',
      'open',
      '--config',
      mailed.config,
      '--type',
      'access',
      '--email',
      'smtp-letters@example.org',
    ]);
    expect(sent.code).toBe(0);
    expect(smtp.received.length).toBe(before + 1);
    expect(sent.out).toContain('the identity code was sent to the address');
    expect(sent.out).not.toContain('outbox');
    expect(outbox(mailed.dir)).toEqual([]);

    const local = await project();
    const written = await cli([
      'request',
      'open',
      '--config',
      local.config,
      '--type',
      'access',
      '--email',
      'outbox-letters@example.org',
    ]);
    expect(written.code).toBe(0);
    expect(written.out).toContain('the identity code was written to the outbox, not sent');
    expect(written.out).not.toContain('was sent to the address');
    expect(outbox(local.dir)).toHaveLength(1);
  });

  it('18.23 a letter whose send failed is recorded, owed, and sent again by send-letters (after an erasure, with --email)', async () => {
    const { dir, config, state } = await project();
    const email = await customerWithInvoices(config, 4);
    const local = email.split('@')[0] as string;
    const erasure = await openRequest(config, { type: 'erasure', email, lang: 'en', today: TODAY });
    await verifyRequest(config, erasure.id, { code: lastCode(dir) });
    // The mail server now unreachable: the erasure is done all the same, its letter failed.
    writeFileSync(
      config,
      `${readFileSync(config, 'utf8')}mail:\n  smtp: smtp://127.0.0.1:1\n  from: dpo@negomarkets.example\n`,
    );
    const run = await cli(['request', 'run', '--config', config, String(erasure.id)]);
    expect(run.code).toBe(1);
    expect(run.out).toContain(`the completion letter could not be sent (the message could not be sent: `);
    expect(run.out).toContain(`registre request send-letters ${erasure.id} --email ADDRESS`);
    expect(`${run.out}${run.err}`).not.toContain(local);
    const shown = await showRequest(config, erasure.id);
    expect(shown.status).toBe('done');
    expect(shown.lettersOwed).toEqual(['completion']);
    expect(shown.letters?.map((l) => [l.kind, l.via])).toEqual([['completion', 'failed']]);
    const failed = audit(state).filter((e) => e.kind === 'request.letter-failed');
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]?.data as string)).toMatchObject({
      request: erasure.id,
      letter: 'completion',
    });
    for (const e of audit(state)) expect(e.data).not.toContain(local);

    // The address is gone from the request: it must be given, and only the person's is taken.
    await expect(sendLetters(config, erasure.id)).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(sendLetters(config, erasure.id, { email: 'someone.else@example.org' })).rejects.toThrow(
      /is not the address of the person who made request/,
    );
    // Still unreachable: failed again, still owed.
    const again = await sendLetters(config, erasure.id, { email });
    expect(again.letters).toEqual([expect.objectContaining({ kind: 'completion', via: 'failed' })]);
    expect(again.request.lettersOwed).toEqual(['completion']);

    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('smtp://127.0.0.1:1', `smtp://127.0.0.1:${port}`),
    );
    const before = smtp.received.length;
    const retried = await cli([
      'request',
      'send-letters',
      '--config',
      config,
      String(erasure.id),
      '--email',
      email,
    ]);
    expect(retried.code).toBe(0);
    expect(retried.out).toContain(`request ${erasure.id}: the completion letter was sent to the person`);
    expect(smtp.received.length).toBe(before + 1);
    const letter = smtp.received.at(-1) as string;
    expect(letter).toMatch(new RegExp(`^To: ${email.replace(/[.+]/g, '\\$&')}`, 'm'));
    expect(letter).toContain('Erased:');
    expect(letter).toContain('Invoices');
    expect((await showRequest(config, erasure.id)).lettersOwed).toBeUndefined();
    await expect(sendLetters(config, erasure.id, { email })).rejects.toMatchObject({ code: 'E_NO_LETTER' });
    // Nothing kept the address: not the request, not the log, not the outbox.
    const db = new Database(state, { readonly: true });
    const rows = db.prepare('SELECT email, details, outcome FROM requests').all();
    db.close();
    expect(JSON.stringify(rows)).not.toContain(local);
    for (const e of audit(state)) expect(e.data).not.toContain(local);
    for (const name of outbox(dir)) expect(read(dir, name)).not.toContain(local);
  });
});
