import type { Queryable } from './database.js';

export type RequestStatus = 'pending' | 'running' | 'success' | 'application_error' | 'developer_error' | 'system_error';

export const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'running', 'success', 'application_error', 'developer_error', 'system_error'];

export interface RequestRow {
  id: string;
  userId: string | null;
  type: string;
  status: RequestStatus;
  params: Record<string, unknown>;
  result: unknown;
  error: string | null;
  output: string | null;
  outputTruncated: boolean;
  functionName: string | null;
  functionVersion: number | null;
  mode: 'cold' | 'warm' | null;
  node: string | null;
  attempt: number;
  durationMs: number | null;
  cpuMs: number | null;
  maxRssKb: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewRequest {
  id: string;
  userId: string | null;
  type: string;
  status: RequestStatus;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: string | null;
  startedAt?: Date;
  finishedAt?: Date;
  durationMs?: number;
}

export interface RequestFilter {
  userId: string;
  type?: string;
  status?: RequestStatus;
  since?: Date;
  limit: number;
}

const COLUMNS = `id, user_id AS "userId", type, status, params, result, error, output, output_truncated AS "outputTruncated",
  function_name AS "functionName", function_version AS "functionVersion", mode, node, attempt,
  duration_ms AS "durationMs", cpu_ms AS "cpuMs", max_rss_kb::float8 AS "maxRssKb",
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

export function requestsRepo(db: Queryable) {
  return {
    async insert(r: NewRequest): Promise<void> {
      await db.query(
        `INSERT INTO requests (id, user_id, type, status, params, result, error, started_at, finished_at, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [r.id, r.userId, r.type, r.status, JSON.stringify(r.params ?? {}), r.result === undefined ? null : JSON.stringify(r.result), r.error ?? null, r.startedAt ?? null, r.finishedAt ?? null, r.durationMs ?? null],
      );
    },
    /** Only the owner's requests: another user's id answers undefined, like a missing one. */
    async byId(id: string, userId: string): Promise<RequestRow | undefined> {
      const [row] = await db.query<RequestRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM requests WHERE id = $1 AND user_id = $2`, [id, userId]);
      return row;
    },
    async list(f: RequestFilter): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM requests
          WHERE user_id = $1 AND ($2::text IS NULL OR type = $2 OR type LIKE $2 || '.%')
            AND ($3::text IS NULL OR status = $3) AND ($4::timestamptz IS NULL OR created_at >= $4)
          ORDER BY created_at DESC, id LIMIT $5`,
        [f.userId, f.type ?? null, f.status ?? null, f.since ?? null, f.limit],
      );
    },
  };
}

export type RequestsRepo = ReturnType<typeof requestsRepo>;
