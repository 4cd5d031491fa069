import type { Queryable } from './database.js';

export function metaRepo(db: Queryable) {
  return {
    /** Set once by the schema; scopes this installation's Swarm objects. */
    async installationId(): Promise<string> {
      const [row] = await db.query<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'installation_id'");
      if (!row) throw new Error('faasctl_meta has no installation_id: run faasctl up');
      return row.value;
    },
  };
}
