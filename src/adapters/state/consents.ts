/**
 * The consent ledger in the state store: events appended in batches, each row sealed (a keyed MAC
 * of all its fields, checked whenever it is read), each batch with one audit entry that names its
 * rows and a digest of their seals; read by subject, and as the latest event per subject and
 * purpose for the sweep's verdicts.
 */
import { createHash } from 'node:crypto';
import type { ConsentChoice, ConsentEvent, ConsentSource, SubjectKind } from '../../core/consent/consent.js';
import { RegistreError } from '../../core/errors.js';
import { sql } from '../sql/kysely.js';
import type { ConsentEventsTable, StateDb } from './schema.js';
import type { Sealer } from './seal.js';
import type { Transaction } from './transaction.js';

/** An event to append: one subject, one or several purposes (the ledger numbers and stamps it). */
export type NewConsentEvent = Omit<ConsentEvent, 'id' | 'event' | 'purpose' | 'recordedAt' | 'actor'> & {
  readonly purposes: readonly string[];
};

export interface ConsentsAppended {
  /** The events appended, in order (a replayed one is not: it is counted in `duplicates`). */
  readonly events: readonly number[];
  readonly rows: number;
  readonly duplicates: number;
  /** For each event given, in order: its number (null: every purpose of it was there already), its rows and duplicates. */
  readonly each: readonly {
    readonly event: number | null;
    readonly rows: number;
    readonly duplicates: number;
  }[];
}

type Row = Omit<ConsentEventsTable, 'mac'>;

function macText(r: Row): string {
  return JSON.stringify([
    'registre consent',
    Number(r.id),
    Number(r.event),
    r.subject_kind,
    r.subject,
    r.purpose,
    r.choice,
    r.at,
    r.notice_version,
    r.notice_sha256,
    r.source,
    r.consent_id,
    r.language ?? null,
    r.recorded_at,
    r.actor,
    r.key_id ?? null,
  ]);
}

/** The identity of an event for one purpose: the same one sent again is not appended again. */
const onceKey = (
  kind: string,
  subject: string,
  purpose: string,
  at: string,
  choice: string,
  consentId: string,
) => JSON.stringify([kind, subject, purpose, at, choice, consentId]);

/** Rows per INSERT: 16 columns, under SQLite's 32,766 bound parameters and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 1_000;
/** Subjects per lookup of the rows already there. */
const SUBJECTS_PER_LOOKUP = 500;

export class Consents {
  constructor(
    private readonly db: StateDb,
    private readonly write: Transaction,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Appends events in one transaction with one audit entry (`consent.record`): the rows' ids, the
   * events' numbers, a digest of the rows' seals. An event already in the ledger (same subject,
   * purpose, choice, time and consent id) is skipped and counted, never appended twice.
   */
  async append(
    events: readonly NewConsentEvent[],
    actor: string,
    recordedAt: string,
    log: Record<string, unknown> = {},
  ): Promise<ConsentsAppended> {
    if (events.length === 0) return { events: [], rows: 0, duplicates: 0, each: [] };
    const keyId = this.sealer.keyId ?? null;
    return this.write(['consent_events', 'audit_log'], async (tx) => {
      const there = await this.existing(tx.db, events);
      let id = await tx.nextId('consent_events');
      const rows: ConsentEventsTable[] = [];
      const numbers: number[] = [];
      let duplicates = 0;
      const seen = new Set<string>();
      const each: { event: number | null; rows: number; duplicates: number }[] = [];
      for (const e of events) {
        const fresh = e.purposes.filter((p) => {
          const key = onceKey(e.subject.kind, e.subject.id, p, e.at, e.choice, e.consentId);
          if (there.has(key) || seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        duplicates += e.purposes.length - fresh.length;
        each.push({
          event: fresh.length ? id : null,
          rows: fresh.length,
          duplicates: e.purposes.length - fresh.length,
        });
        if (fresh.length === 0) continue;
        const event = id;
        numbers.push(event);
        for (const purpose of fresh) {
          const row: Row = {
            id: id++,
            event,
            subject_kind: e.subject.kind,
            subject: e.subject.id,
            purpose,
            choice: e.choice,
            at: e.at,
            notice_version: e.notice.version,
            notice_sha256: e.notice.sha256,
            source: e.source,
            consent_id: e.consentId,
            language: e.language,
            recorded_at: recordedAt,
            actor,
            key_id: e.subject.kind === 'email' ? keyId : null,
          };
          rows.push({ ...row, mac: this.sealer.seal(macText(row)) });
        }
      }
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
        await tx.db
          .insertInto('consent_events')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .execute();
      if (rows.length > 0) {
        const digest = createHash('sha256');
        for (const r of rows) digest.update(r.mac);
        await tx.audit('consent.record', {
          ...log,
          events: numbers.length,
          rows: rows.length,
          first: rows[0]?.id,
          last: rows.at(-1)?.id,
          duplicates,
          digest: digest.digest('hex'),
          actor,
        });
      }
      return { events: numbers, rows: rows.length, duplicates, each };
    });
  }

  /** The once-keys of the rows already in the ledger for these events' subjects. */
  private async existing(db: StateDb, events: readonly NewConsentEvent[]): Promise<Set<string>> {
    const out = new Set<string>();
    const byKind = new Map<SubjectKind, Set<string>>();
    for (const e of events) {
      const set = byKind.get(e.subject.kind) ?? new Set<string>();
      set.add(e.subject.id);
      byKind.set(e.subject.kind, set);
    }
    for (const [kind, subjects] of byKind) {
      const list = [...subjects];
      for (let i = 0; i < list.length; i += SUBJECTS_PER_LOOKUP) {
        const rows = await db
          .selectFrom('consent_events')
          .select(['subject_kind', 'subject', 'purpose', 'at', 'choice', 'consent_id'])
          .where('subject_kind', '=', kind)
          .where('subject', 'in', list.slice(i, i + SUBJECTS_PER_LOOKUP))
          .execute();
        for (const r of rows)
          out.add(onceKey(r.subject_kind, r.subject, r.purpose, r.at, r.choice, r.consent_id));
      }
    }
    return out;
  }

  /** Every event of these subjects (an address under each key it may be hashed with), oldest first. */
  async ofSubjects(kind: SubjectKind, subjects: readonly string[]): Promise<ConsentEvent[]> {
    if (subjects.length === 0) return [];
    const rows = await this.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subject_kind', '=', kind)
      .where('subject', 'in', [...subjects])
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => this.checked(r));
  }

  /**
   * The latest event of each subject of `kind` for each of `purposes`, among the events of `on`
   * or before (by time, then by number): what the verdicts of consent-gated records stand on.
   */
  async latest(kind: SubjectKind, purposes: readonly string[], on: string): Promise<ConsentEvent[]> {
    if (purposes.length === 0) return [];
    // Before the next day, as an ISO time compares: every event of `on` counts.
    const before = `${nextDay(on)}T00:00:00.000Z`;
    const { rows } = await sql<ConsentEventsTable>`
      SELECT * FROM (
        SELECT e.*, ROW_NUMBER() OVER (
          PARTITION BY e.subject, e.purpose ORDER BY e.at DESC, e.id DESC
        ) AS rn
        FROM consent_events e
        WHERE e.subject_kind = ${kind}
          AND e.purpose IN (${sql.join(purposes.map((p) => sql`${p}`))})
          AND e.at < ${before}
      ) x WHERE x.rn = 1`.execute(this.db);
    return rows.map((r) => this.checked(r));
  }

  /**
   * Every row with its id, seal and whether the seal matches (for audit verify: the rows against
   * the `consent.record` entries of the log), in id order, a page at a time.
   */
  async *sealedRows(): AsyncGenerator<{
    readonly id: number;
    readonly mac: string;
    readonly sealed: boolean;
  }> {
    let after = 0;
    for (;;) {
      const page = await this.db
        .selectFrom('consent_events')
        .selectAll()
        .where('id', '>', after)
        .orderBy('id')
        .limit(10_000)
        .execute();
      for (const r of page) {
        let sealed = true;
        try {
          this.checked(r);
        } catch {
          sealed = false;
        }
        yield { id: Number(r.id), mac: String(r.mac), sealed };
      }
      if (page.length < 10_000) return;
      after = Number(page[page.length - 1]?.id);
    }
  }

  /** How many rows the ledger holds. */
  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('consent_events')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** A row read back, its seal checked (E_STATE_TAMPERED when it was changed outside registre). */
  private checked(r: ConsentEventsTable): ConsentEvent {
    const row: Row = {
      id: Number(r.id),
      event: Number(r.event),
      subject_kind: String(r.subject_kind),
      subject: String(r.subject),
      purpose: String(r.purpose),
      choice: String(r.choice),
      at: String(r.at),
      notice_version: String(r.notice_version),
      notice_sha256: String(r.notice_sha256),
      source: String(r.source),
      consent_id: String(r.consent_id),
      language: r.language === null || r.language === undefined ? null : String(r.language),
      recorded_at: String(r.recorded_at),
      actor: String(r.actor),
      key_id: r.key_id === null || r.key_id === undefined ? null : String(r.key_id),
    };
    if (!this.sealer.sealMatches(macText(row), r.mac))
      throw new RegistreError(
        'E_STATE_TAMPERED',
        `consent event row ${row.id} in the state store does not match its seal: it was changed outside registre; nothing is decided on it. Compare the ledger with the audit log (registre audit export) and restore the state store from a backup`,
      );
    return {
      id: row.id,
      event: row.event,
      subject: { kind: row.subject_kind as SubjectKind, id: row.subject },
      purpose: row.purpose,
      choice: row.choice as ConsentChoice,
      at: row.at,
      notice: { version: row.notice_version, sha256: row.notice_sha256 },
      source: row.source as ConsentSource,
      consentId: row.consent_id,
      language: row.language,
      recordedAt: row.recorded_at,
      actor: row.actor,
    };
  }
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
