import type { Migration } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * The service's scheduled runs, one row per run key (`sweep:2026-11-27`): the key is the primary
 * key, so that of two processes claiming the same run one inserts it; the claim carries a holder
 * and a heartbeat, so that a run whose process died is taken over by another.
 */
export const scheduledRunsMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.schema
      .createTable('scheduled_runs')
      .ifNotExists()
      .addColumn('run_key', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('job', 'varchar(16)', (c) => c.notNull())
      .addColumn('day', 'varchar(10)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('holder', 'varchar(256)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('claimed_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('heartbeat_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('started_at', 'varchar(32)')
      .addColumn('finished_at', 'varchar(32)')
      .addColumn('summary', 'text')
      .execute();
    await db.schema
      .createIndex('scheduled_runs_day_idx')
      .ifNotExists()
      .on('scheduled_runs')
      .columns(['day', 'job'])
      .execute();
  },
});
