import { type Migration, sql } from '../../sql/kysely.js';
import type { MigrationDb } from './columns.js';

/**
 * A hold case's number is case_id: from now on consecutive (1, 2, 3), not its first row's id.
 * The cases of before keep the number they were shown and logged with; rows of before hold cases
 * are each their own case, numbered by their id.
 */
export const holdCaseNumbersMigration = (): Migration => ({
  async up(db: MigrationDb) {
    await db.updateTable('holds').set({ case_id: sql`id` }).where('case_id', 'is', null).execute();
    await db.schema.createIndex('holds_case_idx').ifNotExists().on('holds').column('case_id').execute();
  },
});
