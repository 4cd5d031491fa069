import { ConflictError } from '../base/errors.js';
import { packagePath } from '../base/paths.js';
import type { Database, Queryable } from './database.js';
import { loadMigrations, type Migration } from './migrations.js';

/**
 * The schema version this build of faasctl expects: the number of the last file in
 * migrations/ (a unit test holds them equal; a constant, so `--help` reads no folder).
 */
export const SCHEMA_VERSION = 14;

// An arbitrary constant: serialises concurrent `faasctl up` runs against one database. Older
// faasctl builds take the same lock around their schema.sql, so they queue behind this one too.
const MIGRATION_LOCK = 0x66616173;

const HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS faasctl_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  sha256     text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface MigrateResult {
  /** faasctl_meta's schema_version afterwards (higher than ours if a newer faasctl migrated). */
  version: number;
  /** The files this call applied, in order; empty when the database was already current. */
  applied: string[];
}

/**
 * Applies the migrations the database has not recorded, in order, each in its own transaction
 * under the advisory lock, so concurrent `faasctl up`s apply each exactly once. A recorded
 * migration whose file changed since is refused before anything runs.
 */
export async function applyMigrations(db: Database, migrations?: Migration[]): Promise<MigrateResult> {
  const all = migrations ?? (await loadMigrations(packagePath('migrations')));
  const recorded = await db.withTransaction(async (tx) => {
    await lock(tx);
    await tx.query(HISTORY_TABLE);
    return tx.query<{ version: number; sha256: string; applied_at: Date }>('SELECT version, sha256, applied_at FROM faasctl_migrations');
  });
  for (const row of recorded) {
    const m = all.find((x) => x.version === row.version);
    if (m) refuseIfChanged(m, row);
  }
  const applied: string[] = [];
  for (const m of all) {
    if (recorded.some((row) => row.version === m.version)) continue;
    if (await applyOne(db, m)) applied.push(m.file);
  }
  return { version: (await schemaVersion(db)) ?? 0, applied };
}

/** False when another process applied it while this one waited for the lock. */
function applyOne(db: Database, m: Migration): Promise<boolean> {
  return db.withTransaction(async (tx) => {
    await lock(tx);
    const [row] = await tx.query<{ sha256: string; applied_at: Date }>('SELECT sha256, applied_at FROM faasctl_migrations WHERE version = $1', [m.version]);
    if (row) {
      refuseIfChanged(m, row);
      return false;
    }
    await tx.query(m.sql);
    await tx.query('INSERT INTO faasctl_migrations (version, name, sha256) VALUES ($1, $2, $3)', [m.version, m.name, m.sha256]);
    // Doctor and older faasctl builds read the version here; it never goes down.
    await tx.query(
      `INSERT INTO faasctl_meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
         WHERE faasctl_meta.value::int < EXCLUDED.value::int`,
      [String(m.version)],
    );
    return true;
  });
}

const lock = (tx: Queryable) => tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);

function refuseIfChanged(m: Migration, row: { sha256: string; applied_at: Date }): void {
  if (row.sha256 === m.sha256) return;
  const when = new Date(row.applied_at).toISOString().slice(0, 10);
  throw new ConflictError(`migration ${m.file} differs from the one this database applied on ${when} (sha256 ${row.sha256.slice(0, 12)} recorded, ${m.sha256.slice(0, 12)} in the file)`, {
    code: 'migration_changed',
    hint: 'restore the file as it was applied; a change to the schema goes in a new migration file',
  });
}

/** The applied version, or undefined when the schema has never been applied. */
export async function schemaVersion(db: Queryable): Promise<number | undefined> {
  const [table] = await db.query<{ name: string | null }>("SELECT to_regclass('faasctl_meta')::text AS name");
  if (!table?.name) return undefined;
  const rows = await db.query<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'schema_version'");
  const value = rows[0]?.value;
  return value == null ? undefined : Number(value);
}
