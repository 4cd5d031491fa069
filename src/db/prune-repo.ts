import type { Queryable } from './database.js';

/**
 * Pruning the request log (issue 24), one bounded batch per call, each its own short statement,
 * so no lock is held for long and the cost of a call never grows with the history. Horizons are
 * ages in milliseconds on PostgreSQL's clock. Open rows (pending, running) are never pruned;
 * bulk answers go with their request row (request_items cascades).
 */
export interface RetentionSettings {
  /** Rows older than this are deleted; null: kept for ever. */
  requestsMs: number | null;
  /** Output text older than this is cleared (the row stays); null: as long as the row. */
  outputMs: number | null;
  /** Rollups older than this are deleted; null: kept for ever. */
  rollupsMs: number | null;
}

const KEYS = { requestsMs: 'retention_requests_ms', outputMs: 'retention_output_ms', rollupsMs: 'retention_rollups_ms' } as const;
const AGE = (param: string) => `now() - ${param}::float8 * interval '1 millisecond'`;

export function pruneRepo(db: Queryable) {
  return {
    async retention(): Promise<RetentionSettings> {
      const rows = await db.query<{ key: string; value: string }>('SELECT key, value FROM faasctl_meta WHERE key = ANY($1::text[])', [Object.values(KEYS)]);
      const read = (key: string) => {
        const value = rows.find((r) => r.key === key)?.value;
        return value === undefined ? null : Number(value);
      };
      return { requestsMs: read(KEYS.requestsMs), outputMs: read(KEYS.outputMs), rollupsMs: read(KEYS.rollupsMs) };
    },
    async setRetention(s: RetentionSettings): Promise<void> {
      for (const [field, key] of Object.entries(KEYS) as Array<[keyof RetentionSettings, string]>) {
        const value = s[field];
        if (value === null) await db.query('DELETE FROM faasctl_meta WHERE key = $1', [key]);
        else await db.query(`INSERT INTO faasctl_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, [key, String(value)]);
      }
    },
    /** Up to `limit` rows of users deleted since (deleted_users), their rollups, then the users with nothing left. */
    async deletedUsersBatch(limit: number): Promise<{ requests: number; rollups: number }> {
      const requests = await db.query(
        `DELETE FROM requests WHERE id IN (SELECT r.id FROM deleted_users d JOIN LATERAL (SELECT id FROM requests WHERE user_id = d.user_id LIMIT $1) r ON true LIMIT $1)
         RETURNING 1`,
        [limit],
      );
      const rollups = await db.query(
        `DELETE FROM request_rollups WHERE (user_id, grain, bucket_start, function_name) IN (
           SELECT r.user_id, r.grain, r.bucket_start, r.function_name FROM deleted_users d
             JOIN LATERAL (SELECT * FROM request_rollups WHERE user_id = d.user_id LIMIT $1) r ON true LIMIT $1)
         RETURNING 1`,
        [limit],
      );
      await db.query(`DELETE FROM deleted_users d WHERE NOT EXISTS (SELECT 1 FROM requests WHERE user_id = d.user_id) AND NOT EXISTS (SELECT 1 FROM request_rollups WHERE user_id = d.user_id)`);
      return { requests: requests.length, rollups: rollups.length };
    },
    /** Up to `limit` of the oldest closed rows older than `ageMs`. */
    async oldRequestsBatch(ageMs: number, limit: number): Promise<number> {
      const rows = await db.query(
        `DELETE FROM requests WHERE id IN (
           SELECT id FROM requests WHERE created_at < ${AGE('$1')} AND status NOT IN ('pending', 'running') ORDER BY created_at LIMIT $2)
         RETURNING 1`,
        [ageMs, limit],
      );
      return rows.length;
    },
    /**
     * Clears the output text of up to `limit` rows older than `ageMs` (requests_with_output_idx
     * holds only those that have one), but not of rows about to be deleted anyway: past the rows'
     * retention (`rowsAgeMs`) or a deleted user's.
     */
    async oldOutputBatch(ageMs: number, rowsAgeMs: number | null, limit: number): Promise<number> {
      const rows = await db.query(
        `UPDATE requests SET output = NULL WHERE id IN (
           SELECT id FROM requests WHERE output IS NOT NULL AND created_at < ${AGE('$1')} AND ($3::float8 IS NULL OR created_at >= ${AGE('$3')})
              AND status NOT IN ('pending', 'running') AND (user_id IS NULL OR user_id NOT IN (SELECT user_id FROM deleted_users))
            ORDER BY created_at LIMIT $2)
         RETURNING 1`,
        [ageMs, limit, rowsAgeMs],
      );
      return rows.length;
    },
    async oldRollupsBatch(ageMs: number, limit: number): Promise<number> {
      const rows = await db.query(
        `DELETE FROM request_rollups WHERE (user_id, grain, bucket_start, function_name) IN (
           SELECT user_id, grain, bucket_start, function_name FROM request_rollups WHERE bucket_start < ${AGE('$1')} LIMIT $2)
         RETURNING 1`,
        [ageMs, limit],
      );
      return rows.length;
    },
    /** What the batches would remove, all of it (gc --dry-run). */
    async pending(s: RetentionSettings): Promise<{ requests: number; outputs: number; rollups: number }> {
      const [row] = await db.query<{ requests: number; outputs: number; rollups: number }>(
        `SELECT (SELECT count(*) FROM requests WHERE status NOT IN ('pending', 'running')
                   AND (user_id IN (SELECT user_id FROM deleted_users) OR ($1::float8 IS NOT NULL AND created_at < ${AGE('$1')})))::int AS requests,
                (SELECT count(*) FROM requests WHERE output IS NOT NULL AND status NOT IN ('pending', 'running') AND $2::float8 IS NOT NULL AND created_at < ${AGE('$2')}
                   AND (user_id IS NULL OR user_id NOT IN (SELECT user_id FROM deleted_users)) AND ($1::float8 IS NULL OR created_at >= ${AGE('$1')}))::int AS outputs,
                (SELECT count(*) FROM request_rollups WHERE user_id IN (SELECT user_id FROM deleted_users) OR ($3::float8 IS NOT NULL AND bucket_start < ${AGE('$3')}))::int AS rollups`,
        [s.requestsMs, s.outputMs, s.rollupsMs],
      );
      return row ?? { requests: 0, outputs: 0, rollups: 0 };
    },
  };
}

export type PruneRepo = ReturnType<typeof pruneRepo>;
