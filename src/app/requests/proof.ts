/**
 * Issue 18, item 1's principle, in one place: before a remembered record is changed again (erasure
 * replay, a controller's instruction, what an erasure kept for a hold once it ends), it is proven
 * still the person's. A key can be someone else's after a restore (SQLite hands out max + 1, a
 * PostgreSQL restore resets a sequence): a satisfaction call's fingerprint (its id, its customer's
 * id, an empty comment) is the same for the new customer who took the erased one's id.
 *
 * Proof, in order: the keyed hash of the row as it was (its fingerprint, under any key of the
 * ring) must match; then the row's own e-mail identity, or else its parent chain (the relations
 * from this row's column to another table's key) up to a row that holds one, must be the
 * person's. A chain that leads to another person refutes; a parent that is gone is the person's
 * only when one of their erasures remembers its key; a chain that reaches no identity at all
 * leaves the fingerprint as the proof.
 */
import type { Connection } from '../../adapters/sql/connect.js';
import { archivedRows, fingerprintOf, identityOf } from '../../adapters/sql/person.js';
import { loadRows } from '../../adapters/sql/records.js';
import type { ErasureRow } from '../../adapters/state/state-store.js';
import { type DataMap, tableOfRecord } from '../../core/datamap/columns.js';
import type { StoreMap, TableMap } from '../../core/datamap/datamap-schema.js';
import { normaliseEmail } from '../../core/identity.js';
import type { Register } from '../../core/register/register-load.js';
import { findRecord } from '../../core/register/register-model.js';

type Row = Record<string, unknown>;

/** Why a remembered record was left: the texts reports and the request show. */
export const NOT_THE_RECORD = 'the key now holds another record';
export const ANOTHER_PERSON = "the key now holds another person's record (its parent chain leads to them)";
export const UNPROVEN_PARENT_GONE =
  "not proven the person's: a record it belongs to is gone and no erasure of theirs removed it";
export const UNPROVEN_NO_TRACE =
  "not proven the person's: no fingerprint was kept and no identity leads to them";

/** Whose a row is, by its identity or its parent chain. */
type Owner = 'theirs' | 'another' | 'unproven' | 'none';

export interface Prover {
  /**
   * Null when `row`, found under a remembered key, is proven still `person`'s record; otherwise
   * why not (one of the texts above).
   */
  stillTheirs(
    place: { conn: Connection; archive: Connection | null | undefined; store: StoreMap },
    table: TableMap,
    row: Row,
    remembered: { readonly fp?: string; readonly cols?: readonly string[]; readonly archived?: boolean },
    person: string,
  ): Promise<string | null>;
}

/**
 * The one proof replay, instructions and the erasure of kept-for-hold records share. `ring`: the
 * key ring's hashers (current and previous keys); `erasures`: every erasure remembered (a parent
 * one of them removed is still known as that person's).
 */
export function prover(
  register: Register,
  datamap: DataMap,
  ring: readonly ((text: string) => string)[],
  erasures: readonly ErasureRow[],
): Prover {
  const remembered = new Map<string, Set<string>>();
  for (const e of erasures) {
    const keys = remembered.get(e.person) ?? new Set<string>();
    for (const r of e.records) keys.add(`${r.store}.${r.table}:${r.key}`);
    remembered.set(e.person, keys);
  }
  // Parent rows read once per pass: many remembered records share a customer.
  const cache = new Map<string, Promise<{ row: Row; archived: boolean } | null>>();

  function parentsOf(table: TableMap): { target: TableMap; local: string; remote: string }[] {
    const record = table.record ? findRecord(register, table.record) : undefined;
    const out: { target: TableMap; local: string; remote: string }[] = [];
    for (const [name, binding] of Object.entries(table.relations ?? {})) {
      // A relation from this row's own key leads to its children, not to whom it belongs.
      if (binding.local === table.primaryKey) continue;
      const relation = record?.relations?.[name];
      if (relation?.many) continue;
      const target = relation ? tableOfRecord(datamap, relation.to)?.table : undefined;
      if (target) out.push({ target, local: binding.local, remote: binding.remote });
    }
    return out;
  }

  function lookUp(
    place: { conn: Connection; archive: Connection | null | undefined; store: StoreMap },
    target: TableMap,
    remote: string,
    value: unknown,
    archivedFirst: boolean,
  ): Promise<{ row: Row; archived: boolean } | null> {
    const id = `${place.store.id}.${target.name}.${remote}:${archivedFirst ? 'a' : 'l'}:${String(value)}`;
    let found = cache.get(id);
    if (!found) {
      found = (async () => {
        const live = async () => {
          const [row] = await loadRows(place.conn, target.name, remote, value);
          return row ? { row, archived: false } : null;
        };
        const archived = async () => {
          if (!place.archive || remote !== target.primaryKey) return null;
          // An archive store that never archived this table has no table for it: nothing there.
          const rows = await archivedRows(place.archive, place.store, target, [String(value)]).catch(
            () => new Map<string, Row>(),
          );
          const row = rows.get(String(value));
          return row ? { row, archived: true } : null;
        };
        // Where the child is first: an archived order's customer is the archived one, even if a
        // live customer has taken its id since (item 7).
        return archivedFirst
          ? ((await archived()) ?? (await live()))
          : ((await live()) ?? (await archived()));
      })();
      cache.set(id, found);
    }
    return found;
  }

  async function ownerOf(
    place: { conn: Connection; archive: Connection | null | undefined; store: StoreMap },
    table: TableMap,
    row: Row,
    archived: boolean,
    person: string,
    depth: number,
  ): Promise<Owner> {
    const address = identityOf(table, row);
    if (address !== null && address.trim() !== '')
      return ring.some((mac) => mac(normaliseEmail(address)) === person) ? 'theirs' : 'another';
    if (depth >= 6) return 'none';
    let proven = false;
    let missing = false;
    for (const { target, local, remote } of parentsOf(table)) {
      const value = row[local];
      if (value === null || value === undefined) continue;
      const parent = await lookUp(place, target, remote, value, archived);
      if (!parent) {
        if (
          remote === target.primaryKey &&
          remembered.get(person)?.has(`${place.store.id}.${target.name}:${String(value)}`)
        )
          proven = true;
        else missing = true;
        continue;
      }
      const owner = await ownerOf(place, target, parent.row, parent.archived, person, depth + 1);
      if (owner === 'another') return 'another';
      if (owner === 'theirs') proven = true;
      if (owner === 'unproven') missing = true;
    }
    return proven ? 'theirs' : missing ? 'unproven' : 'none';
  }

  return {
    async stillTheirs(place, table, row, r, person) {
      const fingerprinted = Boolean(r.fp && r.cols);
      if (fingerprinted && !ring.some((mac) => fingerprintOf(mac, table, row, r.cols as string[]) === r.fp))
        return NOT_THE_RECORD;
      const owner = await ownerOf(place, table, row, r.archived === true, person, 0);
      if (owner === 'another') return fingerprinted ? ANOTHER_PERSON : NOT_THE_RECORD;
      if (owner === 'theirs') return null;
      if (owner === 'unproven') return UNPROVEN_PARENT_GONE;
      return fingerprinted ? null : UNPROVEN_NO_TRACE;
    },
  };
}
