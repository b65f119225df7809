/**
 * People's requests: each row sealed with a keyed MAC checked whenever it is read, changed only
 * on the condition that it is still the row read, with its log entry in the same transaction.
 */
import { RegistreError } from '../../core/errors.js';
import type { RequestChange } from '../../core/requests/lifecycle.js';
import { sql } from '../sql/kysely.js';
import { now, type RequestsTable, type StateDb } from './schema.js';
import type { Sealer } from './seal.js';
import type { Transaction } from './transaction.js';

/** A person's request as the state store keeps it. */
export interface RequestRow {
  readonly id: number;
  readonly type: string;
  readonly status: string;
  readonly email: string | null;
  readonly person: string;
  readonly received: string;
  readonly due: string;
  readonly extendedMonths: number;
  readonly details: Record<string, unknown>;
  readonly codeHash: string | null;
  readonly codeExpiresAt: string | null;
  readonly attempts: number;
  readonly outcome: Record<string, unknown> | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Codes sent (failed sends not counted), the last one's time, and how it went. */
  readonly codes: number;
  readonly codeSentAt: string | null;
  readonly mail: 'smtp' | 'outbox' | 'failed' | null;
  /** Moves with each change: the condition of the next one. */
  readonly version: number;
  /** The keyed MAC of the row (`keyId:hex`), checked each time it is read. */
  readonly mac: string | null;
}

/** A request as it is opened: what the store sets itself is left out. */
export type NewRequest = Omit<
  RequestRow,
  | 'id'
  | 'createdAt'
  | 'updatedAt'
  | 'codeHash'
  | 'codeExpiresAt'
  | 'attempts'
  | 'outcome'
  | 'codes'
  | 'codeSentAt'
  | 'mail'
  | 'version'
  | 'mac'
>;

/** The fields a request's MAC covers, in order: every column but the MAC and the timestamps. */
function requestMacText(r: Omit<RequestRow, 'mac' | 'createdAt' | 'updatedAt'>): string {
  return JSON.stringify([
    'registre request',
    r.id,
    r.type,
    r.status,
    r.email,
    r.person,
    r.received,
    r.due,
    r.extendedMonths,
    r.details,
    r.codeHash,
    r.codeExpiresAt,
    r.attempts,
    r.outcome,
    r.codes,
    r.codeSentAt,
    r.mail,
    r.version,
  ]);
}

function requestOf(r: RequestsTable): RequestRow {
  return {
    id: Number(r.id),
    type: String(r.type),
    status: String(r.status),
    email: r.email === null || r.email === undefined ? null : String(r.email),
    person: String(r.person),
    received: String(r.received),
    due: String(r.due),
    extendedMonths: Number(r.extended_months),
    details: JSON.parse(String(r.details)),
    codeHash: r.code_hash ?? null,
    codeExpiresAt: r.code_expires_at ?? null,
    attempts: Number(r.attempts),
    outcome: r.outcome === null || r.outcome === undefined ? null : JSON.parse(String(r.outcome)),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    codes: Number(r.codes ?? 0),
    codeSentAt: r.code_sent_at ?? null,
    mail: (r.mail ?? null) as RequestRow['mail'],
    version: Number(r.version ?? 0),
    mac: r.mac ?? null,
  };
}

/** The columns `change` sets, and the time of the change. */
function requestSet(change: RequestChange): Partial<RequestsTable> {
  const set: Partial<RequestsTable> = { updated_at: now() };
  if (change.status !== undefined) set.status = change.status;
  if (change.email !== undefined) set.email = change.email;
  if (change.due !== undefined) set.due = change.due;
  if (change.extendedMonths !== undefined) set.extended_months = change.extendedMonths;
  if (change.details !== undefined) set.details = JSON.stringify(change.details);
  if (change.codeHash !== undefined) set.code_hash = change.codeHash;
  if (change.codeExpiresAt !== undefined) set.code_expires_at = change.codeExpiresAt;
  if (change.attempts !== undefined) set.attempts = change.attempts;
  if (change.outcome !== undefined)
    set.outcome = change.outcome === null ? null : JSON.stringify(change.outcome);
  if (change.codes !== undefined) set.codes = change.codes;
  if (change.codeSentAt !== undefined) set.code_sent_at = change.codeSentAt;
  if (change.mail !== undefined) set.mail = change.mail;
  return set;
}

const changedElsewhere = (id: number) =>
  new RegistreError(
    'E_REQUEST_CHANGED',
    `request ${id} changed while this command ran (another command moved it first): nothing was done; look at it again (request show ${id})`,
  );

export class Requests {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
    private readonly sealer: Sealer,
  ) {}

  private checked(row: RequestRow): RequestRow {
    if (!this.sealer.sealMatches(requestMacText(row), row.mac))
      throw new RegistreError(
        'E_STATE_TAMPERED',
        `request ${row.id} in the state store does not match its seal: the row was changed outside registre (by hand, or restored from elsewhere); nothing is done with it. Compare it with the audit log (registre audit export) and restore the state store from a backup`,
      );
    return row;
  }

  private sealed(row: Omit<RequestRow, 'mac'>): string {
    return this.sealer.seal(requestMacText(row));
  }

  /** The row after `change`, its version moved and its seal made again. */
  private changed(before: RequestRow, change: RequestChange): RequestRow {
    const after: Omit<RequestRow, 'mac'> = {
      ...before,
      ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)),
      version: before.version + 1,
    };
    return { ...after, mac: this.sealed(after) };
  }

  /** The row of request `id` in the transaction `trx`, its seal checked. */
  private async read(trx: StateDb, id: number): Promise<RequestRow> {
    const raw = await trx.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!raw) throw new RegistreError('E_REQUEST_NOT_FOUND', `there is no request ${id}`);
    return this.checked(requestOf(raw));
  }

  /** Seals the rows of before the seals (see `StateStore.open`), with the key in force. */
  async sealUnsealed(): Promise<void> {
    for (const raw of await this.db.selectFrom('requests').selectAll().where('mac', 'is', null).execute()) {
      const row = requestOf(raw);
      await this.db
        .updateTable('requests')
        .set({ mac: this.sealed(row) })
        .where('id', '=', row.id)
        .where('mac', 'is', null)
        .execute();
    }
  }

  /**
   * Opens a request: its id is the next one, whichever process asks, and its `request.open`
   * entry (from the new id) is written in the same transaction. With `unlessOpen`, the person's
   * open request of the same type is looked for in that transaction too, under the same lock:
   * two processes opening the same request at once open one, and the other gets the duplicate.
   */
  async add(
    request: NewRequest,
    options: { unlessOpen?: boolean; log?: (row: RequestRow) => Record<string, unknown> } = {},
  ): Promise<{ row: RequestRow; duplicate: false } | { row: RequestRow; duplicate: true }> {
    const { log } = options;
    const done = await this.transaction(log ? ['requests', 'audit_log'] : ['requests'], async (tx) => {
      if (options.unlessOpen) {
        const open = await tx.db
          .selectFrom('requests')
          .selectAll()
          .where('person', '=', request.person)
          .where('type', '=', request.type)
          .where('status', 'not in', ['done', 'refused'])
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
        if (open) return { id: Number(open.id), duplicate: true as const };
      }
      const next = await tx.nextId('requests');
      const stamp = now();
      const row: RequestRow = {
        ...request,
        id: next,
        codeHash: null,
        codeExpiresAt: null,
        attempts: 0,
        outcome: null,
        codes: 0,
        codeSentAt: null,
        mail: null,
        version: 0,
        mac: null,
        createdAt: stamp,
        updatedAt: stamp,
      };
      await tx.db
        .insertInto('requests')
        .values({
          id: next,
          type: request.type,
          status: request.status,
          email: request.email,
          person: request.person,
          received: request.received,
          due: request.due,
          extended_months: request.extendedMonths,
          details: JSON.stringify(request.details),
          attempts: 0,
          codes: 0,
          version: 0,
          mac: this.sealed(row),
          created_at: stamp,
          updated_at: stamp,
        })
        .execute();
      if (log) await tx.audit('request.open', log(row));
      return { id: next, duplicate: false as const };
    });
    const row = (await this.get(done.id)) as RequestRow;
    return done.duplicate ? { row, duplicate: true } : { row, duplicate: false };
  }

  /** One request, its seal checked (E_STATE_TAMPERED when the row was changed outside registre). */
  async get(id: number): Promise<RequestRow | undefined> {
    const row = await this.db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.checked(requestOf(row)) : undefined;
  }

  async list(options: { person?: string } = {}): Promise<RequestRow[]> {
    let query = this.db.selectFrom('requests').selectAll().orderBy('id');
    if (options.person !== undefined) query = query.where('person', '=', options.person);
    return (await query.execute()).map((r) => this.checked(requestOf(r)));
  }

  /**
   * One step of a request's lifecycle: the change, on the condition that the row is still the
   * one read (`expected`: its status, attempts and version), and its audit entry, in one
   * transaction. When another process moved the request first, nothing is written or logged:
   * E_REQUEST_CHANGED. Returns the row as it now is.
   */
  async transition(
    id: number,
    expected: Pick<RequestRow, 'status' | 'attempts' | 'version'>,
    change: RequestChange,
    entry: { kind: string; data: Record<string, unknown> },
  ): Promise<RequestRow> {
    // The requests' lock, then the log's: the order of `add`, so neither waits on the other.
    return this.transaction(['requests', 'audit_log'], async (tx) => {
      const before = await this.read(tx.db, id);
      const after = this.changed(before, change);
      const result = await tx.db
        .updateTable('requests')
        .set({ ...requestSet(change), version: after.version, mac: after.mac })
        .where('id', '=', id)
        .where('status', '=', expected.status)
        .where('attempts', '=', expected.attempts)
        .where(sql<boolean>`coalesce(version, 0) = ${expected.version}`)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw changedElsewhere(id);
      await tx.audit(entry.kind, entry.data);
      // The row as this change left it, read before the commit: read after it, it may already
      // be another process's next step (a wrong code answered "locked" by the lock that
      // followed it, issue 18 item 12).
      return this.read(tx.db, id);
    });
  }

  /**
   * Changes a request outside its lifecycle (no entry of its own: the caller logs what it did),
   * sealed again; prefer `transition`.
   */
  async update(id: number, change: RequestChange): Promise<RequestRow> {
    await this.db.transaction().execute(async (trx) => {
      const before = await this.read(trx, id);
      const after = this.changed(before, change);
      const result = await trx
        .updateTable('requests')
        .set({ ...requestSet(change), version: after.version, mac: after.mac })
        .where('id', '=', id)
        .where(sql<boolean>`coalesce(version, 0) = ${before.version}`)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw changedElsewhere(id);
    });
    return (await this.get(id)) as RequestRow;
  }

  /**
   * After an erasure: the address leaves every closed request of the person (and a
   * rectification's corrected values with it); each row sealed again. Returns their ids.
   */
  async forgetAddress(person: string): Promise<number[]> {
    const ids: number[] = [];
    for (const row of await this.list({ person })) {
      const { set, visitor } = row.details as { set?: Record<string, unknown>; visitor?: string };
      const inSet = set !== undefined && Object.values(set).some((v) => v !== '(erased)');
      // A visitor id identifies the person as an address does: it goes with it.
      const inDetails = inSet || (visitor !== undefined && visitor !== '(erased)');
      if (!(row.status === 'done' || row.status === 'refused') || (row.email === null && !inDetails))
        continue;
      await this.update(row.id, {
        email: null,
        ...(inDetails
          ? {
              details: {
                ...row.details,
                ...(inSet && set
                  ? { set: Object.fromEntries(Object.keys(set).map((k) => [k, '(erased)'])) }
                  : {}),
                ...(visitor !== undefined ? { visitor: '(erased)' } : {}),
              },
            }
          : {}),
      });
      ids.push(row.id);
    }
    return ids;
  }
}
