import type { Queryable } from './database.js';

/** A claimed pool container (migration 0012): who has it, until when. */
export interface PoolClaim {
  taskId: string;
  serviceId: string;
  containerId: string | null;
  requestId: string | null;
  jobSent: boolean;
  claimedAt: Date;
  expiresAt: Date;
}

const CLAIM = `task_id AS "taskId", service_id AS "serviceId", container_id AS "containerId", request_id AS "requestId",
  job_sent AS "jobSent", claimed_at AS "claimedAt", expires_at AS "expiresAt"`;

/** Claims of pool containers: the primary key on the task id is what makes a claim exclusive. */
export function poolRepo(db: Queryable) {
  return {
    /** True when this caller now holds the task; false when someone else claimed it first. */
    async claim(c: { taskId: string; serviceId: string; containerId: string | null; requestId: string; expiresAt: Date }): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO pool_claims (task_id, service_id, container_id, request_id, expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (task_id) DO NOTHING RETURNING task_id`,
        [c.taskId, c.serviceId, c.containerId, c.requestId, c.expiresAt],
      );
      return rows.length === 1;
    },
    /** The job went to the container: it now ends by itself, by the request's deadline. */
    async markSent(taskId: string, expiresAt: Date): Promise<void> {
      await db.query('UPDATE pool_claims SET job_sent = true, expires_at = $2 WHERE task_id = $1', [taskId, expiresAt]);
    },
    /**
     * The job ended: the claim stays until `until` (its container is still listed as running for
     * a moment after it exits, and must not look free). Claims of jobs whose time was up by
     * `now` (their containers are gone) are pruned in the same statement, off the claim's path.
     */
    async finish(taskId: string, until: Date, now: Date): Promise<void> {
      await db.query(
        `WITH pruned AS (DELETE FROM pool_claims WHERE job_sent AND expires_at <= $3 AND task_id <> $1)
         UPDATE pool_claims SET job_sent = true, expires_at = $2 WHERE task_id = $1`,
        [taskId, until, now],
      );
    },
    async release(taskId: string): Promise<void> {
      await db.query('DELETE FROM pool_claims WHERE task_id = $1', [taskId]);
    },
    /** Task ids claimed in these services, or in any (claimers skip them). */
    async claimedTasks(serviceIds?: string[]): Promise<Set<string>> {
      if (serviceIds?.length === 0) return new Set();
      const rows = serviceIds
        ? await db.query<{ taskId: string }>(`SELECT task_id AS "taskId" FROM pool_claims WHERE service_id = ANY($1)`, [serviceIds])
        : await db.query<{ taskId: string }>(`SELECT task_id AS "taskId" FROM pool_claims`);
      return new Set(rows.map((r) => r.taskId));
    },
    async expired(now: Date): Promise<PoolClaim[]> {
      return db.query<PoolClaim & Record<string, unknown>>(`SELECT ${CLAIM} FROM pool_claims WHERE expires_at <= $1 ORDER BY expires_at LIMIT 100`, [now]);
    },
    async all(): Promise<PoolClaim[]> {
      return db.query<PoolClaim & Record<string, unknown>>(`SELECT ${CLAIM} FROM pool_claims ORDER BY claimed_at`);
    },
  };
}
