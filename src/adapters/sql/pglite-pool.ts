/**
 * PGlite (PostgreSQL in WebAssembly, in-process) behind Kysely's PostgresDialect: a pool of one
 * client, handed out one borrower at a time so that a transaction never interleaves with
 * another query. (The kysely-pglite package drags a CLI framework along; this is all it takes.)
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from './kysely.js';

const COMMANDS = ['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE', 'COMMIT', 'ROLLBACK'] as const;
type Command = (typeof COMMANDS)[number];

function commandOf(sql: string): Command {
  const word = /^\s*(?:with\b[\s\S]*?\)\s*)?(\w+)/i.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT';
  return (COMMANDS as readonly string[]).includes(word) ? (word as Command) : 'SELECT';
}

export function pglitePool(db: PGlite): PostgresPool {
  let queue: Promise<void> = Promise.resolve();
  const client = (release: () => void): PostgresPoolClient =>
    ({
      async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        const result = await db.query<R>(sql, [...parameters]);
        return {
          command: commandOf(sql),
          rowCount: result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      },
      release,
    }) as PostgresPoolClient;
  return {
    connect() {
      let release = () => {};
      const turn = new Promise<void>((resolve) => {
        release = resolve;
      });
      const ready = queue.then(() => client(release));
      queue = queue.then(() => turn);
      return ready;
    },
    async end() {
      await db.close();
    },
  };
}
