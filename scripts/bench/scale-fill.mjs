// Generated request history for the scale bench, written by PostgreSQL itself (generate_series):
// several users and functions, 100 days of history, ~10% failed invocations, a few hundred
// bytes of params, result and output per row, 2% bulk runs of 10 answers each, 10% other
// operations (deploys, updates, scales, secrets) and, rarely (1 in 20,000), a user's own change,
// so `request list --type user` has to look far back, as it would in a real log.

const OTHER_USERS = ['load-u1', 'load-u2', 'load-u3'];

/** Users besides the logged-in one, and the functions the history belongs to (no engine objects). */
export async function createOwners(pool, benchUser) {
  for (const name of OTHER_USERS) {
    await pool.query(`INSERT INTO users (id, name, password_hash) VALUES (gen_random_uuid(), $1, 'scrypt$bench$unusable') ON CONFLICT (name) DO NOTHING`, [name]);
  }
  for (const [user, names] of [[benchUser, ['load-a', 'load-b', 'load-c', 'load-d', 'load-e']], ...OTHER_USERS.map((u) => [u, [`${u}-f1`, `${u}-f2`]])]) {
    for (const name of names) await createFunction(pool, user, name);
  }
}

export async function createFunction(pool, userName, name) {
  await pool.query(
    `WITH f AS (INSERT INTO functions (id, user_id, name) SELECT gen_random_uuid(), id, $2 FROM users WHERE name = $1 RETURNING id)
     INSERT INTO function_versions (function_id, version, code, sha256, memory_bytes, nano_cpus, timeout_ms)
     SELECT id, 1, 'def main(data):\n    return data\n', md5($2) || md5($2), 268435456, 1000000000, 30000 FROM f`,
    [userName, name],
  );
}

/**
 * Rows [from, to) of the history of the functions named like `pattern` (their owners'), spread
 * evenly over those functions and uniformly over the last 100 days; in batches, so no statement
 * holds a whole million rows.
 */
export async function fillRequests(pool, from, to, pattern) {
  const batch = 100_000;
  for (let start = from; start < to; start += batch) {
    await pool.query(`${FILL} SELECT 1`, [start, Math.min(to, start + batch) - 1, pattern]);
  }
}

/**
 * The rollups of every row so far, as an installation upgrading to them gets them: the
 * migration's own backfill statement (0008), run again from scratch. Once per size: adding each
 * batch's rollups as it is written costs ~3x the fill time at 1M rows.
 */
export async function rebuildRollups(pool, migrationSql) {
  const start = migrationSql.indexOf('WITH inv AS (');
  const end = migrationSql.indexOf('ON CONFLICT DO NOTHING;', start);
  if (start < 0 || end < 0) return false; // a build without rollups
  await pool.query('TRUNCATE request_rollups');
  await pool.query(migrationSql.slice(start, end + 'ON CONFLICT DO NOTHING'.length));
  return true;
}

const FILL = `
WITH fns AS (
  SELECT array_agg(id ORDER BY name) AS ids, array_agg(name ORDER BY name) AS names, array_agg(user_id ORDER BY name) AS users, count(*)::int AS n
    FROM functions WHERE name LIKE $3
), gen AS (
  SELECT g, fns.ids[1 + g % fns.n] AS function_id, fns.names[1 + g % fns.n] AS function_name, fns.users[1 + g % fns.n] AS user_id,
         CASE WHEN g % 50 = 7 THEN 'fn.invoke.bulk'
              WHEN g % 20000 = 13 THEN 'user.update'
              WHEN g % 10 = 3 THEN (ARRAY['fn.deploy', 'fn.update', 'fn.scale', 'secret.create'])[1 + (g / 10) % 4]
              ELSE 'fn.invoke' END AS type,
         random() AS r1, random() AS r2, random() AS r3,
         now() - random() * interval '100 days' AS at
    FROM generate_series($1::int, $2::int) g, fns
), rows AS (
  SELECT gen.*,
         CASE WHEN type <> 'fn.invoke' OR r1 < 0.90 THEN 'success' WHEN r1 < 0.95 THEN 'application_error' WHEN r1 < 0.98 THEN 'developer_error' ELSE 'system_error' END AS status,
         CASE WHEN r3 < 0.3 THEN 'cold' ELSE 'warm' END AS mode,
         exp(ln(5) + r2 * 5) + CASE WHEN r3 < 0.3 THEN 700 ELSE 0 END AS duration
    FROM gen
), ins AS (
  INSERT INTO requests (id, user_id, type, status, params, result, error, output, function_id, function_name, function_version, mode, node,
                        duration_ms, cpu_ms, max_rss_kb, created_at, started_at, finished_at)
  SELECT gen_random_uuid(), user_id, type, status,
         jsonb_build_object('input', jsonb_build_object('customer', g, 'items', jsonb_build_array(g % 7, g % 11, g % 13), 'note', repeat('p', 40))),
         CASE WHEN status = 'success' THEN jsonb_build_object('total', g % 1000, 'lines', repeat('r', 120)) END,
         CASE WHEN status <> 'success' THEN 'Traceback (most recent call last):\n  File "/faas/function.py", line 3, in main\nValueError: ' || repeat('e', 120) END,
         repeat('processing item ' || g || ' of the batch, all fine\n', 6),
         function_id, function_name, 1,
         CASE WHEN type LIKE 'fn.invoke%' THEN mode END, CASE WHEN type LIKE 'fn.invoke%' THEN 'node-1' END,
         duration, duration * 0.6, 20000 + (r3 * 100000)::bigint, at, at, at + duration * interval '1 millisecond'
    FROM rows
  RETURNING id, type, user_id, function_name, status, mode, duration_ms, cpu_ms, max_rss_kb, created_at
), items AS (
  INSERT INTO request_items (request_id, idx, status, result, output, duration_ms, cpu_ms, max_rss_kb, version)
  SELECT ins.id, i, CASE WHEN random() < 0.9 THEN 'success' ELSE 'application_error' END, jsonb_build_object('total', i, 'lines', repeat('r', 60)),
         'item ' || i || ' done\n', exp(ln(5) + random() * 4), 3, 30000, 1
    FROM ins, generate_series(0, 9) i WHERE ins.type = 'fn.invoke.bulk'
  RETURNING request_id, status, duration_ms, cpu_ms, max_rss_kb
)`;
