// `npm run bench`: every benchmark, each printing its ratio against the raw-SQL baseline measured
// on the same data in the same run. Sizes: BENCH_CUSTOMERS (SQLite), BENCH_PG_CUSTOMERS (PostgreSQL,
// when REGISTRE_BENCH_POSTGRES_URL or REGISTRE_TEST_POSTGRES_URL is set).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const here = new URL('.', import.meta.url).pathname;

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
    const baseline = worker('baseline', 'sqlite:shop.sqlite', customers, dir);
    const registre = worker('registre', 'sqlite:shop.sqlite', customers, dir);
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
  const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
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
  });
  return JSON.parse(out.trim().split('\n').pop());
}

async function retentionBench() {
  const customers = Number(process.env.BENCH_SWEEP_CUSTOMERS ?? 100_000);
  const at = '2026-11-27';
  const a = mkdtempSync(join(tmpdir(), 'registre-bench-sweep-'));
  const b = mkdtempSync(join(tmpdir(), 'registre-bench-raw-'));
  try {
    const bin = join(here, '..', 'bin', 'registre.js');
    execFileSync(
      process.execPath,
      [bin, 'demo', '--out', a, '--customers', String(customers), '--seed', '1', '--at', at],
      { stdio: 'ignore' },
    );
    // The demo's configuration names the key file it wrote (hmacKey: file:…), copied with it.
    cpSync(a, b, { recursive: true });
    mkdirSync(join(b, '.registre'), { recursive: true });
    console.log(`\nretention on SQLite: ${customers.toLocaleString('en')} customers, at ${at}`);
    const repeat = Number(process.env.BENCH_REPEAT ?? 3);
    const runs = (mode, dir) =>
      Array.from({ length: repeat }, () => retentionWorker(mode, dir, at)).sort(
        (x, y) => x.seconds - y.seconds,
      )[Math.floor(repeat / 2)];
    const plan = runs('plan', a);
    const rawPlan = runs('raw-plan', a);
    console.log(
      `  plan            ${plan.seconds.toFixed(2)} s (due ${plan.due}, archive ${plan.archive})   raw COUNTs ${rawPlan.seconds.toFixed(2)} s (due ${rawPlan.due}, archive ${rawPlan.archive})   ratio ${(plan.seconds / rawPlan.seconds).toFixed(2)} (median of ${repeat})`,
    );
    if (plan.due !== rawPlan.due || plan.archive !== rawPlan.archive)
      console.log('  !! plan and the raw counts disagree');
    const explain = retentionWorker('explain', a, at);
    console.log(
      `  explain --email median ${explain.medianMs.toFixed(1)} ms, p90 ${explain.p90Ms.toFixed(1)} ms (${explain.people} people, ${explain.records} records)`,
    );
    const sweep = retentionWorker('sweep', a, at);
    const raw = retentionWorker('raw-sweep', b, at);
    console.log(
      `  sweep           ${sweep.seconds.toFixed(2)} s, ${sweep.total.toLocaleString('en')} records, peak RSS ${sweep.maxRssMb} MB (batches of 5,000 rows, audit log, holds, suppression list, files, return packages)`,
    );
    console.log(
      `  raw SQL         ${raw.seconds.toFixed(2)} s, ${raw.total.toLocaleString('en')} records, peak RSS ${raw.maxRssMb} MB (one statement per rule, one transaction)`,
    );
    console.log(`  ratio sweep / raw: ${(sweep.seconds / raw.seconds).toFixed(2)}`);
    if (sweep.total !== raw.total)
      console.log(`  !! the sweep and the raw SQL did not touch the same number of records`);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
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
      '  (registre opens its stores, writes the audit entries and the state for each request; the hand-written SQL reads or changes the rows only)',
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
  const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
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

const only = process.argv[2];
if (!only || only === 'generate') await generatorBench();
if (!only || only === 'retention') await retentionBench();
if (!only || only === 'requests') await requestsBench();
