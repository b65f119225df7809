import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * CLI tests run the real `registre` command: build it first from the current sources. The
 * commands they run keep their parse cache in a folder of this run, removed after it (not in the
 * user's ~/.cache).
 */
export default function setup(): () => void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  const own = process.env.REGISTRE_CACHE_DIR === undefined;
  if (own) process.env.REGISTRE_CACHE_DIR = mkdtempSync(join(tmpdir(), 'registre-test-cache-'));
  const dir = process.env.REGISTRE_CACHE_DIR as string;
  return () => {
    if (own) rmSync(dir, { recursive: true, force: true });
  };
}
