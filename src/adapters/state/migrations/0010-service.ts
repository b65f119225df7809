import type { Migration } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * What the service keeps: its API tokens (each stored as the SHA-256 of its secret, never the
 * secret; sealed, so a scope raised by hand in the database is refused), and the windows of its
 * rate limits, shared by every process on the same store (a key is a keyed hash: never an
 * address or a network address in clear); and the figures a plan or a forecast last gave for a
 * day (the API serves them with their date instead of counting a large shop again for each call).
 */
export const serviceMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.schema
      .createTable('api_tokens')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('scope', 'varchar(16)', (c) => c.notNull())
      .addColumn('controller_id', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_by', 'varchar(255)', (c) => c.notNull())
      .addColumn('revoked_at', 'varchar(32)')
      .addColumn('revoked_by', 'varchar(255)')
      .addColumn('mac', 'varchar(128)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('api_tokens_hash_idx')
      .ifNotExists()
      .unique()
      .on('api_tokens')
      .column('hash')
      .execute();
    await db.schema
      .createIndex('api_tokens_name_idx')
      .ifNotExists()
      .on('api_tokens')
      .column('name')
      .execute();
    await db.schema
      .createTable('rate_limits')
      .ifNotExists()
      .addColumn('k', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('figures')
      .ifNotExists()
      .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('at', 'varchar(10)', (c) => c.notNull())
      .addColumn('computed_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .execute();
    // Old windows are swept by their start.
    await db.schema
      .createIndex('rate_limits_start_idx')
      .ifNotExists()
      .on('rate_limits')
      .column('window_start')
      .execute();
  },
});
