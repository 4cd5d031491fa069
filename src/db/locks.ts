import type { Database, HeldConnection } from './database.js';

/**
 * PostgreSQL's session advisory locks as named slots: the semaphore behind concurrency limits
 * and the dispatcher's leadership. A lock lives as long as the connection that took it, so a
 * holder that crashes (a killed CLI, a dispatcher task, a lost node) frees its slot at once:
 * no lease to wait out, no row to clean.
 */

/** A set of slots held on one connection; release frees them all. */
export interface HeldSlots {
  release(): void;
  /** Called if the connection that holds them fails (the locks are gone with it). */
  onLost(listener: (err: Error) => void): void;
}

/** One semaphore: `name` (e.g. `fn:<id>`) with `size` slots. */
export interface Semaphore {
  name: string;
  size: number;
}

export function advisoryLocks(db: Database) {
  return {
    /**
     * One free slot of every semaphore, all or none, on a connection of its own; undefined
     * when one of them is full. Slots are tried in order: a limit of N is slots 0..N-1.
     */
    async trySlots(semaphores: Semaphore[]): Promise<HeldSlots | undefined> {
      const conn = await db.hold();
      try {
        for (const s of semaphores) {
          if (!(await takeOne(conn, s))) {
            conn.release(true);
            return undefined;
          }
        }
      } catch (err) {
        conn.release(true);
        throw err;
      }
      // Destroyed, not pooled: a pooled connection would keep the locks for its next user.
      return { release: () => conn.release(true), onLost: (l) => conn.onLost(l) };
    },
    /** Slots of a semaphore held right now by anyone (for doctor and tests). */
    async held(name: string): Promise<number> {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = hashtext($1)::oid::int8::oid`, [name]);
      return row?.n ?? 0;
    },
  };
}

async function takeOne(conn: HeldConnection, s: Semaphore): Promise<boolean> {
  for (let slot = 0; slot < s.size; slot++) {
    const [row] = await conn.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok', [s.name, slot]);
    if (row?.ok) return true;
  }
  return false;
}

export type AdvisoryLocks = ReturnType<typeof advisoryLocks>;
