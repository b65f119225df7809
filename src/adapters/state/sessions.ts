/**
 * The console's sessions. A session is kept by the SHA-256 of its id (the browser's cookie holds
 * the id; the store never does), with the API token it was opened with, its CSRF secret and its
 * end; each row sealed with the state key. Opening and closing one is logged with the token's name.
 */
import { RegistreError } from '../../core/errors.js';
import type { ConsoleSessionsTable, StateDb } from './schema.js';
import type { Sealer } from './seal.js';
import type { Transaction } from './transaction.js';

export interface SessionRow {
  readonly tokenId: number;
  readonly csrf: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

const macText = (r: Omit<ConsoleSessionsTable, 'mac'>) =>
  JSON.stringify(['registre session', r.hash, Number(r.token_id), r.csrf, r.created_at, r.expires_at]);

export class Sessions {
  constructor(
    private readonly db: StateDb,
    private readonly transaction: Transaction,
    private readonly sealer: Sealer,
  ) {}

  /** Opens a session for a live token and logs it (by the token's name, never the session's id). */
  async open(
    session: { hash: string; tokenId: number; tokenName: string; csrf: string; expiresAt: string },
    now: string,
  ): Promise<void> {
    await this.transaction(['audit_log'], async (tx) => {
      const row = {
        hash: session.hash,
        token_id: session.tokenId,
        csrf: session.csrf,
        created_at: now,
        expires_at: session.expiresAt,
      };
      // Sessions past their end are of no use: each sign-in clears them.
      await tx.db.deleteFrom('console_sessions').where('expires_at', '<=', now).execute();
      await tx.db
        .insertInto('console_sessions')
        .values({ ...row, mac: this.sealer.seal(macText(row)) })
        .execute();
      await tx.audit('console.login', {
        actor: `token:${session.tokenName}`,
        token: session.tokenId,
        until: session.expiresAt,
      });
    });
  }

  /** The session whose id hashes to `hash`, while it lasts, its seal checked; undefined when none. */
  async live(hash: string, now: string): Promise<SessionRow | undefined> {
    const r = await this.db
      .selectFrom('console_sessions')
      .selectAll()
      .where('hash', '=', hash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (!r) return undefined;
    const { mac, ...rest } = r;
    if (!this.sealer.sealMatches(macText(rest), mac))
      throw new RegistreError(
        'E_STATE_TAMPERED',
        'a console session in the state store does not match its seal: the row was changed outside registre; it is refused',
      );
    return { tokenId: Number(r.token_id), csrf: r.csrf, createdAt: r.created_at, expiresAt: r.expires_at };
  }

  /** Ends a session (signing out) and logs it; nothing when it had ended already. */
  async close(hash: string, actor: string): Promise<void> {
    await this.transaction(['audit_log'], async (tx) => {
      const gone = await tx.db.deleteFrom('console_sessions').where('hash', '=', hash).executeTakeFirst();
      if (Number(gone.numDeletedRows) > 0) await tx.audit('console.logout', { actor });
    });
  }
}
