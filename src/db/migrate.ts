import { readFile } from 'node:fs/promises';
import { packagePath } from '../paths.js';
import type { Database } from './database.js';

/** The schema version this build of faasctl expects; schema.sql sets the same number. */
export const SCHEMA_VERSION = 6;

// An arbitrary constant: serialises concurrent `faasctl up` runs against one database.
const MIGRATION_LOCK = 0x66616173;

export async function applySchema(db: Database): Promise<number> {
  const sql = await readFile(packagePath('schema.sql'), 'utf8');
  await db.withTransaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(sql);
  });
  return (await schemaVersion(db)) ?? 0;
}

/** The applied version, or undefined when the schema has never been applied. */
export async function schemaVersion(db: Database): Promise<number | undefined> {
  const [table] = await db.query<{ name: string | null }>("SELECT to_regclass('faasctl_meta')::text AS name");
  if (!table?.name) return undefined;
  const rows = await db.query<{ value: string }>("SELECT value FROM faasctl_meta WHERE key = 'schema_version'");
  const value = rows[0]?.value;
  return value == null ? undefined : Number(value);
}
