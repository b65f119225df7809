/**
 * Kysely, from its CommonJS build. Node 20 loads its 250 modules about twice as fast that way as
 * their ES-module twins (75–110 ms against 125–190 ms here), and every command that reads a
 * store pays it at start (issue 9). Every module of registre, and the tests, import Kysely from
 * here: one copy of it in a process.
 */
import { createRequire } from 'node:module';

const kysely = createRequire(import.meta.url)('kysely') as typeof import('kysely');

export const { CompiledQuery, Kysely, Migrator, MysqlDialect, PostgresDialect, SqliteDialect, sql } = kysely;
export type Kysely<DB> = import('kysely').Kysely<DB>;
export type {
  Migration,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryResult,
  RawBuilder,
  TableMetadata,
} from 'kysely';
