// The service over HTTP (loopback), with autocannon 9:
//   (a) consent events POSTed to /api/public/consents by many clients at once (what a site's banner
//       sends), requests per second and latency percentiles, against the in-process rate of the same
//       events through recordConsent with the same number of callers on one engine (the ratio says
//       what HTTP, the rate limit's count and the JSON cost);
//   (b) GET /api/plan, /api/forecast and one person's /api/explain on a shop of BENCH_SERVICE_CUSTOMERS
//       (default 100,000; the figure is at 1,000,000: BENCH_SERVICE_CUSTOMERS=1000000), each
//       timed over a few calls after a first one.
// The server is `registre serve` in a process of its own (the load generator in this one); on
// PostgreSQL too when REGISTRE_BENCH_POSTGRES_URL (or REGISTRE_TEST_POSTGRES_URL) is set, the state
// store in a schema of its own. Everything is made in a temporary folder and removed at the end.
// (c) the console's pages, signed in: each under 300 ms (BENCH_SERVICE_SHOP: a shop made before).
// Usage: node bench/service.js [consent|queries|console]   (BENCH_SERVICE_SECONDS, default 10; BENCH_SERVICE_CONNECTIONS, 20)
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { recordConsent } from '../dist/app/consent.js';
import { createEngine } from '../dist/app/engine.js';

const here = new URL('.', import.meta.url).pathname;
const BIN = join(here, '..', 'bin', 'registre.js');
const SECONDS = Number(process.env.BENCH_SERVICE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_SERVICE_CONNECTIONS ?? 20);
const CUSTOMERS = Number(process.env.BENCH_SERVICE_CUSTOMERS ?? 100_000);
const TARGET = { rate: 3_000, p99: 50, query: 300 };
const NOTICE = {
  version: '3',
  sha256: createHash('sha256').update('Nous mesurons l’audience.').digest('hex'),
};

const withSearchPath = (url, schema) =>
  `${url}${url.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;

const eventOf = (prefix, i) => ({
  visitor: `${prefix}${i.toString(16).padStart(10, '0')}`,
  purposes: ['audience-statistics'],
  choice: i % 2 ? 'refused' : 'given',
  notice: NOTICE,
  at: '2026-11-20T10:00:00.000Z',
  consentId: `cc-${prefix}${i}`,
  language: 'fr',
});

/** A demo project (`customers`), its public limits raised for a load test, its state where asked. */
function project(customers, state) {
  const dir = mkdtempSync(join(tmpdir(), 'registre-bench-service-'));
  execFileSync(
    process.execPath,
    [BIN, 'demo', '--out', dir, '--customers', String(customers), '--seed', '1'],
    {
      stdio: 'ignore',
    },
  );
  const file = join(dir, 'registre.yaml');
  let text = readFileSync(file, 'utf8');
  if (state) {
    text = text.replace(/^state:\n {2}url: .*\n/m, '');
    text += `state:\n  url: ${JSON.stringify(state)}\narchive:\n  url: ${JSON.stringify(state)}\n`;
  }
  // One client makes every call here: its per-minute limit would stop the test at once.
  text += 'service:\n  limits: { perClient: 100000000 }\n';
  writeFileSync(file, text);
  return dir;
}

/** `registre serve` on a free port; resolves with its address and admin token once it listens. */
function serve(dir, reused = false) {
  // A shop served before has its tokens: the bench makes one of its own.
  const made = reused
    ? /"token":\s*"(rgt_[^"]+)"/.exec(
        execFileSync(
          process.execPath,
          [
            BIN,
            'token',
            'create',
            `bench-${Date.now()}`,
            '--scope',
            'operate',
            '--config',
            join(dir, 'registre.yaml'),
            '--json',
          ],
          { encoding: 'utf8' },
        ),
      )?.[1]
    : undefined;
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', join(dir, 'registre.yaml'), '--port', '0', '--no-schedule'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += String(d);
      const url = /registre serves (http:\/\/[\d.:]+)/.exec(err)?.[1];
      const token = made ?? /admin token \(shown once, stored hashed\): (rgt_\S+)/.exec(err)?.[1];
      if (url && token)
        resolve({
          url,
          token,
          stop: () =>
            new Promise((done) => {
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

async function overHttp(url) {
  let n = 0;
  const result = await autocannon({
    url: `${url}/api/public/consents`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(eventOf('h-', n++)) }) }],
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0)
    throw new Error(
      `${bad} calls failed (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`,
    );
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
  };
}

/** The same events, in this process, CONNECTIONS callers at once on one engine, for SECONDS. */
async function inProcess(dir) {
  const engine = createEngine({ config: join(dir, 'registre.yaml') });
  try {
    await recordConsent(engine, eventOf('warm-', 0), { actor: 'bench' });
    let n = 0;
    const end = performance.now() + SECONDS * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < end) await recordConsent(engine, eventOf('p-', n++), { actor: 'bench' });
      }),
    );
    return { rate: n / ((performance.now() - start) / 1000) };
  } finally {
    await engine.close();
  }
}

async function consentOn(title, state) {
  const dir = project(0, state);
  try {
    const inproc = await inProcess(dir);
    const service = await serve(dir);
    try {
      const http = await overHttp(service.url);
      console.log(
        `\nconsent events over HTTP on ${title}: ${CONNECTIONS} connections for ${SECONDS} s (POST /api/public/consents)`,
      );
      console.log(
        `  over HTTP    ${Math.round(http.rate).toLocaleString('en')} events/s (target ${TARGET.rate.toLocaleString('en')}: ${http.rate >= TARGET.rate ? 'met' : 'MISSED'})   p50 ${http.p50} ms   p99 ${http.p99} ms (target < ${TARGET.p99}: ${http.p99 < TARGET.p99 ? 'met' : 'MISSED'})   ${http.total.toLocaleString('en')} calls`,
      );
      console.log(
        `  in process   ${Math.round(inproc.rate).toLocaleString('en')} events/s (recordConsent, ${CONNECTIONS} callers on one engine)   ratio HTTP / in process ${(http.rate / inproc.rate).toFixed(2)}`,
      );
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** plan, forecast and a person's explain through the API: the first call, then the median of 5. */
async function queries() {
  const dir = project(CUSTOMERS);
  try {
    const service = await serve(dir);
    try {
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(dir, 'shop.sqlite'), { readonly: true });
      const email =
        db.prepare('SELECT email FROM customers ORDER BY id LIMIT 1 OFFSET 12345').get()?.email ?? '';
      db.close();
      const get = async (path) => {
        const start = performance.now();
        const res = await fetch(`${service.url}${path}`, {
          headers: { authorization: `Bearer ${service.token}` },
        });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
        return performance.now() - start;
      };
      console.log(
        `\nqueries through the API on the ${CUSTOMERS.toLocaleString('en')}-customer shop (SQLite): first call, then the median of 5`,
      );
      for (const [name, path] of [
        ['plan', '/api/plan'],
        ['forecast', '/api/forecast?months=12'],
        ["a person's explain", `/api/explain?email=${encodeURIComponent(email)}`],
      ]) {
        const first = await get(path);
        const times = [];
        for (let i = 0; i < 5; i++) times.push(await get(path));
        times.sort((a, b) => a - b);
        const median = times[2];
        console.log(
          `  ${name.padEnd(20)} first ${first.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms (target < ${TARGET.query}: ${median < TARGET.query ? 'met' : 'MISSED'})`,
        );
      }
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The console's pages as a signed-in DPO reads them: each page's first answer, then the median of
 * 5 (the target: under 300 ms each on the 1,000,000-customer shop). BENCH_SERVICE_SHOP
 * names a demo shop made before (`registre demo --customers 1000000 --out DIR`: generating one
 * takes minutes); without it a shop of BENCH_SERVICE_CUSTOMERS is made and removed.
 */
async function consolePages() {
  const given = process.env.BENCH_SERVICE_SHOP;
  const dir = given ?? project(CUSTOMERS);
  try {
    const service = await serve(dir, given !== undefined);
    try {
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(dir, 'shop.sqlite'), { readonly: true });
      const email =
        db.prepare('SELECT email FROM customers ORDER BY id LIMIT 1 OFFSET 12345').get()?.email ?? '';
      const customers = db.prepare('SELECT count(*) AS n FROM customers').get().n;
      db.close();
      const signed = await fetch(`${service.url}/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: service.url },
        body: new URLSearchParams({ token: service.token }),
        redirect: 'manual',
      });
      const cookie = (signed.headers.get('set-cookie') ?? '').split(';')[0];
      const home = await (await fetch(`${service.url}/console`, { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1] ?? '';
      const call = async (method, path, form) => {
        const start = performance.now();
        const res = await fetch(`${service.url}${path}`, {
          method,
          headers: {
            cookie,
            origin: service.url,
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(form ? { body: new URLSearchParams({ ...form, _csrf: csrf }) } : {}),
          redirect: 'manual',
        });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${body.slice(0, 300)}`);
        return performance.now() - start;
      };
      console.log(
        `\nthe console's pages on the ${customers.toLocaleString('en')}-customer shop (SQLite): first answer, then the median of 5`,
      );
      for (const [name, method, path, form] of CONSOLE_PAGES(email)) {
        const first = await call(method, path, form);
        const times = [];
        for (let i = 0; i < 5; i++) times.push(await call(method, path, form));
        times.sort((a, b) => a - b);
        const median = times[2];
        console.log(
          `  ${name.padEnd(28)} first ${first.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms   max ${times[4].toFixed(0).padStart(6)} ms (target < ${TARGET.query}: ${times[4] < TARGET.query ? 'met' : 'MISSED'})`,
        );
      }
    } finally {
      await service.stop();
    }
  } finally {
    if (given === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** Each page a DPO reads: a name, the method, the path, a form when it is a POST. */
const CONSOLE_PAGES = (email) => [
  ['dashboard', 'GET', '/console'],
  ['register', 'GET', '/console/register'],
  ['requests', 'GET', '/console/requests'],
  ['a person (search)', 'POST', '/console/people', { email }],
  ['sweeps and audit', 'GET', '/console/sweeps'],
  ['inspection report (12 months)', 'GET', '/console/report?lang=en'],
  ["a person's consents", 'POST', '/console/consents', { kind: 'email', subject: email }],
  ['suppression check', 'POST', '/console/consents/suppression/check', { email }],
];

const only = process.argv[2];
if (!only || only === 'consent') {
  await consentOn('SQLite');
  const pgUrl = process.env.REGISTRE_BENCH_POSTGRES_URL ?? process.env.REGISTRE_TEST_POSTGRES_URL;
  if (pgUrl) {
    const schema = 'registre_bench_service';
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    try {
      await consentOn('PostgreSQL', withSearchPath(pgUrl, schema));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  } else console.log('  (PostgreSQL: set REGISTRE_BENCH_POSTGRES_URL to measure it too)');
}
if (!only || only === 'queries') await queries();
if (!only || only === 'console') await consolePages();
