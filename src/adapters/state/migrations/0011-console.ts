import type { Migration } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * The console's sessions: a browser signed in with an API token holds a random session id in an
 * HttpOnly cookie; the store keeps its SHA-256 (never the id), the token it stands for, the
 * session's CSRF secret and when it ends. Rows are sealed with the state key: a session written
 * by hand into the database is refused.
 */
export const consoleMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.schema
      .createTable('console_sessions')
      .ifNotExists()
      .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('token_id', 'integer', (c) => c.notNull())
      .addColumn('csrf', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('mac', 'varchar(128)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('console_sessions_expires_idx')
      .ifNotExists()
      .on('console_sessions')
      .column('expires_at')
      .execute();
  },
});
