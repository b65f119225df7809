import type { Migration } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * The log's head (last entry and number of entries), sealed, moved in the transaction of each
 * entry: a tail deleted, or a log put back with an older head, is told at once. Seeded from the
 * log once it has run (`seedHead`).
 */
export const auditHeadMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.schema
      .createTable('audit_head')
      .ifNotExists()
      .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('entries', 'integer', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_seq_idx').ifNotExists().on('audit_log').column('seq').execute();
  },
});
