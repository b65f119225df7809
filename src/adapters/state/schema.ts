/**
 * The state store's tables and columns as the migrations leave them (see `migrations/`): the one
 * type every query of the state store is checked against. Columns a later migration added are
 * nullable (rows of before have none).
 */
import type { Kysely } from '../sql/kysely.js';

export interface AuditLogTable {
  position: number;
  seq: number;
  at: string;
  kind: string;
  data: string;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

export interface AuditHeadTable {
  name: string;
  seq: number;
  hash: string;
  entries: number;
  mac: string;
  at: string;
}

export interface HoldsTable {
  id: number;
  case_id: number | null;
  store: string;
  table_name: string;
  record_key: string;
  person: string | null;
  reason: string;
  reason_hash: string | null;
  actor: string | null;
  until: string | null;
  created_at: string;
  released_at: string | null;
  kind: string | null;
}

export interface SweepRunsTable {
  id: number;
  at_date: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  summary: string | null;
}

export interface LocksTable {
  name: string;
  holder: string;
  acquired_at: string;
  heartbeat_at: string;
  holds_seen: number | null;
}

export interface ReasonsTable {
  hash: string;
  text: string;
  created_at: string;
}

export interface PendingFilesTable {
  id: number;
  run: number;
  store: string;
  table_name: string;
  record_key: string;
  folder: string;
  path: string;
  target: string | null;
}

export interface RequestsTable {
  id: number;
  type: string;
  status: string;
  email: string | null;
  person: string;
  received: string;
  due: string;
  extended_months: number;
  details: string;
  code_hash: string | null;
  code_expires_at: string | null;
  attempts: number;
  outcome: string | null;
  created_at: string;
  updated_at: string;
  mac: string | null;
  version: number | null;
  codes: number | null;
  code_sent_at: string | null;
  mail: string | null;
}

export interface ErasuresTable {
  id: number;
  request_id: number;
  person: string;
  at_date: string;
  records: string;
  created_at: string;
  mac: string | null;
  key_id: string | null;
}

export interface ConsentEventsTable {
  id: number;
  event: number;
  subject_kind: string;
  subject: string;
  purpose: string;
  choice: string;
  at: string;
  notice_version: string;
  notice_sha256: string;
  source: string;
  consent_id: string;
  language: string | null;
  recorded_at: string;
  actor: string;
  key_id: string | null;
  mac: string;
}

export interface ApiTokensTable {
  id: number;
  name: string;
  hash: string;
  scope: string;
  controller_id: string | null;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
  mac: string;
}

export interface RateLimitsTable {
  k: string;
  window_start: number;
  hits: number;
}

export interface ConsoleSessionsTable {
  hash: string;
  token_id: number;
  csrf: string;
  created_at: string;
  expires_at: string;
  mac: string;
}

export interface FiguresTable {
  name: string;
  at: string;
  computed_at: string;
  body: string;
}

export interface ScheduledRunsTable {
  run_key: string;
  job: string;
  day: string;
  status: string;
  holder: string;
  attempts: number;
  claimed_at: string;
  heartbeat_at: string;
  started_at: string | null;
  finished_at: string | null;
  summary: string | null;
}

export interface BreachesTable {
  id: number;
  discovered_at: string;
  deadline: string;
  body: string;
  recorded_at: string;
  recorded_by: string;
  updated_at: string;
  version: number;
  mac: string;
}

export interface StateDatabase {
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  holds: HoldsTable;
  sweep_runs: SweepRunsTable;
  locks: LocksTable;
  reasons: ReasonsTable;
  pending_files: PendingFilesTable;
  requests: RequestsTable;
  erasures: ErasuresTable;
  consent_events: ConsentEventsTable;
  api_tokens: ApiTokensTable;
  rate_limits: RateLimitsTable;
  scheduled_runs: ScheduledRunsTable;
  figures: FiguresTable;
  console_sessions: ConsoleSessionsTable;
  breaches: BreachesTable;
}

export type StateDb = Kysely<StateDatabase>;

/** The tables a write appends to (the next id, the next position): each locked for it. */
export type AppendTable =
  | 'audit_log'
  | 'holds'
  | 'sweep_runs'
  | 'pending_files'
  | 'requests'
  | 'erasures'
  | 'consent_events'
  | 'api_tokens'
  | 'breaches';

/** The column that orders an appended table: its last row is the one locked. */
export const APPEND_KEY: Record<AppendTable, 'position' | 'id'> = {
  audit_log: 'position',
  holds: 'id',
  sweep_runs: 'id',
  pending_files: 'id',
  requests: 'id',
  erasures: 'id',
  consent_events: 'id',
  api_tokens: 'id',
  breaches: 'id',
};

/** The checkpoint of the log's head, kept outside the state store (in the archive store). */
export const CHECKPOINT_TABLE = 'registre_audit_head';

export interface CheckpointDatabase {
  registre_audit_head: {
    name: string;
    seq: number;
    hash: string;
    key_id: string | null;
    mac: string;
    at: string;
  };
}

/** The time a row is stamped with. */
export const now = () => new Date().toISOString();
