/**
 * The service's API tokens and the windows of its rate limits. A token is kept as the SHA-256 of
 * its secret (a random 32 bytes: a slow hash adds nothing), its row sealed with the state key
 * (a scope raised by hand in the database no longer matches its seal, and the token is refused).
 * Creating and revoking one is logged, by name, never by secret.
 */
import { RegistreError } from '../../core/errors.js';
import { sql } from '../sql/kysely.js';
import type { ApiTokensTable, StateDb } from './schema.js';
import type { Sealer } from './seal.js';
import type { Transaction } from './transaction.js';

export interface TokenRow {
  readonly id: number;
  readonly name: string;
  readonly scope: string;
  /** The controller (a distributor's id) a token is limited to; null for the company's own. */
  readonly controllerId: string | null;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
}

const macText = (r: Omit<ApiTokensTable, 'mac'>) =>
  JSON.stringify([
    'registre token',
    Number(r.id),
    r.name,
    r.hash,
    r.scope,
    r.controller_id ?? null,
    r.created_at,
    r.created_by,
    r.revoked_at ?? null,
    r.revoked_by ?? null,
  ]);

const rowOf = (r: ApiTokensTable): TokenRow => ({
  id: Number(r.id),
  name: r.name,
  scope: r.scope,
  controllerId: r.controller_id ?? null,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at ?? null,
});

export class Tokens {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
    private readonly sealer: Sealer,
  ) {}

  private checked(r: ApiTokensTable): ApiTokensTable {
    const { mac, ...rest } = r;
    if (!this.sealer.sealMatches(macText(rest), mac))
      throw new RegistreError(
        'E_STATE_TAMPERED',
        `API token ${r.id} ("${r.name}") in the state store does not match its seal: the row was changed outside registre; the token is refused. Revoke it and create another`,
      );
    return r;
  }

  /** Adds a token (its secret's hash) and logs it; refused when a live token has the name. */
  async create(
    token: { name: string; hash: string; scope: string; controllerId: string | null },
    actor: string,
    now: string,
  ): Promise<TokenRow> {
    return this.transaction(['api_tokens', 'audit_log'], async (tx) => {
      const live = await tx.db
        .selectFrom('api_tokens')
        .select('id')
        .where('name', '=', token.name)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (live)
        throw new RegistreError(
          'E_TOKEN_EXISTS',
          `a token named "${token.name}" is in use: revoke it first (registre token revoke ${token.name}) or choose another name`,
        );
      const id = await tx.nextId('api_tokens');
      const row = {
        id,
        name: token.name,
        hash: token.hash,
        scope: token.scope,
        controller_id: token.controllerId,
        created_at: now,
        created_by: actor,
        revoked_at: null,
        revoked_by: null,
      };
      await tx.db
        .insertInto('api_tokens')
        .values({ ...row, mac: this.sealer.seal(macText(row)) })
        .execute();
      await tx.audit('token.create', {
        actor,
        token: id,
        name: token.name,
        scope: token.scope,
        ...(token.controllerId ? { controller: token.controllerId } : {}),
      });
      return rowOf({ ...row, mac: '' });
    });
  }

  /** Every token, live and revoked, oldest first (never a secret: the store has none). */
  async list(): Promise<TokenRow[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
    return rows.map((r) => rowOf(this.checked(r)));
  }

  /** The live token whose secret hashes to `hash`, its seal checked; undefined when none. */
  async live(hash: string): Promise<TokenRow | undefined> {
    const r = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r ? rowOf(this.checked(r)) : undefined;
  }

  /** The live token of that id, its seal checked; undefined when revoked or unknown. */
  async liveById(id: number): Promise<TokenRow | undefined> {
    const r = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r ? rowOf(this.checked(r)) : undefined;
  }

  /** How many live tokens there are (the service makes its first admin token when none). */
  async liveCount(): Promise<number> {
    const r = await this.db
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Revokes the live token of that name and logs it. */
  async revoke(name: string, actor: string, now: string): Promise<TokenRow> {
    return this.transaction(['api_tokens', 'audit_log'], async (tx) => {
      const found = await tx.db
        .selectFrom('api_tokens')
        .selectAll()
        .where('name', '=', name)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!found)
        throw new RegistreError(
          'E_TOKEN_UNKNOWN',
          `no live token is named "${name}" (registre token list shows them)`,
        );
      const { mac: _mac, ...rest } = this.checked(found);
      const after = { ...rest, revoked_at: now, revoked_by: actor };
      await tx.db
        .updateTable('api_tokens')
        .set({ revoked_at: now, revoked_by: actor, mac: this.sealer.seal(macText(after)) })
        .where('id', '=', found.id)
        .execute();
      await tx.audit('token.revoke', { actor, token: Number(found.id), name });
      return rowOf({ ...after, mac: '' });
    });
  }
}

/**
 * Fixed windows of rate limits. On a database server, in the state store: one statement counts a
 * hit and tells the window's count, atomically, whichever process serves the call (several behind
 * a balancer share their limits). On SQLite (one process: the embedded default), in this
 * process's memory: a commit per call would make every public call wait for the disk, and the
 * windows only matter for the minute or the hour they last. `key` is already a keyed hash.
 */
export class RateLimits {
  private lastSweep = 0;
  private readonly windows = new Map<string, { start: number; hits: number }>();

  constructor(
    private readonly db: StateDb,
    private readonly dialect: string,
  ) {}

  async hit(key: string, windowMs: number, nowMs: number): Promise<{ hits: number; resetAt: number }> {
    const start = nowMs - (nowMs % windowMs);
    if (this.dialect === 'sqlite') return this.inMemory(key, start, windowMs, nowMs);
    if (nowMs - this.lastSweep > 60_000) {
      this.lastSweep = nowMs;
      // Windows that ended more than an hour ago count for nothing.
      await this.db
        .deleteFrom('rate_limits')
        .where('window_start', '<', nowMs - 3_600_000 - windowMs)
        .execute();
    }
    if (this.dialect === 'mysql') {
      await sql`INSERT INTO rate_limits (k, window_start, hits) VALUES (${key}, ${start}, 1)
        ON DUPLICATE KEY UPDATE hits = IF(window_start < ${start}, 1, hits + 1), window_start = GREATEST(window_start, ${start})`.execute(
        this.db,
      );
      const r = await this.db
        .selectFrom('rate_limits')
        .select(['hits', 'window_start'])
        .where('k', '=', key)
        .executeTakeFirst();
      return { hits: Number(r?.hits ?? 1), resetAt: Number(r?.window_start ?? start) + windowMs };
    }
    const { rows } = await sql<{
      hits: number;
      window_start: number;
    }>`INSERT INTO rate_limits (k, window_start, hits) VALUES (${key}, ${start}, 1)
      ON CONFLICT (k) DO UPDATE SET
        hits = CASE WHEN rate_limits.window_start < excluded.window_start THEN 1 ELSE rate_limits.hits + 1 END,
        window_start = CASE WHEN rate_limits.window_start < excluded.window_start THEN excluded.window_start ELSE rate_limits.window_start END
      RETURNING hits, window_start`.execute(this.db);
    const r = rows[0];
    return { hits: Number(r?.hits ?? 1), resetAt: Number(r?.window_start ?? start) + windowMs };
  }

  private inMemory(key: string, start: number, windowMs: number, nowMs: number) {
    if (nowMs - this.lastSweep > 60_000) {
      this.lastSweep = nowMs;
      for (const [k, w] of this.windows) if (w.start < nowMs - 3_600_000 - windowMs) this.windows.delete(k);
    }
    const w = this.windows.get(key);
    const hits = w && w.start >= start ? w.hits + 1 : 1;
    this.windows.set(key, { start, hits });
    return { hits, resetAt: start + windowMs };
  }
}

/**
 * The last figures of a plan or a forecast for a day (one row per name, replaced), so that the
 * API answers a large shop's plan at once, with the time they were counted.
 */
export class Figures {
  constructor(private readonly db: StateDb) {}

  async get(name: string): Promise<{ at: string; computedAt: string; body: unknown } | undefined> {
    const r = await this.db.selectFrom('figures').selectAll().where('name', '=', name).executeTakeFirst();
    if (!r) return undefined;
    try {
      return { at: r.at, computedAt: r.computed_at, body: JSON.parse(r.body) };
    } catch {
      return undefined;
    }
  }

  async put(name: string, at: string, computedAt: string, body: unknown): Promise<void> {
    const text = JSON.stringify(body);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('figures').where('name', '=', name).execute();
      await trx.insertInto('figures').values({ name, at, computed_at: computedAt, body: text }).execute();
    });
  }
}
