import type { Migration } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * The register of personal data breaches (art. 33(5)): one row per breach, its details as JSON,
 * the instant of its discovery and its 72-hour deadline as columns (the list is ordered by them),
 * a version that moves with each decision (two people deciding at once: one wins, the other is
 * told), and a seal with the state key (a row changed by hand is refused).
 */
export const breachesMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.schema
      .createTable('breaches')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('discovered_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('deadline', 'varchar(32)', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('recorded_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('recorded_by', 'varchar(256)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('mac', 'varchar(128)', (c) => c.notNull())
      .execute();
  },
});
