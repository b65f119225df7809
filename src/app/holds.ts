import { z } from 'zod';
import { readHmacKey } from '../adapters/files/config-paths.js';
import type { Connection } from '../adapters/sql/connect.js';
import { findPerson } from '../adapters/sql/explain.js';
import { listTables } from '../adapters/sql/introspect.js';
import { loadRows } from '../adapters/sql/records.js';
import { archiveTableName } from '../adapters/sql/sweep.js';
import { type HoldsAdded, holdCases, type StateStore } from '../adapters/state/state-store.js';
import { RegistreError } from '../core/errors.js';
import { personHash } from '../core/identity.js';
import type { HoldCase } from '../core/retention/results.js';
import { effectsAfterHold } from './consent.js';
import type { Context, Engine } from './engine.js';
import { calendarDate, field, parseInput, positiveId, saying } from './input.js';
import type { Project } from './project.js';

export const HoldAddInput = z
  .strictObject({
    /** A table of the data map… */
    table: z.string().optional(),
    /** …and a record's key in it, */
    id: z.string().optional(),
    /** or a person's e-mail address: every record of theirs, as one hold. */
    email: z.string().optional(),
    /** Why (a dispute, a litigation, an authority's request): kept in the state store. */
    reason: saying('must say why'),
    /** The last day of the hold (none: until released). */
    until: calendarDate.optional(),
  })
  .refine((i) => (i.email === undefined) !== (i.table === undefined || i.id === undefined), {
    error: `give either ${field('table')} and ${field('id')}, or ${field('email')}`,
  });
export type HoldAddInput = z.input<typeof HoldAddInput>;

/** Holds one record, or every record of a person (found by e-mail) as one hold. */
export async function addHold(engine: Engine, input: HoldAddInput, context: Context): Promise<HoldCase> {
  const options = parseInput(HoldAddInput, input);
  const today = engine.today();
  const { until } = options;
  if (until !== undefined && until < today)
    throw new RegistreError(
      'E_USAGE',
      `${field('until')} ${until} is already past (today is ${today}): a hold that has ended holds nothing`,
      { path: ['until'] },
    );
  const project = await engine.project();
  // One connection to the archive store: the checkpoint and the search for archived records
  // (PGlite allows one instance per data folder).
  const archive = (await engine.archive()) as Connection;
  const state = await engine.state('write');
  {
    const key = readHmacKey(project.loaded);
    const { actor } = context;
    const reasonHash = await state.keepReason(options.reason);
    const found: { store: string; table: string; id: string; archived: boolean }[] = [];
    for (const store of project.datamap.stores) {
      const { conn, ctx } = await engine.retention(store);
      await (async () => {
        if (options.email !== undefined) {
          for (const r of await findPerson(conn, ctx, store, options.email, key, archive))
            found.push({
              store: store.id,
              table: r.table.name,
              id: r.id,
              archived: r.archived !== undefined,
            });
          return;
        }
        const table = store.tables.find((t) => t.name === options.table);
        if (!table) return;
        const [row] = await loadRows(conn, table.name, table.primaryKey, options.id);
        if (!row)
          throw new RegistreError(
            'E_RECORD_NOT_FOUND',
            `table "${table.name}" has no record with ${table.primaryKey} = ${options.id}`,
          );
        found.push({
          store: store.id,
          table: table.name,
          id: String(row[table.primaryKey]),
          archived: false,
        });
      })();
    }
    if (found.length === 0)
      throw options.email !== undefined
        ? new RegistreError('E_PERSON_NOT_FOUND', 'no record of this person in the stores or the archive')
        : new RegistreError('E_UNKNOWN_TABLE', `no table "${options.table}" in the data map`);
    // One keyed hash names a person everywhere (requests, erasures, the suppression list).
    const person = options.email !== undefined && key ? personHash(key, options.email) : undefined;
    const added = await recordHold(
      state,
      found.map((r) => ({ store: r.store, table: r.table, key: r.id })),
      {
        reason: options.reason,
        reasonHash,
        actor,
        ...(person ? { person } : {}),
        ...(until ? { until } : {}),
      },
    );
    const caseId = added.case;
    // Returns only once every running sweep has read these holds: no batch it commits from now
    // on touches the held records.
    await state.waitForSweeps(Math.max(...added.ids));
    // A sweep may have deleted a record between the moment it was found and the moment the hold
    // was read: say so, rather than report as held a record that is gone.
    const gone = await vanished(engine, project, archive, found);
    if (gone.length)
      throw new RegistreError(
        'E_HOLD_TOO_LATE',
        `hold ${caseId} is recorded, but ${gone.join(', ')} has no record any more: a running sweep deleted it before the hold took effect${gone.length < found.length ? '; the other records are held' : `; release hold ${caseId}, which holds nothing`}`,
      );
    return (await state.holdCase(caseId)) as HoldCase;
  }
}

/**
 * Adds a hold case and its one audit entry: each record by store, table and the keyed hash of its
 * key; the reason by its keyed hash (the DPO's words stay in the state store).
 */
export async function recordHold(
  state: StateStore,
  records: readonly { store: string; table: string; key: string }[],
  hold: {
    reason: string;
    reasonHash?: string;
    actor: string;
    person?: string;
    until?: string;
    /** A restriction of processing (art. 18), added by that request. */
    restriction?: { readonly request: number };
  },
): Promise<HoldsAdded> {
  const reasonHash = hold.reasonHash ?? (await state.keepReason(hold.reason));
  const { actor } = hold;
  const { restriction, ...rest } = hold;
  // The hold and its log entry in one transaction: a sweep checking one against the other never
  // sees the hold alone (it took it for tampering and stopped).
  return state.addHolds(
    records,
    { ...rest, reasonHash, actor, ...(restriction ? { kind: 'restriction' as const } : {}) },
    (added) => ({
      case: added.case,
      ...(restriction ? { kind: 'restriction', request: restriction.request } : {}),
      holds: records.map((r, i) => ({
        hold: added.ids[i],
        store: r.store,
        table: r.table,
        keys: state.digest(r.key),
      })),
      until: hold.until ?? null,
      actor,
      reason: reasonHash,
      ...(hold.person ? { person: hold.person } : {}),
    }),
  );
}

/** The records of `found` that are neither in their live table nor in the archive store any more. */
export async function vanished(
  engine: Engine,
  project: Project,
  archive: Connection,
  found: readonly { store: string; table: string; id: string; archived: boolean }[],
): Promise<string[]> {
  const gone: string[] = [];
  const archiveTables = new Set((await listTables(archive)).map((t) => t.name));
  for (const store of project.datamap.stores) {
    const live = found.filter((r) => r.store === store.id && !r.archived);
    if (live.length === 0) continue;
    const conn = await engine.store(store);
    for (const r of live) {
      const table = store.tables.find((t) => t.name === r.table);
      if (!table) continue;
      if ((await loadRows(conn, table.name, table.primaryKey, r.id)).length) continue;
      const name = archiveTableName(store, table);
      const archived = archiveTables.has(name)
        ? await archive.db
            .selectFrom(name)
            .select('record_key')
            .where('record_key', '=', r.id)
            .executeTakeFirst()
        : undefined;
      if (!archived) gone.push(`${store.id}.${r.table} ${r.id}`);
    }
  }
  return gone;
}

export const HoldListInput = z.strictObject({
  /** Every hold ever added, released ones too (default: those in force today). */
  all: z.boolean().default(false),
});
export type HoldListInput = z.input<typeof HoldListInput>;

/** The holds in force today (or every hold ever added), each with its records. */
export async function listHolds(engine: Engine, input: HoldListInput, _ctx: Context): Promise<HoldCase[]> {
  const { all } = parseInput(HoldListInput, input);
  const state = await engine.state('read');
  return holdCases(
    all ? await state.holds({ includeReleased: true }) : await state.holds({ at: engine.today() }),
  );
}

/** A hold's number as the command line gives it. */
export function parseHoldId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1)
    throw new RegistreError(
      'E_USAGE',
      `a hold is named by its number, as hold list shows it (got "${text}")`,
    );
  return id;
}

export const HoldReleaseInput = z.strictObject({ id: positiveId });
export type HoldReleaseInput = z.input<typeof HoldReleaseInput>;

/** Ends a hold: every record it holds is open to its rules again. */
export async function releaseHold(engine: Engine, input: HoldReleaseInput, ctx: Context): Promise<HoldCase> {
  const { id } = parseInput(HoldReleaseInput, input);
  const state = await engine.state('write');
  const released = await releaseHoldCase(state, id, ctx.actor);
  // A withdrawal's effects the hold kept from its records are applied now (a subscriber who
  // withdrew while held is unsubscribed once the hold ends).
  await effectsAfterHold(engine, state, released, ctx.actor);
  return released;
}

/** Releases a hold case and logs it (`hold.release`, with every row it held). */
export async function releaseHoldCase(
  state: StateStore,
  id: number,
  actor: string,
  options: { lift?: boolean } = {},
): Promise<HoldCase> {
  // A restriction (art. 18) ends with its request's lift, logged as such (request.lift).
  if (!options.lift) {
    const restriction = (await state.holds({ includeReleased: true, caseId: id })).some(
      (h) => h.kind === 'restriction',
    );
    if (restriction) {
      const request = (await state.requests()).find(
        (r) => r.type === 'restriction' && (r.outcome as { hold?: number } | null)?.hold === id,
      );
      throw new RegistreError(
        'E_RESTRICTION',
        `hold ${id} is a restriction of processing (art. 18)${request ? ` of request ${request.id}` : ''}: it is not released as a hold; lift it with registre request restriction lift ${request?.id ?? 'ID'}`,
      );
    }
  }
  return state.releaseHold(id, (hold) => ({
    case: hold.id,
    holds: hold.records.map((r) => r.hold),
    actor,
  }));
}
export type { HoldCase } from '../core/retention/results.js';
