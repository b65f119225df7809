/**
 * Sizes that used to break a statement (issue 9): more held keys than SQLite binds parameters
 * (32,766) and batches larger than that, on every dialect.
 */

import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from '../src/adapters/sql/kysely.js';
import { recordHold } from '../src/app/holds.js';
import { openProject } from '../src/app/project.js';
import { DIALECTS } from './dialects.js';
import { AT, BIN, shop, shopIn, withShop } from './shop-helpers.js';
import { openState, runAuditVerify, runPlan, runSweep } from './use-cases.js';

describe.each(DIALECTS)('at scale on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });

  it('33,000 manual holds on one table: plan counts them, the sweep keeps them, with batches of 40,000', async () => {
    const { config } = await shopIn(database, 40, 12, drops);
    const due = await withShop(config, async (conn) =>
      (
        await sql<{
          id: number | string;
        }>`SELECT id FROM web_visits WHERE occurred_at < ${'2024-01-01'} ORDER BY id`.execute(conn.db)
      ).rows.map((r) => String(r.id)),
    );
    expect(due.length).toBeGreaterThan(20);
    const held = due.filter((_, i) => i % 2 === 0);
    const state = await openState(await openProject(config), 'write');
    try {
      // Keys of records that do not exist are held too (a hold outlives nothing): they only make
      // the list long, past what SQLite binds in one statement.
      const fake = Array.from({ length: 33_000 }, (_, i) => String(10_000_000 + i));
      // As hold add records a case: its rows and its one audit entry.
      await recordHold(
        state,
        [...held, ...fake].map((key) => ({ store: 'shop', table: 'web_visits', key })),
        { reason: 'case 2026-33000', actor: 'test:suite' },
      );
    } finally {
      await state.close();
    }
    const plan = await runPlan(config, AT);
    expect(plan.rules.find((l) => l.rule === 'web-visits')?.held).toBe(held.length);
    const run = await runSweep(config, { at: AT, today: AT, batchSize: 40_000 });
    expect(run.skipped).toEqual([]);
    expect(run.lines.find((l) => l.rule === 'web-visits')?.count).toBe(
      (plan.rules.find((l) => l.rule === 'web-visits')?.due ?? 0) as number,
    );
    const left = await withShop(config, async (conn) =>
      (
        await sql<{
          id: number | string;
        }>`SELECT id FROM web_visits WHERE occurred_at < ${'2024-01-01'} ORDER BY id`.execute(conn.db)
      ).rows.map((r) => String(r.id)),
    );
    expect(left).toEqual(held);
    expect((await runAuditVerify(config)).problems).toEqual([]);
  }, 180_000);
});

describe('22, 23. robustness', () => {
  it('a batch larger than the parameter limit works; output into a closed pipe ends quietly', async () => {
    const { config } = await shop(3500, 28);
    const due = (await runPlan(config, AT)).rules.find((l) => l.rule === 'web-visits')?.due ?? 0;
    expect(due).toBeGreaterThan(1000);
    const report = await runSweep(config, { at: AT, today: AT, batchSize: 40_000 });
    expect(report.lines.find((l) => l.rule === 'web-visits')?.count).toBe(due);
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" schema | head -c 10`], {
      encoding: 'utf8',
    });
    expect(piped.status).toBe(0);
    expect(piped.stderr).toBe('');
  }, 180_000);
});
