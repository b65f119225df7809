// `npm run bench -- suppression` (or `node bench/suppression.js`, after `npm run build`):
// `registre suppression filter` on a 1,000,000-row mailing list (BENCH_MAILING_ROWS) of which 5%
// are on the suppression list, against the hand-written baseline (bench/suppression-baseline.js).
// Both run as commands from start to exit on the same files, and their outputs are compared byte
// for byte. Everything is made in a temporary folder, removed at the end.
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';

const here = new URL('.', import.meta.url).pathname;
const BIN = join(here, '..', 'bin', 'registre.js');
const TIME = '/usr/bin/time';

/** A command run to its end: seconds from start to exit, its stdout, its peak RSS (when /usr/bin/time is there). */
function timed(args) {
  const withTime = existsSync(TIME);
  const start = performance.now();
  const run = spawnSync(
    withTime ? TIME : process.execPath,
    withTime ? ['-f', 'maxrss %M', process.execPath, ...args] : args,
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  const rss = /maxrss (\d+)/.exec(run.stderr)?.[1];
  return { seconds, stdout: run.stdout, maxRssMb: rss ? Math.round(Number(rss) / 1024) : null };
}

/** The mailing list: email first (some in capitals, some padded), a quoted name with a comma, a city. */
function writeMailing(path, rows, suppressedEvery) {
  const fd = openSync(path, 'wx');
  const cities = ['Paris', 'Lyon', 'Nantes', '"Saint-Denis, La Réunion"', 'Lille'];
  let text = 'email,name,city\r\n';
  const suppressed = [];
  for (let i = 0; i < rows; i++) {
    const listed = i % suppressedEvery === 0;
    const address = `${listed ? 'gone' : 'reader'}.${i}@example.org`;
    if (listed) suppressed.push(address);
    const shown = i % 7 === 0 ? address.toUpperCase() : i % 11 === 0 ? ` ${address} ` : address;
    text += `${shown},"Nom ${i}, Prénom",${cities[i % cities.length]}\r\n`;
    if (text.length > 1 << 20) {
      writeSync(fd, text);
      text = '';
    }
  }
  writeSync(fd, text);
  closeSync(fd);
  return suppressed;
}

export async function suppressionBench() {
  const rows = Number(process.env.BENCH_MAILING_ROWS ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'registre-bench-suppression-'));
  try {
    spawnSync(process.execPath, [BIN, 'demo', '--out', dir, '--customers', '1000', '--seed', '1'], {
      stdio: 'ignore',
    });
    const config = join(dir, 'registre.yaml');
    const keyFile = join(dir, '.registre', 'hmac.key');
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trimEnd(), 'utf8');
    const mailing = join(dir, 'mailing.csv');
    const suppressed = writeMailing(mailing, rows, 20);
    // The list: the 5% of the mailing, as many addresses that are not in it, and the demo's own.
    const db = new Database(join(dir, 'shop.sqlite'));
    const hash = (a) => createHmac('sha256', key).update(a.trim().toLowerCase()).digest('hex');
    const insert = db.prepare(
      "INSERT INTO suppression_list (id, email_hmac, reason, added_at) VALUES (?, ?, 'unsubscribe', '2026-11-01 00:00:00')",
    );
    let id = db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM suppression_list').get().m;
    db.transaction(() => {
      for (const a of suppressed) insert.run(++id, hash(a));
      for (let i = 0; i < suppressed.length; i++) insert.run(++id, hash(`elsewhere.${i}@example.org`));
    })();
    const listSize = db.prepare('SELECT COUNT(*) AS n FROM suppression_list').get().n;
    db.close();

    const registre = timed([
      BIN,
      'suppression',
      'filter',
      '--config',
      config,
      mailing,
      '--out',
      join(dir, 'registre.csv'),
      '--json',
    ]);
    const result = JSON.parse(registre.stdout);
    const baseline = timed([
      join(here, 'suppression-baseline.js'),
      join(dir, 'shop.sqlite'),
      keyFile,
      mailing,
      join(dir, 'baseline.csv'),
    ]);
    const base = JSON.parse(baseline.stdout);
    if (result.rows !== rows || result.removed !== suppressed.length || result.invalid !== 0)
      throw new Error(`registre counted ${JSON.stringify(result)}`);
    if (!readFileSync(join(dir, 'registre.csv')).equals(readFileSync(join(dir, 'baseline.csv'))))
      throw new Error('registre and the baseline did not write the same file');
    const mb = (statSync(mailing).size / 1024 / 1024).toFixed(0);
    const rss = (r) => (r.maxRssMb === null ? '' : `, peak RSS ${r.maxRssMb} MB`);
    console.log(
      `\nsuppression filter: ${rows.toLocaleString('en')} rows (${mb} MiB), ${suppressed.length.toLocaleString('en')} of them suppressed, a list of ${listSize.toLocaleString('en')} hashes`,
    );
    console.log(
      `  registre suppression filter  ${registre.seconds.toFixed(2)} s from start to exit${rss(registre)} (kept ${result.kept.toLocaleString('en')}, removed ${result.removed.toLocaleString('en')})`,
    );
    console.log(
      `  hand-written baseline        ${baseline.seconds.toFixed(2)} s from start to exit${rss(baseline)} (kept ${base.kept.toLocaleString('en')}; first column only, no CSV quoting, no audit entry)`,
    );
    console.log(
      `  ratio registre / baseline: ${(registre.seconds / baseline.seconds).toFixed(2)}; the outputs are identical`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await suppressionBench();
