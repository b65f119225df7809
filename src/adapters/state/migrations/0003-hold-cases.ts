import type { Migration } from '../../sql/kysely.js';
import { addColumnOnce, type MigrationDb } from './columns.js';

/**
 * The hold a record's row belongs to: a hold by e-mail is one case over many records. Rows of
 * before (case_id null) are each their own case.
 */
export const holdCasesMigration = (schema: string | undefined): Migration => ({
  async up(db: MigrationDb) {
    await addColumnOnce(db, schema, 'holds', 'case_id', 'integer');
  },
});
