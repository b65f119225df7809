/**
 * The files a sweep removes and the return packages it writes: a row that cannot be processed is
 * skipped and named, files never leave their folder, each record is returned exactly once.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finishPendingFiles } from '../src/adapters/sql/sweep.js';
import { openProject } from '../src/app/project.js';
import {
  AT,
  auditCount,
  exists,
  registre,
  shop,
  sleep,
  sweepProcess,
  verdicts,
  withShop,
} from './shop-helpers.js';
import { openState, runAuditExport, runPlan, runSweep } from './use-cases.js';

describe('7, 9. a row that cannot be processed is skipped and named; files never leave their folder', () => {
  it('a path out of the folder (.. or a symbolic link) skips its row; every other table is swept', async () => {
    const { out, config } = await shop(400, 9);
    const victims = mkdtempSync(join(tmpdir(), 'registre-victim-'));
    writeFileSync(join(victims, 'victim1.txt'), 'keep me');
    writeFileSync(join(victims, 'victim2.txt'), 'keep me too');
    symlinkSync(victims, join(out, 'media', 'elsewhere'));
    const due = (await verdicts(config)).filter((v) => v.table === 'candidates' && v.status === 'due');
    expect(due.length).toBeGreaterThan(2);
    const [a, b] = due as [(typeof due)[number], (typeof due)[number]];
    await withShop(config, async (conn) => {
      await conn.db
        .updateTable('candidates')
        .set({ cv_path: '../../victim1.txt' })
        .where('id', '=', Number(a.id))
        .execute();
      await conn.db
        .updateTable('candidates')
        .set({ cv_path: 'elsewhere/victim2.txt' })
        .where('id', '=', Number(b.id))
        .execute();
    });
    const report = await runSweep(config, { at: AT, today: AT });
    expect(report.skipped.map((s) => [s.table, s.key, s.code]).sort()).toEqual(
      [
        ['candidates', a.id, 'E_FILE_PATH'],
        ['candidates', b.id, 'E_FILE_PATH'],
      ].sort(),
    );
    expect(readFileSync(join(victims, 'victim1.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(victims, 'victim2.txt'), 'utf8')).toBe('keep me too');
    expect(await exists(config, 'candidates', a.id)).toBe(true);
    // Everything else went, whatever table came after candidates.
    const plan = await runPlan(config, AT);
    expect(plan.totals.due).toBe(2);
    const log = await runAuditExport(config);
    expect(log.match(/"kind":"sweep.skipped"/g)).toHaveLength(2);
    const cli = registre(['sweep', '--at', AT, '--config', config]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`skipped candidates ${a.id}`);
  });

  it('a file folder that does not exist holds no file: its rows go, none is skipped', async () => {
    const { out, config } = await shop(400, 9);
    rmSync(join(out, 'media'), { recursive: true });
    const report = await runSweep(config, { at: AT, today: AT });
    expect(report.skipped).toEqual([]);
    expect(report.lines.find((l) => l.table === 'candidates')?.count).toBeGreaterThan(0);
  });

  it('files are removed only after their row is gone: an interrupted run is finished, or forgotten', async () => {
    const { out, config } = await shop(400, 9);
    const project = await openProject(config);
    const [kept, gone] = (await verdicts(config)).filter((v) => v.table === 'candidates').slice(0, 2) as {
      id: string;
    }[];
    const paths = await withShop(config, async (conn) => {
      const rows = await conn.db
        .selectFrom('candidates')
        .select(['id', 'cv_path'])
        .where('id', 'in', [Number(kept?.id), Number(gone?.id)])
        .execute();
      return new Map(
        rows.map((r) => [String(r.id), join(out, 'media', String(r.cv_path ?? `none-${r.id}`))]),
      );
    });
    for (const p of paths.values()) writeFileSync(p, 'cv');
    await withShop(config, (conn) =>
      conn.db.deleteFrom('candidates').where('id', '=', Number(gone?.id)).execute(),
    );
    const state = await openState(project, 'write');
    await state.addPendingFiles(
      [kept, gone].map((r) => ({
        run: 1,
        store: 'shop',
        table: 'candidates',
        key: String(r?.id),
        folder: 'media',
        path: paths.get(String(r?.id)) as string,
        target: null,
      })),
    );
    const done = await withShop(config, (conn) =>
      finishPendingFiles(state, new Map([['shop', { conn, map: project.datamap.stores[0] as never }]])),
    );
    expect(done).toEqual({ finished: 1, dropped: 1 });
    expect(await state.pendingFiles()).toEqual([]);
    await state.close();
    expect(existsSync(paths.get(String(kept?.id)) as string)).toBe(true);
    expect(existsSync(paths.get(String(gone?.id)) as string)).toBe(false);
  });
});

function readdirReturns(out: string): string[] {
  const dir = join(out, 'returns');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('14. return packages, CSV cells and file modes', () => {
  it('each record is returned exactly once across a kill -9 and a rerun; formulas are neutralised', async () => {
    const { out, config } = await shop(1200, 21);
    await withShop(config, (conn) =>
      conn.db
        .updateTable('distributor_orders')
        .set({ end_customer_name: '=HYPERLINK("http://evil","x")' })
        .where('id', '<', 2000)
        .execute(),
    );
    const stateFile = join(out, '.registre', 'state.sqlite');
    const sweep = sweepProcess(config, ['--batch-size', '10']);
    for (let i = 0; i < 1000; i++) {
      if (readdirReturns(out).some((f) => f.endsWith('.json'))) break;
      await sleep(5);
    }
    sweep.child.kill('SIGKILL');
    await sweep.done;
    expect(auditCount(stateFile, 'sweep.batch')).toBeGreaterThan(0);
    await runSweep(config, { at: AT, today: AT, batchSize: 10 });
    const files = readdirReturns(out);
    expect(files.filter((f) => f.endsWith('.pending'))).toEqual([]);
    const ids = files
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { id: number }[]).map((r) => r.id));
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(await exists(config, 'distributor_orders', id)).toBe(false);
    const csv = files
      .filter((f) => f.endsWith('.csv'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('');
    expect(csv).not.toMatch(/(^|[;,])=HYPERLINK/m);
    expect(csv).toContain(`'=HYPERLINK`);
    for (const f of [...files, stateFile, join(out, '.registre', 'archive.sqlite')])
      expect((statSync(f).mode & 0o077).toString(8), f).toBe('0');
  }, 120_000);
});
