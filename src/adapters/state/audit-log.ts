/**
 * The audit log: entries chained and sealed, its head in the state store (moved in the
 * transaction of each entry) and its checkpoint in the archive store (moved after the commit).
 */
import { type AuditEntry, type ChainProblem, GENESIS, sealEntry } from '../../core/audit/audit-chain.js';
import { RegistreError } from '../../core/errors.js';
import { type Kysely, sql } from '../sql/kysely.js';
import { CHECKPOINT_TABLE, type CheckpointDatabase, now, type StateDb } from './schema.js';
import { type Sealer, sha256 } from './seal.js';
import type { StateDialect } from './state-dialect.js';

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** The log's last entry: whether it was sealed with a key tells how its head may be sealed. */
interface LastEntry extends AuditHead {
  readonly keyed: boolean;
}

/** The log's head as the state store keeps it: its last entry and its number of entries, sealed. */
interface StoredHead extends AuditHead {
  readonly entries: number;
  readonly mac: string;
}

export type Checkpoint = AuditHead & { valid: boolean | null; keyId: string | null };

const headText = (head: { seq: number; hash: string; entries: number }) =>
  `registre audit head\u0000${head.seq}\u0000${head.hash}\u0000${head.entries}`;

const lastEntryOf = (
  row: { seq: number; hash: string; key_id: string | null } | undefined,
): LastEntry | null =>
  row
    ? { seq: Number(row.seq), hash: String(row.hash), keyed: row.key_id !== null && row.key_id !== undefined }
    : null;

async function countEntries(db: StateDb): Promise<number> {
  const row = await db.selectFrom('audit_log').select(sql<number>`count(*)`.as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The log is not whole up to its checkpoint: what is wrong, and the way out. */
export function logBroken(problems: readonly ChainProblem[]): RegistreError {
  const shown = problems.slice(0, 3).map((p) => p.message);
  if (problems.length > 3) shown.push(`and ${problems.length - 3} more`);
  return new RegistreError(
    'E_LOG_BROKEN',
    `the audit log is not whole up to its checkpoint (${shown.join('; ')}); nothing was changed, and nothing that changes data runs until this is resolved: run registre audit verify to see it, restore the state store from a backup, or, once the cause is known, record the log as it is with registre audit accept-head --reason TEXT`,
  );
}

export class AuditLog {
  /** The head this process wrote last (committed), and the one of the transaction under way. */
  private lastHead: StoredHead | null = null;
  private written: StoredHead | null = null;

  constructor(
    private readonly db: StateDb,
    private readonly dialect: StateDialect,
    private readonly sealer: Sealer,
    /** Where the checkpoint is kept (the archive store), with its dialect's statements. */
    private readonly checkpoint?: { db: Kysely<CheckpointDatabase>; dialect: StateDialect },
  ) {}

  /**
   * The log's next entry, written in the caller's transaction (which holds the log's lock); the
   * log's head in the state store moves to it in the same transaction. `accept`: the DPO takes
   * the log as it is (audit accept-head): the head is set, not compared.
   */
  async appendEntry(
    trx: StateDb,
    kind: string,
    data: Record<string, unknown>,
    accept = false,
  ): Promise<AuditEntry> {
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash', 'position', 'key_id'])
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    const lastHead = lastEntryOf(last);
    // The head is the entry this process wrote last: nothing was cut or added since.
    const ours =
      lastHead !== null &&
      this.lastHead !== null &&
      lastHead.seq === this.lastHead.seq &&
      lastHead.hash === this.lastHead.hash;
    const head = ours ? this.lastHead : await this.readHead(trx);
    if (!accept && !ours) {
      const broken = this.headProblems(head, lastHead, null);
      if (broken.length) throw logBroken(broken);
      const checkpoint = await this.readCheckpoint();
      if (checkpoint) await this.assertHeadMatches(trx, checkpoint, last);
    }
    const keyId = this.sealer.keyId;
    const sealed = sealEntry(
      {
        seq: lastHead ? lastHead.seq + 1 : 1,
        at: now(),
        kind,
        data,
        prevHash: lastHead ? lastHead.hash : GENESIS,
        ...(keyId ? { keyId } : {}),
      },
      this.sealer.hash,
    );
    await trx
      .insertInto('audit_log')
      .values({
        position: last ? Number(last.position) + 1 : 1,
        seq: sealed.seq,
        at: sealed.at,
        kind,
        data: JSON.stringify(data),
        prev_hash: sealed.prevHash,
        hash: sealed.hash,
        key_id: keyId ?? null,
      })
      .execute();
    const entries = accept ? await countEntries(trx) : (head?.entries ?? 0) + 1;
    const next = { seq: sealed.seq, hash: sealed.hash, entries };
    const row = { ...next, mac: this.sealer.seal(headText(next)), at: now() };
    if (head && !accept) {
      // Only from the head read (or written) under this lock: a row changed since is not moved.
      const moved = await trx
        .updateTable('audit_head')
        .set(row)
        .where('name', '=', 'audit')
        .where('mac', '=', head.mac)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1)
        throw logBroken([
          {
            seq: head.seq,
            problem: 'edited',
            message: 'the checkpoint of the log head in the state store was changed outside registre',
          },
        ]);
    } else {
      await trx.deleteFrom('audit_head').where('name', '=', 'audit').execute();
      await trx
        .insertInto('audit_head')
        .values({ name: 'audit', ...row })
        .execute();
    }
    this.written = { ...next, mac: row.mac };
    return sealed;
  }

  /** After an entry's transaction committed: the checkpoint in the archive store moves to it. */
  async appended(entry: AuditEntry, accept = false): Promise<void> {
    if (this.written?.seq === entry.seq) this.lastHead = this.written;
    await this.writeCheckpoint({ seq: entry.seq, hash: entry.hash }, accept);
  }

  private async readHead(db: StateDb): Promise<StoredHead | null> {
    const row = await db.selectFrom('audit_head').selectAll().where('name', '=', 'audit').executeTakeFirst();
    return row
      ? { seq: Number(row.seq), hash: String(row.hash), entries: Number(row.entries), mac: String(row.mac) }
      : null;
  }

  /**
   * Whether the head carries the seal of a key of the ring; a head without a key only while the
   * entry it names was itself sealed without one (before a key was configured), as the chain.
   */
  private headSealed(head: StoredHead, last: LastEntry | null): boolean {
    if (head.mac.startsWith('none:') && last?.seq === head.seq && !last.keyed)
      return head.mac === `none:${sha256(headText(head))}`;
    return this.sealer.sealMatches(headText(head), head.mac);
  }

  /**
   * Where the log and its head in the state store disagree (`entries`: the number of entries
   * counted, when it was).
   */
  private headProblems(
    head: StoredHead | null,
    last: LastEntry | null,
    entries: number | null,
  ): ChainProblem[] {
    const lastSeq = last?.seq ?? 0;
    if (!head)
      return last
        ? [
            {
              seq: lastSeq,
              problem: 'deleted',
              message: `the log has entries (up to entry ${lastSeq}) but the state store holds no checkpoint of its head: the checkpoint was deleted, maybe with the log's tail`,
            },
          ]
        : [];
    const keyId = head.mac.slice(0, Math.max(0, head.mac.indexOf(':')));
    if (this.sealer.hasKey && keyId !== 'none' && !this.sealer.keyRing().keyed.has(keyId))
      return [
        {
          seq: head.seq,
          problem: 'other-key',
          message: `the checkpoint of the log head in the state store was sealed with key ${keyId}, which is not configured here: it cannot be checked`,
        },
      ];
    if (!this.headSealed(head, last))
      return [
        {
          seq: head.seq,
          problem: 'edited',
          message:
            'the checkpoint of the log head in the state store does not carry a valid key signature: it was forged or edited',
        },
      ];
    if (lastSeq < head.seq)
      return [
        {
          seq: head.seq,
          problem: 'deleted',
          message: `the log ends at entry ${lastSeq}, but its checkpoint in the state store says entry ${head.seq} was written: the tail was deleted (truncated)`,
        },
      ];
    if (lastSeq > head.seq)
      return [
        {
          seq: lastSeq,
          problem: 'inserted',
          message: `the log goes on to entry ${lastSeq} past its checkpoint in the state store (entry ${head.seq}): entries were added outside registre`,
        },
      ];
    if (last?.hash !== head.hash)
      return [
        {
          seq: head.seq,
          problem: 'edited',
          message: `entry ${head.seq} is not the one its checkpoint in the state store recorded: the log was rewritten`,
        },
      ];
    if (entries !== null && entries !== head.entries)
      return [
        {
          seq: head.seq,
          problem: entries < head.entries ? 'deleted' : 'inserted',
          message: `the log holds ${entries} entries, its checkpoint in the state store ${head.entries}: entries were ${entries < head.entries ? 'deleted from' : 'added to'} it`,
        },
      ];
    return [];
  }

  /**
   * Whether the log is whole up to its checkpoints: its last entry and its number of entries are
   * those of the head in the state store, and the copy in the archive store is not ahead of it.
   * Cheap (the last entry, a count, two rows): run before anything changes data.
   */
  async checkLogWhole(): Promise<{ problems: ChainProblem[]; warnings: string[] }> {
    // The archive store's copy first (it moves only after a commit, so it cannot be ahead of what
    // is read next), then the last entry, the count and the head as one snapshot, without taking
    // the log's lock: a sweep appending meanwhile is neither waited for nor taken for a truncation.
    let checkpoint = this.checkpoint ? await this.readCheckpoint() : undefined;
    let result = await this.dialect.snapshot(this.db, (trx) => this.checkLogWholeIn(trx, checkpoint));
    // No checkpoint yet beside a log that has entries: another process may have committed the
    // log's first entry and not yet written its checkpoint (another store, another transaction).
    // It is looked for again for two seconds before the log is taken for broken.
    for (let wait = 0; wait < 10 && checkpoint === null && result.problems.length > 0; wait++) {
      await new Promise((r) => setTimeout(r, 200));
      checkpoint = await this.readCheckpoint();
      result = await this.dialect.snapshot(this.db, (trx) => this.checkLogWholeIn(trx, checkpoint));
    }
    return result;
  }

  private async checkLogWholeIn(
    db: StateDb,
    checkpoint: Checkpoint | null | undefined,
  ): Promise<{ problems: ChainProblem[]; warnings: string[] }> {
    const last = lastEntryOf(
      await db
        .selectFrom('audit_log')
        .select(['seq', 'hash', 'key_id'])
        .orderBy('position', 'desc')
        .limit(1)
        .executeTakeFirst(),
    );
    const entries = await countEntries(db);
    const head = await this.readHead(db);
    const problems = this.headProblems(head, last, entries);
    const warnings: string[] = [];
    if (checkpoint === undefined) return { problems, warnings };
    const headSeq = head && this.headSealed(head, last) ? head.seq : null;
    if (!checkpoint) {
      if (entries)
        problems.push({
          seq: last?.seq ?? 0,
          problem: 'deleted',
          message: `the log has ${entries} entries but the archive store holds no checkpoint of its head: the checkpoint was deleted (or the archive store replaced)`,
        });
    } else if (checkpoint.valid === null)
      problems.push({
        seq: checkpoint.seq,
        problem: 'other-key',
        message: `the checkpoint of the log head in the archive store was signed with key ${checkpoint.keyId}, which is not configured here: it cannot be checked`,
      });
    else if (!checkpoint.valid)
      problems.push({
        seq: checkpoint.seq,
        problem: 'edited',
        message:
          'the checkpoint of the log head in the archive store does not carry a valid key signature: it was forged',
      });
    else if (headSeq !== null && checkpoint.seq > headSeq)
      problems.push({
        seq: checkpoint.seq,
        problem: 'deleted',
        message: `the checkpoint in the archive store says entry ${checkpoint.seq} was written, the one in the state store says entry ${headSeq}: the state store was rolled back (its log and checkpoint put back from an older copy)`,
      });
    else if (!last || last.seq < checkpoint.seq)
      problems.push({
        seq: checkpoint.seq,
        problem: 'deleted',
        message: `the log ends at entry ${last?.seq ?? 0}, but its checkpoint in the archive store says entry ${checkpoint.seq} was written: the tail was deleted (truncated)`,
      });
    else {
      const at = await db
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', checkpoint.seq)
        .executeTakeFirst();
      if (String(at?.hash) !== checkpoint.hash)
        problems.push({
          seq: checkpoint.seq,
          problem: 'edited',
          message: `entry ${checkpoint.seq} is not the one its checkpoint in the archive store recorded: the log was rewritten`,
        });
      else if (headSeq !== null && checkpoint.seq < headSeq)
        warnings.push(
          `the checkpoint in the archive store is at entry ${checkpoint.seq}, the log at entry ${headSeq}: a command stopped between its commit and the copy; the next write moves it`,
        );
    }
    return { problems, warnings };
  }

  /**
   * A store upgraded to the head in the state store: the head is the log's last entry, taken
   * once, when the migration that added it runs (the archive store's copy still checks it).
   * In the caller's transaction, under the log's lock.
   */
  async seedHead(trx: StateDb): Promise<void> {
    if (await this.readHead(trx)) return;
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last) return;
    const head = { seq: Number(last.seq), hash: String(last.hash), entries: Number(last.seq) };
    await trx
      .insertInto('audit_head')
      .values({ name: 'audit', ...head, mac: this.sealer.seal(headText(head)), at: now() })
      .execute();
  }

  /** A log shorter than its checkpoint, or different at it, was truncated or rewritten: stop. */
  private async assertHeadMatches(
    trx: StateDb,
    checkpoint: AuditHead,
    last: { seq: unknown; hash: unknown } | undefined,
  ): Promise<void> {
    if (last && Number(last.seq) === checkpoint.seq && String(last.hash) === checkpoint.hash) return;
    const at = await trx
      .selectFrom('audit_log')
      .select('hash')
      .where('seq', '=', checkpoint.seq)
      .executeTakeFirst();
    if (at && String(at.hash) === checkpoint.hash) return;
    throw new RegistreError(
      'E_AUDIT_TRUNCATED',
      `the audit log does not reach its checkpoint (entry ${checkpoint.seq}, kept in the archive store): it was truncated or rewritten; nothing more is written to it. Run registre audit verify, and restore the state store from a backup`,
    );
  }

  /**
   * The checkpoint of the log's head; `valid` when its signature checks with the key it names
   * (`valid: null` when that key is not configured here).
   */
  async readCheckpoint(): Promise<Checkpoint | null> {
    if (!this.checkpoint) return null;
    const row = await this.checkpoint.db
      .selectFrom(CHECKPOINT_TABLE)
      .selectAll()
      .where('name', '=', 'audit')
      .executeTakeFirst();
    if (!row) return null;
    const head = { seq: Number(row.seq), hash: String(row.hash) };
    const keyId = row.key_id === null || row.key_id === undefined ? null : String(row.key_id);
    const ring = this.sealer.keyRing();
    const hasher = keyId === null ? ring.unkeyed : ring.keyed.get(keyId);
    return { ...head, keyId, valid: hasher ? String(row.mac) === this.checkpointMac(head, hasher) : null };
  }

  private checkpointMac(head: AuditHead, hasher = this.sealer.hash): string {
    return hasher(`registre checkpoint\u0000${head.seq}\u0000${head.hash}`);
  }

  /** The copy in the archive store; only forward, unless the DPO accepted the log (`force`). */
  private async writeCheckpoint(head: AuditHead, force = false): Promise<void> {
    if (!this.checkpoint) return;
    // One statement, and only forward: a process that appended earlier must not move it back.
    const row = {
      name: 'audit',
      seq: head.seq,
      hash: head.hash,
      key_id: this.sealer.keyId ?? null,
      mac: this.checkpointMac(head),
      at: now(),
    };
    await this.checkpoint.dialect.upsertCheckpoint(this.checkpoint.db, row, force);
  }

  /** The audit log in storage order (of some kinds only, when given). */
  async entries(kinds?: readonly string[]): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('position');
    if (kinds?.length) query = query.where('kind', 'in', kinds);
    return (await query.execute()).map((r) => ({
      seq: Number(r.seq),
      at: String(r.at),
      kind: String(r.kind),
      data: JSON.parse(String(r.data)) as Record<string, unknown>,
      prevHash: String(r.prev_hash),
      hash: String(r.hash),
      ...(r.key_id === null || r.key_id === undefined ? {} : { keyId: String(r.key_id) }),
    }));
  }
}

/** Creates the checkpoint's table in the store that keeps it (the archive store). */
export async function ensureCheckpointTable(db: Kysely<CheckpointDatabase>): Promise<void> {
  await db.schema
    .createTable(CHECKPOINT_TABLE)
    .ifNotExists()
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('key_id', 'varchar(64)')
    .addColumn('mac', 'varchar(64)', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .execute();
}
