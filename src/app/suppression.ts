/**
 * The suppression list as a service: put an address on it, ask whether one is on it, and take
 * the listed addresses out of a mailing list. The list holds only the keyed hash of each
 * normalised address (`personHash`); registre never has the addresses back. After a key
 * rotation the list still holds hashes made with the old key: every look-up hashes the address
 * with the key in force and with each key of `previousKeys`, and an addition re-keys the entry it
 * finds under an old key (as the sweep and people's requests do).
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { readHmacKey, readPreviousKeys } from '../adapters/files/config-paths.js';
import { filterCsvFile } from '../adapters/files/csv-filter.js';
import { suppressedHashes, suppressionEntries } from '../adapters/sql/suppression.js';
import { putOnSuppressionList } from '../adapters/sql/sweep.js';
import { hmacHexWith } from '../core/audit/keys.js';
import type { StoreMap } from '../core/datamap/datamap-schema.js';
import { RegistreError } from '../core/errors.js';
import { addressOf, looksLikeAddress, personHash, previousHashes } from '../core/identity.js';
import type { Context, Engine } from './engine.js';
import { field, oneOf, parseInput } from './input.js';
import type { Project } from './project.js';

/** Why an address is on the list: the person unsubscribed, objected, or was erased. */
export const SUPPRESSION_REASONS = ['unsubscribe', 'objection', 'erasure'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

// The address is never quoted back: a message may end up in a log.
const address = z.string().refine(looksLikeAddress, { error: 'must be one e-mail address' });
/** The store whose list is meant, when several stores of the data map declare one. */
const storeName = z.string().min(1).optional();

export const SuppressionAddInput = z.strictObject({
  /** The address to list (compared trimmed and lower-cased, as everywhere). */
  email: address,
  /** Why (default: objection). */
  reason: oneOf(SUPPRESSION_REASONS).default('objection'),
  store: storeName,
});
export type SuppressionAddInput = z.input<typeof SuppressionAddInput>;

export const SuppressionCheckInput = z.strictObject({ email: address, store: storeName });
export type SuppressionCheckInput = z.input<typeof SuppressionCheckInput>;

export const FilterMailingInput = z.strictObject({
  /** The mailing list: a CSV file with a header row. */
  file: z.string().min(1),
  /** Where the rows to keep are written (refused if a file is there). */
  out: z.string().min(1),
  /** The name of the address column in the header. */
  column: z.string().min(1).default('email'),
  /** The folder `file` and `out` are relative to (default: the process's working folder). */
  cwd: z.string().optional(),
  store: storeName,
});
export type FilterMailingInput = z.input<typeof FilterMailingInput>;

type ListedStore = StoreMap & { readonly suppressionList: NonNullable<StoreMap['suppressionList']> };

export interface SuppressionAdded {
  readonly store: string;
  /** It was not on the list (under any key). */
  readonly added: boolean;
  /** It was, under a key of before a rotation: its entry now has the hash of the key in force. */
  readonly rekeyed: boolean;
  /** The entry's date: today (an older entry is renewed). */
  readonly addedAt: string;
  /** The entry's reason: the one given when new, the one it had otherwise. */
  readonly reason?: string;
}

export interface SuppressionChecked {
  readonly store: string;
  readonly listed: boolean;
  readonly addedAt?: string;
  readonly reason?: string;
  /** Listed under a key of before a rotation (re-keyed the next time the address is added). */
  readonly underPreviousKey?: boolean;
}

export interface MailingFiltered {
  readonly store: string;
  /** The file written. */
  readonly out: string;
  /** Rows read (the header and blank lines not counted). */
  readonly rows: number;
  readonly kept: number;
  /** Left out: the address is on the list. */
  readonly removed: number;
  /** Left out: no address could be read (missing, malformed, or not one address). */
  readonly invalid: number;
}

/** The store of the data map whose suppression list is meant (the one declaring one, or `store`). */
export function suppressionStore(project: Project, name?: string): ListedStore {
  const listed = project.datamap.stores.filter((s): s is ListedStore => s.suppressionList !== undefined);
  if (name !== undefined) {
    const store = project.datamap.stores.find((s) => s.id === name);
    if (!store)
      throw new RegistreError(
        'E_USAGE',
        `${field('store')} "${name}" is not a store of the data map (${project.datamap.stores.map((s) => s.id).join(', ')})`,
        { path: ['store'] },
      );
    if (!store.suppressionList)
      throw new RegistreError(
        'E_NO_SUPPRESSION_LIST',
        `store "${name}" declares no suppression list (suppressionList in the data map)${listed.length ? `; these do: ${listed.map((s) => s.id).join(', ')}` : ''}`,
      );
    return store as ListedStore;
  }
  const [only, ...others] = listed;
  if (!only)
    throw new RegistreError(
      'E_NO_SUPPRESSION_LIST',
      'no store of the data map declares a suppression list (suppressionList: table, column, timestamp, reason)',
    );
  if (others.length)
    throw new RegistreError(
      'E_USAGE',
      `${listed.length} stores declare a suppression list (${listed.map((s) => s.id).join(', ')}): name one with ${field('store')}`,
      { path: ['store'] },
    );
  return only;
}

/** The key in force and the keys of before a rotation: every one is needed to find an entry. */
function keysOf(project: Project): { key: Buffer; previous: Buffer[] } {
  const key = readHmacKey(project.loaded);
  if (!key)
    throw new RegistreError(
      'E_NO_HMAC_KEY',
      'the suppression list holds keyed hashes: set hmacKey in the configuration (registre key generate)',
    );
  // A previous key that cannot be read is an error, not a shorter look-up: an address listed
  // under it would be reported as not listed.
  return { key, previous: readPreviousKeys(project.loaded) };
}

/**
 * Puts an address on the suppression list, dated today, once: an entry already there (under the
 * key in force or a previous one) is renewed, and re-keyed when it was made with a previous key.
 * One audit entry (`suppression.add`) names the person by keyed hash only.
 */
export async function addSuppression(
  engine: Engine,
  input: SuppressionAddInput,
  context: Context,
): Promise<SuppressionAdded> {
  const { email, reason, store: name } = parseInput(SuppressionAddInput, input);
  const project = await engine.project();
  const store = suppressionStore(project, name);
  const { key, previous } = keysOf(project);
  const state = await engine.state('write');
  const conn = await engine.store(store);
  const person = personHash(key, email);
  const at = engine.today();
  const { written, entry } = await conn.db.transaction().execute(async (trx) => {
    const written = await putOnSuppressionList(trx, conn.dialect, store, [person], {
      at,
      reason,
      previous: previousHashes(previous, email, person),
    });
    const [entry] = await suppressionEntries({ ...conn, db: trx }, store.suppressionList, [person]);
    return { written, entry };
  });
  const added = written.added.length > 0;
  const rekeyed = written.rekeyed.length > 0;
  // After the commit: a failure in between leaves the person listed, never logged as listed and not.
  await state.audit('suppression.add', {
    store: store.id,
    person,
    reason: added ? reason : (entry?.reason ?? reason),
    added,
    ...(rekeyed ? { rekeyed } : {}),
    actor: context.actor,
  });
  return {
    store: store.id,
    added,
    rekeyed,
    addedAt: entry?.addedAt ?? at,
    ...(added ? { reason } : entry?.reason !== undefined ? { reason: entry.reason } : {}),
  };
}

/** Whether an address is on the suppression list, under the key in force or a previous one. Changes nothing. */
export async function checkSuppression(
  engine: Engine,
  input: SuppressionCheckInput,
  _context: Context,
): Promise<SuppressionChecked> {
  const { email, store: name } = parseInput(SuppressionCheckInput, input);
  const project = await engine.project();
  const store = suppressionStore(project, name);
  const { key, previous } = keysOf(project);
  const conn = await engine.store(store);
  const current = personHash(key, email);
  const older = [...previousHashes(previous, email, current).keys()];
  const entries = await suppressionEntries(conn, store.suppressionList, [current, ...older]);
  // The entry of the key in force if there is one, else the newest of the others.
  const entry =
    entries.find((e) => e.hash === current) ??
    [...entries].sort((a, b) => (b.addedAt ?? '').localeCompare(a.addedAt ?? ''))[0];
  if (!entry) return { store: store.id, listed: false };
  return {
    store: store.id,
    listed: true,
    ...(entry.addedAt ? { addedAt: entry.addedAt } : {}),
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    underPreviousKey: entry.hash !== current,
  };
}

/**
 * Writes to `out` the rows of a CSV mailing list whose address is not on the suppression list,
 * each byte for byte as it was, the header first. A row whose address cannot be read (no such
 * field, a malformed one, not one address) is left out too and counted as invalid: it cannot be
 * checked. One audit entry (`suppression.filter`) with the counts.
 */
export async function filterMailing(
  engine: Engine,
  input: FilterMailingInput,
  context: Context,
): Promise<MailingFiltered> {
  const options = parseInput(FilterMailingInput, input);
  const cwd = options.cwd ?? process.cwd();
  const file = isAbsolute(options.file) ? options.file : resolve(cwd, options.file);
  const out = isAbsolute(options.out) ? options.out : resolve(cwd, options.out);
  const project = await engine.project();
  const store = suppressionStore(project, options.store);
  const { key, previous } = keysOf(project);
  const state = await engine.state('write');
  const conn = await engine.store(store);
  const listed = await suppressedHashes(conn, store.suppressionList);
  const hashers = [key, ...previous].map(hmacHexWith);
  const { onProgress, signal } = context;
  const counts = await filterCsvFile({
    file,
    out,
    column: options.column,
    fate: (value) => {
      const normalised = value === undefined ? undefined : addressOf(value);
      if (normalised === undefined) return 'invalid';
      if (listed.size === 0) return 'keep';
      for (const hash of hashers) if (listed.has(hash(normalised))) return 'remove';
      return 'keep';
    },
    ...(onProgress
      ? {
          onProgress: (done: number, total: number, rows: number) =>
            onProgress({ phase: 'filter', done, total, detail: `${rows.toLocaleString('en')} rows` }),
        }
      : {}),
    ...(signal
      ? {
          signal,
          cancelled: (s: AbortSignal) =>
            new RegistreError('E_CANCELLED', `the filter was stopped: nothing was written to ${out}`, {
              cause: s.reason,
            }),
        }
      : {}),
  });
  await state.audit('suppression.filter', { store: store.id, ...counts, actor: context.actor });
  return { store: store.id, out, ...counts };
}
