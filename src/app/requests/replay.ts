/** Erasure replay after a backup is restored. */
import type { Connection } from '../../adapters/sql/connect.js';
import { applyChanges, restoredRows, type StoreChange, statusesOf } from '../../adapters/sql/person.js';
import { retentionContext } from '../../adapters/sql/retention-sql.js';
import { addToSuppressionList } from '../../adapters/sql/sweep.js';
import { currentActor } from '../../adapters/state/state-store.js';
import type { TableMap } from '../../core/datamap/datamap-schema.js';
import { foldersOf, openProject } from '../project.js';
import { openState, todayUtc } from '../stores.js';

import { ruleOf, withPersonStores } from './person.js';
import { requireKey } from './shared.js';
// ---------------------------------------------------------------------------------------------
// Erasure replay

export interface ReplayResult {
  readonly erasures: number;
  /** Records found again (restored) and erased again. */
  readonly redone: readonly { request: number; table: string; id: string; action: string }[];
  /** Records found again but left: held now, or the key now belongs to someone else. */
  readonly skipped: readonly { request: number; table: string; id: string; why: string }[];
  readonly suppressed: number;
}

/**
 * After a database backup is restored, re-applies every past erasure: the records each one
 * removed (kept by key in the state store) that are back, checked against the person's keyed
 * hash where the table holds the address, set-based per table; held records stay held.
 */
export async function replayErasures(
  configFile: string | undefined,
  options: { today?: string; actor?: string; dryRun?: boolean } = {},
): Promise<ReplayResult> {
  const at = options.today ?? todayUtc();
  const project = await openProject(configFile);
  const key = requireKey(project);
  const state = await openState(project, options.dryRun ? 'read' : 'write');
  try {
    const erasures = await state.erasures();
    const redone: { request: number; table: string; id: string; action: string }[] = [];
    const skipped: { request: number; table: string; id: string; why: string }[] = [];
    let suppressed = 0;
    await withPersonStores(project, false, async (conns) => {
      for (const store of project.datamap.stores) {
        const conn = conns.get(store.id) as Connection;
        const ctx = await retentionContext(conn, project.register, project.datamap);
        // Every erased key of every erasure, by table: one look-up per table, whatever their number.
        const wanted = new Map<
          string,
          {
            table: TableMap;
            records: { erasure: (typeof erasures)[number]; key: string; action: string; rule?: string }[];
          }
        >();
        for (const erasure of erasures)
          for (const r of erasure.records) {
            if (r.store !== store.id || r.archived || r.action === 'keep') continue;
            const table = store.tables.find((t) => t.name === r.table);
            if (!table) continue;
            const entry = wanted.get(table.name) ?? { table, records: [] };
            entry.records.push({
              erasure,
              key: r.key,
              action: r.action,
              ...(r.rule ? { rule: r.rule } : {}),
            });
            wanted.set(table.name, entry);
          }
        const changes: StoreChange[] = [];
        for (const { table, records } of wanted.values()) {
          const keys = [...new Set(records.map((r) => r.key))];
          const back = await restoredRows(conn, table, keys, key);
          if (back.size === 0) continue;
          const heldNow = await state.heldKeys(store.id, [table.name], at);
          const verdicts = await statusesOf(conn, ctx, table, at, [...back.keys()], heldNow.byTable);
          const byAction = new Map<string, string[]>();
          for (const r of records) {
            if (!back.has(r.key)) continue;
            const hash = back.get(r.key);
            if (hash !== null && hash !== undefined && hash !== r.erasure.person) {
              skipped.push({
                request: r.erasure.requestId,
                table: table.name,
                id: r.key,
                why: 'the key now holds another person',
              });
              continue;
            }
            const status = verdicts.get(r.key);
            if (status === 'held' || status === 'restricted') {
              skipped.push({ request: r.erasure.requestId, table: table.name, id: r.key, why: status });
              continue;
            }
            // Anonymised already (the restored copy was made after, or a sweep did it): nothing to redo.
            if (r.action === 'anonymise' && status === 'anonymised') continue;
            redone.push({ request: r.erasure.requestId, table: table.name, id: r.key, action: r.action });
            const signature = `${r.action}|${r.rule ?? ''}`;
            const list = byAction.get(signature) ?? [];
            list.push(r.key);
            byAction.set(signature, list);
          }
          for (const [signature, list] of byAction) {
            const [action, ruleId] = signature.split('|') as ['delete' | 'anonymise', string];
            const rule = ruleOf(project.register, ruleId || null);
            changes.push({ table, action, keys: [...new Set(list)], ...(rule ? { rule } : {}) });
          }
        }
        if (options.dryRun) continue;
        if (changes.length) await applyChanges(conn, store, changes, { state, folders: foldersOf(project) });
        // The suppression list of the restored copy: the keyed hashes, put back as they were.
        if (store.suppressionList)
          await conn.db.transaction().execute(async (trx) => {
            for (const erasure of erasures) {
              const added = await addToSuppressionList(trx, conn.dialect, store, [erasure.person], {
                at: erasure.at,
                reason: 'erasure',
              });
              suppressed += added.length;
            }
          });
      }
    });
    if (!options.dryRun)
      await state.audit('erasure.replay', {
        erasures: erasures.length,
        redone: redone.length,
        skipped: skipped.length,
        keys: state.digest(redone.map((r) => `${r.table}:${r.id}`).join(',')),
        actor: options.actor ?? currentActor(),
      });
    return { erasures: erasures.length, redone, skipped, suppressed };
  } finally {
    await state.close();
  }
}
