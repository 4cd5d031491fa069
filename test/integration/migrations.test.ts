import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { connectDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations, SCHEMA_VERSION } from '../../src/db/migrate.js';
import { loadMigrations, orderMigrations } from '../../src/db/migrations.js';
import { packagePath } from '../../src/base/paths.js';
import { createTestContext } from '../helpers/test-context.js';
import { createTestDatabase, withClient } from '../helpers/test-db.js';
import { schemaSnapshot } from '../helpers/schema-snapshot.js';

const made: Array<{ drop(): Promise<void> }> = [];
const opened: Database[] = [];
afterAll(async () => {
  for (const db of opened) await db.close();
  for (const db of made) await db.drop();
});

async function freshDatabase() {
  const db = await createTestDatabase(inject('databaseUrl'));
  made.push(db);
  return db;
}

async function open(url: string): Promise<Database> {
  const db = await connectDatabase(url, { debug: () => {} });
  opened.push(db);
  return db;
}

const rows = <T extends Record<string, unknown>>(url: string, sql: string) => withClient(url, async (c) => (await c.query<T>(sql)).rows);
const history = (url: string) => rows(url, 'SELECT version, name, sha256, applied_at FROM faasctl_migrations ORDER BY version');
const meta = (url: string) => rows(url, 'SELECT key, value, updated_at FROM faasctl_meta ORDER BY key');

const baselineSql = () => readFile(packagePath('migrations', '0006_baseline.sql'), 'utf8');
const shipped = () => loadMigrations(packagePath('migrations'));
/** The number after the last shipped migration, and that migration's file. */
const LATER = SCHEMA_VERSION + 1;
const LATER_FILE = `${String(LATER).padStart(4, '0')}_function_tags.sql`;
const SHIPPED_VERSIONS = Array.from({ length: SCHEMA_VERSION - 5 }, (_, i) => 6 + i);
/** The shipped migrations plus a later one that is plain SQL: it fails if it ever runs twice. */
const withLater = async (later = 'CREATE TABLE function_tags (function_id uuid NOT NULL, tag text NOT NULL);\n') =>
  orderMigrations([...(await shipped()).map(({ file, sql }) => ({ file, sql })), { file: LATER_FILE, sql: later }]);

describe('migrations', () => {
  it('bring a fresh database to the latest version and record every one', async () => {
    const { url } = await freshDatabase();
    const result = await applyMigrations(await open(url));
    const files = await shipped();
    expect(result).toEqual({ version: SCHEMA_VERSION, applied: files.map((m) => m.file) });
    expect((await history(url)).map(({ version, name, sha256 }) => ({ version, name, sha256 }))).toEqual(files.map(({ version, name, sha256 }) => ({ version, name, sha256 })));
    const values = Object.fromEntries((await meta(url)).map((r) => [r.key, r.value]));
    expect(values).toMatchObject({ schema_version: String(SCHEMA_VERSION), installation_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('change nothing when applied again', async () => {
    const { url } = await freshDatabase();
    const db = await open(url);
    await applyMigrations(db);
    const before = { schema: await schemaSnapshot(url), history: await history(url), meta: await meta(url) };
    expect(await applyMigrations(db)).toEqual({ version: SCHEMA_VERSION, applied: [] });
    expect({ schema: await schemaSnapshot(url), history: await history(url), meta: await meta(url) }).toEqual(before);
  });

  it('apply each migration once when several processes migrate at the same time', async () => {
    const { url } = await freshDatabase();
    const migrations = await withLater();
    const dbs = await Promise.all([1, 2, 3, 4].map(() => open(url)));
    const results = await Promise.all(dbs.map((db) => applyMigrations(db, migrations)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(migrations.map((m) => m.file));
    expect(results.map((r) => r.version)).toEqual([LATER, LATER, LATER, LATER]);
    expect((await history(url)).map((r) => r.version)).toEqual([...SHIPPED_VERSIONS, LATER]);
  });

  it('run a later migration once, on top of the baseline, and move schema_version to its number', async () => {
    const { url } = await freshDatabase();
    const db = await open(url);
    await applyMigrations(db);
    expect(await applyMigrations(db, await withLater())).toEqual({ version: LATER, applied: [LATER_FILE] });
    expect(await applyMigrations(db, await withLater())).toEqual({ version: LATER, applied: [] });
    // A faasctl that knows only the shipped migrations leaves the newer version alone (doctor warns).
    expect(await applyMigrations(db)).toEqual({ version: LATER, applied: [] });
  });

  it('roll back a migration that fails, recording nothing', async () => {
    const { url } = await freshDatabase();
    const db = await open(url);
    const broken = await withLater('CREATE TABLE half_done (a int);\nALTER TABLE no_such_table ADD COLUMN b int;\n');
    await expect(applyMigrations(db, broken)).rejects.toThrow(/no_such_table/);
    expect((await history(url)).map((r) => r.version)).toEqual(SHIPPED_VERSIONS);
    expect(await rows(url, "SELECT to_regclass('half_done') AS t")).toEqual([{ t: null }]);
    expect(Object.fromEntries((await meta(url)).map((r) => [r.key, r.value])).schema_version).toBe(String(SCHEMA_VERSION));
  });

  it('refuse a recorded migration whose file changed, before applying anything', async () => {
    const { url } = await freshDatabase();
    const db = await open(url);
    await applyMigrations(db);
    const edited = orderMigrations([
      { file: '0006_baseline.sql', sql: `${await baselineSql()}ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;\n` },
      ...(await shipped()).filter((m) => m.version > 6).map(({ file, sql }) => ({ file, sql })),
      { file: LATER_FILE, sql: 'CREATE TABLE function_tags (a int);\n' },
    ]);
    const err = await applyMigrations(db, edited).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3, code: 'migration_changed', hint: expect.stringContaining('new migration') });
    expect((err as Error).message).toMatch(/^migration 0006_baseline\.sql differs from the one this database applied on \d{4}-\d\d-\d\d \(sha256 [0-9a-f]{12} recorded, [0-9a-f]{12} in the file\)$/);
    expect((await history(url)).map((r) => r.version)).toEqual(SHIPPED_VERSIONS);
    expect(await rows(url, "SELECT to_regclass('function_tags') AS t")).toEqual([{ t: null }]);
  });

  it('make faasctl up refuse a changed migration with exit 3 and one line', async () => {
    const { url } = await freshDatabase();
    await applyMigrations(await open(url));
    await withClient(url, (c) => c.query("UPDATE faasctl_migrations SET sha256 = repeat('0', 64) WHERE version = 6"));
    const t = createTestContext({ env: { FAASCTL_DATABASE_URL: url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' } });
    expect(await main(['node', 'faasctl', 'up'], t.ctx)).toBe(3);
    const lines = t
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('error:') || l.startsWith('hint:'));
    expect(lines).toEqual([
      expect.stringMatching(/^error: migration 0006_baseline\.sql differs from the one this database applied on [\d-]+ \(sha256 000000000000 recorded, [0-9a-f]{12} in the file\)$/),
      'hint: restore the file as it was applied; a change to the schema goes in a new migration file',
    ]);
  });
});
