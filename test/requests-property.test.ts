/**
 * People's requests under random sequences (issue 18's property): random shops, random steps from
 * several processes at once (open, verify with random codes, run, hold add, restriction, sweep,
 * restore a backup, replay). After each step: nothing held or restricted changed, no row of a
 * person who asked nothing changed (but what a sweep was due to change), `audit verify` is clean,
 * and every change is in the log.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { retentionContext } from '../src/adapters/sql/retention-sql.js';
import { openProject } from '../src/app/project.js';
import { SHOP_TABLES } from '../src/core/demo/shop-model.js';
import { DIALECTS } from './dialects.js';
import { newestCode } from './outbox.js';
import { AT, compareVerdicts, ROOT, shopIn, snapshot, withShop } from './shop-helpers.js';
import {
  openRequest,
  replayErasures,
  runAuditExport,
  runAuditVerify,
  runExplain,
  runHoldAdd,
  runHoldList,
  runRequest,
  verifyRequest,
} from './use-cases.js';

const BIN = join(ROOT, 'bin', 'registre.js');
/** The real PostgreSQL when it is set, else SQLite: PGlite runs one process at a time. */
const DATABASES = DIALECTS.filter((d) => d.name === 'sqlite' || d.name === 'postgres');
const RUNS = Number(process.env.REGISTRE_PROPERTY_RUNS ?? 3);

type Step =
  | { kind: 'request'; type: string; person: number; code: 'right' | 'wrong'; purpose?: string }
  | { kind: 'hold'; person: number }
  | { kind: 'sweep'; withHold: number | undefined }
  | { kind: 'backup' }
  | { kind: 'restore' }
  | { kind: 'replay' }
  | { kind: 'guesses'; person: number }
  | { kind: 'newcomer' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('request' as const),
    type: fc.constantFrom('erasure', 'access', 'rectification', 'restriction', 'objection'),
    person: fc.nat(5),
    code: fc.constantFrom('right' as const, 'right' as const, 'wrong' as const),
  }),
  fc.record({ kind: fc.constant('hold' as const), person: fc.nat(5) }),
  fc.record({ kind: fc.constant('sweep' as const), withHold: fc.option(fc.nat(5), { nil: undefined }) }),
  fc.constant({ kind: 'backup' as const }),
  fc.constant({ kind: 'restore' as const }),
  fc.constant({ kind: 'replay' as const }),
  fc.record({ kind: fc.constant('guesses' as const), person: fc.nat(5) }),
  fc.constant({ kind: 'newcomer' as const }),
);

/** The command in another process, as an operator's second terminal would run it. */
function cli(args: readonly string[], cwd: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: process.env });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('close', (status) => done({ status, stderr }));
  });
}

describe.each(DATABASES)('random request sequences on $name', (database) => {
  const drops: (() => Promise<void>)[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop().catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'keep holds, restrictions and bystanders untouched, and the log whole and complete',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 1_000 }),
          fc.array(step, { minLength: 4, maxLength: 9 }),
          async (seed, steps) => {
            const { out: dir, config } = await shopIn(database, 30, seed, drops);
            dirs.push(dir);
            const people = await withShop(config, async (conn) =>
              (
                (await conn.db.selectFrom('customers').select('email').orderBy('id').limit(6).execute()) as {
                  email: string;
                }[]
              ).map((r) => r.email),
            );
            let saved: Map<string, Record<string, unknown>[]> | undefined;
            /** Keys a request removed, and the rows of people who never asked that took such keys. */
            const gone = new Set<string>();
            const newcomers = new Set<string>();
            let erasedBefore = false;
            for (const s of steps) {
              const before = await snapshot(config);
              const verdicts = await statuses(config);
              const holds = await heldKeys(config);
              const protectedKeys = new Set([
                ...holds,
                ...verdicts
                  .filter((v) => v.status === 'held' || v.status === 'restricted')
                  .map((v) => `${v.table}:${v.id}`),
              ]);
              const entriesBefore = (await runAuditVerify(config)).entries;
              /** Whose rows this step may change. */
              const allowed = new Set<string>();
              let anything = false;
              if (s.kind === 'request') {
                const email = people[s.person % people.length] as string;
                for (const e of await runExplain(config, { email, at: AT }).catch(() => []))
                  allowed.add(`${e.table}:${e.id}`);
                const ran = await request(config, dir, s, email, allowed);
                if (s.type === 'erasure' && ran) erasedBefore = true;
              } else if (s.kind === 'hold') {
                const email = people[s.person % people.length] as string;
                await runHoldAdd(config, { email, reason: 'property test', today: AT }).catch(() => {});
              } else if (s.kind === 'sweep') {
                for (const v of verdicts)
                  if (v.status === 'due' || v.status === 'archive' || v.status === 'invalid')
                    allowed.add(`${v.table}:${v.id}`);
                anything = false;
                const sweep = cli(['sweep', '--at', AT, '--config', config], dir);
                if (s.withHold !== undefined) {
                  const email = people[s.withHold % people.length] as string;
                  await runHoldAdd(config, { email, reason: 'during a sweep', today: AT }).catch(() => {});
                }
                const done = await sweep;
                expect(done.status, done.stderr).toBe(0);
              } else if (s.kind === 'backup') {
                saved = await backup(config);
              } else if (s.kind === 'restore') {
                if (saved) await restore(config, saved);
                anything = true;
              } else if (s.kind === 'replay') {
                if (erasedBefore) {
                  const erasures = await replayErasures(config, { today: AT });
                  expect(erasures.erasures).toBeGreaterThan(0);
                }
                anything = true; // checked below: only rows of erased people
              } else if (s.kind === 'newcomer') {
                // A restore reset the sequences: a new customer takes an erased one's key, and so
                // does her order (each only where the key is free).
                const free = (table: string) =>
                  [...gone]
                    .filter((k) => k.startsWith(`${table}:`) && !before.has(k))
                    .map((k) => Number(k.split(':')[1]));
                const [customer] = free('customers');
                const [order] = free('orders');
                if (customer !== undefined)
                  await withShop(config, async (conn) => {
                    await conn.db
                      .insertInto('customers')
                      .values({
                        id: customer,
                        email: `newcomer${customer}@example.net`,
                        created_at: `${AT} 09:00:00`,
                      })
                      .execute();
                    newcomers.add(`customers:${customer}`);
                    if (order !== undefined) {
                      await conn.db
                        .insertInto('orders')
                        .values({
                          id: order,
                          customer_id: customer,
                          channel: 'shop',
                          placed_at: `${AT} 09:00:00`,
                          status: 'paid',
                          total_cents: 100,
                          shipping_name: 'Newcomer',
                        })
                        .execute();
                      newcomers.add(`orders:${order}`);
                    }
                  });
                anything = true;
              } else if (s.kind === 'guesses') {
                const email = people[s.person % people.length] as string;
                const opened = await openRequest(config, { type: 'access', email, today: AT }).catch(
                  () => undefined,
                );
                if (opened) {
                  // Sixteen guesses at once, from as many processes: at most five are ever compared.
                  const guesses = await Promise.all(
                    Array.from({ length: 8 }, (_, i) =>
                      cli(
                        [
                          'request',
                          'verify',
                          String(opened.id),
                          '--code',
                          String(100_000 + i),
                          '--config',
                          config,
                        ],
                        dir,
                      ),
                    ),
                  );
                  expect(guesses.every((g) => g.status !== 0)).toBe(true);
                  const log = (await runAuditExport(config))
                    .trim()
                    .split('\n')
                    .map((l) => JSON.parse(l) as { kind: string; data: { request?: number } })
                    .filter((e) => e.data.request === opened.id);
                  const compared = log.filter(
                    (e) => e.kind === 'request.verify-failed' || e.kind === 'request.locked',
                  );
                  expect(compared.length, 'wrong codes compared').toBeLessThanOrEqual(5);
                  expect(log.filter((e) => e.kind === 'request.locked').length).toBeLessThanOrEqual(1);
                }
              }
              const after = await snapshot(config);
              const changed = diff(before, after);
              if (s.kind === 'request') for (const key of changed) if (!after.has(key)) gone.add(key);
              if (s.kind === 'restore')
                for (const key of newcomers) if (!after.has(key)) newcomers.delete(key);
              // A person who never asked: her rows change for nobody else's request, replay included.
              if (s.kind !== 'restore' && s.kind !== 'sweep' && s.kind !== 'newcomer')
                for (const key of changed)
                  expect(
                    newcomers.has(key) ? key : null,
                    `${s.kind}: a newcomer's row on a reused key changed`,
                  ).toBeNull();
              // Nothing held or restricted changed, whatever the step (a restore puts rows back, it never removes).
              if (s.kind !== 'restore')
                for (const key of changed)
                  expect(
                    protectedKeys.has(key) ? key : null,
                    `${s.kind}: a held or restricted record changed`,
                  ).toBeNull();
              // No row of a person who asked nothing changed.
              if (!anything)
                for (const key of changed)
                  if (!key.startsWith('suppression_list:'))
                    expect(
                      allowed.has(key) ? null : key,
                      `${JSON.stringify(s)}: a bystander's row changed`,
                    ).toBeNull();
              const verified = await runAuditVerify(config);
              expect(verified.problems, JSON.stringify(verified.problems)).toEqual([]);
              // Every change registre made is logged (a restore and a newcomer are made by the test).
              if (changed.length && s.kind !== 'restore' && s.kind !== 'newcomer')
                expect(
                  verified.entries,
                  `${JSON.stringify(s)}: rows changed, nothing logged`,
                ).toBeGreaterThan(entriesBefore);
            }
          },
        ),
        {
          numRuns: RUNS,
          endOnFailure: true,
          // A failure prints its seed and path: REGISTRE_PROPERTY_SEED and _PATH replay it.
          ...(process.env.REGISTRE_PROPERTY_SEED ? { seed: Number(process.env.REGISTRE_PROPERTY_SEED) } : {}),
          ...(process.env.REGISTRE_PROPERTY_PATH ? { path: process.env.REGISTRE_PROPERTY_PATH } : {}),
        },
      );
    },
    Math.max(120_000, RUNS * 90_000),
  );
});

async function request(
  config: string,
  dir: string,
  s: Extract<Step, { kind: 'request' }>,
  email: string,
  allowed: Set<string>,
): Promise<boolean> {
  const extra =
    s.type === 'rectification'
      ? { set: ['first_name=Property'] }
      : s.type === 'objection'
        ? { purpose: 'newsletter-sending' }
        : {};
  const opened = await openRequest(config, { type: s.type, email, today: AT, ...extra }).catch(
    () => undefined,
  );
  if (!opened) return false;
  const code = s.code === 'right' ? (newestCode(dir) ?? '000000') : '999999';
  const verified = await verifyRequest(config, opened.id, { code }, { today: AT }).catch((e: Error) => e);
  // The right code, read from the outbox, is accepted; a wrong one is refused.
  if (s.code === 'right') expect(verified, String(verified)).not.toBeInstanceOf(Error);
  if (verified instanceof Error) return false;
  const out = join(dir, `package-${opened.id}`);
  const ran = await runRequest(config, opened.id, { at: AT, today: AT, out }).catch((e: Error) => e);
  if (ran instanceof Error && process.env.DEBUG_PROP) console.error('run failed', ran);
  void allowed;
  return !(ran instanceof Error);
}

async function statuses(config: string) {
  const project = await openProject(config);
  return withShop(config, async (conn) => {
    const ctx = await retentionContext(conn, project.register, project.datamap);
    return (await compareVerdicts(conn, ctx, AT)).map((v) => ({
      table: v.table,
      id: v.id,
      status: v.sql.status,
    }));
  });
}

async function heldKeys(config: string): Promise<string[]> {
  return (await runHoldList(config, false, AT)).flatMap((c) => c.records.map((r) => `${r.table}:${r.key}`));
}

function diff(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [key, value] of before) if (after.get(key) !== value) out.push(key);
  for (const key of after.keys()) if (!before.has(key)) out.push(key);
  return out;
}

async function backup(config: string): Promise<Map<string, Record<string, unknown>[]>> {
  return withShop(config, async (conn) => {
    const out = new Map<string, Record<string, unknown>[]>();
    for (const t of SHOP_TABLES)
      out.set(t.name, (await conn.db.selectFrom(t.name).selectAll().execute()) as Record<string, unknown>[]);
    return out;
  });
}

async function restore(config: string, copy: Map<string, Record<string, unknown>[]>): Promise<void> {
  await withShop(config, async (conn) => {
    for (const [table, _rows] of [...copy].reverse()) await conn.db.deleteFrom(table).execute();
    for (const [table, rows] of copy)
      for (let i = 0; i < rows.length; i += 200)
        await conn.db
          .insertInto(table)
          .values(rows.slice(i, i + 200))
          .execute();
  });
}
