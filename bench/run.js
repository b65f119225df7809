// `npm run bench`: every benchmark, each printing its ratio against the raw-SQL baseline measured
// on the same data in the same run. Sizes: BENCH_CUSTOMERS (SQLite), BENCH_PG_CUSTOMERS (PostgreSQL,
// when REGISTRE_BENCH_POSTGRES_URL or REGISTRE_TEST_POSTGRES_URL is set).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

await generatorBench();
