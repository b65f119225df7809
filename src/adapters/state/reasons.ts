/** The reasons' texts (a hold's, an archive read's), kept by the keyed hash the log carries. */
import { now, type StateDb } from './schema.js';
import type { Sealer } from './seal.js';

export class Reasons {
  constructor(
    private readonly db: StateDb,
    private readonly sealer: Sealer,
  ) {}

  /** Keeps a reason's text by its keyed hash, which the log carries; returns the hash. */
  async keep(text: string): Promise<string> {
    const hash = this.sealer.digest(text);
    const existing = await this.db
      .selectFrom('reasons')
      .select('hash')
      .where('hash', '=', hash)
      .executeTakeFirst();
    if (existing) return hash;
    try {
      await this.db.insertInto('reasons').values({ hash, text, created_at: now() }).execute();
    } catch (error) {
      // Another call kept the same text between the look and the insert (a form sent twice at
      // once, two requests refused for the same reason): it is kept, which is all that is asked.
      const kept = await this.db
        .selectFrom('reasons')
        .select('hash')
        .where('hash', '=', hash)
        .executeTakeFirst();
      if (!kept) throw error;
    }
    return hash;
  }

  async all(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('reasons').selectAll().execute();
    return new Map(rows.map((r) => [String(r.hash), String(r.text)]));
  }
}
