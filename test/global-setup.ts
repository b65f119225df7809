import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEMPLATE_ENV } from './pglite-reuse.js';

/**
 * CLI tests run the real `registre` command (bin/registre.js runs dist/): emit dist/ first from
 * the current sources. Only the JavaScript is needed: no type check (`npm test` runs
 * `npm run typecheck` before, and vitest runs the sources it imports unchecked too), no
 * declarations, no schema files. Its incremental state is its own (dist/test.tsbuildinfo), so
 * that `npm run build` still emits what changed since its own last run; with nothing changed since
 * the last one, it does not run at all. Meanwhile, one PGlite data folder is initialised: the test
 * workers copy it instead of running initdb for every database (test/pglite-setup.ts).
 *
 * Every temporary folder of the run (the tests' shops, the commands' parse cache, what PGlite, the
 * build and the spawned commands make) goes in one folder of this run, made before anything else
 * and removed after the run, or when the process exits early: a run leaves nothing in the temp
 * folder (nor in the user's ~/.cache).
 */
export default async function setup(): Promise<() => void> {
  const run = mkdtempSync(join(tmpdir(), 'registre-test-run-'));
  const previous = process.env.TMPDIR;
  const remove = () => rmSync(run, { recursive: true, force: true });
  // Interrupted (Ctrl-C, a failed setup): the folder goes all the same.
  process.once('exit', remove);
  const teardown = () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    remove();
    process.removeListener('exit', remove);
  };
  process.env.TMPDIR = run;
  try {
    const build = buildDist();
    const template = join(run, 'pglite-template');
    const initdb = (async () => {
      const { PGlite } = await import('@electric-sql/pglite');
      const pg = new PGlite(template);
      await pg.waitReady;
      await pg.close();
      process.env[TEMPLATE_ENV] = template;
    })().catch(() => {
      // Without a template each PGlite database runs its own initdb: slower, the same tests.
    });
    await Promise.all([build, initdb]);
  } catch (error) {
    teardown();
    throw error;
  }
  const own = process.env.REGISTRE_CACHE_DIR === undefined;
  if (own) process.env.REGISTRE_CACHE_DIR = mkdtempSync(join(run, 'registre-test-cache-'));
  return () => {
    teardown();
    sayWhatWasLeftOut();
  };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STATE = join(ROOT, 'dist', 'test.tsbuildinfo');

/** dist/'s JavaScript from src/, when anything in src/ or the build's config changed since the last. */
async function buildDist(): Promise<void> {
  if (existsSync(STATE) && newest(join(ROOT, 'src')) < statSync(STATE).mtimeMs) return;
  const started = new Date();
  await promisify(execFile)(
    process.execPath,
    [
      'node_modules/typescript/bin/tsc',
      ...['-p', 'tsconfig.build.json', '--noCheck', '--declaration', 'false'],
      ...['--tsBuildInfoFile', STATE],
    ],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    process.stdout.write(error.stdout ?? '');
    process.stderr.write(error.stderr ?? '');
    // Not built: the next run builds again, even with nothing changed.
    rmSync(STATE, { force: true });
    throw new Error('the build of dist/ (tsc -p tsconfig.build.json --noCheck) failed');
  });
  // As of the build's start: a file saved while it ran is newer, and builds the next run.
  if (existsSync(STATE)) utimesSync(STATE, started, started);
}

/**
 * The time of the last change under a folder, a file's or a folder's (a file added, renamed or
 * removed changes its folder's), and of the build's configuration.
 */
function newest(folder: string): number {
  let last = Math.max(
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(ROOT, f)).mtimeMs),
  );
  const walk = (dir: string) => {
    last = Math.max(last, statSync(dir).mtimeMs);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else last = Math.max(last, statSync(path).mtimeMs);
    }
  };
  walk(folder);
  return last;
}

/**
 * Which test files have tests that need a database server, by what they say (test/dialects.ts):
 * PostgreSQL's tests name its URL or pick the `postgres` dialect, or leave out PGlite (one process
 * per data folder); MySQL's loop over the dialects, or name its URL.
 */
const NEEDS = {
  REGISTRE_TEST_POSTGRES_URL:
    /REGISTRE_TEST_POSTGRES_URL|\.name === 'postgres'|\.name !== 'pglite'|skipIf\(database\.name === 'pglite'\)/,
  REGISTRE_TEST_MYSQL_URL: /\.each\((ALL_)?DIALECTS\b|\.each\(SHARED\)|REGISTRE_TEST_MYSQL_URL/,
} as const;

/** Once a run, after its summary: the tests left out for want of a server, and what turns them on. */
function sayWhatWasLeftOut(): void {
  const folder = fileURLToPath(new URL('.', import.meta.url));
  const files = readdirSync(folder).filter((f) => f.endsWith('.test.ts'));
  const needing = (variable: keyof typeof NEEDS) =>
    files
      .filter((f) => NEEDS[variable].test(readFileSync(join(folder, f), 'utf8')))
      .map((f) => f.slice(0, -8));
  const lines: string[] = [];
  if (!process.env.REGISTRE_TEST_POSTGRES_URL)
    lines.push(
      `REGISTRE_TEST_POSTGRES_URL not set: PostgreSQL's SQL ran on PGlite; the tests that need a server did not run (in ${needing('REGISTRE_TEST_POSTGRES_URL').join(', ')}).`,
    );
  if (!process.env.REGISTRE_TEST_MYSQL_URL)
    lines.push(
      `REGISTRE_TEST_MYSQL_URL not set: nothing ran on MariaDB/MySQL (the dialect loops of ${needing('REGISTRE_TEST_MYSQL_URL').length} test files).`,
    );
  if (lines.length > 0)
    process.stdout.write(
      `\n${lines.join('\n')}\nSet it to a server's URL (postgres://… or mysql://…; each test makes and drops its own schema) to run them.\n`,
    );
}
