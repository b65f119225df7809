import type { Dialect } from '../../sql/connect.js';
import { type Migration, sql } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * The consent ledger: one row per event and purpose, append-only, each sealed. An address is
 * stored as its keyed hash (key_id names the key), a visitor id as the site set it (it must meet
 * the shop's `visitor_id` to gate its records). The unique index makes a replayed event (the same
 * subject, purpose, choice, time and consent id) a no-op, whoever sends it again.
 */
export const consentMigration = (dialect?: Dialect): Migration => ({
  async up(db: MigrationDb) {
    // Compared exactly (a visitor id `AbC` is not `abc`): MySQL's default collations ignore case.
    const exact = (length: number) =>
      dialect === 'mysql'
        ? sql`varchar(${sql.raw(String(length))}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`
        : (`varchar(${length})` as const);
    await db.schema
      .createTable('consent_events')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('event', 'integer', (c) => c.notNull())
      .addColumn('subject_kind', 'varchar(8)', (c) => c.notNull())
      .addColumn('subject', exact(255), (c) => c.notNull())
      .addColumn('purpose', 'varchar(64)', (c) => c.notNull())
      .addColumn('choice', 'varchar(16)', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('notice_version', 'varchar(64)', (c) => c.notNull())
      .addColumn('notice_sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('source', 'varchar(16)', (c) => c.notNull())
      .addColumn('consent_id', exact(128), (c) => c.notNull())
      .addColumn('language', 'varchar(16)')
      .addColumn('recorded_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('actor', 'varchar(255)', (c) => c.notNull())
      .addColumn('key_id', 'varchar(16)')
      // A seal is the key's id, a colon and an HMAC: 81 characters.
      .addColumn('mac', 'varchar(128)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('consent_events_once_idx')
      .ifNotExists()
      .unique()
      .on('consent_events')
      .columns(['subject_kind', 'subject', 'purpose', 'at', 'choice', 'consent_id'])
      .execute();
    await db.schema
      .createIndex('consent_events_purpose_idx')
      .ifNotExists()
      .on('consent_events')
      .columns(['purpose', 'subject_kind', 'subject', 'at'])
      .execute();
  },
});
