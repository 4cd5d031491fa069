import type { Queryable } from './database.js';
import { rollupUpsert } from './rollups-sql.js';
import { storableJson, storableText } from './storable-text.js';

export type RequestStatus = 'pending' | 'running' | 'success' | 'application_error' | 'developer_error' | 'system_error';
/** How an invocation ran: a service of its own, a warm replica, or a claimed pool container (issue 23). */
export type InvocationMode = 'cold' | 'warm' | 'pool';

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
  /** Some text of the row held characters PostgreSQL cannot store (NUL, lone surrogates): they were replaced by U+FFFD. */
  sanitized: boolean;
  functionId: string | null;
  functionName: string | null;
  functionVersion: number | null;
  mode: InvocationMode | null;
  node: string | null;
  serviceId: string | null;
  /** A pool invocation's container: `<task id>/<container id>` (migration 0012). */
  poolTask: string | null;
  attempt: number;
  durationMs: number | null;
  cpuMs: number | null;
  maxRssKb: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** When an open row may be closed by whoever finds it (null: closed, or written before schema v6). */
  deadlineAt: Date | null;
  /** The dispatcher's (issue 20): run from the queue, retried by its function's policy. */
  queued: boolean;
  /** A queued row waiting for its next attempt: not before this time. */
  nextAttemptAt: Date | null;
  idempotencyKey: string | null;
  /** A dead letter since then (an async request that failed after its retries, or aged out). */
  deadAt: Date | null;
  redriveOf: string | null;
  redrivenAs: string | null;
  /** The invoke token the request came with (issue 25): its id and its name at the time. */
  tokenId: string | null;
  tokenName: string | null;
  /** How it came in: `api` (a token), `webhook` (a signed call), null (the CLI with a session). */
  via: 'api' | 'webhook' | null;
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
  functionId?: string;
  functionName?: string;
  functionVersion?: number;
  mode?: InvocationMode;
  /** For an open row: how long from now (PostgreSQL's clock) it may stay open; see core/deadlines.ts. */
  deadlineMs?: number;
  /** For the dispatcher's queue: the input it will run, kept until the request succeeds. */
  queuedInput?: string;
  idempotencyKey?: string;
  inputSha256?: string;
  redriveOf?: string;
  tokenId?: string;
  tokenName?: string;
  /** A pool invocation's container (`<task id>/<container id>`), known when the row is written. */
  poolTask?: string;
  via?: 'api' | 'webhook';
}

/** What an invocation's end writes into its row. */
/** The fields of a completion that no single run measured (a bulk run's summary, a closed row). */
export const NO_RUN_FIGURES = { output: '', outputTruncated: false, cpuMs: null, maxRssKb: null, node: null } as const;

export interface Completion {
  status: Exclude<RequestStatus, 'pending' | 'running'>;
  result: unknown;
  error: string | null;
  output: string;
  outputTruncated: boolean;
  durationMs: number | null;
  cpuMs: number | null;
  maxRssKb: number | null;
  node: string | null;
  finishedAt: Date;
  /** The version that actually ran, when it may differ from the one asked for (a warm roll). */
  functionVersion?: number;
  /** When the run itself started, when known (else the row keeps the request's start). */
  startedAt?: Date;
  /** How it ran, when the row did not say yet (a queued request is cold or warm by attempt). */
  mode?: InvocationMode;
}

/** One input's answer in a bulk invocation. */
export interface RequestItem {
  index: number;
  /** The function version that answered (a warm roll may serve two). */
  version: number | null;
  status: Completion['status'];
  result: unknown;
  error: string | null;
  output: string;
  attempts: number;
  durationMs: number | null;
  cpuMs: number | null;
  maxRssKb: number | null;
  /** Read back: some text of the item was replaced because PostgreSQL could not store it. */
  sanitized?: boolean;
  /** What the answer line printed that the columns above do not keep (resume prints it again). */
  line?: ItemLine;
}

/** A bulk answer line's own fields, kept so a resumed run prints it as the first run did (issue 26). */
export interface ItemLine {
  /** sha256 of the input line (hex): a resume refuses a file changed where answers exist. */
  inputSha256: string;
  node: string | null;
  /** The function's own duration (the item's durationMs is the caller's round trip). */
  runMs: number | null;
  /** The structured error the line printed. */
  errorDetail: unknown;
  /** The result as written, when jsonb would print its object keys in another order. */
  resultText: string | null;
  exitCode: number;
}

export interface RequestFilter {
  userId: string;
  /** Instead of the user's rows: those of no user (the user.delete records of deleted users). */
  unowned?: boolean;
  /** A type (fn.invoke) or a group of them (fn, user): the words before a dot. */
  type?: string;
  functionId?: string;
  /** The name the rows carry: it outlives the function (fn delete keeps its history). */
  functionName?: string;
  status?: RequestStatus;
  since?: Date;
  /** Keyset cursor: only rows listed after this one of the user's (older in (created_at, id) order), or older than this time. */
  before?: { id: string } | { time: Date };
  limit: number;
}

/** The row's columns as RequestRow's fields, qualified by a table alias where a query joins. */
export function requestColumns(table: string): string {
  return COLUMN_LIST.map(([column, field]) => `${table}.${column}${field ? ` AS "${field}"` : ''}`).join(', ');
}

const COLUMN_LIST: Array<[string, string?]> = [
  ['id'],
  ['user_id', 'userId'],
  ['type'],
  ['status'],
  ['params'],
  ['result'],
  ['error'],
  ['output'],
  ['output_truncated', 'outputTruncated'],
  ['sanitized'],
  ['function_id', 'functionId'],
  ['function_name', 'functionName'],
  ['function_version', 'functionVersion'],
  ['mode'],
  ['node'],
  ['service_id', 'serviceId'],
  ['pool_task', 'poolTask'],
  ['attempt'],
  ['duration_ms', 'durationMs'],
  ['cpu_ms', 'cpuMs'],
  ['max_rss_kb::float8', 'maxRssKb'],
  ['created_at', 'createdAt'],
  ['started_at', 'startedAt'],
  ['finished_at', 'finishedAt'],
  ['deadline_at', 'deadlineAt'],
  ['queued'],
  ['next_attempt_at', 'nextAttemptAt'],
  ['idempotency_key', 'idempotencyKey'],
  ['dead_at', 'deadAt'],
  ['redrive_of', 'redriveOf'],
  ['redriven_as', 'redrivenAs'],
  ['token_id', 'tokenId'],
  ['token_name', 'tokenName'],
  ['via'],
];

const COLUMNS = requestColumns('requests');

/** Every column of a request row, named as RequestRow (logs-repo.ts reads the same rows). */
export { COLUMNS as REQUEST_COLUMNS };

export function requestsRepo(db: Queryable) {
  return {
    async insert(r: NewRequest): Promise<void> {
      // Every open row has a deadline, or nobody could ever tell that its writer is gone.
      if ((r.status === 'pending' || r.status === 'running') && r.deadlineMs === undefined)
        throw new Error(`request ${r.id} (${r.type}) is open without a deadline: give it deadlineMs (core/deadlines.ts)`);
      // A deploy's failed syntax check stores the compiler's message, an invoke its input: any bytes.
      const params = storableJson(r.params ?? {});
      const result = storableJson(r.result);
      const error = storableText(r.error);
      await db.query(
        `INSERT INTO requests (id, user_id, type, status, params, result, error, started_at, finished_at, duration_ms,
                               function_id, function_name, function_version, mode, sanitized, deadline_at,
                               queued, input, next_attempt_at, idempotency_key, input_sha256, redrive_of, queue_seq, token_id, token_name, via, pool_task)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now() + $16::float8 * interval '1 millisecond',
                 $17, $18, CASE WHEN $17 THEN now() END, $19, $20, $21, CASE WHEN $17 THEN nextval('requests_queue_seq') END, $22, $23, $24, $25)`,
        [
          r.id,
          r.userId,
          r.type,
          r.status,
          params.value,
          result.value,
          error.value,
          r.startedAt ?? null,
          r.finishedAt ?? null,
          r.durationMs ?? null,
          r.functionId ?? null,
          r.functionName ?? null,
          r.functionVersion ?? null,
          r.mode ?? null,
          params.altered || result.altered || error.altered,
          r.deadlineMs ?? null,
          r.queuedInput !== undefined,
          r.queuedInput ?? null,
          r.idempotencyKey ?? null,
          r.inputSha256 ?? null,
          r.redriveOf ?? null,
          r.tokenId ?? null,
          r.tokenName ?? null,
          r.via ?? null,
          r.poolTask ?? null,
        ],
      );
    },
    /** A pool invocation's container, once claimed (its row stays open until the answer). */
    async markPoolTask(id: string, poolTask: string): Promise<void> {
      await db.query(`UPDATE requests SET status = 'running', mode = 'pool', pool_task = $2 WHERE id = $1 AND status IN ('pending', 'running')`, [id, poolTask]);
    },
    async markMode(id: string, mode: InvocationMode): Promise<void> {
      await db.query(`UPDATE requests SET mode = $2, status = 'running' WHERE id = $1 AND status IN ('pending', 'running')`, [id, mode]);
    },
    /**
     * Moves an open invocation to its next attempt; false when another process already did.
     * The new run gets the first one's budget again (deadline_at - created_at, both PostgreSQL's clock).
     */
    async claimAttempt(id: string, attempt: number): Promise<boolean> {
      const rows = await db.query(
        `UPDATE requests SET attempt = $2, deadline_at = now() + (deadline_at - created_at)
          WHERE id = $1 AND attempt = $2 - 1 AND status IN ('pending', 'running') RETURNING id`,
        [id, attempt],
      );
      return rows.length === 1;
    },
    async markRunning(id: string, serviceId: string): Promise<void> {
      await db.query(`UPDATE requests SET status = 'running', service_id = $2 WHERE id = $1 AND status IN ('pending', 'running')`, [id, serviceId]);
    },
    /**
     * Records the end of an open request. Only the first writer wins (the invoking CLI,
     * a `request wait` or `gc` may race): answers false when the row was already closed.
     */
    async complete(id: string, c: Completion): Promise<boolean> {
      const result = storableJson(c.result);
      const error = storableText(c.error);
      const output = storableText(c.output);
      // The invocation's rollup is written by the same statement (issue 24): never one without the other.
      const rows = await db.query(
        `WITH done AS (
           UPDATE requests SET status = $2, result = $3, error = $4, output = $5, output_truncated = $6, duration_ms = $7,
                  cpu_ms = $8, max_rss_kb = $9, node = COALESCE($10, node), finished_at = $11, function_version = COALESCE($12, function_version),
                  sanitized = sanitized OR $13, started_at = COALESCE($14, started_at), deadline_at = NULL,
                  next_attempt_at = NULL, input = CASE WHEN $2 = 'success' THEN NULL ELSE input END, mode = COALESCE($15, mode)
            WHERE id = $1 AND status IN ('pending', 'running')
           RETURNING id, type, user_id, function_name, status, mode, duration_ms, cpu_ms, max_rss_kb, created_at
         ), rolled AS (${rollupUpsert("(SELECT * FROM done WHERE type = 'fn.invoke')")})
         SELECT id FROM done`,
        [
          id,
          c.status,
          result.value,
          error.value,
          output.value,
          c.outputTruncated,
          c.durationMs,
          c.cpuMs,
          c.maxRssKb,
          c.node,
          c.finishedAt,
          c.functionVersion ?? null,
          result.altered || error.altered || output.altered,
          c.startedAt ?? null,
          c.mode ?? null,
        ],
      );
      return rows.length > 0;
    },
    /** Pushes an open row's lease forward (PostgreSQL's clock); false when the row was closed meanwhile. */
    async renewLease(id: string, leaseMs: number): Promise<boolean> {
      const rows = await db.query(`UPDATE requests SET deadline_at = now() + $2::float8 * interval '1 millisecond' WHERE id = $1 AND status IN ('pending', 'running') RETURNING id`, [id, leaseMs]);
      return rows.length > 0;
    },
    /**
     * Open rows whose deadline has passed (PostgreSQL's clock), oldest deadline first, within a
     * user, a function or one request. Rows from before deadlines existed expire legacyMs after
     * creation. One indexed read: it finds nothing on the common path.
     */
    async expired(scope: { userId?: string; functionId?: string; requestId?: string }, legacyMs: number, limit: number): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM requests
          WHERE status IN ('pending', 'running')
            AND COALESCE(deadline_at, created_at + $4::float8 * interval '1 millisecond') < now()
            AND ($1::uuid IS NULL OR user_id = $1) AND ($2::uuid IS NULL OR function_id = $2) AND ($3::uuid IS NULL OR id = $3)
          ORDER BY COALESCE(deadline_at, created_at) LIMIT $5`,
        [scope.userId ?? null, scope.functionId ?? null, scope.requestId ?? null, legacyMs, limit],
      );
    },
    /** A bulk run's answers so far, counted by status. */
    async itemCounts(requestId: string): Promise<Partial<Record<RequestStatus, number>>> {
      const rows = await db.query<{ status: RequestStatus; n: number }>(`SELECT status, count(*)::int AS n FROM request_items WHERE request_id = $1 GROUP BY status`, [requestId]);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    /** A batch of bulk answers in one statement (arrays, so it stays one parameterised query). */
    async insertItems(requestId: string, items: RequestItem[]): Promise<void> {
      if (!items.length) return;
      const stored = items.map((i) => ({
        i,
        result: storableJson(i.result),
        error: storableText(i.error),
        output: storableText(i.output),
        detail: storableJson(i.line?.errorDetail ?? undefined),
        resultText: storableText(i.line?.resultText ?? null),
        node: storableText(i.line?.node ?? null),
      }));
      const col = <T>(pick: (s: (typeof stored)[number]) => T) => stored.map(pick);
      await db.query(
        // Only the answers this call stored are rolled up (a repeated batch adds nothing), in the same statement.
        `WITH stored AS (
           INSERT INTO request_items (request_id, idx, status, result, error, output, attempts, duration_ms, cpu_ms, max_rss_kb, version, sanitized,
                                      input_sha256, node, run_ms, error_detail, result_text, exit_code)
           SELECT $1, i, st, res, er, o, a, d, c, m, v, san, decode(sha, 'hex'), nd, rm, ed, rt, ec
             FROM unnest($2::int[], $3::text[], $4::jsonb[], $5::text[], $6::text[], $7::int[], $8::float8[], $9::float8[], $10::bigint[], $11::int[], $12::boolean[],
                         $13::text[], $14::text[], $15::float8[], $16::jsonb[], $17::text[], $18::int[]) AS u(i, st, res, er, o, a, d, c, m, v, san, sha, nd, rm, ed, rt, ec)
           ON CONFLICT (request_id, idx) DO NOTHING
           RETURNING status, duration_ms, cpu_ms, max_rss_kb
         ), rolled AS (${rollupUpsert(`(SELECT r.user_id, r.function_name, i.status, r.mode, i.duration_ms, i.cpu_ms, i.max_rss_kb, r.created_at
                                          FROM stored i JOIN requests r ON r.id = $1 AND r.type = 'fn.invoke.bulk')`)})
         SELECT 1`,
        [
          requestId,
          col((s) => s.i.index),
          col((s) => s.i.status),
          col((s) => s.result.value),
          col((s) => s.error.value),
          col((s) => s.output.value),
          col((s) => s.i.attempts),
          col((s) => s.i.durationMs),
          col((s) => s.i.cpuMs),
          col((s) => s.i.maxRssKb),
          col((s) => s.i.version),
          col((s) => s.result.altered || s.error.altered || s.output.altered),
          col((s) => s.i.line?.inputSha256 ?? null),
          col((s) => s.node.value),
          col((s) => s.i.line?.runMs ?? null),
          col((s) => s.detail.value),
          col((s) => s.resultText.value),
          col((s) => s.i.line?.exitCode ?? null),
        ],
      );
    },
    async items(requestId: string, range: { from: number; limit: number }): Promise<RequestItem[]> {
      return db.query<RequestItem & Record<string, unknown>>(
        `SELECT idx AS index, version, status, result, error, output, attempts, duration_ms AS "durationMs", cpu_ms AS "cpuMs", max_rss_kb::float8 AS "maxRssKb", sanitized
           FROM request_items WHERE request_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3`,
        [requestId, range.from, range.limit],
      );
    },
    /** Any user's request, for gc: the operator reconciles the whole cluster. */
    async byIdAnyUser(id: string): Promise<RequestRow | undefined> {
      const [row] = await db.query<RequestRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM requests WHERE id = $1`, [id]);
      return row;
    },
    /** Rows of these ids, any user's (gc, deletes). */
    async byIdsAnyUser(ids: string[]): Promise<RequestRow[]> {
      if (!ids.length) return [];
      return db.query<RequestRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM requests WHERE id = ANY($1::uuid[])`, [ids]);
    },
    /** Open rows of every type, oldest first, of one user or function (or of everyone), for gc and deletes. */
    async openOf(scope: { userId?: string; functionId?: string }, limit: number): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM requests
          WHERE status IN ('pending', 'running') AND ($1::uuid IS NULL OR user_id = $1) AND ($2::uuid IS NULL OR function_id = $2)
          ORDER BY created_at LIMIT $3`,
        [scope.userId ?? null, scope.functionId ?? null, limit],
      );
    },
    /** A deleted user's history is left to gc to prune in batches (core/requests/prune.ts). */
    async markOwnerDeleted(userId: string, name: string): Promise<void> {
      await db.query('INSERT INTO deleted_users (user_id, name) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [userId, name]);
    },
    /** Only the owner's requests: another user's id answers undefined, like a missing one. */
    async byId(id: string, userId: string): Promise<RequestRow | undefined> {
      const [row] = await db.query<RequestRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM requests WHERE id = $1 AND user_id = $2`, [id, userId]);
      return row;
    },
    /**
     * Newest first, in (created_at, id) order so that `before` pages through without gaps (the cursor row's
     * own created_at, to the microsecond, is compared in SQL: a JavaScript Date holds milliseconds). The
     * type's first word ($7) matches requests_user_type_group_idx, so a rare group (user) is found
     * without reading the user's whole history; status and function name have their own indexes.
     */
    async list(f: RequestFilter): Promise<RequestRow[]> {
      return db.query<RequestRow & Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM requests
          WHERE (CASE WHEN $11::boolean THEN user_id IS NULL ELSE user_id = $1 END) AND ($2::text IS NULL OR (split_part(type, '.', 1) = $7 AND (type = $2 OR type LIKE $2 || '.%')))
            AND ($3::text IS NULL OR status = $3) AND ($4::timestamptz IS NULL OR created_at >= $4)
            AND ($6::uuid IS NULL OR function_id = $6) AND ($8::text IS NULL OR function_name = $8)
            AND ($9::timestamptz IS NULL OR created_at < $9)
            AND ($10::uuid IS NULL OR (created_at <= (SELECT created_at FROM requests WHERE id = $10)
                                       AND (created_at, id) < (SELECT created_at, id FROM requests WHERE id = $10)))
          ORDER BY created_at DESC, id DESC LIMIT $5`,
        [
          f.userId,
          f.type ?? null,
          f.status ?? null,
          f.since ?? null,
          f.limit,
          f.functionId ?? null,
          f.type?.split('.')[0] ?? null,
          f.functionName ?? null,
          f.before && 'time' in f.before ? f.before.time : null,
          f.before && 'id' in f.before ? f.before.id : null,
          f.unowned ?? false,
        ],
      );
    },
  };
}

export type RequestsRepo = ReturnType<typeof requestsRepo>;
