import type { Migration } from '../../sql/kysely.js';
import { addColumnOnce, type MigrationDb } from './columns.js';

/** The people's requests, the erasures they made, and restrictions as a kind of hold. */
export const requestsMigration = (schema: string | undefined): Migration => ({
  async up(db: MigrationDb) {
    // A restriction (art. 18) is a hold of its own kind: never touched, shown as restricted.
    await addColumnOnce(db, schema, 'holds', 'kind', 'varchar(16)');
    await db.schema
      .createTable('requests')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      // The address, to send the code and to find the person; cleared once an erasure is done.
      .addColumn('email', 'text')
      .addColumn('person', 'varchar(64)', (c) => c.notNull())
      .addColumn('received', 'varchar(10)', (c) => c.notNull())
      .addColumn('due', 'varchar(10)', (c) => c.notNull())
      .addColumn('extended_months', 'integer', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('code_hash', 'varchar(64)')
      .addColumn('code_expires_at', 'varchar(32)')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('requests_person_idx')
      .ifNotExists()
      .on('requests')
      .column('person')
      .execute();
    // What each erasure removed, by key, with the person's keyed hash: replayed after a restore.
    await db.schema
      .createTable('erasures')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('request_id', 'integer', (c) => c.notNull())
      .addColumn('person', 'varchar(64)', (c) => c.notNull())
      .addColumn('at_date', 'varchar(10)', (c) => c.notNull())
      .addColumn('records', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
  },
});
