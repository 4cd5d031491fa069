-- Rollups (issue 24): per user, function and UTC hour (and day), the figures `stats`, `report`
-- and the menu show, so they read a few hundred rows whatever the history holds. Written in
-- the statement that ends an invocation (requests-repo complete(); a bulk run's answers in
-- insertItems()), backfilled here from the rows already stored. Self-contained: it only adds.
--
-- latency: a histogram of durations as {"bucket index": count}. Index i > 0 holds durations in
-- (0.01 ms * 1.02^(i-1), 0.01 ms * 1.02^i], index 0 those up to 0.01 ms; read back as the
-- bucket's geometric middle, a percentile is within 1% of the exact one. Mergeable: sum counts.
-- user_id has no foreign key: deleting a user must not rewrite history (see README, Deletes).
CREATE TABLE IF NOT EXISTS request_rollups (
  user_id            uuid NOT NULL,
  function_name      text NOT NULL,
  grain              text NOT NULL CHECK (grain IN ('hour', 'day')),
  bucket_start       timestamptz NOT NULL,
  invocations        integer NOT NULL,
  succeeded          integer NOT NULL,
  application_errors integer NOT NULL,
  developer_errors   integer NOT NULL,
  system_errors      integer NOT NULL,
  cold               integer NOT NULL,
  warm               integer NOT NULL,
  cpu_ms_sum         double precision NOT NULL,
  cpu_ms_count       integer NOT NULL,
  peak_rss_kb        bigint,
  latency            jsonb NOT NULL,
  PRIMARY KEY (user_id, grain, bucket_start, function_name)
);

CREATE OR REPLACE FUNCTION faasctl_latency_bucket(ms double precision) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN ms IS NULL THEN NULL WHEN ms <= 0.01 THEN 0 ELSE ceil(ln(ms / 0.01) / ln(1.02))::integer END $$;

-- Two histograms' counts added key by key.
CREATE OR REPLACE FUNCTION faasctl_latency_merge(a jsonb, b jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(jsonb_object_agg(k, n), '{}'::jsonb)
          FROM (SELECT k, sum(v::bigint) AS n FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) e(k, v) GROUP BY k) s $$;

-- Backfill: every finished invocation already stored (single rows and bulk answers), grouped
-- per rollup key and latency bucket first, so each rollup row is written once.
WITH inv AS (
  SELECT r.user_id, r.function_name, r.status, r.mode, r.duration_ms, r.cpu_ms, r.max_rss_kb, r.created_at
    FROM requests r
   WHERE r.type = 'fn.invoke' AND r.status NOT IN ('pending', 'running') AND r.function_name IS NOT NULL AND r.user_id IS NOT NULL
  UNION ALL
  SELECT r.user_id, r.function_name, i.status, r.mode, i.duration_ms, i.cpu_ms, i.max_rss_kb, r.created_at
    FROM request_items i JOIN requests r ON r.id = i.request_id
   WHERE r.type = 'fn.invoke.bulk' AND r.function_name IS NOT NULL AND r.user_id IS NOT NULL
), keyed AS (
  SELECT inv.*, g.grain, date_trunc(g.grain, inv.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_start
    FROM inv CROSS JOIN (VALUES ('hour'), ('day')) g(grain)
), by_latency AS (
  SELECT user_id, function_name, grain, bucket_start, faasctl_latency_bucket(duration_ms) AS b,
         count(*) AS invocations, count(*) FILTER (WHERE status = 'success') AS succeeded,
         count(*) FILTER (WHERE status = 'application_error') AS application_errors,
         count(*) FILTER (WHERE status = 'developer_error') AS developer_errors,
         count(*) FILTER (WHERE status = 'system_error') AS system_errors,
         count(*) FILTER (WHERE mode = 'cold') AS cold, count(*) FILTER (WHERE mode = 'warm') AS warm,
         COALESCE(sum(cpu_ms), 0) AS cpu_ms_sum, count(cpu_ms) AS cpu_ms_count, max(max_rss_kb) AS peak_rss_kb
    FROM keyed GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO request_rollups (user_id, function_name, grain, bucket_start, invocations, succeeded, application_errors, developer_errors, system_errors,
                             cold, warm, cpu_ms_sum, cpu_ms_count, peak_rss_kb, latency)
SELECT user_id, function_name, grain, bucket_start, sum(invocations), sum(succeeded), sum(application_errors), sum(developer_errors), sum(system_errors),
       sum(cold), sum(warm), sum(cpu_ms_sum), sum(cpu_ms_count), max(peak_rss_kb),
       COALESCE(jsonb_object_agg(b::text, invocations) FILTER (WHERE b IS NOT NULL), '{}'::jsonb)
  FROM by_latency GROUP BY 1, 2, 3, 4
ON CONFLICT DO NOTHING;

-- Indexes for the filters of `request list` (issue 24), each leading with the user and ending
-- with the time, so a page of a rare kind is found without reading the user's whole history:
-- --type (a type or its group, the word before the dot), --status, --function (by name: the
-- rows keep it after the function is deleted). Time alone: requests_user_created_idx.
CREATE INDEX IF NOT EXISTS requests_user_type_group_idx ON requests (user_id, split_part(type, '.', 1), created_at DESC);
CREATE INDEX IF NOT EXISTS requests_user_status_idx ON requests (user_id, status, created_at DESC);
CREATE INDEX IF NOT EXISTS requests_user_function_name_idx ON requests (user_id, function_name, created_at DESC);

-- Deletes that cost the same whatever the history (issue 24). The request log keeps its user
-- and function as plain ids: `ON DELETE SET NULL` on function_id rewrote a function's whole
-- history inside `fn delete`'s transaction (5 s and 615 MB of WAL at 120k rows), and the
-- cascade from users deleted a user's whole history inside `user delete`'s. A deleted user's
-- rows are now pruned afterwards, in batches, by gc (core/requests/prune.ts), which reads the
-- users still to prune here; a deleted function's rows stay in its owner's history (by name).
-- `user.delete` records (user_id NULL) are listed by `request list --deleted-users`.
ALTER TABLE requests DROP CONSTRAINT IF EXISTS requests_user_id_fkey;
ALTER TABLE requests DROP CONSTRAINT IF EXISTS requests_function_id_fkey;
CREATE TABLE IF NOT EXISTS deleted_users (
  user_id    uuid PRIMARY KEY,
  name       text NOT NULL,
  deleted_at timestamptz NOT NULL DEFAULT now()
);

-- Retention (issue 24): gc prunes the oldest closed rows first, and clears output text older
-- than its own retention; these find them without reading the rest of the log.
CREATE INDEX IF NOT EXISTS requests_created_idx ON requests (created_at);
CREATE INDEX IF NOT EXISTS requests_with_output_idx ON requests (created_at) WHERE output IS NOT NULL;
