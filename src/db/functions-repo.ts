import { NO_PLACEMENT, type Placement } from '../base/placement.js';
import type { Queryable } from './database.js';

/** The handler flavour (column `format`): see core/functions/flavors.ts. */
export type FunctionFormat = 'main' | 'lambda' | 'openfaas' | 'madhat';

export interface Limits {
  memoryBytes: number;
  nanoCpus: number;
  timeoutMs: number;
}

export interface VersionRow extends Limits {
  functionId: string;
  version: number;
  code: string;
  sha256: string;
  entry: string;
  format: FunctionFormat;
  env: Record<string, string>;
  /** Names of the user's secrets mounted under /run/secrets (never their values). */
  secrets: string[];
  /** The dependency image it runs in; null: the runtime image. */
  image: string | null;
  /** requirements.txt as given, when it has dependencies. */
  requirements: string | null;
  /** Debian packages in its image, one a line; null: none. */
  apt?: string | null;
  /** Where its tasks may run (Swarm constraints and spread preferences). */
  placement: Placement;
  /** Code shipped as a zip archive (a directory, a zip): the entry module's path in it; null: a single file. */
  module: string | null;
  createdAt: Date;
}

export interface FunctionRow {
  id: string;
  userId: string;
  name: string;
  currentVersion: number;
  warmReplicas: number;
  /** Worker processes per warm replica: its concurrency. */
  warmWorkers: number;
  /** How its invocations run by default (migration 0012): auto | pool | service. */
  isolation?: 'auto' | 'pool' | 'service';
  createdAt: Date;
  updatedAt: Date;
}

/** A function with its current version, as invoke and show need it. */
export interface CurrentFunction extends FunctionRow {
  current: VersionRow;
}

export interface FunctionSummary extends FunctionRow {
  versions: number;
  sha256: string;
  format: FunctionFormat;
  lastInvokedAt: Date | null;
}

/** A function's dispatch policy as stored: null fields take the platform default. */
export interface StoredDispatchPolicy {
  retries: number | null;
  retryOnError: boolean;
  maxEventAgeMs: number | null;
  maxConcurrency: number | null;
}

/** A new version; `archive` (the zip itself) goes with `module`, and is read back only by archive(). */
export type NewVersion = Omit<VersionRow, 'createdAt'> & { archive?: Buffer | null };

const FN = `f.id, f.user_id AS "userId", f.name, f.current_version AS "currentVersion", f.warm_replicas AS "warmReplicas", f.warm_workers AS "warmWorkers",
  f.isolation, f.created_at AS "createdAt", f.updated_at AS "updatedAt"`;
const VERSION = `v.function_id AS "functionId", v.version, v.code, v.sha256, v.entry, v.format, v.memory_bytes::float8 AS "memoryBytes",
  v.nano_cpus::float8 AS "nanoCpus", v.timeout_ms AS "timeoutMs", v.env, v.secrets, v.image, v.requirements, v.apt, v.placement, v.module, v.created_at AS "createdAt"`;

/** Every query is scoped by owner where a user names a function: another user's is "absent". */
export function functionsRepo(db: Queryable) {
  return {
    async insert(f: { id: string; userId: string; name: string }): Promise<void> {
      await db.query('INSERT INTO functions (id, user_id, name, current_version) VALUES ($1, $2, $3, 1)', [f.id, f.userId, f.name]);
    },
    async insertVersion(v: NewVersion): Promise<void> {
      await db.query(
        `INSERT INTO function_versions (function_id, version, code, sha256, entry, format, memory_bytes, nano_cpus, timeout_ms, env, secrets, image, requirements, placement, archive, module, apt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          v.functionId,
          v.version,
          v.code,
          v.sha256,
          v.entry,
          v.format,
          v.memoryBytes,
          v.nanoCpus,
          v.timeoutMs,
          JSON.stringify(v.env),
          JSON.stringify(v.secrets),
          v.image ?? null,
          v.requirements ?? null,
          JSON.stringify(v.placement ?? NO_PLACEMENT),
          v.archive ?? null,
          v.module ?? null,
          v.apt ?? null,
        ],
      );
    },
    /** A function's sealed webhook secret (issue 25), by its owner's name and its own; undefined when none is set. */
    async webhookOf(userName: string, name: string): Promise<{ userId: string; userName: string; sealed: Buffer } | undefined> {
      const [row] = await db.query<{ userId: string; userName: string; sealed: Buffer }>(
        `SELECT u.id AS "userId", u.name AS "userName", f.webhook_secret AS sealed FROM functions f JOIN users u ON u.id = f.user_id
          WHERE u.name = $1 AND f.name = $2 AND f.webhook_secret IS NOT NULL`,
        [userName, name],
      );
      return row;
    },
    async setWebhookSecret(functionId: string, sealed: Buffer | null): Promise<void> {
      await db.query('UPDATE functions SET webhook_secret = $2 WHERE id = $1', [functionId, sealed]);
    },
    /** Locks the function row until the transaction ends, so concurrent updates number versions in turn. */
    async byNameForUpdate(userId: string, name: string): Promise<FunctionRow | undefined> {
      const [row] = await db.query<FunctionRow & Record<string, unknown>>(`SELECT ${FN} FROM functions f WHERE f.user_id = $1 AND f.name = $2 FOR UPDATE`, [userId, name]);
      return row;
    },
    async current(userId: string, name: string): Promise<CurrentFunction | undefined> {
      const [row] = await db.query<Record<string, unknown>>(
        `SELECT ${FN}, row_to_json(cv) AS current FROM functions f
           JOIN LATERAL (SELECT ${VERSION} FROM function_versions v WHERE v.function_id = f.id AND v.version = f.current_version) cv ON true
          WHERE f.user_id = $1 AND f.name = $2`,
        [userId, name],
      );
      if (!row) return undefined;
      const current = row.current as VersionRow & { createdAt: string };
      return { ...(row as unknown as FunctionRow), current: { ...current, createdAt: new Date(current.createdAt) } };
    },
    /** A function by id with the given version as its `current` (the dispatcher runs the version a request asked for). */
    async atVersion(functionId: string, version: number): Promise<CurrentFunction | undefined> {
      const [row] = await db.query<Record<string, unknown>>(
        `SELECT ${FN}, row_to_json(cv) AS current FROM functions f
           JOIN LATERAL (SELECT ${VERSION} FROM function_versions v WHERE v.function_id = f.id AND v.version = $2) cv ON true
          WHERE f.id = $1`,
        [functionId, version],
      );
      if (!row) return undefined;
      const current = row.current as VersionRow & { createdAt: string };
      return { ...(row as unknown as FunctionRow), current: { ...current, createdAt: new Date(current.createdAt) } };
    },
    async versions(functionId: string): Promise<VersionRow[]> {
      return db.query<VersionRow & Record<string, unknown>>(`SELECT ${VERSION} FROM function_versions v WHERE v.function_id = $1 ORDER BY v.version`, [functionId]);
    },
    async version(functionId: string, version: number): Promise<VersionRow | undefined> {
      const [row] = await db.query<VersionRow & Record<string, unknown>>(`SELECT ${VERSION} FROM function_versions v WHERE v.function_id = $1 AND v.version = $2`, [functionId, version]);
      return row;
    },
    /** The zip archive of code shipped as one (named by its sha256); undefined for a single file. */
    async archive(sha256: string): Promise<Buffer | undefined> {
      const [row] = await db.query<{ archive: Buffer }>('SELECT archive FROM function_versions WHERE sha256 = $1 AND archive IS NOT NULL LIMIT 1', [sha256]);
      return row?.archive;
    },
    async maxVersion(functionId: string): Promise<number> {
      const [row] = await db.query<{ max: number }>('SELECT COALESCE(max(version), 0)::int AS max FROM function_versions WHERE function_id = $1', [functionId]);
      return row?.max ?? 0;
    },
    async setCurrent(functionId: string, version: number): Promise<void> {
      await db.query('UPDATE functions SET current_version = $2, updated_at = now() WHERE id = $1', [functionId, version]);
    },
    /** Deletes the function and its versions; answers the sha256 of every deleted version. */
    async remove(functionId: string): Promise<string[]> {
      const rows = await db.query<{ sha256: string }>('SELECT DISTINCT sha256 FROM function_versions WHERE function_id = $1', [functionId]);
      await db.query('DELETE FROM functions WHERE id = $1', [functionId]);
      return rows.map((r) => r.sha256);
    },
    async list(userId: string): Promise<FunctionSummary[]> {
      return db.query<FunctionSummary & Record<string, unknown>>(
        `SELECT ${FN}, (SELECT count(*)::int FROM function_versions v WHERE v.function_id = f.id) AS versions,
                cv.sha256, cv.format,
                (SELECT max(r.created_at) FROM requests r WHERE r.function_id = f.id AND r.type = 'fn.invoke') AS "lastInvokedAt"
           FROM functions f JOIN function_versions cv ON cv.function_id = f.id AND cv.version = f.current_version
          WHERE f.user_id = $1 ORDER BY f.name`,
        [userId],
      );
    },
    /** Replicas, workers and token together: a warm function always has all three, a cold one 0 and no token. */
    async setWarm(functionId: string, w: { replicas: number; workers: number; token: string | null }): Promise<void> {
      await db.query('UPDATE functions SET warm_replicas = $2, warm_workers = $3, warm_token = $4, updated_at = now() WHERE id = $1', [functionId, w.replicas, w.workers, w.token]);
    },
    /** Kept out of every other query, so no listing or --json output can carry it. */
    /** The dispatcher's policy for this function (issue 20); nulls mean the platform's defaults. */
    async setIsolation(functionId: string, isolation: 'auto' | 'pool' | 'service'): Promise<void> {
      await db.query('UPDATE functions SET isolation = $2, updated_at = now() WHERE id = $1', [functionId, isolation]);
    },
    async dispatchPolicy(functionId: string): Promise<StoredDispatchPolicy> {
      const [row] = await db.query<StoredDispatchPolicy & Record<string, unknown>>(
        `SELECT retries, retry_on_error AS "retryOnError", max_event_age_ms::float8 AS "maxEventAgeMs", max_concurrency AS "maxConcurrency" FROM functions WHERE id = $1`,
        [functionId],
      );
      return row ?? { retries: null, retryOnError: false, maxEventAgeMs: null, maxConcurrency: null };
    },
    /** Sets the given fields of the policy; undefined keeps a field, null returns it to the default. */
    async setDispatchPolicy(functionId: string, p: Partial<StoredDispatchPolicy>): Promise<void> {
      await db.query(
        `UPDATE functions SET retries = CASE WHEN $2 THEN $3::int ELSE retries END,
                retry_on_error = COALESCE($4, retry_on_error),
                max_event_age_ms = CASE WHEN $5 THEN $6::bigint ELSE max_event_age_ms END,
                max_concurrency = CASE WHEN $7 THEN $8::int ELSE max_concurrency END, updated_at = now()
          WHERE id = $1`,
        [
          functionId,
          p.retries !== undefined,
          p.retries ?? null,
          p.retryOnError ?? null,
          p.maxEventAgeMs !== undefined,
          p.maxEventAgeMs ?? null,
          p.maxConcurrency !== undefined,
          p.maxConcurrency ?? null,
        ],
      );
    },
    async warmToken(functionId: string): Promise<string | undefined> {
      const [row] = await db.query<{ token: string | null }>('SELECT warm_token AS token FROM functions WHERE id = $1', [functionId]);
      return row?.token ?? undefined;
    },
    /** Warm functions of every user, for gc. */
    async warm(): Promise<FunctionRow[]> {
      return db.query<FunctionRow & Record<string, unknown>>(`SELECT ${FN} FROM functions f WHERE f.warm_replicas > 0`);
    },
    /** Of these code hashes, the ones some version still refers to. */
    async shasInUse(shas: string[]): Promise<Set<string>> {
      if (!shas.length) return new Set();
      const rows = await db.query<{ sha256: string }>('SELECT DISTINCT sha256 FROM function_versions WHERE sha256 = ANY($1::text[])', [shas]);
      return new Set(rows.map((r) => r.sha256));
    },
    /** The code hashes and dependency images of every version of a user's functions (for user delete). */
    async ownedBy(userId: string): Promise<{ shas: string[]; images: string[] }> {
      const rows = await db.query<{ sha256: string; image: string | null }>(
        'SELECT DISTINCT v.sha256, v.image FROM function_versions v JOIN functions f ON f.id = v.function_id WHERE f.user_id = $1',
        [userId],
      );
      return { shas: [...new Set(rows.map((r) => r.sha256))], images: [...new Set(rows.flatMap((r) => (r.image ? [r.image] : [])))] };
    },
    /** Every dependency image some version of any user runs in (tag or digest reference), for gc. */
    async imagesInUse(): Promise<Set<string>> {
      const rows = await db.query<{ image: string }>('SELECT DISTINCT image FROM function_versions WHERE image IS NOT NULL');
      return new Set(rows.map((r) => r.image));
    },
  };
}

export type FunctionsRepo = ReturnType<typeof functionsRepo>;
