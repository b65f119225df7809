import type { Migration } from '../../sql/kysely.js';
import { addColumnOnce, type MigrationDb } from './columns.js';

/**
 * A request's row and an erasure's carry a keyed MAC, checked before use: a row edited by hand
 * (set to verified, another address) is refused. `version` moves with each change, the condition
 * of the next; `codes`, `code_sent_at`: the limits of new codes; `mail`: how the last code went
 * (smtp, outbox, failed). The rows of before are sealed once it has run (`sealUnsealed`).
 */
export const requestMacMigration = (schema: string | undefined): Migration => ({
  async up(db: MigrationDb) {
    await addColumnOnce(db, schema, 'requests', 'mac', 'text');
    await addColumnOnce(db, schema, 'requests', 'version', 'integer');
    await addColumnOnce(db, schema, 'requests', 'codes', 'integer');
    await addColumnOnce(db, schema, 'requests', 'code_sent_at', 'text');
    await addColumnOnce(db, schema, 'requests', 'mail', 'varchar(16)');
    await addColumnOnce(db, schema, 'erasures', 'mac', 'text');
  },
});
