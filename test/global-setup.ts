import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * CLI tests run the real `registre` command: build it first from the current sources. Every
 * temporary folder of the run (the tests' shops, the commands' parse cache, what PGlite and the
 * spawned commands make) goes in one folder of this run, removed after it: `npm test` leaves
 * nothing in the temp folder (nor in the user's ~/.cache).
 */
export default function setup(): () => void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  const run = mkdtempSync(join(tmpdir(), 'registre-test-run-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = run;
  const own = process.env.REGISTRE_CACHE_DIR === undefined;
  if (own) process.env.REGISTRE_CACHE_DIR = mkdtempSync(join(run, 'registre-test-cache-'));
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(run, { recursive: true, force: true });
  };
}
