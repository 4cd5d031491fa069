import type { Queryable } from './database.js';
import { ConflictError } from '../base/errors.js';

/** An invoke token as stored: never the token itself, only its public prefix and SHA-256. */
export type TokenRow = {
  id: string;
  userId: string;
  userName: string;
  name: string;
  prefix: string;
  sha256: string;
  scope: 'invoke' | 'read';
  functions: string[];
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
};

const COLUMNS = `t.id, t.user_id AS "userId", u.name AS "userName", t.name, t.prefix, t.sha256, t.scope, t.functions,
  t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt", t.last_used_at AS "lastUsedAt", t.created_at AS "createdAt"`;

export function tokensRepo(db: Queryable) {
  return {
    async insert(t: Omit<TokenRow, 'userName' | 'revokedAt' | 'lastUsedAt' | 'createdAt'>): Promise<void> {
      try {
        await db.query('INSERT INTO api_tokens (id, user_id, name, prefix, sha256, scope, functions, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          t.id,
          t.userId,
          t.name,
          t.prefix,
          t.sha256,
          t.scope,
          t.functions,
          t.expiresAt,
        ]);
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new ConflictError(`you already have a token named "${t.name}"`, { hint: 'choose another --name, or faasctl token revoke it first' });
        throw err;
      }
    },
    /** The token a presented value's prefix names (any state: the caller tells expired from revoked). */
    async byPrefix(prefix: string): Promise<TokenRow | undefined> {
      const [row] = await db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.prefix = $1`, [prefix]);
      return row;
    },
    async list(userId: string): Promise<TokenRow[]> {
      return db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1 ORDER BY t.created_at, t.id`, [userId]);
    },
    /** By id or by name, the user's own only. */
    async find(userId: string, idOrName: string): Promise<TokenRow | undefined> {
      const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
      const [row] = await db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1 AND (t.name = $2 ${isUuid ? 'OR t.id = $2::uuid' : ''})`, [
        userId,
        idOrName,
      ]);
      return row;
    },
    async revoke(id: string): Promise<Date | undefined> {
      const [row] = await db.query<{ revokedAt: Date }>('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING revoked_at AS "revokedAt"', [id]);
      return row?.revokedAt;
    },
    async touch(id: string): Promise<void> {
      await db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [id]);
    },
  };
}

export type TokensRepo = ReturnType<typeof tokensRepo>;
