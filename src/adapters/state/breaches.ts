/**
 * The register of personal data breaches: each row sealed with the state key (checked whenever it
 * is read), changed only on the condition that it is still the version read, with its log entry
 * in the same transaction.
 */
import type { Breach, BreachDetails } from '../../core/breaches/breach.js';
import { RegistreError } from '../../core/errors.js';
import type { BreachesTable, StateDb } from './schema.js';
import type { Sealer } from './seal.js';
import type { Transaction } from './transaction.js';

export type NewBreach = Omit<Breach, 'id' | 'recordedAt' | 'updatedAt' | 'version'>;

const macText = (r: Omit<BreachesTable, 'mac'>) =>
  JSON.stringify([
    'registre breach',
    Number(r.id),
    r.discovered_at,
    r.deadline,
    r.body,
    r.recorded_at,
    r.recorded_by,
    r.updated_at,
    Number(r.version),
  ]);

function breachOf(r: BreachesTable): Breach {
  return {
    ...(JSON.parse(r.body) as BreachDetails),
    id: Number(r.id),
    discoveredAt: r.discovered_at,
    deadline: r.deadline,
    recordedAt: r.recorded_at,
    recordedBy: r.recorded_by,
    updatedAt: r.updated_at,
    version: Number(r.version),
  };
}

function bodyOf(b: BreachDetails): string {
  const details: BreachDetails = {
    occurredAt: b.occurredAt,
    kinds: b.kinds,
    nature: b.nature,
    scope: b.scope,
    affected: b.affected,
    peopleEstimate: b.peopleEstimate,
    consequences: b.consequences,
    measures: b.measures,
    notification: b.notification,
    information: b.information,
  };
  return JSON.stringify(details);
}

export const breachNotFound = (id: number) =>
  new RegistreError('E_BREACH_NOT_FOUND', `there is no breach ${id} (registre breach list shows them)`);

export class Breaches {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
    private readonly sealer: Sealer,
  ) {}

  private checked(r: BreachesTable): Breach {
    const { mac, ...rest } = r;
    if (!this.sealer.sealMatches(macText(rest), mac))
      throw new RegistreError(
        'E_STATE_TAMPERED',
        `breach ${r.id} in the state store does not match its seal: the row was changed outside registre; compare it with the audit log (registre audit export) and restore the state store from a backup`,
      );
    return breachOf(r);
  }

  /** Adds a breach (its number the next one) and its entry (`log`, from the new breach), in one transaction. */
  async add(
    breach: NewBreach,
    now: string,
    log: (b: Breach) => { kind: string; data: Record<string, unknown> },
  ): Promise<Breach> {
    return this.transaction(['breaches', 'audit_log'], async (tx) => {
      const id = await tx.nextId('breaches');
      const row = {
        id,
        discovered_at: breach.discoveredAt,
        deadline: breach.deadline,
        body: bodyOf(breach),
        recorded_at: now,
        recorded_by: breach.recordedBy,
        updated_at: now,
        version: 0,
      };
      await tx.db
        .insertInto('breaches')
        .values({ ...row, mac: this.sealer.seal(macText(row)) })
        .execute();
      const added = breachOf({ ...row, mac: '' });
      const entry = log(added);
      await tx.audit(entry.kind, entry.data);
      return added;
    });
  }

  async get(id: number): Promise<Breach | undefined> {
    const r = await this.db.selectFrom('breaches').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? this.checked(r) : undefined;
  }

  async list(): Promise<Breach[]> {
    const rows = await this.db.selectFrom('breaches').selectAll().orderBy('id').execute();
    return rows.map((r) => this.checked(r));
  }

  /**
   * Changes a breach read at `expected` (its version): `change` makes the new details from the
   * breach as it is in the transaction; when another caller changed it first (or the version
   * given is not the one stored), nothing is written or logged: E_BREACH_CHANGED.
   */
  async change(
    id: number,
    expected: number | undefined,
    now: string,
    change: (before: Breach) => {
      details: BreachDetails;
      entry: { kind: string; data: Record<string, unknown> };
    },
  ): Promise<Breach> {
    return this.transaction(['breaches', 'audit_log'], async (tx) => {
      const raw = await tx.db.selectFrom('breaches').selectAll().where('id', '=', id).executeTakeFirst();
      if (!raw) throw breachNotFound(id);
      const before = this.checked(raw);
      const version = expected ?? before.version;
      if (version !== before.version) throw changedElsewhere(id);
      const { details, entry } = change(before);
      const { mac: _mac, ...rest } = raw;
      const after = { ...rest, body: bodyOf(details), updated_at: now, version: version + 1 };
      const result = await tx.db
        .updateTable('breaches')
        .set({
          body: after.body,
          updated_at: now,
          version: after.version,
          mac: this.sealer.seal(macText(after)),
        })
        .where('id', '=', id)
        .where('version', '=', version)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw changedElsewhere(id);
      await tx.audit(entry.kind, entry.data);
      return breachOf({ ...after, mac: '' });
    });
  }
}

const changedElsewhere = (id: number) =>
  new RegistreError(
    'E_BREACH_CHANGED',
    `breach ${id} changed since it was read (someone else decided first): nothing was done; look at it again (registre breach show ${id})`,
  );
