/** What registre's PostgreSQL sessions are set to, on a real server (the URL .ci/run sets). */

import { describe, expect, it } from 'vitest';
import { connect } from '../src/adapters/sql/connect.js';
import { listTables } from '../src/adapters/sql/introspect.js';
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

describe.runIf(process.env.REGISTRE_TEST_POSTGRES_URL)('tables of a PostgreSQL schema', () => {
  it('are listed while another schema of the server is dropped, and only its own', async () => {
    const url = process.env.REGISTRE_TEST_POSTGRES_URL as string;
    const conn = await connect('shop', url);
    const other = await connect('other', url);
    const schema = `registre_other_${process.pid}`;
    try {
      await sql`CREATE TABLE IF NOT EXISTS registre_listed (id integer PRIMARY KEY)`.execute(conn.db);
      // Another application's migrations, on the same server, all the while.
      let churning = true;
      const churn = (async () => {
        while (churning) {
          await sql.raw(`CREATE SCHEMA ${schema}`).execute(other.db);
          for (let t = 0; t < 20; t++)
            await sql.raw(`CREATE TABLE ${schema}.t${t} (id integer)`).execute(other.db);
          await sql.raw(`DROP SCHEMA ${schema} CASCADE`).execute(other.db);
        }
      })();
      try {
        for (let i = 0; i < 80; i++) {
          const names = (await listTables(conn)).map((t) => t.name);
          expect(names).toContain('registre_listed');
          expect(names.some((n) => /^t\d+$/.test(n))).toBe(false);
        }
      } finally {
        churning = false;
        await churn;
      }
    } finally {
      await sql`DROP TABLE IF EXISTS registre_listed`.execute(conn.db);
      await sql.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).execute(other.db);
      await conn.close();
      await other.close();
    }
  });
});
