/**
 * Errors from outside registre print no address (issue 18, item 18): an SMTP server refusing the
 * recipient, a database trigger whose message quotes the row's address, MariaDB's "Data too long"
 * are reduced to their code and a fixed text in output, messages and the audit log.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { safeMessage } from '../src/core/safe-message.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { withShop } from './shop-helpers.js';
import { openRequest, resendCode, runDemo, runRequest, verifyRequest, withState } from './use-cases.js';

const AT = '2026-11-27';
const KEY = 'errors-key-0123456789-abcdefghijklmnopqrstu';
const BIN = join(resolve(import.meta.dirname, '..'), 'bin', 'registre.js');
const run = promisify(execFile);

async function registre(args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function project(store?: string, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'registre-errors-'));
  const { config } = await runDemo({ out: dir, customers: 0, seed: 1, at: AT, ...(store ? { store } : {}) });
  process.env.REGISTRE_ERRORS_HMAC_KEY = KEY;
  writeFileSync(
    config,
    `${readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_ERRORS_HMAC_KEY')}${extra}`,
  );
  return { dir, config };
}

const auditText = (config: string) =>
  withState(config, 'read', async (state) => JSON.stringify(await state.auditEntries()));

describe('18.18 an SMTP server that refuses the recipient', () => {
  let server: SMTPServer;
  let port = 0;
  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onRcptTo(address, _session, callback) {
        callback(
          Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected`), {
            responseCode: 550,
          }),
        );
      },
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('18.18 says 550 and a fixed text, never the address, in the error, the CLI and the log', async () => {
    const { dir, config } = await project(undefined, `mail:\n  smtp: smtp://127.0.0.1:${port}\n`);
    // The request is recorded with its send marked failed (item 24); why is said without the address.
    const opened = await openRequest(config, {
      type: 'access',
      email: 'refused.person@example.org',
      today: AT,
    });
    expect(opened.code?.via).toBe('failed');
    expect(opened.mailError).toContain('550');
    // The DPO's view names who asked while the request is open (item 25); nothing else holds it.
    expect(opened.askedBy).toBe('refused.person@example.org');
    expect(JSON.stringify({ ...opened, askedBy: undefined })).not.toContain('refused.person');
    const retried = await resendCode(config, opened.id).catch((e: Error) => e);
    expect(retried).toBeInstanceOf(Error);
    expect((retried as Error).message).toContain('550');
    expect((retried as Error).message).not.toContain('refused.person');
    expect((retried as Error & { cause?: unknown }).cause).toBeUndefined();
    const cli = await registre(
      [
        'request',
        'open',
        '--type',
        'access',
        '--email',
        'other.refused@example.org',
        '--config',
        config,
        '--verbose',
      ],
      dir,
    );
    expect(`${cli.stdout}${cli.stderr}`).toContain('550');
    // Only the line naming who asked, for the DPO who typed it, holds the address (item 25).
    expect(`${cli.stdout}${cli.stderr}`.replace('asked by other.refused@example.org', '')).not.toContain(
      'other.refused',
    );
    const log = await auditText(config);
    expect(log).not.toContain('refused.person');
    expect(log).not.toContain('other.refused');
  });
});

describe.each(DIALECTS)('18.18 database messages on $name', (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    ({ config, dir } = await project(created.url));
    await withShop(config, async (conn) => {
      await conn.db
        .insertInto('customers')
        .values({
          id: 1,
          email: 'kept.by.trigger@example.org',
          first_name: 'F',
          last_name: 'L',
          created_at: '2026-01-01 10:00:00',
        })
        .execute();
      // The shop's own trigger, whose message quotes the row's address.
      if (conn.dialect === 'sqlite')
        await sql
          .raw(
            "CREATE TRIGGER keep_customer BEFORE DELETE ON customers BEGIN SELECT RAISE(ABORT, 'customer ' || OLD.email || ' is kept by the shop'); END",
          )
          .execute(conn.db);
      else if (conn.dialect === 'postgres') {
        await sql
          .raw(
            "CREATE FUNCTION keep_customer() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'customer % is kept by the shop', OLD.email; END $$ LANGUAGE plpgsql",
          )
          .execute(conn.db);
        await sql
          .raw(
            'CREATE TRIGGER keep_customer BEFORE DELETE ON customers FOR EACH ROW EXECUTE FUNCTION keep_customer()',
          )
          .execute(conn.db);
      } else
        await sql
          .raw(
            "CREATE TRIGGER keep_customer BEFORE DELETE ON customers FOR EACH ROW BEGIN DECLARE m VARCHAR(255); SET m = CONCAT('customer ', OLD.email, ' is kept by the shop'); SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = m; END",
          )
          .execute(conn.db);
    });
  });
  afterAll(() => drop());

  it("18.18 a trigger's message with the address: the erasure fails with the code only, the log holds no address", async () => {
    const opened = await openRequest(config, {
      type: 'erasure',
      email: 'kept.by.trigger@example.org',
      today: AT,
    });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    const error = await runRequest(config, opened.id, { at: AT, today: AT }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe('E_STORE_FAILED');
    expect((error as Error).message).not.toContain('kept.by.trigger');
    expect((error as Error).message).toMatch(/trigger|refused/);
    expect(await auditText(config)).not.toContain('kept.by.trigger');
    const cli = await registre(['request', 'run', String(opened.id), '--config', config, '--verbose'], dir);
    expect(cli.code).toBe(1);
    expect(`${cli.stdout}${cli.stderr}`).not.toContain('kept.by.trigger');
  });

  it('18.18 a raw database error is reduced to its code and a fixed text', async () => {
    const error = await withShop(config, async (conn) => {
      if (conn.dialect === 'mysql') {
        // MariaDB refuses a value longer than its column (strict mode), naming the column.
        await sql.raw("SET SESSION sql_mode = 'STRICT_ALL_TABLES'").execute(conn.db);
        return conn.db
          .updateTable('customers')
          .set({ email: `${'x'.repeat(300)}.too.long@example.org` })
          .where('id', '=', 1)
          .execute()
          .catch((e: Error) => e);
      }
      return conn.db
        .deleteFrom('customers')
        .where('id', '=', 1)
        .execute()
        .catch((e: Error) => e);
    });
    expect(error).toBeInstanceOf(Error);
    const said = safeMessage(error);
    expect(said).not.toContain('@example.org');
    expect(said).not.toContain('kept.by.trigger');
    expect(said).toMatch(
      database.name === 'mysql'
        ? /^a value is too long for its column \(ER_DATA_TOO_LONG\)$/
        : /trigger|refused.*\(\w+\)$/,
    );
  });
});
