/** A generated reference shop, its configuration, and ways to look at its rows, for the SQL tests. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { readConfig } from '../src/adapters/files/config-files.js';
import type { Connection } from '../src/adapters/sql/connect.js';
import { connect, resolveUrl } from '../src/adapters/sql/connect.js';
import { sql } from '../src/adapters/sql/kysely.js';
import { verdictQuery } from '../src/adapters/sql/plan.js';
import { loadRecord, viewOfRow } from '../src/adapters/sql/records.js';
import type { RetentionSqlContext } from '../src/adapters/sql/retention-sql.js';
import { openProject } from '../src/app/project.js';
import { main } from '../src/cli/main.js';
import { SHOP_TABLES } from '../src/core/demo/shop-model.js';
import { collectHolds, evaluateRecord, type HoldReason } from '../src/core/retention/retention.js';
import type { TestDatabase } from './dialects.js';
import { runDemo } from './use-cases.js';

export const AT = '2026-11-27';
export const KEY = 'test-hmac-key-0123456789-abcdefghijklmnopq';
process.env.REGISTRE_TEST_HMAC_KEY = KEY;
export const ROOT = resolve(import.meta.dirname, '..');

export async function shop(customers: number, seed: number, store?: string) {
  const out = mkdtempSync(join(tmpdir(), 'registre-sweep-'));
  const report = await runDemo({ out, customers, seed, at: AT, ...(store ? { store } : {}) });
  // The tests know the key: the suppression list's hashes are checked against it.
  writeFileSync(
    report.config,
    readFileSync(report.config, 'utf8').replace(/^hmacKey: .*$/m, 'hmacKey: env:REGISTRE_TEST_HMAC_KEY'),
  );
  return { out, config: report.config };
}

/**
 * A shop in a fresh database of `database`'s kind (dropped by `drops` afterwards), its archive in
 * the same kind of database (PostgreSQL, MariaDB: the test's own schema or database).
 */
export async function shopIn(
  database: TestDatabase,
  customers: number,
  seed: number,
  drops: (() => Promise<void>)[],
) {
  const created = await database.create();
  drops.push(created.drop);
  const made = await shop(customers, seed, created.url);
  const archiveUrl =
    database.name === 'sqlite'
      ? 'sqlite:archive.sqlite'
      : database.name === 'pglite'
        ? 'pglite:archive-data'
        : created.url;
  writeFileSync(
    made.config,
    `${readFileSync(made.config, 'utf8')}archive:\n  url: ${JSON.stringify(archiveUrl)}\n`,
  );
  return made;
}

/**
 * Puts the state store (the audit log, the requests, the consent ledger) in the shop's own server
 * database (PostgreSQL, MariaDB), so that its SQL runs there too; SQLite and PGlite shops keep it
 * in SQLite. Returns whether it moved.
 */
export function stateInShopServer(config: string): boolean {
  const text = readFileSync(config, 'utf8');
  const url = /^ {2}shop:\n {4}url: (.*)$/m.exec(text)?.[1];
  if (!url || !/^"?(postgres|mysql)/.test(url)) return false;
  writeFileSync(config, text.replace(/^state:\n {2}url: .*$/m, `state:\n  url: ${url}`));
  return true;
}

export async function withShop<T>(
  config: string,
  f: (conn: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  const loaded = readConfig(config);
  const conn = await connect('shop', resolveUrl('shop', loaded.config.stores?.shop?.url as string), {
    baseDir: loaded.dir,
  });
  try {
    return await f(conn);
  } finally {
    await conn.close();
  }
}

/** Every row of every shop table, by `table:key`, as comparable text. */
export async function snapshot(config: string): Promise<Map<string, string>> {
  return withShop(config, async (conn) => {
    const rows = new Map<string, string>();
    for (const table of SHOP_TABLES) {
      for (const row of (await conn.db.selectFrom(table.name).selectAll().execute()) as Record<
        string,
        unknown
      >[]) {
        const values = table.columns.map((c) => {
          const v = row[c.name];
          return v instanceof Date ? v.toISOString() : typeof v === 'boolean' ? Number(v) : v;
        });
        rows.set(`${table.name}:${String(row.id)}`, JSON.stringify(values));
      }
    }
    return rows;
  });
}

export const hmac = (email: string) =>
  createHmac('sha256', KEY).update(email.trim().toLowerCase()).digest('hex');

export interface Verdict {
  readonly key: string;
  readonly deadline: string | null;
  readonly archiveFrom: string | null;
  readonly rule: string | null;
  readonly status: string;
}

/**
 * Every record of every table with rules, as the SQL sees it on `at` and as the pure evaluator
 * does (data-driven holds found the pure way, from every holding record).
 */
export async function compareVerdicts(
  conn: Connection,
  ctx: RetentionSqlContext,
  at: string,
): Promise<{ table: string; id: string; sql: Verdict; pure: Verdict }[]> {
  const { register, datamap } = ctx;
  const holders = [];
  for (const hold of register.holds) {
    const table = datamap.stores[0]?.tables.find((t) => t.record === hold.record);
    if (!table) continue;
    const paths = hold.holds.filter((p) => p !== 'self').map((p) => p.split('.'));
    for (const row of (await conn.db.selectFrom(table.name).selectAll().execute()) as Record<
      string,
      unknown
    >[])
      holders.push(await viewOfRow(conn, ctx, hold.record, row, paths));
  }
  const holds = collectHolds(register, holders);
  const holdsOf = (key: string): HoldReason[] => holds.get(key) ?? [];
  const never = (d: string | null) => (d === '9999-12-31' ? null : d);
  const out: { table: string; id: string; sql: Verdict; pure: Verdict }[] = [];
  for (const table of datamap.stores[0]?.tables ?? []) {
    if (!register.retention.some((r) => r.record === table.record)) continue;
    const { rows } = await sql<{
      k: unknown;
      rule_index: unknown;
      deadline: string | null;
      archive_from: string | null;
      status: string;
    }>`${verdictQuery(ctx, table, at)}`.execute(conn.db);
    for (const v of rows) {
      const view = await loadRecord(conn, ctx, table.record as string, v.k);
      if (!view) throw new Error(`${table.name} ${String(v.k)} vanished`);
      const pure = evaluateRecord(register, view, at, { holdsOf });
      out.push({
        table: table.name,
        id: String(v.k),
        sql: {
          key: view.key,
          deadline: never(v.deadline),
          archiveFrom: never(v.archive_from),
          rule: v.rule_index === null ? null : (register.retention[Number(v.rule_index)]?.id ?? null),
          status: v.status,
        },
        pure: {
          key: view.key,
          deadline: pure.deadline,
          archiveFrom: pure.archiveFrom,
          rule: pure.rule,
          status: pure.status,
        },
      });
    }
  }
  return out;
}

export const BIN = join(ROOT, 'bin', 'registre.js');

export function registre(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `f` finds, once it finds something (asked every 200 ms); an error after `timeoutMs`. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await f();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The records of a shop and their status on `at`, by table, computed in SQL. */
export async function verdicts(config: string, at = AT) {
  const project = await openProject(config);
  return withShop(config, async (conn) => {
    const ctx: RetentionSqlContext = {
      register: project.register,
      datamap: project.datamap,
      dialect: conn.dialect,
    };
    const all: { table: string; id: string; status: string }[] = [];
    for (const table of project.datamap.stores[0]?.tables ?? []) {
      if (!project.register.retention.some((r) => r.record === table.record)) continue;
      const { rows } = await sql<{ k: unknown; status: string }>`${verdictQuery(ctx, table, at)}`.execute(
        conn.db,
      );
      for (const r of rows) all.push({ table: table.name, id: String(r.k), status: r.status });
    }
    return all;
  });
}

export const exists = (config: string, table: string, id: string | number) =>
  withShop(
    config,
    async (conn) =>
      (await conn.db.selectFrom(table).select('id').where('id', '=', Number(id)).execute()).length === 1,
  );

/** Runs `registre sweep` in a second process; resolves with its exit code. */
export function sweepProcess(
  config: string,
  args: string[] = [],
): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(process.execPath, [BIN, 'sweep', '--at', AT, '--config', config, ...args], {
    stdio: 'ignore',
    env: process.env,
  });
  return { child, done: new Promise((r) => child.once('exit', (code) => r(code ?? -1))) };
}

export function auditCount(stateFile: string, kind: string): number {
  if (!existsSync(stateFile)) return 0;
  const db = new Database(stateFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit_log WHERE kind = ?').get(kind) as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

export function editConfig(config: string, edit: (text: string) => string): void {
  writeFileSync(config, edit(readFileSync(config, 'utf8')));
}

/** A copy of the bundled register, edited, that the configuration then names. */
export function customRegister(config: string, file: string, edit: (text: string) => string): void {
  const dir = join(readConfig(config).dir, 'register');
  cpSync(join(ROOT, 'registers', 'negomarkets'), dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('the register edit changed nothing');
  writeFileSync(path, after);
  editConfig(config, (t) => t.replace('register: bundled:negomarkets', 'register: register'));
}

/** The command in this process: its exit code and what it printed. */
export async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

export async function customerEmails(config: string, n: number): Promise<{ id: number; email: string }[]> {
  return withShop(config, async (conn) =>
    (
      await conn.db
        .selectFrom('customers')
        .select(['id', 'email'])
        .where('closed_at', 'is', null)
        .orderBy('id')
        .limit(n)
        .execute()
    ).map((r) => ({ id: Number(r.id), email: String(r.email) })),
  );
}
