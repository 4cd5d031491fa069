/**
 * The statement that adds finished invocations to request_rollups (migration 0008), shared by
 * the two places invocations end (requests-repo complete() and insertItems()), so a rollup
 * is written in the same statement, hence the same transaction, as the row it counts.
 *
 * `source` names a relation of finished invocations with the columns user_id, function_name,
 * status, mode, duration_ms, cpu_ms, max_rss_kb and created_at (the request's: a bulk run's
 * answers count at its start, as the raw statistics always did). Rows are grouped per rollup
 * first: one statement may not update a row twice.
 */
export function rollupUpsert(source: string): string {
  return `INSERT INTO request_rollups AS r (user_id, function_name, grain, bucket_start, invocations, succeeded, application_errors, developer_errors,
                                     system_errors, cold, warm, cpu_ms_sum, cpu_ms_count, peak_rss_kb, latency)
  SELECT s.user_id, s.function_name, g.grain, date_trunc(g.grain, s.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
         count(*), count(*) FILTER (WHERE s.status = 'success'), count(*) FILTER (WHERE s.status = 'application_error'),
         count(*) FILTER (WHERE s.status = 'developer_error'), count(*) FILTER (WHERE s.status = 'system_error'),
         count(*) FILTER (WHERE s.mode IN ('cold', 'pool')), count(*) FILTER (WHERE s.mode = 'warm'),
         COALESCE(sum(s.cpu_ms), 0), count(s.cpu_ms), max(s.max_rss_kb),
         COALESCE((SELECT jsonb_object_agg(b, n) FROM (SELECT faasctl_latency_bucket(d) AS b, count(*) AS n FROM unnest(array_agg(s.duration_ms)) d
                                                        WHERE d IS NOT NULL GROUP BY 1) h), '{}'::jsonb)
    FROM ${source} s CROSS JOIN (VALUES ('hour'), ('day')) g(grain)
   WHERE s.function_name IS NOT NULL AND s.user_id IS NOT NULL
   GROUP BY 1, 2, 3, 4
  ON CONFLICT (user_id, grain, bucket_start, function_name) DO UPDATE SET
    invocations = r.invocations + EXCLUDED.invocations, succeeded = r.succeeded + EXCLUDED.succeeded,
    application_errors = r.application_errors + EXCLUDED.application_errors, developer_errors = r.developer_errors + EXCLUDED.developer_errors,
    system_errors = r.system_errors + EXCLUDED.system_errors, cold = r.cold + EXCLUDED.cold, warm = r.warm + EXCLUDED.warm,
    cpu_ms_sum = r.cpu_ms_sum + EXCLUDED.cpu_ms_sum, cpu_ms_count = r.cpu_ms_count + EXCLUDED.cpu_ms_count,
    peak_rss_kb = GREATEST(r.peak_rss_kb, EXCLUDED.peak_rss_kb), latency = faasctl_latency_merge(r.latency, EXCLUDED.latency)`;
}

/** The histogram's buckets, as faasctl_latency_bucket() in migration 0008 cuts them. */
export const LATENCY_BUCKETS = { firstMs: 0.01, growth: 1.02 } as const;
