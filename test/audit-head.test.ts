/**
 * Issue 18, items 14 and 6: the audit log cannot be shortened or rolled back unnoticed, and
 * nothing changes data while it is not whole. The log's head (last entry, number of entries) is
 * sealed in the state store in the transaction of each entry, and copied to the archive store; a
 * head missing, older than the other copy or than the log refuses every write until the DPO has
 * looked (`audit verify`) and accepted the log as it is (`audit accept-head`).
 *
 * One project per database, its cases in order on it, each command opened as few times as the
 * case needs (PGlite boots a PostgreSQL at every connection: the state store is PGlite there,
 * the archive store stays SQLite; with a PostgreSQL server, the server replaces PGlite).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/adapters/files/config-files.js';
import { type Connection, connect, resolveUrl } from '../src/adapters/sql/connect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { verdictQuery } from '../src/adapters/sql/plan.js';
import { openProject } from '../src/app/project.js';
import { main } from '../src/cli/main.js';
import { DEFAULT_ARCHIVE_URL, DEFAULT_STATE_URL } from '../src/core/store-url.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { AT, snapshot, withShop } from './shop-helpers.js';
import {
  openRequest,
  runAuditVerify,
  runDemo,
  runHoldAdd,
  runRequest,
  runSweep,
  verifyRequest,
} from './use-cases.js';

type Row = Record<string, unknown>;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe.each(DIALECTS)('the audit log head (issue 18 items 6, 14), state store on $name', (database) => {
  let dir = '';
  let config = '';
  const drops: (() => Promise<void>)[] = [];

  /** Runs `f` on the state or the archive store, opened as the test's own connection. */
  async function onStore<T>(which: 'state' | 'archive', f: (db: Connection['db']) => Promise<T>) {
    const loaded = readConfig(config);
    const url =
      which === 'state'
        ? (loaded.config.state?.url as string)
        : (loaded.config.archive?.url ?? DEFAULT_ARCHIVE_URL);
    const conn = await connect(which, resolveUrl(which, url), { baseDir: loaded.dir });
    try {
      return await f(conn.db);
    } finally {
      await conn.close();
    }
  }

  const headRows = () =>
    onStore('state', async (db) => ({
      head: (await db.selectFrom('audit_head').selectAll().execute()) as Row[],
      entries: Number(
        (await db.selectFrom('audit_log').select(sql<number>`count(*)`.as('n')).executeTakeFirst())?.n,
      ),
    }));
  const checkpointRows = () =>
    onStore(
      'archive',
      async (db) => (await db.selectFrom('registre_audit_head').selectAll().execute()) as Row[],
    );
  const putBack = (which: 'state' | 'archive', rows: Row[]) =>
    onStore(which, async (db) => {
      const table = which === 'state' ? 'audit_head' : 'registre_audit_head';
      await db.deleteFrom(table).execute();
      if (rows.length) await db.insertInto(table).values(rows).execute();
    });
  const accept = async (reason: string) => {
    const accepted = await cli('audit', 'accept-head', '--reason', reason, '--config', config);
    expect(accepted.code, accepted.err).toBe(0);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `registre-audit-head-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 40, seed: 18, at: AT })).config;
    let state = DEFAULT_STATE_URL;
    let archive = DEFAULT_ARCHIVE_URL;
    if (database.name === 'pglite') state = 'pglite:state-data';
    else if (database.name !== 'sqlite') {
      const [s, a] = [await database.create(), await database.create()];
      drops.push(s.drop, a.drop);
      state = s.url;
      archive = a.url;
    }
    writeFileSync(
      config,
      `${readFileSync(config, 'utf8')
        .replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_TEST_HMAC_KEY')
        .replace(
          `url: ${DEFAULT_STATE_URL}`,
          `url: ${JSON.stringify(state)}`,
        )}archive:\n  url: ${JSON.stringify(archive)}\n`,
    );
    await withShop(config, (conn) =>
      conn.db
        .insertInto('customers')
        .values({
          id: 9001,
          email: 'lea.roux@example.org',
          first_name: 'Léa',
          last_name: 'Roux',
          address_line: '1 rue A',
          created_at: '2025-01-01 10:00:00',
        })
        .execute(),
    );
  });
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it('18.14 a deleted tail with both checkpoint rows: verify exits 1, writes are refused and recreate nothing, until accept-head', async () => {
    for (const id of ['1', '2'])
      await runHoldAdd(config, { table: 'web_visits', id, reason: `case ${id}`, today: AT });
    // The tail and both checkpoint rows deleted: before this fix, verify only warned, and the next
    // write recreated the checkpoint, after which verify said "chain intact".
    const cut = await onStore('state', async (db) => {
      const head = await db.selectFrom('audit_head').select(['seq', 'entries']).execute();
      await db.deleteFrom('audit_log').where('seq', '>', 1).execute();
      await db.deleteFrom('audit_head').execute();
      return head;
    });
    expect(cut).toEqual([{ seq: 2, entries: 2 }]);
    await putBack('archive', []);
    const verify = await cli('audit', 'verify', '--config', config);
    expect(verify.code).toBe(1);
    expect(verify.out).toContain('the state store holds no checkpoint of its head');
    expect(verify.out).toContain('the archive store holds no checkpoint of its head');
    await expect(
      runHoldAdd(config, { table: 'web_visits', id: '4', reason: 'case 4', today: AT }),
    ).rejects.toMatchObject({ code: 'E_LOG_BROKEN', message: expect.stringContaining('audit accept-head') });
    expect(await headRows()).toEqual({ head: [], entries: 1 });
    expect(await checkpointRows()).toEqual([]);

    // The DPO accepts the log as it is: an entry records what was found and why, and writes go on.
    const accepted = await cli(
      'audit',
      'accept-head',
      '--reason',
      'restored from the backup of Monday',
      '--config',
      config,
    );
    expect(accepted.code, accepted.err).toBe(0);
    expect(accepted.out).toContain('no checkpoint of its head');
    await runHoldAdd(config, { table: 'web_visits', id: '4', reason: 'case 4', today: AT });
    const log = await onStore('state', (db) =>
      db.selectFrom('audit_log').select(['seq', 'kind', 'data']).orderBy('seq').execute(),
    );
    expect(log.map((e) => e.kind)).toEqual(['hold.add', 'audit.accept-head', 'hold.add']);
    const acceptEntry = JSON.parse(String(log[1]?.data)) as { problems: { problem: string }[] };
    expect(acceptEntry.problems.map((p) => p.problem)).toContain('deleted');
    expect(JSON.stringify(acceptEntry)).not.toContain('Monday');
    const after = await cli('audit', 'verify', '--config', config);
    expect(after.code, after.out).toBe(0);
    expect(after.err).toContain('audit log: 3 entries, chain intact');
  });

  it('18.14 an old checkpoint put back after an erasure is told, in either store', async () => {
    const before = { state: (await headRows()).head, archive: await checkpointRows() };
    const seq = Number(before.state[0]?.seq);
    const opened = await openRequest(config, { type: 'erasure', email: 'lea.roux@example.org', today: AT });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    const erased = await runRequest(config, opened.id, { at: AT, today: AT });
    expect(erased.erased?.map((r) => `${r.table}:${r.id}`)).toContain('customers:9001');
    // The erasure's entries cut, and the archive store's checkpoint of before put back.
    const after = await onStore('state', async (db) => {
      const head = (await db.selectFrom('audit_head').selectAll().execute()) as Row[];
      await db.deleteFrom('audit_log').where('seq', '>', seq).execute();
      return { state: head, archive: await checkpointRows() };
    });
    const newer = Number(after.state[0]?.seq);
    expect(newer).toBeGreaterThan(seq);
    expect(Number(after.archive[0]?.seq)).toBe(newer);
    await putBack('archive', before.archive);
    const cut = await runAuditVerify(config);
    expect(cut.problems.map((p) => p.message)).toContain(
      `the log ends at entry ${seq}, but its checkpoint in the state store says entry ${newer} was written: the tail was deleted (truncated)`,
    );

    // The state store's head of before put back too, the archive store's being the newer one.
    await putBack('state', before.state);
    await putBack('archive', after.archive);
    const rolled = await runAuditVerify(config);
    expect(rolled.problems.map((p) => p.message)).toContain(
      `the checkpoint in the archive store says entry ${newer} was written, the one in the state store says entry ${seq}: the state store was rolled back (its log and checkpoint put back from an older copy)`,
    );
    await expect(
      runHoldAdd(config, { table: 'web_visits', id: '5', reason: 'r', today: AT }),
    ).rejects.toMatchObject({ code: 'E_LOG_BROKEN' });
    await accept('the erasure entries were lost with the state store; erasure replayed');
  });

  it('18.6 a hold row deleted with its hold.add entry: the sweep refuses with E_LOG_BROKEN and deletes nothing', async () => {
    const project = await openProject(config);
    const due = await withShop(config, async (conn) => {
      const table = project.datamap.stores[0]?.tables.find((t) => t.name === 'web_visits');
      const ctx = { register: project.register, datamap: project.datamap, dialect: conn.dialect };
      const { rows } = await sql<{
        k: unknown;
        status: string;
      }>`${verdictQuery(ctx, table as never, AT)}`.execute(conn.db);
      return rows.filter((r) => r.status === 'due').map((r) => String(r.k));
    });
    const [heldId, otherId] = due.slice(-2) as [string, string];
    const held = await runHoldAdd(config, {
      table: 'web_visits',
      id: heldId,
      reason: 'dispute D-6',
      today: AT,
    });
    await runHoldAdd(config, { table: 'web_visits', id: otherId, reason: 'dispute D-7', today: AT });
    // The hold and its entry go together: the holds table and the log still agree with each other.
    await onStore('state', async (db) => {
      const entry = (await db
        .selectFrom('audit_log')
        .select(['seq', 'data'])
        .where('kind', '=', 'hold.add')
        .orderBy('seq', 'desc')
        .limit(2)
        .execute()) as { seq: unknown; data: string }[];
      const its = entry.find((e) => e.data.includes(`"hold":${held.id}`)) as { seq: unknown };
      await db.deleteFrom('audit_log').where('seq', '=', Number(its.seq)).execute();
      await db.deleteFrom('holds').where('id', '=', held.id).execute();
    });
    const before = await snapshot(config);
    expect(before.has(`web_visits:${heldId}`)).toBe(true);
    await expect(runSweep(config, { at: AT, today: AT })).rejects.toMatchObject({
      code: 'E_LOG_BROKEN',
      message: expect.stringContaining('entries were deleted from it'),
    });
    expect(await snapshot(config)).toEqual(before);
    const verified = await runAuditVerify(config);
    expect(verified.problems.map((p) => p.problem)).toContain('deleted');
  });
});
