/**
 * The databases SQL tests loop over: SQLite and PGlite always; a real PostgreSQL and MariaDB/MySQL
 * when REGISTRE_TEST_POSTGRES_URL and REGISTRE_TEST_MYSQL_URL are set (as .ci/run does). Each test
 * gets its own schema or database, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';

export interface TestDatabase {
  readonly name: string;
  /** A fresh, empty database; relative paths are relative to the demo's folder. */
  create(): Promise<{ url: string; drop: () => Promise<void> }>;
}

const unique = () => `registre_test_${randomBytes(5).toString('hex')}`;

const sqlite: TestDatabase = {
  name: 'sqlite',
  create: async () => ({ url: 'sqlite:shop.sqlite', drop: async () => {} }),
};

const pglite: TestDatabase = {
  name: 'pglite',
  create: async () => ({ url: 'pglite:pgdata', drop: async () => {} }),
};

function postgres(base: string): TestDatabase {
  return {
    name: 'postgres',
    async create() {
      const schema = unique();
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const url = `${base}${base.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
      return {
        url,
        drop: async () => {
          const c = new pg.Client({ connectionString: base });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  };
}

function mysqlDatabase(base: string): TestDatabase {
  return {
    name: 'mysql',
    async create() {
      const database = unique();
      const admin = await mysql.createConnection(base);
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.end();
      const url = new URL(base);
      url.pathname = `/${database}`;
      return {
        url: url.toString(),
        drop: async () => {
          const c = await mysql.createConnection(base);
          await c.query(`DROP DATABASE ${database}`);
          await c.end();
        },
      };
    },
  };
}

const server = process.env.REGISTRE_TEST_POSTGRES_URL
  ? [postgres(process.env.REGISTRE_TEST_POSTGRES_URL)]
  : [];
const mysqlServer = process.env.REGISTRE_TEST_MYSQL_URL
  ? [mysqlDatabase(process.env.REGISTRE_TEST_MYSQL_URL)]
  : [];

/**
 * PostgreSQL's SQL is proven on a real server when there is one, else on PGlite (in-process, the
 * same SQL); SQLite always, MySQL/MariaDB when its URL is set. PGlite is ten times slower than the
 * server on the same test: with a server, it runs only where it proves something of its own.
 */
export const DIALECTS: readonly TestDatabase[] = [
  sqlite,
  ...(server.length ? server : [pglite]),
  ...mysqlServer,
];

/** Every database registre opens, PGlite included: for the tests of PGlite's own adapter (shop, state store). */
export const ALL_DIALECTS: readonly TestDatabase[] = [sqlite, pglite, ...server, ...mysqlServer];
