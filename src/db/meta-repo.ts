import type { Queryable } from './database.js';

export function metaRepo(db: Queryable) {
  // Written once by the schema and never changed: read once per process (every invocation asks).
  let installation: Promise<string> | undefined;
  return {
    /** Set once by the schema; scopes this installation's Swarm objects. */
    installationId(): Promise<string> {
      installation ??= db.query<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'installation_id'").then(([row]) => {
        if (!row) throw new Error('faasctl_meta has no installation_id: run faasctl up');
        return row.value;
      });
      // A failure is not kept: the next call asks again.
      installation.catch(() => {
        installation = undefined;
      });
      return installation;
    },
    /** A setting's value and how long ago it was written (PostgreSQL's clock); undefined when unset. */
    async get(key: string): Promise<{ value: string; ageMs: number } | undefined> {
      const [row] = await db.query<{ value: string; ageMs: number }>(`SELECT value, (extract(epoch FROM now() - updated_at) * 1000)::float8 AS "ageMs" FROM faasctl_meta WHERE key = $1`, [key]);
      return row;
    },
    async set(key: string, value: string): Promise<void> {
      await db.query(`INSERT INTO faasctl_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()`, [key, value]);
    },
    async unset(key: string): Promise<void> {
      await db.query(`DELETE FROM faasctl_meta WHERE key = $1`, [key]);
    },
  };
}
