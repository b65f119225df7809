/** What each erasure removed, by key, sealed: replayed after a restore (`erasure replay`). */
import { RegistreError } from '../../core/errors.js';
import { type ErasuresTable, now, type StateDb } from './schema.js';
import type { Sealer } from './seal.js';
import type { Transaction } from './transaction.js';

export interface ErasureRow {
  readonly id: number;
  readonly requestId: number;
  readonly person: string;
  readonly at: string;
  /** The id of the key the person's hash was made with (none: before it was recorded). */
  readonly keyId?: string;
  readonly records: readonly {
    store: string;
    table: string;
    key: string;
    action: string;
    archived?: boolean;
    /** The rule whose anonymisation was applied. */
    rule?: string;
    /** A keyed hash of the row as it was over `cols` (its key, relations, personal columns the change left): proves a row found again is the same record. */
    fp?: string;
    cols?: string[];
    /** keep: why (17(3)(e) a hold, 18 a restriction); forward: the controller. */
    basis?: string;
    /** Kept for a hold or a restriction: what the erasure does once it ends (its own decision, the hold aside). */
    then?: 'delete' | 'anonymise';
    /** The day a record kept for a hold was erased, once the hold ended. */
    erasedOn?: string;
    /**
     * A record kept for a hold that has ended, left because it could not be proven still the
     * person's (the key holds another record, or its parent chain leads elsewhere): what could not
     * be proven erased, since when and why.
     */
    unproven?: { on: string; why: string };
    controllerId?: string;
  }[];
  /** The keyed MAC of the row, checked each time it is read. */
  readonly mac?: string | null;
}

function erasureMacText(e: Omit<ErasureRow, 'mac'>): string {
  return JSON.stringify(['registre erasure', e.id, e.requestId, e.person, e.at, e.keyId ?? null, e.records]);
}

function erasureOf(r: ErasuresTable): ErasureRow {
  return {
    id: Number(r.id),
    requestId: Number(r.request_id),
    person: String(r.person),
    at: String(r.at_date),
    ...(r.key_id ? { keyId: String(r.key_id) } : {}),
    records: JSON.parse(String(r.records)),
    mac: r.mac ?? null,
  };
}

export class Erasures {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
    private readonly sealer: Sealer,
  ) {}

  /** Seals the rows of before the seals (see `StateStore.open`), with the key in force. */
  async sealUnsealed(): Promise<void> {
    for (const raw of await this.db.selectFrom('erasures').selectAll().where('mac', 'is', null).execute()) {
      const row = erasureOf(raw);
      await this.db
        .updateTable('erasures')
        .set({ mac: this.sealer.seal(erasureMacText(row)) })
        .where('id', '=', row.id)
        .where('mac', 'is', null)
        .execute();
    }
  }

  /** Remembers what an erasure removed, by key, for `erasure replay` after a restore. */
  async add(erasure: Omit<ErasureRow, 'id' | 'mac'>): Promise<number> {
    const keyId = this.sealer.keyId;
    return this.transaction(['erasures'], async (tx) => {
      const id = await tx.nextId('erasures');
      await tx.db
        .insertInto('erasures')
        .values({
          id,
          request_id: erasure.requestId,
          person: erasure.person,
          at_date: erasure.at,
          records: JSON.stringify(erasure.records),
          ...(keyId ? { key_id: keyId } : {}),
          created_at: now(),
          mac: this.sealer.seal(erasureMacText({ ...erasure, id, ...(keyId ? { keyId } : {}) })),
        })
        .execute();
      return id;
    });
  }

  /**
   * Rewrites the records of an erasure (a record found held at the commit, one erased once its
   * hold ended), sealed again with the key in force.
   */
  async update(id: number, records: ErasureRow['records']): Promise<void> {
    const raw = await this.db.selectFrom('erasures').selectAll().where('id', '=', id).executeTakeFirst();
    if (!raw) throw new RegistreError('E_ERASURE_NOT_FOUND', `there is no erasure ${id}`);
    const row = { ...erasureOf(raw), records };
    await this.db
      .updateTable('erasures')
      .set({ records: JSON.stringify(records), mac: this.sealer.seal(erasureMacText(row)) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * What the erasures removed, each row's seal checked: a row inserted or changed by hand is
   * refused (E_STATE_TAMPERED), never replayed.
   */
  async list(): Promise<ErasureRow[]> {
    const rows = await this.db.selectFrom('erasures').selectAll().orderBy('id').execute();
    return rows.map((r) => {
      const row = erasureOf(r);
      if (!this.sealer.sealMatches(erasureMacText(row), row.mac ?? null))
        throw new RegistreError(
          'E_STATE_TAMPERED',
          `erasure ${row.id} (request ${row.requestId}) in the state store does not match its seal: the row was added or changed outside registre; nothing is replayed. Compare it with the audit log (registre audit export) and restore the state store from a backup`,
        );
      return row;
    });
  }
}
