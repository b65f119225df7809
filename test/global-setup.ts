import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEMPLATE_ENV } from './pglite-reuse.js';

/**
 * CLI tests run the real `registre` command: build it first from the current sources (an
 * incremental build: its state is kept in dist/, so a build with nothing changed takes a few
 * seconds). Meanwhile, one PGlite data folder is initialised: the test workers copy it instead of
 * running initdb for every database (test/pglite-setup.ts).
 *
 * Every temporary folder of the run (the tests' shops, the commands' parse cache, what PGlite and
 * the spawned commands make) goes in one folder of this run, removed after it: `npm test` leaves
 * nothing in the temp folder (nor in the user's ~/.cache).
 */
export default async function setup(): Promise<() => void> {
  const run = mkdtempSync(join(tmpdir(), 'registre-test-run-'));
  const previous = process.env.TMPDIR;
  const teardown = () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(run, { recursive: true, force: true });
  };
  try {
    const build = promisify(execFile)(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      process.stdout.write(error.stdout ?? '');
      process.stderr.write(error.stderr ?? '');
      throw new Error('the build (tsc -p tsconfig.build.json) failed');
    });
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
  process.env.TMPDIR = run;
  const own = process.env.REGISTRE_CACHE_DIR === undefined;
  if (own) process.env.REGISTRE_CACHE_DIR = mkdtempSync(join(run, 'registre-test-cache-'));
  return teardown;
}
