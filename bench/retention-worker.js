// One measurement of the retention benchmark, in its own process (its own peak RSS).
// Usage: node bench/retention-worker.js MODE DIR AT
//   MODE: plan | fast-plan | fast-plan-all | sweep | fast-sweep | explain | digest
// DIR is a folder `registre demo --out` wrote (its registre.yaml names the shop's store). `digest`
// prints what a sweep leaves (every table's rows, the archive, the media files, the rows returned
// to distributors), so that two sweeps of two copies can be compared row for row.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { explainRecord, findPerson } from '../dist/adapters/sql/explain.js';
import { withEngine } from '../dist/app/engine.js';
import { plan as planOf } from '../dist/app/plan.js';
import { sweep } from '../dist/app/sweep.js';
import { openClient } from './clients.js';
import { fastConsentVisitors, fastCount, fastPlan, fastSweep } from './retention-fast.js';

const [mode, dir, at] = process.argv.slice(2);
const config = join(dir, 'registre.yaml');
const storeUrl = Object.values(parse(readFileSync(config, 'utf8')).stores)[0].url;
const result = { mode };
const time = async (f) => {
  const start = performance.now();
  const value = await f();
  return [(performance.now() - start) / 1000, value];
};

/** The fast sweep's archive: a SQLite file beside registre's for SQLite, a table of the shop's database otherwise. */
async function fastArchive(db) {
  const columns =
    'record_key varchar(128), rule varchar(128), deadline varchar(10), email text, first_name text, last_name text, created_at text, closed_at text';
  if (db.kind === 'sqlite') {
    await db.exec(`ATTACH DATABASE '${join(dir, '.registre', 'archive-fast.sqlite')}' AS arch`);
    await db.exec(`CREATE TABLE IF NOT EXISTS arch.archive_customers (${columns})`);
  } else {
    await db.exec('DROP TABLE IF EXISTS archive_customers');
    await db.exec(`CREATE TABLE archive_customers (${columns})`);
  }
}

/**
 * Each statement of the hand-written SQL timed: the slowest go in the result (`statements`, for the
 * bench to print beside the sweep's own timings); BENCH_FAST_TIMING=1 prints them on stderr too.
 */
function timedStatements(db) {
  const spent = [];
  result.statements = spent;
  for (const method of ['exec', 'run', 'all', 'insert']) {
    const original = db[method];
    db[method] = async (text, ...rest) => {
      const start = performance.now();
      try {
        return await original(text, ...rest);
      } finally {
        spent.push([
          performance.now() - start,
          `${method} ${String(text).replace(/\s+/g, ' ').slice(0, 110)}`,
        ]);
      }
    };
  }
  if (process.env.BENCH_FAST_TIMING === '1')
    process.on('exit', () => {
      for (const [ms, text] of spent.slice(0, 20))
        process.stderr.write(`${ms.toFixed(0).padStart(6)} ms  ${text}\n`);
    });
  return db;
}

const files = (root) =>
  existsSync(root)
    ? readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)))
        .sort()
    : [];

async function digest() {
  const db = await openClient(storeUrl, dir);
  const hash = createHash('sha256');
  const out = { rows: {}, tables: {} };
  const tables =
    db.kind === 'sqlite'
      ? (await db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name)
      : (
          await db.all(
            db.kind === 'postgres'
              ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1'
              : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = database() ORDER BY 1',
          )
        ).map((r) => r.name);
  const value = (v) => (v instanceof Date ? v.toISOString() : v);
  for (const table of tables.filter((t) => t !== 'archive_customers')) {
    // The suppression list's ids are the next free ones, in whatever order the hashes came: not compared.
    const text =
      table === 'suppression_list'
        ? 'SELECT email_hmac, reason, added_at FROM suppression_list ORDER BY email_hmac, reason, added_at'
        : `SELECT * FROM ${table} ORDER BY id`;
    const h = createHash('sha256');
    const rows = await db.all(text);
    for (const row of rows) h.update(`${JSON.stringify(Object.values(row).map(value))}\n`);
    out.rows[table] = rows.length;
    out.tables[table] = h.digest('hex').slice(0, 16);
  }
  // The archive: registre's in its archive store, the fast sweep's beside it.
  const archived = [];
  const registreArchive = join(dir, '.registre', 'archive.sqlite');
  const archiveUrl = parse(readFileSync(config, 'utf8')).archive?.url;
  if (archiveUrl?.startsWith('postgres')) {
    const a = await openClient(archiveUrl, dir);
    const there = await a.all(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'shop__customers'",
    );
    if (there.length)
      for (const r of await a.all(
        'SELECT record_key, deadline, email, first_name, last_name, created_at, closed_at FROM shop__customers',
      ))
        archived.push(JSON.stringify(Object.values(r)));
    await a.close();
  } else if (existsSync(registreArchive)) {
    const a = new Database(registreArchive, { readonly: true });
    if (a.prepare("SELECT 1 FROM sqlite_master WHERE name = 'shop__customers'").get())
      for (const r of a
        .prepare(
          'SELECT record_key, deadline, email, first_name, last_name, created_at, closed_at FROM shop__customers',
        )
        .all())
        archived.push(JSON.stringify(Object.values(r)));
    a.close();
  }
  const fastFile = join(dir, '.registre', 'archive-fast.sqlite');
  const fastRows =
    db.kind === 'sqlite'
      ? existsSync(fastFile)
        ? new Database(fastFile, { readonly: true })
            .prepare(
              'SELECT record_key, deadline, email, first_name, last_name, created_at, closed_at FROM archive_customers',
            )
            .all()
        : []
      : tables.includes('archive_customers')
        ? await db.all(
            'SELECT record_key, deadline, email, first_name, last_name, created_at, closed_at FROM archive_customers',
          )
        : [];
  for (const r of fastRows) archived.push(JSON.stringify(Object.values(r)));
  archived.sort();
  out.archived = archived.length;
  out.archive = createHash('sha256').update(archived.join('\n')).digest('hex').slice(0, 16);
  const media = files(join(dir, 'media'));
  out.media = media.length;
  const returned = [];
  for (const f of files(join(dir, 'returns')).filter((f) => f.endsWith('.json')))
    for (const r of JSON.parse(readFileSync(join(dir, 'returns', f), 'utf8'))) returned.push(Number(r.id));
  returned.sort((a, b) => a - b);
  out.returned = returned.length;
  hash.update(JSON.stringify([out.tables, out.archive, media, returned]));
  out.digest = hash.digest('hex').slice(0, 16);
  await db.close();
  return out;
}

if (mode === 'plan') {
  // As one command: an engine built, the plan, the engine closed.
  const [seconds, plan] = await time(() =>
    withEngine(config, (engine) => planOf(engine, { at }, { actor: 'bench:retention' })),
  );
  const lines = {};
  for (const l of plan.rules) {
    const { active, archive, due, held, anonymised } = l;
    lines[l.rule] = { active, archive, due, held, anonymised };
  }
  Object.assign(result, { seconds, due: plan.totals.due, archive: plan.totals.archive, lines });
} else if (mode === 'fast-plan') {
  const db = await openClient(storeUrl, dir);
  const [seconds, counts] = await time(() => fastCount(db, at));
  Object.assign(result, { seconds, ...counts });
  await db.close();
} else if (mode === 'fast-plan-all') {
  const db = await openClient(storeUrl, dir);
  const [seconds, lines] = await time(() => fastPlan(db, at));
  Object.assign(result, { seconds, lines });
  await db.close();
} else if (mode === 'sweep') {
  const batchSize = process.env.BENCH_BATCH_SIZE ? { batchSize: Number(process.env.BENCH_BATCH_SIZE) } : {};
  // As one command: the stores closed (SQLite checkpoints its log then) are timed too.
  const clock = { now: () => new Date(), today: () => at };
  const [seconds, report] = await time(() =>
    withEngine(config, (engine) => sweep(engine, { at, ...batchSize }, { actor: 'bench:retention' }), {
      clock,
    }),
  );
  const sum = (phase) => report.timings.reduce((n, t) => n + t[phase], 0);
  const rows = [...report.timings].sort(
    (x, y) => y.select + y.write + y.audit - (x.select + x.write + x.audit),
  );
  Object.assign(result, {
    seconds,
    total: report.total,
    timings: { select: sum('select'), write: sum('write'), audit: sum('audit'), rows },
  });
} else if (mode === 'fast-sweep' || mode === 'fast-sweep-consent') {
  const db = timedStatements(await openClient(storeUrl, dir));
  await fastArchive(db);
  const key = readFileSync(join(dir, '.registre', 'hmac.key'), 'utf8').trimEnd();
  // Closing is timed too (SQLite checkpoints its log then), as registre's sweep closes its stores.
  const [seconds, done] = await time(async () => {
    // With the consent ledger (SQLite): the visitors without consent on `at`, their visits in the
    // same DELETE as those past 13 months.
    const visitsAlso =
      mode === 'fast-sweep-consent'
        ? await fastConsentVisitors(db, join(dir, '.registre', 'state.sqlite'), at)
        : undefined;
    const done = await fastSweep(db, {
      at,
      key,
      mediaDir: join(dir, 'media'),
      returnsDir: join(dir, 'returns'),
      visitsAlso,
    });
    await db.close();
    return done;
  });
  result.statements = result.statements.sort((a, b) => b[0] - a[0]).slice(0, 20);
  Object.assign(result, { seconds, ...done });
} else if (mode === 'digest') {
  Object.assign(result, await digest());
} else if (mode === 'explain') {
  const { createEngine } = await import('../dist/app/engine.js');
  const engine = createEngine({ config });
  const project = await engine.project();
  const store = project.datamap.stores[0];
  const conn = await engine.store(store);
  const ctx = { register: project.register, datamap: project.datamap, dialect: conn.dialect };
  const { n } = (await conn.db
    .selectFrom('customers')
    .select(conn.db.fn.countAll().as('n'))
    .executeTakeFirst()) ?? { n: 0 };
  const step = Math.max(1, Math.floor(Number(n) / 100));
  const emails = (
    await conn.db
      .selectFrom('customers')
      .select('email')
      .where((eb) => eb(eb.fn('mod', ['id', eb.lit(step)]), '=', 0))
      .limit(100)
      .execute()
  ).map((r) => r.email);
  const times = [];
  let records = 0;
  for (const email of emails) {
    const [seconds, found] = await time(async () => {
      const people = await findPerson(conn, ctx, store, email);
      for (const p of people) if (p.table.record) await explainRecord(conn, ctx, store, p.table, p.id, at);
      return people.length;
    });
    times.push(seconds * 1000);
    records += found;
  }
  await engine.close();
  times.sort((a, b) => a - b);
  Object.assign(result, {
    people: emails.length,
    records,
    medianMs: times[Math.floor(times.length / 2)],
    p90Ms: times[Math.floor(times.length * 0.9)],
  });
}
result.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify(result)}\n`);
