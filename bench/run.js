// `npm run bench`: every benchmark, each printing its ratio against the hand-written baseline measured
// on the same data in the same run. Sizes: BENCH_CUSTOMERS (SQLite), BENCH_PG_CUSTOMERS (PostgreSQL,
// when REGISTRE_BENCH_POSTGRES_URL or REGISTRE_TEST_POSTGRES_URL is set).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_SHOP_URL } from '../dist/core/store-url.js';
import { suppressionBench } from './suppression.js';

const here = new URL('.', import.meta.url).pathname;

/** A PostgreSQL URL whose sessions work in `schema`. */
const withSearchPath = (url, schema) =>
  `${url}${url.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;

function worker(variant, url, customers, dir) {
  const out = execFileSync(
    process.execPath,
    [join(here, 'generate-worker.js'), variant, url, String(customers), dir],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

function report(title, customers, registre, baseline) {
  const rate = (r) => Math.round(r.rows / r.seconds).toLocaleString('en');
  console.log(
    `\n${title}: ${customers.toLocaleString('en')} customers, ${registre.rows.toLocaleString('en')} rows`,
  );
  console.log(
    `  registre demo   ${registre.seconds.toFixed(2)} s  ${rate(registre)} rows/s  peak RSS ${registre.maxRssMb} MB`,
  );
  console.log(
    `  raw INSERT      ${baseline.seconds.toFixed(2)} s  ${rate(baseline)} rows/s  peak RSS ${baseline.maxRssMb} MB (rows generated beforehand, untimed)`,
  );
  console.log(`  ratio registre / raw: ${(registre.seconds / baseline.seconds).toFixed(2)}`);
  if (registre.rows !== baseline.rows) throw new Error('the two runs did not write the same rows');
}

async function generatorBench() {
  const customers = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'registre-bench-'));
  try {
    const baseline = worker('baseline', DEFAULT_SHOP_URL, customers, dir);
    const registre = worker('registre', DEFAULT_SHOP_URL, customers, dir);
    report('shop generator into SQLite', customers, registre, baseline);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pgUrl = process.env.REGISTRE_BENCH_POSTGRES_URL ?? process.env.REGISTRE_TEST_POSTGRES_URL;
  if (!pgUrl) return console.log('\n(PostgreSQL: set REGISTRE_BENCH_POSTGRES_URL to measure it too)');
  const pgCustomers = Number(process.env.BENCH_PG_CUSTOMERS ?? 20_000);
  const schema = 'registre_bench';
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = withSearchPath(pgUrl, schema);
  try {
    const baseline = worker('baseline', url, pgCustomers, tmpdir());
    const registre = worker('registre', url, pgCustomers, tmpdir());
    report('shop generator into PostgreSQL', pgCustomers, registre, baseline);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

function retentionWorker(mode, dir, at) {
  const out = execFileSync(process.execPath, [join(here, 'retention-worker.js'), mode, dir, at], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

/** A fresh demo shop in a folder of its own (and, for a server, a schema or database of its own). */
async function benchShop(kind, serverUrl, name, customers, at) {
  const dir = mkdtempSync(join(tmpdir(), `registre-bench-${name}-`));
  let store;
  let drop = async () => {};
  // On PostgreSQL the engine's state and archive stores are schemas of the same server, as a
  // PostgreSQL shop keeps them (several processes share them): `${name}_state`, `${name}_archive`.
  const own = kind === 'postgres' ? [name, `${name}_state`, `${name}_archive`] : [];
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    for (const schema of own)
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await admin.end();
    store = withSearchPath(serverUrl, name);
    drop = async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      for (const schema of own) await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    };
  } else if (kind === 'mysql') {
    const mysql = await import('mysql2/promise');
    const admin = await mysql.createConnection(serverUrl);
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    store = u.toString();
    drop = async () => {
      const c = await mysql.createConnection(serverUrl);
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    };
  }
  const bin = join(here, '..', 'bin', 'registre.js');
  execFileSync(
    process.execPath,
    [
      bin,
      'demo',
      '--out',
      dir,
      '--customers',
      String(customers),
      '--seed',
      '1',
      '--at',
      at,
      ...(store ? ['--store', store] : []),
    ],
    { stdio: 'ignore' },
  );
  mkdirSync(join(dir, '.registre'), { recursive: true });
  if (kind === 'postgres') {
    const config = join(dir, 'registre.yaml');
    const text = readFileSync(config, 'utf8').replace(
      /^state:\n {2}url: .*$/m,
      `state:\n  url: ${JSON.stringify(withSearchPath(serverUrl, `${name}_state`))}`,
    );
    writeFileSync(
      config,
      `${text}archive:\n  url: ${JSON.stringify(withSearchPath(serverUrl, `${name}_archive`))}\n`,
    );
    // Fresh statistics and visibility maps for both sides, as a shop that has lived has them.
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    const { rows } = await c.query('SELECT tablename FROM pg_tables WHERE schemaname = $1', [name]);
    for (const { tablename } of rows) await c.query(`VACUUM ANALYZE ${name}."${tablename}"`);
    await c.end();
  }
  return {
    dir,
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      await drop();
    },
  };
}

const ms = (x) => `${(x / 1000).toFixed(2)} s`;

/**
 * plan and sweep against the fastest hand-written SQL we know (bench/retention-fast.js), on the
 * same data in the same run; the sweep and the hand-written SQL work on two copies of one shop,
 * and what they leave is compared row for row.
 */
async function retentionOn(title, kind, serverUrl, customers) {
  const at = '2026-11-27';
  // BENCH_SCHEMA: the prefix of the schemas (databases on MySQL) of the two copies of the shop.
  const prefix = process.env.BENCH_SCHEMA ?? 'registre_bench';
  const repeat = Number(process.env.BENCH_REPEAT ?? 3);
  console.log(`\nretention on ${title}: ${customers.toLocaleString('en')} customers, at ${at}`);
  const a = await benchShop(kind, serverUrl, `${prefix}_a`, customers, at);
  let b;
  try {
    if (kind === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'registre-bench-registre_bench_b-'));
      cpSync(a.dir, dir, { recursive: true });
      b = { dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    } else {
      b = await benchShop(kind, serverUrl, `${prefix}_b`, customers, at);
      // One key for both: the suppression list's keyed hashes must be the same.
      cpSync(join(a.dir, '.registre', 'hmac.key'), join(b.dir, '.registre', 'hmac.key'));
    }
    const median = (mode, dir) =>
      Array.from({ length: repeat }, () => retentionWorker(mode, dir, at)).sort(
        (x, y) => x.seconds - y.seconds,
      )[Math.floor(repeat / 2)];
    retentionWorker('plan', a.dir, at); // fills the parse cache: each measured run reads it
    const plan = median('plan', a.dir);
    const fastPlan = median('fast-plan-all', b.dir);
    const fastCounts = median('fast-plan', b.dir);
    console.log(
      `  plan            ${plan.seconds.toFixed(2)} s   hand-written counts of every status ${fastPlan.seconds.toFixed(2)} s   ratio ${(plan.seconds / fastPlan.seconds).toFixed(2)} (median of ${repeat}; registre reads its parse cache)`,
    );
    console.log(
      `                  due and archive only, by hand (COUNTs on the cut-offs) ${fastCounts.seconds.toFixed(2)} s   ratio ${(plan.seconds / fastCounts.seconds).toFixed(2)}`,
    );
    const rules = [...new Set([...Object.keys(plan.lines), ...Object.keys(fastPlan.lines)])];
    const disagree = rules.filter((r) => JSON.stringify(plan.lines[r]) !== JSON.stringify(fastPlan.lines[r]));
    console.log(
      disagree.length
        ? `  !! plan and the hand-written counts disagree on ${disagree.map((r) => `${r} (${JSON.stringify(plan.lines[r])} against ${JSON.stringify(fastPlan.lines[r])})`).join(', ')}`
        : `  both counted the same records in every status of every rule (${rules.length} rules)`,
    );
    if (plan.due !== fastCounts.due || plan.archive !== fastCounts.archive)
      console.log('  !! plan and the hand-written due and archive COUNTs disagree');
    if (kind === 'sqlite') {
      const explain = retentionWorker('explain', a.dir, at);
      console.log(
        `  explain --email median ${explain.medianMs.toFixed(1)} ms, p90 ${explain.p90Ms.toFixed(1)} ms (${explain.people} people, ${explain.records} records)`,
      );
    }
    const before = retentionWorker('digest', a.dir, at);
    if (before.digest !== retentionWorker('digest', b.dir, at).digest)
      throw new Error('the two copies of the shop differ before the sweep');
    // Each side starts with no dirty pages of the other's (or of the generator's) left to write.
    const checkpoint = async () => {
      if (kind !== 'postgres') return;
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query('CHECKPOINT');
      await c.end();
    };
    await checkpoint();
    const sweep = retentionWorker('sweep', a.dir, at);
    await checkpoint();
    const fast = retentionWorker('fast-sweep', b.dir, at);
    console.log(
      `  sweep           ${sweep.seconds.toFixed(2)} s, ${sweep.total.toLocaleString('en')} records, peak RSS ${sweep.maxRssMb} MB (batches, audit log, holds, suppression list, files, return packages)`,
    );
    console.log(
      `  hand-written    ${fast.seconds.toFixed(2)} s, ${fast.total.toLocaleString('en')} records, peak RSS ${fast.maxRssMb} MB (cut-offs computed once, held keys in temporary tables, one statement per rule, one transaction)`,
    );
    console.log(`  ratio sweep / hand-written: ${(sweep.seconds / fast.seconds).toFixed(2)}`);
    const left = retentionWorker('digest', a.dir, at);
    const right = retentionWorker('digest', b.dir, at);
    const differ = Object.keys(left.tables).filter((t) => left.tables[t] !== right.tables[t]);
    if (left.archive !== right.archive) differ.push('archive');
    if (left.media !== right.media) differ.push('media files');
    if (left.returned !== right.returned) differ.push('returned rows');
    console.log(
      differ.length
        ? `  !! the sweep and the hand-written SQL left different data: ${differ.join(', ')}`
        : `  both left exactly the same rows (every table compared row by row, the archive, ${left.media} media files, ${left.returned} returned rows)`,
    );
    const t = sweep.timings;
    console.log(
      `  where the sweep's time went: choosing ${ms(t.select)}, changing ${ms(t.write)}, audit log ${ms(t.audit)}, the rest (opening, checks, holds cross-check) ${ms(sweep.seconds * 1000 - t.select - t.write - t.audit)}`,
    );
    for (const row of t.rows.slice(0, Number(process.env.BENCH_TIMING_ROWS ?? 8)))
      console.log(
        `    ${row.table.padEnd(24)} ${(row.rule ?? '(choosing)').padEnd(26)} ${(row.action ?? '').padEnd(10)} ${ms(row.select + row.write + row.audit)}`,
      );
    console.log("  the hand-written SQL's slowest statements:");
    for (const [spent, text] of (fast.statements ?? []).slice(0, Number(process.env.BENCH_TIMING_ROWS ?? 8)))
      console.log(`    ${ms(spent).padStart(8)}  ${text.slice(0, 96)}`);
  } finally {
    await a.drop();
    await b?.drop();
  }
}

/**
 * Consent-gated retention (issue 20): a shop where a share of the visitors (BENCH_CONSENT_WITHDRAWN,
 * 10%) gave their audience-statistics consent and withdrew it; registre's sweep (the ledger's
 * verdicts brought to the store in bulk) against the fastest hand-written SQL doing the same
 * deletes (the state store attached, one statement over the latest choices, then every rule), on two
 * copies of one shop, compared row for row. SQLite; BENCH_CONSENT_CUSTOMERS (1,000,000).
 */
async function consentSweepBench() {
  const customers = Number(process.env.BENCH_CONSENT_CUSTOMERS ?? 1_000_000);
  const share = Number(process.env.BENCH_CONSENT_WITHDRAWN ?? 0.1);
  const at = '2026-11-27';
  console.log(
    `\nconsent-gated sweep on SQLite: ${customers.toLocaleString('en')} customers, ${Math.round(share * 100)}% of the visitors withdrawn, at ${at}`,
  );
  const a = await benchShop('sqlite', null, 'registre_bench_consent', customers, at);
  let b;
  try {
    const Database = (await import('better-sqlite3')).default;
    const shopDb = new Database(join(a.dir, 'shop.sqlite'), { readonly: true });
    const visitors = shopDb
      .prepare('SELECT DISTINCT visitor_id FROM web_visits ORDER BY visitor_id')
      .pluck()
      .all();
    const visits = shopDb.prepare('SELECT COUNT(*) FROM web_visits').pluck().get();
    shopDb.close();
    const every = Math.max(1, Math.round(1 / share));
    const chosen = visitors.filter((_, i) => i % every === 0);
    const notice = { version: 'banner-2026', sha256: 'e'.repeat(64) };
    const file = join(a.dir, 'consents.jsonl');
    const lines = [];
    for (const visitor of chosen) {
      const base = {
        visitor,
        purposes: ['audience-statistics'],
        notice,
        source: 'banner',
        consentId: `cc-${visitor}`,
      };
      lines.push(JSON.stringify({ ...base, choice: 'given', at: '2026-01-10T10:00:00Z' }));
      lines.push(JSON.stringify({ ...base, choice: 'withdrawn', at: '2026-11-20T18:00:00Z' }));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const imported = JSON.parse(
      execFileSync(process.execPath, [join(here, 'consent-worker.js'), a.dir, file], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop(),
    );
    console.log(
      `  ledger: ${chosen.length.toLocaleString('en')} of ${visitors.length.toLocaleString('en')} visitors (${visits.toLocaleString('en')} visits) gave then withdrew: ${imported.events.toLocaleString('en')} events imported in ${imported.seconds.toFixed(2)} s (${Math.round(imported.events / imported.seconds).toLocaleString('en')} events/s through importConsents)`,
    );
    // A copy of the folder, files and all: the same shop and ledger on both sides (at a million
    // customers a digest of every row takes minutes: it is taken after the sweeps only).
    const dir = mkdtempSync(join(tmpdir(), 'registre-bench-consent-b-'));
    cpSync(a.dir, dir, { recursive: true });
    b = { dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    const sweep = retentionWorker('sweep', a.dir, at);
    const fast = retentionWorker('fast-sweep-consent', b.dir, at);
    console.log(
      `  sweep           ${sweep.seconds.toFixed(2)} s, peak RSS ${sweep.maxRssMb} MB (every rule; the ledger's verdicts read, sealed rows checked, one gate table in the store)`,
    );
    console.log(
      `  hand-written    ${fast.seconds.toFixed(2)} s, peak RSS ${fast.maxRssMb} MB (the ledger attached, the visitors without consent in an indexed temporary table, their visits in the one DELETE of web_visits, every rule in one transaction)`,
    );
    console.log(`  ratio sweep / hand-written: ${(sweep.seconds / fast.seconds).toFixed(2)}`);
    const left = retentionWorker('digest', a.dir, at);
    const right = retentionWorker('digest', b.dir, at);
    const differ = Object.keys(left.tables).filter((t) => left.tables[t] !== right.tables[t]);
    if (left.archive !== right.archive) differ.push('archive');
    console.log(
      differ.length
        ? `  !! the sweep and the hand-written SQL left different data: ${differ.join(', ')}`
        : '  both left exactly the same rows (every table compared row by row, and the archive)',
    );
  } finally {
    await a.drop();
    await b?.drop();
  }
}

/** BENCH_DIALECTS=sqlite,postgres,mysql: which databases (default: SQLite, and each one whose URL is set). */
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres,mysql').split(',');

async function retentionBench() {
  const servers = [
    {
      name: 'postgres',
      title: 'PostgreSQL',
      url: process.env.REGISTRE_BENCH_POSTGRES_URL ?? process.env.REGISTRE_TEST_POSTGRES_URL,
      customers: process.env.BENCH_PG_SWEEP_CUSTOMERS ?? process.env.BENCH_SWEEP_CUSTOMERS ?? 100_000,
      hint: 'REGISTRE_BENCH_POSTGRES_URL',
    },
    {
      name: 'mysql',
      title: 'MySQL/MariaDB',
      url: process.env.REGISTRE_BENCH_MYSQL_URL ?? process.env.REGISTRE_TEST_MYSQL_URL,
      customers: process.env.BENCH_MYSQL_SWEEP_CUSTOMERS ?? 20_000,
      hint: 'REGISTRE_BENCH_MYSQL_URL',
    },
  ];
  if (dialects.includes('sqlite'))
    await retentionOn('SQLite', 'sqlite', null, Number(process.env.BENCH_SWEEP_CUSTOMERS ?? 100_000));
  for (const server of servers.filter((s) => dialects.includes(s.name))) {
    if (server.url) await retentionOn(server.title, server.name, server.url, Number(server.customers));
    else console.log(`\n(${server.title}: set ${server.hint} to measure plan and sweep there too)`);
  }
}

/** People's requests: access and erasure per person, and erasure replay after a restore. */
async function requestsBench() {
  const customers = Number(process.env.BENCH_REQUEST_CUSTOMERS ?? 100_000);
  const people = Number(process.env.BENCH_REQUEST_PEOPLE ?? 20);
  const replays = Number(process.env.BENCH_REPLAY_ERASURES ?? 1000);
  const dir = mkdtempSync(join(tmpdir(), 'registre-bench-requests-'));
  try {
    const bin = join(here, '..', 'bin', 'registre.js');
    const at = new Date().toISOString().slice(0, 10);
    execFileSync(
      process.execPath,
      [bin, 'demo', '--out', dir, '--customers', String(customers), '--seed', '1', '--at', at],
      { stdio: 'ignore' },
    );
    const out = execFileSync(
      process.execPath,
      [join(here, 'requests-worker.js'), dir, String(people), String(replays)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const r = JSON.parse(out.trim().split('\n').pop());
    console.log(
      `\npeople's requests on SQLite: ${customers.toLocaleString('en')} customers, ${people} people each`,
    );
    console.log(
      `  access (find, explain, package)  median ${r.access.medianMs.toFixed(1)} ms, p90 ${r.access.p90Ms.toFixed(1)} ms (${r.access.records} records)   hand-written reads ${r.access.rawMedianMs.toFixed(2)} ms   ratio ${(r.access.medianMs / r.access.rawMedianMs).toFixed(1)}`,
    );
    console.log(
      `  access as a dry run (find and explain only: no package, no state, no audit entry)  median ${r.access.dryMedianMs.toFixed(1)} ms   ratio ${(r.access.dryMedianMs / r.access.rawMedianMs).toFixed(1)}`,
    );
    console.log(
      `  erasure (decide, change, prove)  median ${r.erasure.medianMs.toFixed(1)} ms, p90 ${r.erasure.p90Ms.toFixed(1)} ms   hand-written statements ${r.erasure.rawMedianMs.toFixed(2)} ms   ratio ${(r.erasure.medianMs / r.erasure.rawMedianMs).toFixed(1)}`,
    );
    console.log(
      `  erasure replay of ${r.replay.erasures} erasures after a restore: ${r.replay.seconds.toFixed(2)} s, ${r.replay.redone} records erased again; peak RSS ${r.maxRssMb} MB`,
    );
    console.log(
      '  (registre on one engine, as the service holds it: the stores opened once; it writes the audit entries and the state for each request; the hand-written SQL reads or changes the rows only)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pgUrl = process.env.REGISTRE_BENCH_POSTGRES_URL ?? process.env.REGISTRE_TEST_POSTGRES_URL;
  if (!pgUrl) return console.log('  (PostgreSQL: set REGISTRE_BENCH_POSTGRES_URL to measure it too)');
  const pgCustomers = Number(process.env.BENCH_PG_CUSTOMERS ?? 20_000);
  const schema = 'registre_bench_requests';
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = withSearchPath(pgUrl, schema);
  const pgDir = mkdtempSync(join(tmpdir(), 'registre-bench-requests-pg-'));
  try {
    const bin = join(here, '..', 'bin', 'registre.js');
    const at = new Date().toISOString().slice(0, 10);
    execFileSync(
      process.execPath,
      [
        bin,
        'demo',
        '--out',
        pgDir,
        '--customers',
        String(pgCustomers),
        '--seed',
        '1',
        '--at',
        at,
        '--store',
        url,
      ],
      { stdio: 'ignore' },
    );
    const out = execFileSync(
      process.execPath,
      [join(here, 'requests-pg-worker.js'), pgDir, url, String(people)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const r = JSON.parse(out.trim().split('\n').pop());
    console.log(
      `\npeople's requests on PostgreSQL: ${pgCustomers.toLocaleString('en')} customers, ${people} people each`,
    );
    console.log(
      `  access   median ${r.access.medianMs.toFixed(1)} ms   hand-written reads ${r.access.rawMedianMs.toFixed(2)} ms   ratio ${(r.access.medianMs / r.access.rawMedianMs).toFixed(1)}`,
    );
    console.log(
      `  erasure  median ${r.erasure.medianMs.toFixed(1)} ms   hand-written statements ${r.erasure.rawMedianMs.toFixed(2)} ms   ratio ${(r.erasure.medianMs / r.erasure.rawMedianMs).toFixed(1)}`,
    );
  } finally {
    rmSync(pgDir, { recursive: true, force: true });
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

/** How long a command takes from start to exit, against a bare `node -e ''` (median of BENCH_REPEAT_START runs). */
async function startupBench() {
  const repeat = Number(process.env.BENCH_REPEAT_START ?? 7);
  const bin = join(here, '..', 'bin', 'registre.js');
  const dir = mkdtempSync(join(tmpdir(), 'registre-bench-start-'));
  // The parse cache of these runs: a folder of their own, warm after the first run of each.
  const env = { ...process.env, REGISTRE_CACHE_DIR: join(dir, 'cache') };
  delete env.REGISTRE_CACHE;
  try {
    execFileSync(process.execPath, [bin, 'demo', '--out', dir, '--customers', '3000', '--seed', '1'], {
      stdio: 'ignore',
    });
    const config = join(dir, 'registre.yaml');
    const commands = [
      ["node -e ''", ['-e', '']],
      ['registre --help', [bin, '--help']],
      ['registre validate', [bin, 'validate', join(here, '..', 'registers', 'negomarkets')], true],
      [
        'registre explain --table',
        [bin, 'explain', '--config', config, '--table', 'customers', '--id', '5'],
        true,
      ],
    ];
    const median = (args, runEnv) => {
      const times = Array.from({ length: repeat }, () => {
        const start = performance.now();
        execFileSync(process.execPath, args, { stdio: 'ignore', env: runEnv });
        return performance.now() - start;
      }).sort((a, b) => a - b);
      return times[Math.floor(repeat / 2)].toFixed(0).padStart(5);
    };
    console.log(`\nstart-up: milliseconds from start to exit, median of ${repeat}`);
    for (const [name, args, parses] of commands) {
      if (!parses) {
        console.log(`  ${name.padEnd(26)} ${median(args, env)} ms`);
        continue;
      }
      execFileSync(process.execPath, args, { stdio: 'ignore', env });
      const warm = median(args, env);
      const cold = median(args, { ...env, REGISTRE_CACHE: 'off' });
      console.log(
        `  ${name.padEnd(26)} ${warm} ms with its parse cached, ${cold} ms parsing (REGISTRE_CACHE=off)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Consent events through the application API, in batches and one by one (bench/consent.js). */
function consentBench() {
  execFileSync(process.execPath, [join(here, 'consent.js')], { stdio: 'inherit' });
}

/** The service over HTTP: consent events with autocannon, plan, forecast and explain (bench/service.js). */
function serviceBench(part) {
  execFileSync(process.execPath, [join(here, 'service.js'), ...(part ? [part] : [])], { stdio: 'inherit' });
}

const only = process.argv[2];
if (!only || only === 'startup') await startupBench();
if (!only || only === 'generate') await generatorBench();
if (!only || only === 'retention') await retentionBench();
if (!only || only === 'requests') await requestsBench();
if (!only || only === 'suppression') await suppressionBench();
if (!only || only === 'consent-sweep') await consentSweepBench();
if (!only || only === 'consent') consentBench();
if (!only || only === 'service') serviceBench();
if (only === 'service-consent') serviceBench('consent');
if (only === 'service-queries') serviceBench('queries');
