import type { Queryable } from './database.js';

export interface UserRow {
  id: string;
  name: string;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserSummary {
  id: string;
  name: string;
  createdAt: Date;
  functions: number;
}

const COLUMNS = 'id, name, password_hash AS "passwordHash", created_at AS "createdAt", updated_at AS "updatedAt"';

export function usersRepo(db: Queryable) {
  return {
    async insert(user: { id: string; name: string; passwordHash: string }): Promise<UserRow> {
      const [row] = await db.query<UserRow & Record<string, unknown>>(`INSERT INTO users (id, name, password_hash) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [user.id, user.name, user.passwordHash]);
      return row!;
    },
    async byName(name: string): Promise<UserRow | undefined> {
      const [row] = await db.query<UserRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM users WHERE name = $1`, [name]);
      return row;
    },
    async byId(id: string): Promise<UserRow | undefined> {
      const [row] = await db.query<UserRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return row;
    },
    async update(id: string, change: { name?: string; passwordHash?: string }): Promise<UserRow | undefined> {
      const [row] = await db.query<UserRow & Record<string, unknown>>(
        `UPDATE users SET name = COALESCE($2, name), password_hash = COALESCE($3, password_hash), updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, change.name ?? null, change.passwordHash ?? null],
      );
      return row;
    },
    async remove(id: string): Promise<boolean> {
      const rows = await db.query('DELETE FROM users WHERE id = $1 RETURNING id', [id]);
      return rows.length > 0;
    },
    async list(options: { prefix?: string; limit?: number } = {}): Promise<UserSummary[]> {
      return db.query<UserSummary & Record<string, unknown>>(
        `SELECT u.id, u.name, u.created_at AS "createdAt", count(f.id)::int AS functions
           FROM users u LEFT JOIN functions f ON f.user_id = u.id
          WHERE ($1::text IS NULL OR starts_with(u.name, $1))
          GROUP BY u.id ORDER BY u.name LIMIT $2`,
        [options.prefix ?? null, options.limit ?? 10_000],
      );
    },
    /** Of these ids, the users that exist (gc: a service of a deleted user is waste). */
    async existing(ids: string[]): Promise<Set<string>> {
      if (!ids.length) return new Set();
      const rows = await db.query<{ id: string }>('SELECT id FROM users WHERE id = ANY($1::uuid[])', [ids]);
      return new Set(rows.map((r) => r.id));
    },
    async functionCount(id: string): Promise<number> {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM functions WHERE user_id = $1', [id]);
      return row?.n ?? 0;
    },
  };
}

export type UsersRepo = ReturnType<typeof usersRepo>;
