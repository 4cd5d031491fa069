import type { Queryable } from './database.js';

type Range = readonly [from: Date, to: Date];

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

/** One function's figures over one timeline slot, from rollups and raw rows (see fromRollups). */
export interface SlotFigures {
  name: string;
  slot: number;
  invocations: number;
  succeeded: number;
  applicationErrors: number;
  developerErrors: number;
  systemErrors: number;
  cold: number;
  warm: number;
  cpuMsSum: number;
  cpuMsCount: number;
  peakRssKb: number | null;
  /**
   * The slot's latency histograms ({"bucket index": count}, see core/monitoring/latency-histogram.ts),
   * one per rollup or raw row, left for the caller to add up: PostgreSQL spent ~2 µs per bucket
   * expanding and regrouping them (0.35 s for a year at 1M rows), JavaScript a fraction of that.
   */
  latencies: Array<Record<string, number>>;
}

/** Where each part of the window is read: see core/monitoring/stats-coverage.ts. */
export interface StatsSources {
  raw: Range[];
  hour: Range[];
  day: Range[];
}

// Finished invocations in [from, to) as rollup-shaped pieces: one per request row or bulk answer.
// The answers are reached per bulk row (LATERAL), so only the window's bulk runs are read.
const rawPieces = (from: string, to: string) => `
  SELECT r.function_name AS name, r.created_at AS at, r.status, r.mode, r.duration_ms, r.cpu_ms, r.max_rss_kb
    FROM requests r
   WHERE r.type = 'fn.invoke' AND r.status NOT IN ('pending', 'running') AND r.function_name IS NOT NULL
     AND ($1::uuid IS NULL OR r.user_id = $1) AND ($2::text IS NULL OR r.function_name = $2) AND r.created_at >= ${from} AND r.created_at < ${to}
  UNION ALL
  SELECT r.function_name, r.created_at, i.status, r.mode, i.duration_ms, i.cpu_ms, i.max_rss_kb
    FROM requests r CROSS JOIN LATERAL (SELECT status, duration_ms, cpu_ms, max_rss_kb FROM request_items WHERE request_id = r.id) i
   WHERE r.type = 'fn.invoke.bulk' AND r.function_name IS NOT NULL
     AND ($1::uuid IS NULL OR r.user_id = $1) AND ($2::text IS NULL OR r.function_name = $2) AND r.created_at >= ${from} AND r.created_at < ${to}`;

const RAW_AS_ROLLUP = `name, at, 1 AS invocations, (status = 'success')::int AS succeeded, (status = 'application_error')::int AS application_errors,
         (status = 'developer_error')::int AS developer_errors, (status = 'system_error')::int AS system_errors,
         (mode IN ('cold', 'pool'))::int AS cold, (mode = 'warm')::int AS warm, COALESCE(cpu_ms, 0) AS cpu_ms_sum, (cpu_ms IS NOT NULL)::int AS cpu_ms_count,
         max_rss_kb AS peak_rss_kb, CASE WHEN duration_ms IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(faasctl_latency_bucket(duration_ms)::text, 1) END AS latency`;

const rollupPieces = (grain: string, from: string, to: string) => `
  SELECT function_name AS name, bucket_start AS at, invocations, succeeded, application_errors, developer_errors, system_errors, cold, warm,
         cpu_ms_sum, cpu_ms_count, peak_rss_kb, latency
    FROM request_rollups
   WHERE ($1::uuid IS NULL OR user_id = $1) AND grain = '${grain}' AND bucket_start >= ${from} AND bucket_start < ${to} AND ($2::text IS NULL OR function_name = $2)`;

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
                count(*) FILTER (WHERE mode IN ('cold', 'pool'))::int AS cold,
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
    /**
     * Figures per function and timeline slot (`buckets` equal slices from `since`), reading each
     * range of the window from its source; a rollup counts in the slot where its hour or day starts.
     */
    async fromRollups(f: StatsFilter, sources: StatsSources, until: Date, buckets: number): Promise<SlotFigures[]> {
      const params: unknown[] = [f.userId, f.functionName, f.since, Math.max(1, until.getTime() - f.since.getTime()) / buckets, buckets];
      const at = (d: Date) => `$${params.push(d)}::timestamptz`;
      const branches = [
        ...sources.raw.map(([a, b]) => `SELECT ${RAW_AS_ROLLUP} FROM (${rawPieces(at(a), at(b))}) raw`),
        ...sources.hour.map(([a, b]) => rollupPieces('hour', at(a), at(b))),
        ...sources.day.map(([a, b]) => rollupPieces('day', at(a), at(b))),
      ];
      if (!branches.length) return [];
      return db.query<SlotFigures & Record<string, unknown>>(
        `WITH pieces AS (${branches.join('\n  UNION ALL\n')}),
         slotted AS (
           SELECT p.*, LEAST(GREATEST(floor(extract(epoch FROM p.at - $3::timestamptz) * 1000 / $4::float8)::int, 0), $5::int - 1) AS slot FROM pieces p
         ), counts AS (
           SELECT name, slot, sum(invocations)::int AS invocations, sum(succeeded)::int AS succeeded, sum(application_errors)::int AS "applicationErrors",
                  sum(developer_errors)::int AS "developerErrors", sum(system_errors)::int AS "systemErrors", sum(cold)::int AS cold, sum(warm)::int AS warm,
                  sum(cpu_ms_sum)::float8 AS "cpuMsSum", sum(cpu_ms_count)::int AS "cpuMsCount", max(peak_rss_kb)::float8 AS "peakRssKb",
                  COALESCE(jsonb_agg(latency) FILTER (WHERE latency <> '{}'::jsonb), '[]'::jsonb) AS latencies
             FROM slotted GROUP BY 1, 2
         )
         SELECT * FROM counts ORDER BY name, slot`,
        params,
      );
    },
  };
}

export type StatsRepo = ReturnType<typeof statsRepo>;
