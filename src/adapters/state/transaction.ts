/**
 * The one way a write and its audit entry are committed together: `transaction(tables, tx => …)`
 * locks the tables it appends to, in their order (the audit log last), runs `tx => …` in one
 * transaction (again, whole, when the server ends it as a deadlock victim), and once it has
 * committed hands each entry it wrote to `committed` (the log's checkpoint moves to it).
 */
import type { AuditEntry } from '../../core/audit/audit-chain.js';
import { sql } from '../sql/kysely.js';
import type { AuditLog } from './audit-log.js';
import type { AppendTable, StateDb } from './schema.js';
import type { StateDialect } from './state-dialect.js';

export interface StateTx {
  readonly db: StateDb;
  /** Appends the log's next entry in this transaction: the audit log must be among its tables. */
  audit(kind: string, data: Record<string, unknown>): Promise<AuditEntry>;
  /** The id after the last row of `table`, one of its tables: no other writer takes it before the commit. */
  nextId(table: IdTable): Promise<number>;
}

type IdTable = Exclude<AppendTable, 'audit_log'>;

export interface TransactionOptions {
  /** The entries set the log's head as they find it (audit accept-head): it is not compared. */
  readonly accept?: boolean;
}

export type Transaction = <T>(
  tables: readonly AppendTable[],
  f: (tx: StateTx) => Promise<T>,
  options?: TransactionOptions,
) => Promise<T>;

/**
 * The writes of this process under way, from their start until their checkpoint has moved: the
 * log's check waits for them, or it would find a committed entry whose checkpoint is not written
 * yet (the first entries: "the checkpoint was deleted") when one engine serves several callers.
 */
export class WritesUnderWay {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(write: Promise<T>): Promise<T> {
    this.running.add(write);
    const done = () => this.running.delete(write);
    write.then(done, done);
    return write;
  }

  /** Resolves once every write started before the call has ended, well or not. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

export function transactions(
  db: StateDb,
  dialect: StateDialect,
  log: AuditLog,
  committed: (entry: AuditEntry, accept: boolean) => Promise<void>,
  underWay: WritesUnderWay = new WritesUnderWay(),
): Transaction {
  return (tables, f, options = {}) => underWay.track(write(tables, f, options));
  async function write<T>(
    tables: readonly AppendTable[],
    f: (tx: StateTx) => Promise<T>,
    options: TransactionOptions,
  ): Promise<T> {
    const accept = options.accept === true;
    let written: AuditEntry[] = [];
    const result = await dialect.appending(db, tables, (trx) => {
      written = [];
      return f({
        db: trx,
        async audit(kind, data) {
          if (!tables.includes('audit_log'))
            throw new Error(
              `audit entry ${kind} outside the log's lock: the transaction must lock audit_log`,
            );
          const entry = await log.appendEntry(trx, kind, data, accept);
          written.push(entry);
          return entry;
        },
        async nextId(table) {
          if (!tables.includes(table))
            throw new Error(`the next id of ${table} outside its lock: the transaction must lock it`);
          const last = await trx.selectFrom(table).select(sql<number>`max(id)`.as('m')).executeTakeFirst();
          return Number(last?.m ?? 0) + 1;
        },
      });
    });
    for (const entry of written) await committed(entry, accept);
    return result;
  }
}
