/**
 * The state store's migrations, one file each, by the name Kysely's Migrator records (the names,
 * and so their order, never change: a store at any earlier version migrates from where it is).
 *
 * Every migration can be run again after a crash in its middle (a full disk, a kill): SQLite and
 * MySQL do not roll DDL back with Kysely's migrator, so each step is "if not exists".
 *
 * `schema`: on PostgreSQL, the schema the store lives in (the first of its search_path), where a
 * column is looked for: another schema of the same server may hold a store of its own.
 */
import type { Dialect } from '../../sql/connect.js';
import type { Migration } from '../../sql/kysely.js';
import { stateMigration } from './0001-state.js';
import { trustMigration } from './0002-trust.js';
import { holdCasesMigration } from './0003-hold-cases.js';
import { requestsMigration } from './0004-requests.js';
import { requestMacMigration } from './0005-h1-request-mac.js';
import { erasureKeyMigration } from './0005-h4-erasure-key.js';
import { auditHeadMigration } from './0006-audit-head.js';
import { holdCaseNumbersMigration } from './0007-hold-case-numbers.js';
import { consentMigration } from './0008-consent.js';
import { scheduledRunsMigration } from './0009-scheduled-runs.js';
import { serviceMigration } from './0010-service.js';
import { consoleMigration } from './0011-console.js';
import { breachesMigration } from './0012-breaches.js';

/** After it runs, the rows of before are sealed. */
export const REQUEST_MAC_MIGRATION = '0005_h1_request_mac';
/** After it runs, the log's head is seeded from its last entry. */
export const AUDIT_HEAD_MIGRATION = '0006_audit_head';

export function migrations(schema: string | undefined, dialect?: Dialect): Record<string, Migration> {
  return {
    '0001_state': stateMigration(),
    '0002_trust': trustMigration(schema),
    '0003_hold_cases': holdCasesMigration(schema),
    '0004_requests': requestsMigration(schema),
    [REQUEST_MAC_MIGRATION]: requestMacMigration(schema),
    '0005_h4_erasure_key': erasureKeyMigration(schema),
    [AUDIT_HEAD_MIGRATION]: auditHeadMigration(),
    '0007_hold_case_numbers': holdCaseNumbersMigration(),
    '0008_consent': consentMigration(dialect),
    '0009_scheduled_runs': scheduledRunsMigration(),
    '0010_service': serviceMigration(),
    '0011_console': consoleMigration(),
    '0012_breaches': breachesMigration(),
  };
}
