import type { Migration } from '../../sql/kysely.js';
import { addColumnOnce, type MigrationDb } from './columns.js';

/** Keyed entries, who added a hold and why (by hash), the reasons, the pending files. */
export const trustMigration = (schema: string | undefined): Migration => ({
  async up(db: MigrationDb) {
    await addColumnOnce(db, schema, 'audit_log', 'key_id', 'varchar(64)');
    await addColumnOnce(db, schema, 'holds', 'actor', 'text');
    await addColumnOnce(db, schema, 'holds', 'reason_hash', 'varchar(64)');
    // The highest hold id a running sweep has read before its last commit (see waitForSweep).
    await addColumnOnce(db, schema, 'locks', 'holds_seen', 'integer');
    await db.schema
      .createTable('reasons')
      .ifNotExists()
      .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('pending_files')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('run', 'integer', (c) => c.notNull())
      .addColumn('store', 'varchar(128)', (c) => c.notNull())
      .addColumn('table_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('record_key', 'varchar(128)', (c) => c.notNull())
      .addColumn('folder', 'varchar(128)', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .execute();
  },
});
