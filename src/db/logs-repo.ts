import type { Queryable } from './database.js';
import { REQUEST_COLUMNS, type RequestRow, type RequestStatus } from './requests-repo.js';

/**
 * The request log read as a function's log (`faasctl logs`): its invocations, oldest first,
 * and, for --follow, what ended or started since the last look. Kept apart from
 * requests-repo.ts (listing and indexes are another change's).
 */

/** Single invocations: a bulk run's output lives in its items (`request show ID --items`). */
const INVOCATION = `type = 'fn.invoke'`;

export interface LogQuery {
  userId: string;
  functionName: string;
  status?: RequestStatus;
  since?: Date;
  /** The newest this many; they come back oldest first. */
  limit: number;
}

export function logsRepo(db: Queryable) {
  return {
    async tail(q: LogQuery): Promise<RequestRow[]> {
      const rows = await db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${REQUEST_COLUMNS} FROM requests
          WHERE user_id = $1 AND function_name = $2 AND ${INVOCATION}
            AND ($3::text IS NULL OR status = $3) AND ($4::timestamptz IS NULL OR created_at >= $4)
          ORDER BY created_at DESC, id DESC LIMIT $5`,
        [q.userId, q.functionName, q.status ?? null, q.since ?? null, q.limit],
      );
      return rows.reverse();
    },
    /** The user's request ids in [low, high] (a typed prefix's range: the primary key's index answers it). */
    async idsBetween(userId: string, low: string, high: string, limit: number): Promise<string[]> {
      const rows = await db.query<{ id: string }>(`SELECT id FROM requests WHERE id BETWEEN $2::uuid AND $3::uuid AND user_id = $1 ORDER BY id LIMIT $4`, [userId, low, high, limit]);
      return rows.map((r) => r.id);
    },
    /** For --follow: the function's open invocations, oldest first. */
    async open(q: { userId: string; functionName: string; limit: number }): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${REQUEST_COLUMNS} FROM requests
          WHERE user_id = $1 AND function_name = $2 AND ${INVOCATION} AND status IN ('pending', 'running')
          ORDER BY created_at, id LIMIT $3`,
        [q.userId, q.functionName, q.limit],
      );
    },
    /**
     * For --follow: invocations that ended after the key (finished_at, id), in that order, so a
     * caller pages through any number of them.
     */
    async endedAfter(q: { userId: string; functionName: string; at: Date; id: string; limit: number }): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${REQUEST_COLUMNS} FROM requests
          WHERE user_id = $1 AND function_name = $2 AND ${INVOCATION} AND finished_at IS NOT NULL
            AND (finished_at, id) > ($3::timestamptz, $4::uuid)
          ORDER BY finished_at, id LIMIT $5`,
        [q.userId, q.functionName, q.at, q.id, q.limit],
      );
    },
  };
}

export type LogsRepo = ReturnType<typeof logsRepo>;
