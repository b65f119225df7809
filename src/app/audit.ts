import { createHash } from 'node:crypto';
import { z } from 'zod';
import { readHmacKeyIfAvailable } from '../adapters/files/config-paths.js';
import type { Connection } from '../adapters/sql/connect.js';
import { listTables } from '../adapters/sql/introspect.js';
import { archiveTableName } from '../adapters/sql/sweep.js';
import { holdCases, type StateStore } from '../adapters/state/state-store.js';
import { type AuditEntry, type ChainProblem, verifyAuditChain } from '../core/audit/audit-chain.js';
import { RegistreError } from '../core/errors.js';
import type { LockInfo, SweepRun } from '../core/retention/results.js';
import { safeMessage } from '../core/safe-message.js';
import type { Context, Engine } from './engine.js';
import { NoInput, parseInput, saying, wholeNumber } from './input.js';

export interface AuditVerification {
  readonly entries: number;
  /** Every place the log, its checkpoint, the holds and the runs disagree: tampering. */
  readonly problems: readonly ChainProblem[];
  /** What weakens the proof without being tampering (no key, a checkpoint copy behind). */
  readonly warnings: readonly string[];
}

/** Cross-checks the holds and the sweep runs of the state store against the log. */
export async function crossCheck(
  state: StateStore,
  entries: readonly AuditEntry[],
  only: 'all' | 'holds' = 'all',
): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  const last = entries[entries.length - 1]?.seq ?? 0;
  const problem = (seq: number, message: string) => problems.push({ seq, problem: 'deleted', message });
  // A hold.add entry: one per case (`holds`: each record), or, before hold cases, one per record.
  type Added = { entry: AuditEntry; store?: unknown; table?: unknown; keys?: unknown };
  const added = new Map<number, Added>();
  const released = new Set<number>();
  const started = new Set<number>();
  for (const e of entries) {
    if (e.kind === 'hold.add') {
      if (Array.isArray(e.data.holds))
        for (const h of e.data.holds as { hold: unknown; store: unknown; table: unknown; keys: unknown }[])
          added.set(Number(h.hold), { entry: e, store: h.store, table: h.table, keys: h.keys });
      else
        added.set(Number(e.data.hold), {
          entry: e,
          store: e.data.store,
          table: e.data.table,
          keys: e.data.keys,
        });
    }
    if (e.kind === 'hold.release') {
      if (Array.isArray(e.data.holds)) for (const id of e.data.holds) released.add(Number(id));
      else released.add(Number(e.data.hold));
    }
    if (e.kind === 'sweep.start') started.add(Number(e.data.run));
  }
  const holds = await state.holds({ includeReleased: true });
  const byId = new Map(holds.map((h) => [h.id, h]));
  for (const h of holds) {
    const logged = added.get(h.id);
    const entry = logged?.entry;
    if (!logged || !entry)
      problem(last, `hold ${h.id} is in the holds table but its hold.add entry is not in the log`);
    else if (
      (logged.table !== undefined && logged.table !== h.table) ||
      (logged.store !== undefined && logged.store !== h.store) ||
      (typeof logged.keys === 'string' && !state.digestMatches(h.key, logged.keys, entry.keyId))
    )
      // Another record in the table than in the log: the held record was swapped for another.
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `hold ${h.id} holds ${h.store}.${h.table} ${h.key} in the holds table, another record in the log: the table was edited`,
      });
    else if (entry.data.until !== undefined && (entry.data.until ?? null) !== h.until)
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `hold ${h.id} ends on ${h.until ?? 'no date'} in the holds table, on ${String(entry.data.until ?? 'no date')} in the log: the table was edited`,
      });
    if (h.releasedAt && !released.has(h.id))
      problem(last, `hold ${h.id} is released in the holds table without a hold.release entry in the log`);
  }
  for (const [id, { entry }] of added) {
    const h = byId.get(id);
    if (!h)
      problem(
        entry.seq,
        `hold ${id} of entry ${entry.seq} is missing from the holds table: it was deleted, and the records it held were open to the sweep`,
      );
    else if (!released.has(id) && h.releasedAt)
      problem(entry.seq, `hold ${id} was released without a hold.release entry`);
  }
  if (only === 'holds') return problems;
  const runs = await state.allRuns();
  const runIds = new Set(runs.map((r) => r.id));
  for (const id of started)
    if (!runIds.has(id)) problem(last, `sweep run ${id} is in the log but missing from the runs table`);
  for (const run of runs) {
    if (!started.has(run.id))
      problem(last, `sweep run ${run.id} is in the runs table but its sweep.start entry is not in the log`);
    const head = run.summary?.head as { seq?: number; hash?: string } | undefined;
    if (head?.seq !== undefined) {
      const at = entries.find((e) => e.seq === head.seq);
      if (!at || at.hash !== head.hash)
        problem(
          head.seq,
          `sweep run ${run.id} ended at entry ${head.seq}, which the log ${at ? 'holds with another hash (rewritten)' : 'no longer holds (truncated)'}`,
        );
    }
  }
  problems.push(...(await consentCrossCheck(state, entries)));
  problems.push(...(await tokenCrossCheck(state, entries)));
  problems.push(...(await breachCrossCheck(state, entries)));
  return problems;
}

/**
 * The consent ledger against the log: each row's seal; each `consent.record` entry's rows (its
 * range, their number and the digest of their seals) all there and unchanged; no row that no entry
 * recorded. A row deleted, edited or added by hand is found, even one no verdict reads.
 */
async function consentCrossCheck(state: StateStore, entries: readonly AuditEntry[]): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  const last = entries[entries.length - 1]?.seq ?? 0;
  const batches = entries
    .filter((e) => e.kind === 'consent.record')
    .map((e) => ({
      entry: e,
      first: Number(e.data.first),
      last: Number(e.data.last),
      rows: Number(e.data.rows),
      digest: String(e.data.digest),
      seen: 0,
      hash: createHash('sha256'),
    }))
    .sort((a, b) => a.first - b.first);
  let b = 0;
  for await (const row of state.consents.sealedRows()) {
    if (!row.sealed)
      problems.push({
        seq: last,
        problem: 'edited',
        message: `consent event row ${row.id} does not match its seal: it was changed outside registre`,
      });
    while (b < batches.length && (batches[b] as (typeof batches)[number]).last < row.id) b++;
    const batch = batches[b];
    if (!batch || row.id < batch.first) {
      problems.push({
        seq: last,
        problem: 'edited',
        message: `consent event row ${row.id} is in the ledger but no consent.record entry of the log recorded it: it was added outside registre`,
      });
      continue;
    }
    batch.seen++;
    batch.hash.update(row.mac);
  }
  for (const batch of batches) {
    if (batch.seen !== batch.rows)
      problems.push({
        seq: batch.entry.seq,
        problem: 'deleted',
        message: `consent entry ${batch.entry.seq} recorded ${batch.rows} row(s) (${batch.first} to ${batch.last}); the ledger holds ${batch.seen} of them: rows were deleted`,
      });
    else if (batch.hash.digest('hex') !== batch.digest)
      problems.push({
        seq: batch.entry.seq,
        problem: 'edited',
        message: `consent entry ${batch.entry.seq}: the rows ${batch.first} to ${batch.last} are not the ones recorded (their seals differ): the ledger was edited`,
      });
  }
  return problems;
}

/**
 * The audit log checked whole: each entry's hash and key, the chain, its head against both
 * checkpoints, and the holds and runs against what the log says of them.
 */
export async function verifyAudit(engine: Engine, input: NoInput, _ctx: Context): Promise<AuditVerification> {
  parseInput(NoInput, input);
  const project = await engine.project();
  const checkpointStore = await engine.archive({ create: false });
  const key = readHmacKeyIfAvailable(project.loaded);
  const state = await engine.state('verify');
  {
    const entries = await state.auditEntries();
    const problems: ChainProblem[] = [...verifyAuditChain(entries, state.keyRing())];
    const warnings: string[] = [];
    if (!key)
      warnings.push(
        'no HMAC key is configured (or it is not available here): the chain is plain SHA-256, and anyone with write access to the state store can rewrite it whole',
      );
    const unkeyed = entries.filter((e) => e.keyId === undefined).length;
    if (key && unkeyed)
      warnings.push(
        `${unkeyed} entr${unkeyed === 1 ? 'y was' : 'ies were'} sealed without a key (before one was configured): anyone with write access could have rewritten ${unkeyed === 1 ? 'it' : 'them'}`,
      );
    const head = await state.checkLogWhole();
    problems.push(...head.problems);
    warnings.push(...head.warnings);
    if (!checkpointStore && entries.length)
      problems.push({
        seq: entries[entries.length - 1]?.seq ?? 0,
        problem: 'deleted',
        message:
          'the log has entries but there is no archive store, where the second checkpoint of its head is kept: it was removed',
      });
    problems.push(...(await crossCheck(state, entries)));
    // What the DPO accepted (audit accept-head) stays told, as a warning with the entry that did.
    const accepted = new Map<string, number>();
    for (const e of entries)
      if (e.kind === 'audit.accept-head' && Array.isArray(e.data.problems))
        for (const p of e.data.problems as { message?: unknown }[]) accepted.set(String(p.message), e.seq);
    const open = problems.filter((p) => !accepted.has(p.message));
    for (const p of problems)
      if (accepted.has(p.message))
        warnings.push(`accepted at entry ${accepted.get(p.message)}: ${p.message}`);
    return { entries: entries.length, problems: open, warnings };
  }
}

/** The audit log, one JSON entry per line (JSON Lines). */
export async function exportAudit(engine: Engine, input: NoInput, _ctx: Context): Promise<string> {
  parseInput(NoInput, input);
  const state = await engine.state('read');
  return (await state.auditEntries()).map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** What status shows: the locks, the last sweep runs, how many holds are in force. */
export interface Status {
  readonly locks: readonly LockInfo[];
  readonly runs: readonly SweepRun[];
  readonly holds: number;
}

export const StatusInput = z.strictObject({
  /** How many of the last sweep runs (newest first). */
  runs: wholeNumber(1, 1000).default(5),
});
export type StatusInput = z.input<typeof StatusInput>;

/** The locks (a sweep or a request under way, alive or dead), the last runs, the holds in force. */
export async function status(engine: Engine, input: StatusInput, _ctx: Context): Promise<Status> {
  const { runs } = parseInput(StatusInput, input);
  const state = await engine.state('read');
  return {
    locks: await state.locks(),
    runs: await state.runs(runs),
    holds: holdCases(await state.holds({ at: engine.today() })).length,
  };
}

export const ArchiveReadInput = z.strictObject({
  /** A table of the data map whose archived records are read. */
  table: z.string(),
  /** One record's key (none: every archived record of the table). */
  id: z.string().optional(),
  /** Why the archive is consulted: logged (its keyed hash), the words kept in the state store. */
  reason: saying('must say why the archive is consulted'),
});
export type ArchiveReadInput = z.input<typeof ArchiveReadInput>;

/** Reads archived records of a table (every read is written to the audit log, with its reason). */
export async function readArchive(engine: Engine, input: ArchiveReadInput, context: Context) {
  const { table, id, reason } = parseInput(ArchiveReadInput, input);
  const { actor } = context;
  const project = await engine.project();
  const store = project.datamap.stores.find((s) => s.tables.some((t) => t.name === table));
  const tableMap = store?.tables.find((t) => t.name === table);
  if (!store || !tableMap) throw new RegistreError('E_UNKNOWN_TABLE', `no table "${table}" in the data map`);
  const archive = (await engine.archive()) as Connection;
  const state = await engine.state('write');
  {
    const name = archiveTableName(store, tableMap);
    const exists = (await listTables(archive)).some((t) => t.name === name);
    let query = exists ? archive.db.selectFrom(name).selectAll().orderBy('record_key') : null;
    if (query && id !== undefined) query = query.where('record_key', '=', id);
    const rows = query ? ((await query.execute()) as Record<string, unknown>[]) : [];
    const reasonHash = await state.keepReason(reason);
    await state.audit('archive.read', {
      store: store.id,
      table,
      records: rows.length,
      keys: state.digest(rows.map((r) => String(r.record_key)).join(',')),
      actor,
      reason: reasonHash,
    });
    return rows;
  }
}

export const AcceptHeadInput = z.strictObject({
  /** Why the log as it is now is the truth (what the DPO found): kept, its keyed hash logged. */
  reason: saying('must say what was found and why the log as it is now is accepted'),
});
export type AcceptHeadInput = z.input<typeof AcceptHeadInput>;

export interface HeadAccepted {
  /** The `audit.accept-head` entry, the new head of both checkpoints. */
  readonly seq: number;
  /** What was wrong with the head before (empty: it was whole, the entry only records the check). */
  readonly problems: readonly string[];
}

/**
 * The DPO takes the log as it is now as the truth, after investigating a broken head (a backup
 * restored, a tail lost): an `audit.accept-head` entry records what was found and why, and both
 * checkpoints move to it. Entries lost stay lost; what they said is told by the entry's problems.
 */
export async function acceptHead(
  engine: Engine,
  input: AcceptHeadInput,
  context: Context,
): Promise<HeadAccepted> {
  const { reason: words } = parseInput(AcceptHeadInput, input);
  const { problems } = await verifyAudit(engine, {}, context);
  // Verified as it is; accepted through the store that writes (the key strictly, the archive's checkpoint).
  await engine.reopenState();
  const state = await engine.state('write', { whole: false });
  const reason = await state.keepReason(words);
  const entry = await state.acceptHead({
    actor: context.actor,
    reason,
    problems: problems.map((p) => ({ seq: p.seq, problem: p.problem, message: p.message })),
  });
  return { seq: entry.seq, problems: problems.map((p) => p.message) };
}

/** The last `limit` sweep runs, newest first (the service's metrics). */
export async function sweepRuns(engine: Engine, limit: number): Promise<SweepRun[]> {
  const state = await engine.state('read');
  return state.runs(limit);
}

/**
 * The API tokens against the log: each token row has its token.create entry (same name and
 * scope), and a token the log revoked is revoked in the table. A row put back as it was before
 * its revocation (its seal is its own, the row unchanged) is found here: the log has the revoke.
 */
async function tokenCrossCheck(state: StateStore, entries: readonly AuditEntry[]): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  const last = entries[entries.length - 1]?.seq ?? 0;
  const created = new Map<number, AuditEntry>();
  const revoked = new Map<number, AuditEntry>();
  for (const e of entries) {
    if (e.kind === 'token.create') created.set(Number(e.data.token), e);
    if (e.kind === 'token.revoke') revoked.set(Number(e.data.token), e);
  }
  let rows: Awaited<ReturnType<StateStore['tokens']['list']>>;
  try {
    rows = await state.tokens.list();
  } catch (error) {
    return [{ seq: last, problem: 'edited', message: safeMessage(error) }];
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const row of rows) {
    const entry = created.get(row.id);
    if (!entry)
      problems.push({
        seq: last,
        problem: 'deleted',
        message: `API token ${row.id} ("${row.name}") is in the tokens table but its token.create entry is not in the log`,
      });
    else if (entry.data.name !== row.name || entry.data.scope !== row.scope)
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `API token ${row.id} is "${row.name}" (${row.scope}) in the table, "${String(entry.data.name)}" (${String(entry.data.scope)}) in the log: the table was edited`,
      });
    const revoke = revoked.get(row.id);
    if (revoke && row.revokedAt === null)
      problems.push({
        seq: revoke.seq,
        problem: 'edited',
        message: `API token ${row.id} ("${row.name}") was revoked at entry ${revoke.seq} but is live in the tokens table: its row was put back; revoke it again and find who restored it`,
      });
  }
  for (const [id, entry] of created)
    if (!byId.has(id))
      problems.push({
        seq: entry.seq,
        problem: 'deleted',
        message: `API token ${id} of entry ${entry.seq} is missing from the tokens table`,
      });
  return problems;
}

/**
 * The register of breaches against the log: each breach has its breach.record entry (same
 * discovery), is at the version its last breach.decide or breach.inform entry gave it, with the
 * decision that entry logged. A row put back as it was before a decision (its seal is its own)
 * or deleted is found here.
 */
async function breachCrossCheck(state: StateStore, entries: readonly AuditEntry[]): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  const last = entries[entries.length - 1]?.seq ?? 0;
  const recorded = new Map<number, AuditEntry>();
  const changed = new Map<number, AuditEntry>();
  const notified = new Map<number, AuditEntry>();
  for (const e of entries) {
    const id = Number(e.data.breach);
    if (e.kind === 'breach.record') recorded.set(id, e);
    if (e.kind === 'breach.decide' || e.kind === 'breach.inform') changed.set(id, e);
    if (e.kind === 'breach.decide') notified.set(id, e);
  }
  let rows: Awaited<ReturnType<StateStore['breaches']['list']>>;
  try {
    rows = await state.breaches.list();
  } catch (error) {
    return [{ seq: last, problem: 'edited', message: safeMessage(error) }];
  }
  const byId = new Set(rows.map((r) => r.id));
  for (const row of rows) {
    const entry = recorded.get(row.id);
    if (!entry) {
      problems.push({
        seq: last,
        problem: 'deleted',
        message: `breach ${row.id} is in the breaches table but its breach.record entry is not in the log`,
      });
      continue;
    }
    if (entry.data.discoveredAt !== row.discoveredAt)
      problems.push({
        seq: entry.seq,
        problem: 'edited',
        message: `breach ${row.id} was discovered at ${String(entry.data.discoveredAt)} in the log, ${row.discoveredAt} in the table: the table was edited`,
      });
    const change = changed.get(row.id);
    const version = change ? Number(change.data.version) : 0;
    if (row.version !== version)
      problems.push({
        seq: change?.seq ?? entry.seq,
        problem: 'edited',
        message: `breach ${row.id} is at version ${row.version} in the table, ${version} in the log${row.version < version ? ': a decision was undone by putting an older row back' : ''}`,
      });
    const decide = notified.get(row.id);
    const decision = decide ? (decide.data.notify ? 'notify' : 'no-notify') : 'pending';
    if (row.notification.decision !== decision)
      problems.push({
        seq: decide?.seq ?? entry.seq,
        problem: 'edited',
        message: `breach ${row.id}: the log's decision on notifying the CNIL is "${decision}", the table's "${row.notification.decision}"`,
      });
  }
  for (const [id, entry] of recorded)
    if (!byId.has(id))
      problems.push({
        seq: entry.seq,
        problem: 'deleted',
        message: `breach ${id} of entry ${entry.seq} is missing from the breaches table`,
      });
  return problems;
}
