import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Both cores: the test files are independent (each its own folders, schemas and databases).
    maxWorkers: 2,
    // A worker runs its files one after another in one process: the modules (Kysely, PGlite,
    // the drivers) are imported once per worker, not once per file (npm test: 242 s -> 177 s
    // idle on 2 cores). Each file still makes its own folders, keys and databases.
    isolate: false,
    globalSetup: ['test/global-setup.ts'],
    // PGlite from a template data folder, with small buffers, reopened without a restart.
    setupFiles: ['test/pglite-setup.ts'],
    // Honest limits for tests that open real databases (PGlite boots a PostgreSQL in WebAssembly
    // at every connection) and spawn the command, on 2 cores that may be busy with other work.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
