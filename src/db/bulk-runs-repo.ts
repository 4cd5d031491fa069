import { ConflictError } from '../base/errors.js';
import type { Queryable } from './database.js';
import type { ItemLine, RequestItem, RequestRow } from './requests-repo.js';
import { requestColumns } from './requests-repo.js';

/** A recorded answer of a bulk run, read back for a resume: the item and the line's own fields. */
export type RecordedItem = Omit<RequestItem, 'line'> & { line: ItemLine | null };

/** A line's recorded hash, for the check that a resumed file did not change where answers exist. */
export interface RecordedHash {
  index: number;
  /** Null for an answer written before issue 26 (no hash kept): such a run cannot be resumed. */
  inputSha256: string | null;
}

const CHAIN = `WITH RECURSIVE chain(id, prev) AS (
    SELECT id, resumed_from FROM requests WHERE id = $1 AND user_id = $2 AND type = 'fn.invoke.bulk'
    UNION ALL
    SELECT r.id, r.resumed_from FROM requests r JOIN chain c ON r.id = c.prev WHERE r.user_id = $2
  )`;

/**
 * Resumable bulk runs (issue 26): a run is a chain of request rows, each resumed_from the
 * one before; its answers are the items of the whole chain (a line answered twice, which a
 * resume never asks for, keeps its first answer).
 */
export function bulkRunsRepo(db: Queryable) {
  return {
    /** The ids of a run's rows, newest first; empty when the id is not this user's bulk run. */
    async chain(runId: string, userId: string): Promise<string[]> {
      const rows = await db.query<{ id: string }>(`${CHAIN} SELECT id FROM chain`, [runId, userId]);
      return rows.map((r) => r.id);
    },
    /** The newest row of the run that `runId` belongs to (itself, or a row that resumed it, and so on). */
    async newest(runId: string, userId: string): Promise<string | undefined> {
      const [row] = await db.query<{ id: string }>(
        `WITH RECURSIVE later(id, created_at) AS (
           SELECT id, created_at FROM requests WHERE id = $1 AND user_id = $2 AND type = 'fn.invoke.bulk'
           UNION ALL
           SELECT r.id, r.created_at FROM requests r JOIN later l ON r.resumed_from = l.id WHERE r.user_id = $2
         ) SELECT id FROM later ORDER BY created_at DESC, id DESC LIMIT 1`,
        [runId, userId],
      );
      return row?.id;
    },
    /** Answers of the chain from line index `from`, in index order, at most `limit`. */
    async recorded(chain: string[], from: number, limit: number): Promise<RecordedItem[]> {
      const rows = await db.query<Record<string, unknown>>(
        `SELECT DISTINCT ON (idx) idx AS index, version, status, result, error, output, attempts, duration_ms AS "durationMs", cpu_ms AS "cpuMs",
                max_rss_kb::float8 AS "maxRssKb", sanitized, encode(input_sha256, 'hex') AS sha, node, run_ms AS "runMs",
                error_detail AS "errorDetail", result_text AS "resultText", exit_code AS "exitCode"
           FROM request_items WHERE request_id = ANY($1::uuid[]) AND idx >= $2
          ORDER BY idx, request_id LIMIT $3`,
        [chain, from, limit],
      );
      return rows.map(({ sha, node, runMs, errorDetail, resultText, exitCode, ...item }) => ({
        ...(item as unknown as Omit<RequestItem, 'line'>),
        line:
          sha === null
            ? null
            : { inputSha256: sha as string, node: node as string | null, runMs: runMs as number | null, errorDetail, resultText: resultText as string | null, exitCode: exitCode as number },
      }));
    },
    /** Only the hashes, for the check before anything runs. */
    async recordedHashes(chain: string[], from: number, limit: number): Promise<RecordedHash[]> {
      return db.query<RecordedHash & Record<string, unknown>>(
        `SELECT DISTINCT ON (idx) idx AS index, encode(input_sha256, 'hex') AS "inputSha256"
           FROM request_items WHERE request_id = ANY($1::uuid[]) AND idx >= $2 ORDER BY idx, request_id LIMIT $3`,
        [chain, from, limit],
      );
    },
    /** How many lines the chain has answered. */
    async answeredCount(chain: string[]): Promise<number> {
      const [row] = await db.query<{ n: number }>(`SELECT count(DISTINCT idx)::int AS n FROM request_items WHERE request_id = ANY($1::uuid[])`, [chain]);
      return row?.n ?? 0;
    },
    /** The newest bulk run of this user's function over this source file (`--resume` without an id). */
    async latestOver(userId: string, functionId: string, source: string): Promise<RequestRow | undefined> {
      const [row] = await db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${requestColumns('requests')} FROM requests
          WHERE user_id = $1 AND function_id = $2 AND type = 'fn.invoke.bulk' AND params->>'source' = $3
          ORDER BY created_at DESC, id DESC LIMIT 1`,
        [userId, functionId, source],
      );
      return row;
    },
    /** `--bulk --async` lines by key (RUN:INDEX): each held key's input sha256 (hex). */
    async keyHashes(userId: string, keys: string[]): Promise<Map<string, string | null>> {
      const rows = await db.query<{ key: string; sha: string | null }>(`SELECT idempotency_key AS key, input_sha256 AS sha FROM requests WHERE user_id = $1 AND idempotency_key = ANY($2::text[])`, [
        userId,
        keys,
      ]);
      return new Map(rows.map((r) => [r.key, r.sha]));
    },
    /** Links the new row to the one it resumes; false when another row resumed that one first. */
    async markResumed(id: string, from: string): Promise<boolean> {
      try {
        await db.query('UPDATE requests SET resumed_from = $2 WHERE id = $1', [id, from]);
        return true;
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
    },
  };
}
