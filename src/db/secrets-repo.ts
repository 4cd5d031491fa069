import type { Queryable } from './database.js';

/** A secret's metadata: its value is only ever in the Swarm secret `swarmName`. */
export interface SecretRow {
  userId: string;
  name: string;
  swarmName: string;
  createdAt: Date;
}

const COLUMNS = 'user_id AS "userId", name, swarm_name AS "swarmName", created_at AS "createdAt"';

export function secretsRepo(db: Queryable) {
  return {
    async insert(s: { userId: string; name: string; swarmName: string }): Promise<void> {
      await db.query('INSERT INTO secrets (user_id, name, swarm_name) VALUES ($1, $2, $3)', [s.userId, s.name, s.swarmName]);
    },
    async list(userId: string): Promise<SecretRow[]> {
      return db.query<SecretRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM secrets WHERE user_id = $1 ORDER BY name`, [userId]);
    },
    /**
     * The user's secrets of these names, locked against `secret rm` until the transaction
     * ends (FOR SHARE), so a version never refers to a secret being removed.
     */
    async byNames(userId: string, names: string[], lock = false): Promise<SecretRow[]> {
      if (!names.length) return [];
      return db.query<SecretRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM secrets WHERE user_id = $1 AND name = ANY($2::text[]) ORDER BY name${lock ? ' FOR SHARE' : ''}`, [userId, names]);
    },
    async byNameForUpdate(userId: string, name: string): Promise<SecretRow | undefined> {
      const [row] = await db.query<SecretRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM secrets WHERE user_id = $1 AND name = $2 FOR UPDATE`, [userId, name]);
      return row;
    },
    /** Names of the user's functions with any version (not only the current one: rollback) mounting this secret. */
    async usedBy(userId: string, name: string): Promise<string[]> {
      const rows = await db.query<{ name: string }>(
        `SELECT DISTINCT f.name FROM functions f JOIN function_versions v ON v.function_id = f.id
          WHERE f.user_id = $1 AND v.secrets ? $2 ORDER BY f.name`,
        [userId, name],
      );
      return rows.map((r) => r.name);
    },
    /** Of these Swarm secret names, the ones a row still refers to (for gc). */
    async known(swarmNames: string[]): Promise<Set<string>> {
      if (!swarmNames.length) return new Set();
      const rows = await db.query<{ name: string }>('SELECT swarm_name AS name FROM secrets WHERE swarm_name = ANY($1::text[])', [swarmNames]);
      return new Set(rows.map((r) => r.name));
    },
    async remove(userId: string, name: string): Promise<void> {
      await db.query('DELETE FROM secrets WHERE user_id = $1 AND name = $2', [userId, name]);
    },
  };
}

export type SecretsRepo = ReturnType<typeof secretsRepo>;
