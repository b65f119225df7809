import type { Migration } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/** The audit log, the holds, the sweep runs and the locks. */
export const stateMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.schema
      .createTable('audit_log')
      .ifNotExists()
      .addColumn('position', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('kind', 'varchar(64)', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('hash', 'varchar(64)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('holds')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('store', 'varchar(128)', (c) => c.notNull())
      .addColumn('table_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('record_key', 'varchar(128)', (c) => c.notNull())
      .addColumn('person', 'varchar(64)')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('until', 'varchar(10)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('released_at', 'varchar(32)')
      .execute();
    await db.schema
      .createIndex('holds_record_idx')
      .ifNotExists()
      .on('holds')
      .columns(['store', 'table_name', 'record_key'])
      .execute();
    await db.schema
      .createTable('sweep_runs')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('at_date', 'varchar(10)', (c) => c.notNull())
      .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('finished_at', 'varchar(32)')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('summary', 'text')
      .execute();
    await db.schema
      .createTable('locks')
      .ifNotExists()
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('holder', 'varchar(256)', (c) => c.notNull())
      .addColumn('acquired_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('heartbeat_at', 'varchar(32)', (c) => c.notNull())
      .execute();
  },
});
