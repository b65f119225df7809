/** Files to remove (or move) once their record's deletion has committed: done after a crash too. */
import type { PendingFilesTable, StateDb } from './schema.js';
import type { Transaction } from './transaction.js';

export interface PendingFile {
  readonly id: number;
  readonly run: number;
  readonly store: string;
  readonly table: string;
  readonly key: string;
  readonly folder: string;
  readonly path: string;
  /** Where the file goes (archived records), null when it is removed. */
  readonly target: string | null;
}

function pendingFileOf(r: PendingFilesTable): PendingFile {
  return {
    id: Number(r.id),
    run: Number(r.run),
    store: String(r.store),
    table: String(r.table_name),
    key: String(r.record_key),
    folder: String(r.folder),
    path: String(r.path),
    target: r.target === null ? null : String(r.target),
  };
}

export class PendingFiles {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
  ) {}

  /** Records files to remove (or move) once their record's deletion has committed; returns their ids. */
  async add(files: readonly Omit<PendingFile, 'id'>[]): Promise<number[]> {
    if (files.length === 0) return [];
    return this.transaction(['pending_files'], async (tx) => {
      const start = await tx.nextId('pending_files');
      const ids = files.map((_, i) => start + i);
      for (let i = 0; i < files.length; i += 200)
        await tx.db
          .insertInto('pending_files')
          .values(
            files.slice(i, i + 200).map((f, j) => ({
              id: start + i + j,
              run: f.run,
              store: f.store,
              table_name: f.table,
              record_key: f.key,
              folder: f.folder,
              path: f.path,
              target: f.target,
            })),
          )
          .execute();
      return ids;
    });
  }

  async list(): Promise<PendingFile[]> {
    return (await this.db.selectFrom('pending_files').selectAll().orderBy('id').execute()).map(pendingFileOf);
  }

  async clear(ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500)
      await this.db
        .deleteFrom('pending_files')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
  }
}
