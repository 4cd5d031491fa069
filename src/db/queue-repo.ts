import type { Queryable } from './database.js';
import { requestColumns, type RequestRow } from './requests-repo.js';
import { storableText } from './storable-text.js';

/**
 * The dispatcher's queue (issue 20): queued rows of `requests`, claimed with FOR UPDATE SKIP
 * LOCKED so any number of claimers never take one row twice; retries as a later
 * next_attempt_at; dead letters as a timestamp. Ending a row stays requests-repo's `complete`,
 * the one place a row ends.
 */

/** What one attempt of a request ended with, kept when it is tried again. */
export interface AttemptRecord {
  attempt: number;
  status: string;
  error: string | null;
  node: string | null;
  startedAt: Date | null;
}

export interface QueuedRow extends RequestRow {
  /** The input to run (JSON text); null only for rows queued before it was kept. */
  input: string | null;
}

/** One line of a bulk run queued for the dispatcher; all of one call share user, function and deadline. */
export interface QueuedInsert {
  id: string;
  userId: string;
  functionId: string;
  functionName: string;
  functionVersion: number;
  params: Record<string, unknown>;
  input: string;
  deadlineMs: number;
  idempotencyKey?: string;
  inputSha256?: string;
}

export function queueRepo(db: Queryable) {
  return {
    /**
     * Claims up to `limit` rows due now, oldest due first, as running with a lease of
     * `leaseMs` each (PostgreSQL's clock): the claimer must end the row, or hand it back, before.
     */
    async claim(limit: number, leaseMs: number): Promise<QueuedRow[]> {
      return db.query<QueuedRow & Record<string, unknown>>(
        `UPDATE requests r SET status = 'running', started_at = COALESCE(r.started_at, now()), next_attempt_at = NULL,
                deadline_at = now() + $2::float8 * interval '1 millisecond'
           FROM (SELECT id FROM requests WHERE queued AND status = 'pending' AND next_attempt_at <= now()
                  ORDER BY next_attempt_at, queue_seq LIMIT $1 FOR UPDATE SKIP LOCKED) due
          WHERE r.id = due.id
          RETURNING ${requestColumns('r')}, r.input`,
        [limit, leaseMs],
      );
    },
    /**
     * Many queued requests in one statement (a bulk run's lines), in order: each gets the next
     * queue position, so they are claimed in input order. Answers their ids, in order.
     */
    async enqueueMany(rows: QueuedInsert[]): Promise<void> {
      if (!rows.length) return;
      const col = <T>(pick: (r: QueuedInsert) => T) => rows.map(pick);
      await db.query(
        `INSERT INTO requests (id, user_id, type, status, params, function_id, function_name, function_version, queued, input, next_attempt_at, deadline_at, queue_seq, idempotency_key, input_sha256)
         SELECT id, $1, 'fn.invoke', 'pending', params, $2, $3, $4, true, input, now(), now() + $5::float8 * interval '1 millisecond', nextval('requests_queue_seq'), key, sha
           FROM unnest($6::uuid[], $7::jsonb[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS t(id, params, input, key, sha, n) ORDER BY n
         ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        [
          rows[0]!.userId,
          rows[0]!.functionId,
          rows[0]!.functionName,
          rows[0]!.functionVersion,
          rows[0]!.deadlineMs,
          col((r) => r.id),
          col((r) => JSON.stringify(r.params)),
          col((r) => r.input),
          col((r) => r.idempotencyKey ?? null),
          col((r) => r.inputSha256 ?? null),
        ],
      );
    },
    /** The ids that hold these keys for this user (a bulk run queued again with the same key). */
    async idsByKeys(userId: string, keys: string[]): Promise<Map<string, string>> {
      const rows = await db.query<{ key: string; id: string }>(`SELECT idempotency_key AS key, id FROM requests WHERE user_id = $1 AND idempotency_key = ANY($2::text[])`, [userId, keys]);
      return new Map(rows.map((r) => [r.key, r.id]));
    },
    /** Gives a claimed row back to the queue as it was (no slot free): not an attempt. */
    async release(id: string, delayMs: number, queueDeadlineMs: number): Promise<void> {
      await db.query(
        `UPDATE requests SET status = 'pending', next_attempt_at = now() + $2::float8 * interval '1 millisecond',
                deadline_at = GREATEST(deadline_at, now() + $3::float8 * interval '1 millisecond')
          WHERE id = $1 AND queued AND status = 'running'`,
        [id, delayMs, queueDeadlineMs],
      );
    },
    /**
     * Records a failed attempt and queues the next one after `delayMs`; false when the row was
     * ended meanwhile (by an expiry closer), so the caller must not run it again.
     */
    async retryLater(id: string, failed: AttemptRecord, delayMs: number, queueDeadlineMs: number): Promise<boolean> {
      const error = storableText(failed.error);
      const rows = await db.query(
        `WITH again AS (
           UPDATE requests SET status = 'pending', attempt = attempt + 1, service_id = NULL, mode = NULL,
                  next_attempt_at = now() + $2::float8 * interval '1 millisecond',
                  deadline_at = now() + $3::float8 * interval '1 millisecond'
            WHERE id = $1 AND queued AND status = 'running' AND attempt = $4 RETURNING id)
         INSERT INTO request_attempts (request_id, attempt, status, error, node, started_at)
         SELECT id, $4, $5, $6, $7, $8 FROM again ON CONFLICT DO NOTHING RETURNING request_id`,
        [id, delayMs, queueDeadlineMs, failed.attempt, failed.status, error.value, failed.node, failed.startedAt],
      );
      return rows.length === 1;
    },
    /** The last attempt of a request that was tried more than once (its row holds the same). */
    async recordAttempt(id: string, last: AttemptRecord): Promise<void> {
      await db.query(`INSERT INTO request_attempts (request_id, attempt, status, error, node, started_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [
        id,
        last.attempt,
        last.status,
        storableText(last.error).value,
        last.node,
        last.startedAt,
      ]);
    },
    async attempts(id: string): Promise<AttemptRecord[]> {
      return db.query<AttemptRecord & Record<string, unknown>>(`SELECT attempt, status, error, node, started_at AS "startedAt" FROM request_attempts WHERE request_id = $1 ORDER BY attempt`, [id]);
    },
    async markDead(id: string): Promise<void> {
      await db.query(`UPDATE requests SET dead_at = now() WHERE id = $1 AND dead_at IS NULL`, [id]);
    },
    /** Queued rows a dispatcher was running when it stopped (its leases may not have passed yet). */
    async claimedRows(): Promise<QueuedRow[]> {
      return db.query<QueuedRow & Record<string, unknown>>(`SELECT ${requestColumns('requests')}, input FROM requests WHERE queued AND status = 'running' ORDER BY created_at`);
    },
    /** How far behind the queue is: rows due now and the age of the oldest. */
    async lag(): Promise<{ due: number; oldestMs: number | null; running: number }> {
      const [row] = await db.query<{ due: number; oldestMs: number | null; running: number }>(
        `SELECT count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now())::int AS due,
                (extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'pending' AND next_attempt_at <= now())) * 1000)::float8 AS "oldestMs",
                count(*) FILTER (WHERE status = 'running')::int AS running
           FROM requests WHERE queued AND status IN ('pending', 'running')`,
      );
      return row ?? { due: 0, oldestMs: null, running: 0 };
    },
    /** Queued rows ahead of this one for the same function (a sync caller's place in line). */
    async placeOf(id: string, functionId: string): Promise<number> {
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM requests WHERE function_id = $2 AND status = 'pending' AND id <> $1
            AND created_at <= (SELECT created_at FROM requests WHERE id = $1)`,
        [id, functionId],
      );
      return row?.n ?? 0;
    },
    /** Wakes a leader that LISTENs on the channel (it also polls, so a lost notice only delays). */
    async notify(channel: string): Promise<void> {
      await db.query('SELECT pg_notify($1, $2)', [channel, '']);
    },
    async inputOf(id: string): Promise<string | null> {
      const [row] = await db.query<{ input: string | null }>(`SELECT input FROM requests WHERE id = $1`, [id]);
      return row?.input ?? null;
    },
    /** The user's dead letters not yet redriven, newest first, of one function or all. */
    async deadLetters(userId: string, functionId: string | undefined, limit: number): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${requestColumns('requests')} FROM requests
          WHERE user_id = $1 AND dead_at IS NOT NULL AND redriven_as IS NULL AND ($2::uuid IS NULL OR function_id = $2)
          ORDER BY dead_at DESC, id LIMIT $3`,
        [userId, functionId ?? null, limit],
      );
    },
    /** Links a dead letter to its redrive; false when another redrive took it first. */
    async markRedriven(id: string, userId: string, newId: string): Promise<boolean> {
      const rows = await db.query(`UPDATE requests SET redriven_as = $3 WHERE id = $1 AND user_id = $2 AND dead_at IS NOT NULL AND redriven_as IS NULL RETURNING id`, [id, userId, newId]);
      return rows.length === 1;
    },
    /** Forgets dead letters (their rows stay in the log, ended): they leave the list and lose their input. */
    async purge(userId: string, ids: string[] | 'all', functionId?: string): Promise<number> {
      const rows = await db.query(
        `UPDATE requests SET dead_at = NULL, input = NULL
          WHERE user_id = $1 AND dead_at IS NOT NULL AND redriven_as IS NULL
            AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR function_id = $3) RETURNING id`,
        [userId, ids === 'all' ? null : ids, functionId ?? null],
      );
      return rows.length;
    },
    /** The request a key names for this user, when it is within the window (older holders give it up). */
    /** Keys older than the window name nothing any more: their holders give them up. */
    async releaseStaleKeys(userId: string, keys: string[], windowMs: number): Promise<void> {
      await releaseStale(db, userId, keys, windowMs);
    },
    async byIdempotencyKey(userId: string, key: string, windowMs: number): Promise<(RequestRow & { inputSha256: string | null }) | undefined> {
      await releaseStale(db, userId, [key], windowMs);
      const [row] = await db.query<RequestRow & { inputSha256: string | null } & Record<string, unknown>>(
        `SELECT ${requestColumns('requests')}, input_sha256 AS "inputSha256" FROM requests WHERE user_id = $1 AND idempotency_key = $2`,
        [userId, key],
      );
      return row;
    },
  };
}

export type QueueRepo = ReturnType<typeof queueRepo>;

async function releaseStale(db: Queryable, userId: string, keys: string[], windowMs: number): Promise<void> {
  await db.query(`UPDATE requests SET idempotency_key = NULL WHERE user_id = $1 AND idempotency_key = ANY($2::text[]) AND created_at < now() - $3::float8 * interval '1 millisecond'`, [
    userId,
    keys,
    windowMs,
  ]);
}
