import type { Migration } from '../../sql/kysely.js';
import { addColumnOnce, type MigrationDb } from './columns.js';

/**
 * The key an erasure's person hash was made with: after a key rotation, replay puts the hash
 * under the key in force on the suppression list, never an old one.
 */
export const erasureKeyMigration = (schema: string | undefined): Migration => ({
  async up(db: MigrationDb) {
    await addColumnOnce(db, schema, 'erasures', 'key_id', 'varchar(64)');
  },
});
