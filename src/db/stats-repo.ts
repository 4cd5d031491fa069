import type { Queryable } from './database.js';

/**
 * Invocation statistics, computed by PostgreSQL over every finished invocation: single
 * invocations (request rows) and each input of a bulk run (request_items). Durations are the
 * caller's view in both: wall time for a job, the round trip for a warm call.
 */
export interface StatsFilter {
  /** Only this user's functions; null = every user's (operator view). */
  userId: string | null;
  functionName: string | null;
  since: Date;
}

export interface FunctionStatsRow {
  name: string;
  invocations: number;
  succeeded: number;
  applicationErrors: number;
  developerErrors: number;
  systemErrors: number;
  /** percentile_cont: linear interpolation between the closest ranks. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanCpuMs: number | null;
  peakRssKb: number | null;
  cold: number;
  warm: number;
}

const INVOCATIONS = `
  SELECT r.function_name AS name, r.status, r.duration_ms, r.cpu_ms, r.max_rss_kb, r.mode, r.created_at
    FROM requests r
   WHERE r.type = 'fn.invoke' AND r.status NOT IN ('pending', 'running') AND r.function_name IS NOT NULL
     AND ($1::uuid IS NULL OR r.user_id = $1) AND r.created_at >= $2 AND ($3::text IS NULL OR r.function_name = $3)
  UNION ALL
  SELECT r.function_name, i.status, i.duration_ms, i.cpu_ms, i.max_rss_kb, r.mode, r.created_at
    FROM request_items i JOIN requests r ON r.id = i.request_id
   WHERE r.type = 'fn.invoke.bulk' AND r.function_name IS NOT NULL
     AND ($1::uuid IS NULL OR r.user_id = $1) AND r.created_at >= $2 AND ($3::text IS NULL OR r.function_name = $3)`;

export function statsRepo(db: Queryable) {
  const params = (f: StatsFilter) => [f.userId, f.since, f.functionName];
  return {
    async perFunction(f: StatsFilter): Promise<FunctionStatsRow[]> {
      return db.query<FunctionStatsRow & Record<string, unknown>>(
        `WITH inv AS (${INVOCATIONS})
         SELECT name, count(*)::int AS invocations,
                count(*) FILTER (WHERE status = 'success')::int AS succeeded,
                count(*) FILTER (WHERE status = 'application_error')::int AS "applicationErrors",
                count(*) FILTER (WHERE status = 'developer_error')::int AS "developerErrors",
                count(*) FILTER (WHERE status = 'system_error')::int AS "systemErrors",
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS "p50Ms",
                percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS "p95Ms",
                percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS "p99Ms",
                avg(cpu_ms) AS "meanCpuMs", max(max_rss_kb)::float8 AS "peakRssKb",
                count(*) FILTER (WHERE mode = 'cold')::int AS cold,
                count(*) FILTER (WHERE mode = 'warm')::int AS warm
           FROM inv GROUP BY name ORDER BY name`,
        params(f),
      );
    },
    /** Invocations and median duration per function in `buckets` equal slices of [since, until). */
    async timeline(f: StatsFilter, until: Date, buckets: number): Promise<Array<{ name: string; bucket: number; invocations: number; errors: number; p50Ms: number | null }>> {
      return db.query(
        `WITH inv AS (${INVOCATIONS})
         SELECT name, LEAST(width_bucket(extract(epoch FROM created_at), extract(epoch FROM $2::timestamptz), extract(epoch FROM $4::timestamptz), $5::int), $5::int) - 1 AS bucket,
                count(*)::int AS invocations, count(*) FILTER (WHERE status <> 'success')::int AS errors,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS "p50Ms"
           FROM inv GROUP BY 1, 2 ORDER BY 1, 2`,
        [...params(f), until, buckets],
      );
    },
  };
}

export type StatsRepo = ReturnType<typeof statsRepo>;
