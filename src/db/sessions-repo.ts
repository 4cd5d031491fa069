import type { Queryable } from './database.js';

export function sessionsRepo(db: Queryable) {
  return {
    async insert(session: { tokenSha256: string; userId: string; expiresAt: Date }): Promise<void> {
      await db.query('INSERT INTO sessions (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)', [session.tokenSha256, session.userId, session.expiresAt]);
    },
    /** The user of a live session, or undefined when unknown or expired. */
    async userOf(tokenSha256: string, now: Date): Promise<{ id: string; name: string } | undefined> {
      const [row] = await db.query<{ id: string; name: string }>('SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = $1 AND s.expires_at > $2', [
        tokenSha256,
        now,
      ]);
      return row;
    },
    async remove(tokenSha256: string): Promise<void> {
      await db.query('DELETE FROM sessions WHERE token_sha256 = $1', [tokenSha256]);
    },
    /** After a password change: every other session of the user ends. */
    async removeOthers(userId: string, keepSha256: string): Promise<void> {
      await db.query('DELETE FROM sessions WHERE user_id = $1 AND token_sha256 <> $2', [userId, keepSha256]);
    },
    async removeExpired(now: Date): Promise<void> {
      await db.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
    },
  };
}

export type SessionsRepo = ReturnType<typeof sessionsRepo>;
