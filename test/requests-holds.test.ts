/**
 * Issue 18, item 4: holds and restrictions follow one protocol with every process that changes
 * data. Once `hold add` or a restriction returns, nothing a request or a sweep commits afterwards
 * touches those records: a request run registers itself like a sweep and re-reads the holds right
 * before each commit; a restriction waits for running sweeps and request runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/adapters/state/state-store.js';
import { openProject } from '../src/app/project.js';
import { DEFAULT_STATE_URL } from '../src/core/store-url.js';
import { DIALECTS } from './dialects.js';
import { lastCode } from './outbox.js';
import { ROOT, withShop } from './shop-helpers.js';
import { openRequest, runDemo, runHoldList, runRequest, verifyRequest } from './use-cases.js';

const AT = '2026-11-27';
const KEY = 'holds-key-0123456789-abcdefghijklmnopqrstuv';
const BIN = join(ROOT, 'bin', 'registre.js');
const ts = (d: string) => `${d} 10:00:00`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function ids(config: string, table: string): Promise<number[]> {
  return withShop(config, async (conn) =>
    (await conn.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => Number(r.id)),
  );
}

describe.each(DIALECTS)('the hold protocol of requests (issue 18) on $name', (database) => {
  let config = '';
  let dir = '';
  let drop = async () => {};
  const verified = async (type: string, email: string) => {
    const opened = await openRequest(config, { type, email, today: AT });
    await verifyRequest(config, opened.id, { code: lastCode(dir) }, { today: AT });
    return opened.id;
  };

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    dir = mkdtempSync(join(tmpdir(), `registre-holds-${database.name}-`));
    config = (await runDemo({ out: dir, customers: 0, seed: 1, at: AT, store: created.url })).config;
    process.env.REGISTRE_HOLDS_KEY = KEY;
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_HOLDS_KEY'),
    );
    await withShop(config, async (conn) => {
      await conn.db
        .insertInto('customers')
        .values(
          [
            [2, 'paul@example.org'],
            [3, 'claire@example.org'],
          ].map(([id, email]) => ({
            id,
            email,
            first_name: 'F',
            last_name: `L${id}`,
            address_line: `${id} rue A`,
            created_at: ts('2025-01-01'),
          })),
        )
        .execute();
      await conn.db
        .insertInto('prospects')
        .values({ id: 3, email: 'claire@example.org', collected_at: ts('2025-06-01') })
        .execute();
    });
  });
  afterAll(() => drop());

  // Two processes on one PGlite folder cannot be: PGlite allows one instance per data folder.
  it.skipIf(database.name === 'pglite')(
    '18.4 a hold added while an erasure is between its decision and its commit keeps the record (two processes)',
    async () => {
      const id = await verified('erasure', 'claire@example.org');
      const pause = mkdtempSync(join(tmpdir(), 'registre-pause-'));
      const erasure = spawn(
        process.execPath,
        [BIN, 'request', 'run', String(id), '--at', AT, '--json', '--config', config],
        {
          env: {
            ...process.env,
            REGISTRE_TEST_PAUSE_AT: 'request-before-commit',
            REGISTRE_TEST_PAUSE_DIR: pause,
          },
        },
      );
      const erasureDone = finished(erasure);
      await waitFor('the erasure to pause before its commit', () =>
        existsSync(join(pause, 'request-before-commit.paused')),
      );
      const hold = spawn(process.execPath, [
        BIN,
        'hold',
        'add',
        '--table',
        'customers',
        '--id',
        '3',
        '--reason',
        'dispute D-7',
        '--config',
        config,
      ]);
      const holdDone = finished(hold);
      // The hold is recorded; hold add now waits for the running erasure to confirm it.
      await waitFor('the hold to be recorded', async () => (await runHoldList(config, false, AT)).length > 0);
      await sleep(300);
      writeFileSync(join(pause, 'request-before-commit.go'), '');
      const [e, h] = await Promise.all([erasureDone, holdDone]);
      expect(h.stderr).toBe('');
      expect(h.code).toBe(0);
      expect(e.code).toBe(0);
      const result = JSON.parse(e.stdout) as {
        erased: { table: string; id: string }[];
        kept: { table: string; id: string; basis: string }[];
      };
      expect(result.kept.map((k) => `${k.table}:${k.id}:${k.basis}`)).toEqual(['customers:3:17(3)(e)']);
      expect(result.erased.map((k) => `${k.table}:${k.id}`)).toEqual(['prospects:3']);
      expect(await ids(config, 'customers')).toContain(3);
      expect(await ids(config, 'prospects')).toEqual([]);
    },
    120_000,
  );

  it('18.4 a restriction returns only once a running sweep has read it', async () => {
    const project = await openProject(config);
    const sweepState = await StateStore.open(
      project.loaded.config.state?.url ?? DEFAULT_STATE_URL,
      project.loaded.dir,
    );
    const sweep = await sweepState.lock('sweep:shop');
    try {
      const id = await verified('restriction', 'paul@example.org');
      let returned = false;
      const run = runRequest(config, id, { at: AT, today: AT }).then((r) => {
        returned = true;
        return r;
      });
      await sleep(1500);
      expect(returned).toBe(false);
      // The sweep reads the holds before its next batch and confirms them.
      await sweep.beat(await sweepState.maxHoldId());
      const result = await run;
      expect(result.restricted?.map((r) => `${r.table}:${r.id}`)).toEqual(['customers:2']);
    } finally {
      await sweep.release();
      await sweepState.close();
    }
  });
});
