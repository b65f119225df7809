/** What registre's PostgreSQL sessions are set to, on a real server (the URL .ci/run sets). */

import { describe, expect, it } from 'vitest';
import { connect } from '../src/adapters/sql/connect.js';
import { sql } from '../src/adapters/sql/kysely.js';

describe.runIf(process.env.REGISTRE_TEST_POSTGRES_URL)('a PostgreSQL session of registre', () => {
  it('works in UTC and without JIT, on every connection of its pool', async () => {
    const conn = await connect('shop', process.env.REGISTRE_TEST_POSTGRES_URL as string);
    try {
      // Several at once: each takes a connection of its own from the pool.
      const settings = await Promise.all(
        Array.from({ length: 4 }, () =>
          sql<{
            tz: string;
            jit: string;
          }>`SELECT current_setting('TimeZone') AS tz, current_setting('jit') AS jit, pg_sleep(0.05)`.execute(
            conn.db,
          ),
        ),
      );
      for (const { rows } of settings) expect(rows[0]).toMatchObject({ tz: 'UTC', jit: 'off' });
    } finally {
      await conn.close();
    }
  });
});
