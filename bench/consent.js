// Consent events through the application API, against hand-written SQL doing the same inserts on
// the same kind of database in the same run, and against c15t's measured 130–420 events/s:
//   (a) in batches: importConsents of a file of JSON lines (what the banner snippets post);
//   (b) one by one: sequential recordConsent calls on one engine (one event, one transaction).
// A demo project in a temporary folder (removed at the end); on PostgreSQL too when
// REGISTRE_BENCH_POSTGRES_URL (or REGISTRE_TEST_POSTGRES_URL) is set, in schemas of its own.
// Usage: node bench/consent.js   (BENCH_CONSENT_EVENTS, default 100,000; BENCH_CONSENT_SINGLE, 5,000)
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { importConsents, recordConsent } from '../dist/app/consent.js';
import { createEngine } from '../dist/app/engine.js';

const here = new URL('.', import.meta.url).pathname;
const BATCH_EVENTS = Number(process.env.BENCH_CONSENT_EVENTS ?? 100_000);
const SINGLE_EVENTS = Number(process.env.BENCH_CONSENT_SINGLE ?? 5_000);
const C15T = [130, 420];
const TARGETS = { batches: 20_000, single: 2_000 };
const ctx = { actor: 'bench:consent' };
const NOTICE = {
  version: '3',
  sha256: createHash('sha256').update('Nous mesurons l’audience avec votre accord.').digest('hex'),
};
const AT = '2026-11-20T10:00:00.000Z';

/** A PostgreSQL URL whose sessions work in `schema`. */
const withSearchPath = (url, schema) =>
  `${url}${url.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;

/** The event a banner posts for visitor `i` (half given, half refused), as a JSON line. */
const event = (prefix, i) => ({
  visitor: `${prefix}${i.toString(16).padStart(12, '0')}`,
  purposes: ['audience-statistics'],
  choice: i % 2 ? 'refused' : 'given',
  notice: NOTICE,
  at: AT,
  source: 'banner',
  consentId: `cc-${prefix}${i}`,
  language: 'fr',
});

/** The row registre writes for that event (what the raw SQL inserts: generated beforehand, untimed). */
const rowOf = (e, id) => [
  id,
  id,
  'visitor',
  e.visitor,
  e.purposes[0],
  e.choice,
  e.at,
  e.notice.version,
  e.notice.sha256,
  e.source,
  e.consentId,
  e.language,
  AT,
  ctx.actor,
  null,
  randomBytes(32).toString('hex'),
];

const COLUMNS = [
  'id',
  'event',
  'subject_kind',
  'subject',
  'purpose',
  'choice',
  'at',
  'notice_version',
  'notice_sha256',
  'source',
  'consent_id',
  'language',
  'recorded_at',
  'actor',
  'key_id',
  'mac',
];

/** The ledger's table as registre's migration creates it (src/adapters/state/migrations/0008-consent.ts). */
const DDL = [
  `CREATE TABLE consent_events (id integer PRIMARY KEY, event integer NOT NULL, subject_kind varchar(8) NOT NULL,
    subject varchar(255) NOT NULL, purpose varchar(64) NOT NULL, choice varchar(16) NOT NULL, at varchar(32) NOT NULL,
    notice_version varchar(64) NOT NULL, notice_sha256 varchar(64) NOT NULL, source varchar(16) NOT NULL,
    consent_id varchar(128) NOT NULL, language varchar(16), recorded_at varchar(32) NOT NULL, actor varchar(255) NOT NULL,
    key_id varchar(16), mac varchar(128) NOT NULL)`,
  'CREATE UNIQUE INDEX consent_events_once_idx ON consent_events (subject_kind, subject, purpose, at, choice, consent_id)',
  'CREATE INDEX consent_events_purpose_idx ON consent_events (purpose, subject_kind, subject, at)',
];

/** Rows per INSERT: 16 columns, as registre's (1,000, under SQLite's 32,766 bound parameters). */
const PER_INSERT = 1_000;

const insertText = (rows, placeholder) => {
  let n = 0;
  const tuples = Array.from({ length: rows }, () => `(${COLUMNS.map(() => placeholder(++n)).join(', ')})`);
  // A replayed event is not appended twice, as in the ledger: the unique index and DO NOTHING.
  return `INSERT INTO consent_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`;
};

/**
 * The hand-written baseline: the fastest a good engineer would write on that database. In
 * batches, prepared multi-row INSERTs in one transaction; one by one, one prepared INSERT per
 * transaction. The same connection settings as registre's state store.
 */
async function rawBaseline(kind, where, batchRows, singleRows) {
  if (kind === 'sqlite') {
    const db = new Database(where);
    db.pragma('busy_timeout = 30000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    for (const s of DDL) db.exec(s);
    const many = db.prepare(insertText(PER_INSERT, () => '?'));
    const start = performance.now();
    db.transaction(() => {
      for (let i = 0; i < batchRows.length; i += PER_INSERT) {
        const part = batchRows.slice(i, i + PER_INSERT);
        if (part.length === PER_INSERT) many.run(part.flat());
        else db.prepare(insertText(part.length, () => '?')).run(part.flat());
      }
    })();
    const batches = (performance.now() - start) / 1000;
    const one = db.prepare(insertText(1, () => '?'));
    const started = performance.now();
    for (const row of singleRows) one.run(row); // autocommit: one transaction each
    const single = (performance.now() - started) / 1000;
    db.close();
    return { batches, single };
  }
  const client = new pg.Client({ connectionString: where });
  await client.connect();
  for (const s of DDL) await client.query(s);
  const many = insertText(PER_INSERT, (n) => `$${n}`);
  const start = performance.now();
  await client.query('BEGIN');
  for (let i = 0; i < batchRows.length; i += PER_INSERT) {
    const part = batchRows.slice(i, i + PER_INSERT);
    if (part.length === PER_INSERT) await client.query({ name: 'many', text: many, values: part.flat() });
    else
      await client.query(
        insertText(part.length, (n) => `$${n}`),
        part.flat(),
      );
  }
  await client.query('COMMIT');
  const batches = (performance.now() - start) / 1000;
  const one = insertText(1, (n) => `$${n}`);
  const started = performance.now();
  for (const row of singleRows) await client.query({ name: 'one', text: one, values: row });
  const single = (performance.now() - started) / 1000;
  await client.end();
  return { batches, single };
}

/** registre: the demo project's engine, the import of a file of JSON lines, then recordConsent one by one. */
async function throughRegistre(dir) {
  const engine = createEngine({ config: join(dir, 'registre.yaml') });
  try {
    // The state store created and migrated, its first write done: not timed.
    await recordConsent(engine, { ...event('warm-', 0), source: 'banner' }, ctx);
    const file = join(dir, 'consents.jsonl');
    writeFileSync(file, '');
    for (let i = 0; i < BATCH_EVENTS; i += 10_000)
      appendFileSync(
        file,
        Array.from(
          { length: Math.min(10_000, BATCH_EVENTS - i) },
          (_, k) => `${JSON.stringify(event('b-', i + k))}\n`,
        ).join(''),
      );
    let start = performance.now();
    const imported = await importConsents(engine, { file }, ctx);
    const batches = (performance.now() - start) / 1000;
    if (imported.rows !== BATCH_EVENTS || imported.refused.length)
      throw new Error(`the import recorded ${imported.rows} rows, refused ${imported.refused.length} lines`);
    const singles = Array.from({ length: SINGLE_EVENTS }, (_, i) => event('s-', i));
    start = performance.now();
    for (const e of singles) await recordConsent(engine, e, ctx);
    const single = (performance.now() - start) / 1000;
    return { batches, single };
  } finally {
    await engine.close();
  }
}

function report(title, registre, raw) {
  const rate = (n, s) => Math.round(n / s);
  const line = (label, n, r, b, target) => {
    const events = rate(n, r);
    console.log(
      `  ${label.padEnd(42)} ${r.toFixed(2)} s  ${events.toLocaleString('en')} events/s (target ${target.toLocaleString('en')}: ${events >= target ? 'met' : 'MISSED'})   raw SQL ${b.toFixed(2)} s, ${rate(n, b).toLocaleString('en')} events/s   ratio registre / raw ${(r / b).toFixed(2)}   ${(events / C15T[1]).toFixed(1)}–${(events / C15T[0]).toFixed(1)}× c15t's 130–420 events/s`,
    );
  };
  console.log(
    `\nconsent events on ${title}: ${BATCH_EVENTS.toLocaleString('en')} in batches, ${SINGLE_EVENTS.toLocaleString('en')} one by one`,
  );
  line(
    'batches (importConsents of JSON lines)',
    BATCH_EVENTS,
    registre.batches,
    raw.batches,
    TARGETS.batches,
  );
  line(
    'one by one (recordConsent on one engine)',
    SINGLE_EVENTS,
    registre.single,
    raw.single,
    TARGETS.single,
  );
  console.log(
    '  (registre parses and checks each line, seals each row, skips replays, writes one audit entry per batch of 2,000 or per call; the raw SQL inserts rows generated beforehand)',
  );
}

/** A demo project with no customers: the register, a key, the state store where the configuration says. */
function project(state) {
  const dir = mkdtempSync(join(tmpdir(), 'registre-bench-consent-'));
  execFileSync(
    process.execPath,
    [join(here, '..', 'bin', 'registre.js'), 'demo', '--out', dir, '--customers', '0', '--seed', '1'],
    { stdio: 'ignore' },
  );
  if (state) {
    // The state store (and the archive store, where the log's checkpoint goes) on that server.
    const file = join(dir, 'registre.yaml');
    const text = readFileSync(file, 'utf8').replace(/^state:\n {2}url: .*\n/m, '');
    writeFileSync(
      file,
      `${text}state:\n  url: ${JSON.stringify(state)}\narchive:\n  url: ${JSON.stringify(state)}\n`,
    );
  }
  return dir;
}

const rowsFor = (prefix, n, first = 1) =>
  Array.from({ length: n }, (_, i) => rowOf(event(prefix, i), first + i));

async function onSqlite() {
  const dir = project();
  try {
    const registre = await throughRegistre(dir);
    const raw = await rawBaseline(
      'sqlite',
      join(dir, 'raw.sqlite'),
      rowsFor('b-', BATCH_EVENTS),
      rowsFor('s-', SINGLE_EVENTS, BATCH_EVENTS + 1),
    );
    report('SQLite', registre, raw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function onPostgres(url) {
  const schemas = ['registre_bench_consent', 'registre_bench_consent_raw'];
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE; CREATE SCHEMA ${s}`);
  const dir = project(withSearchPath(url, schemas[0]));
  try {
    const registre = await throughRegistre(dir);
    const raw = await rawBaseline(
      'postgres',
      withSearchPath(url, schemas[1]),
      rowsFor('b-', BATCH_EVENTS),
      rowsFor('s-', SINGLE_EVENTS, BATCH_EVENTS + 1),
    );
    report('PostgreSQL', registre, raw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  }
}

await onSqlite();
const pgUrl = process.env.REGISTRE_BENCH_POSTGRES_URL ?? process.env.REGISTRE_TEST_POSTGRES_URL;
if (pgUrl) await onPostgres(pgUrl);
else console.log('  (PostgreSQL: set REGISTRE_BENCH_POSTGRES_URL to measure it too)');
