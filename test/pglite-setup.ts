/**
 * PGlite in the test workers, made cheap without changing what a test sees (`setupFiles`):
 *
 * - a new data folder starts as a copy of a template that global-setup made once per run, instead
 *   of running initdb (about 4 s of CPU each, in two extra WebAssembly instances);
 * - 16 MB of shared buffers instead of 128 MB: the test shops are small, and each start wrote
 *   the whole buffer pool;
 * - a data folder closed by the code under test is kept open (checkpointed, its session reset)
 *   and handed back to the next `new PGlite(sameFolder)` of this worker, as long as nothing else
 *   (a `registre` process, a test copying a backup over it) has changed a file in it since.
 *
 * The registre code is unchanged: it still opens and closes a PGlite per command. The commands the
 * tests spawn use the real PGlite, as a user's would.
 */
import { vi } from 'vitest';

vi.mock('@electric-sql/pglite', async (importOriginal) => {
  const real = await importOriginal<typeof import('@electric-sql/pglite')>();
  const { testPGlite } = await import('./pglite-reuse.js');
  return { ...real, PGlite: testPGlite(real.PGlite) };
});
