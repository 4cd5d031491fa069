import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { hashPassword } from '../../src/core/users/passwords.js';
import { connectDatabase } from '../../src/db/database.js';
import { applyMigrations, SCHEMA_VERSION } from '../../src/db/migrate.js';
import { createTestContext } from '../helpers/test-context.js';
import { createTestDatabase, withClient } from '../helpers/test-db.js';
import { schemaSnapshot } from '../helpers/schema-snapshot.js';

/**
 * Installations made before migrations were numbered files had one idempotent schema.sql
 * (versions 1 to 6). Their `faasctl up` now applies the migrations: the baseline brings such a
 * database to version 6 in place, keeping its rows, and records itself. The fixtures are
 * schema.sql as it was at v6 (595c96c, the last one) and at v4 (b546850), kept as files so a
 * shallow clone tests them too; the last test replays every schema.sql in git history.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
/** Every shipped migration: the baseline upgrades an old installation, the later ones follow. */
const SHIPPED = readdirSync(resolve(ROOT, 'migrations'))
  .filter((f) => f.endsWith('.sql'))
  .sort();
const fixture = (name: string) => readFileSync(resolve(ROOT, 'test/fixtures', name), 'utf8');
const PASSWORD = 'upgrade in place';
const ids = { user: '11111111-1111-4111-8111-111111111111', fn: '22222222-2222-4222-8222-222222222222' };

const made: Array<{ drop(): Promise<void> }> = [];
let fresh: Awaited<ReturnType<typeof schemaSnapshot>>;
afterAll(async () => {
  for (const db of made) await db.drop();
});

async function database(schemaSql?: string) {
  const db = await createTestDatabase(inject('databaseUrl'));
  made.push(db);
  if (schemaSql) await withClient(db.url, (c) => c.query(schemaSql));
  return db;
}

async function migrate(url: string) {
  const db = await connectDatabase(url, { debug: () => {} });
  try {
    return await applyMigrations(db);
  } finally {
    await db.close();
  }
}

/** A user with a function, two versions and its request log, in columns every schema had since v4. */
async function insertRows(url: string): Promise<void> {
  const hash = await hashPassword(PASSWORD);
  await withClient(url, async (c) => {
    await c.query('INSERT INTO users (id, name, password_hash) VALUES ($1, $2, $3)', [ids.user, 'olduser', hash]);
    await c.query("INSERT INTO functions (id, user_id, name, current_version) VALUES ($1, $2, 'oldfn', 2)", [ids.fn, ids.user]);
    for (const v of [1, 2]) {
      await c.query(
        `INSERT INTO function_versions (function_id, version, code, sha256, memory_bytes, nano_cpus, timeout_ms, env)
           VALUES ($1, $2, $3, $4, 134217728, 500000000, 30000, '{"K":"v"}')`,
        [ids.fn, v, `def main(d):\n    return ${v}\n`, `${v}`.repeat(64)],
      );
    }
    for (const [n, status] of [
      [1, 'success'],
      [2, 'application_error'],
      [3, 'success'],
    ] as const) {
      await c.query(
        `INSERT INTO requests (id, user_id, type, status, params, result, function_id, function_name, function_version, mode, duration_ms, created_at, finished_at)
           VALUES ($1, $2, 'fn.invoke', $3, '{"data":{"n":1}}', '{"ok":true}', $4, 'oldfn', 2, 'cold', 12.5, now() - interval '1 day' + $5 * interval '1 minute', now() - interval '1 day' + $5 * interval '1 minute')`,
        [`33333333-3333-4333-8333-33333333333${n}`, ids.user, status, ids.fn, n],
      );
    }
  });
}

const dump = (url: string) =>
  withClient(url, async (c) => {
    const out: Record<string, unknown[]> = {};
    for (const table of ['faasctl_meta', 'users', 'functions', 'function_versions', 'requests']) {
      out[table] = (await c.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows;
    }
    return out;
  });

beforeAll(async () => {
  const db = await database();
  await migrate(db.url);
  fresh = await schemaSnapshot(db.url);
  expect(fresh.columns.length).toBeGreaterThan(40);
});

describe.each(['schema-v6.sql', 'schema-v4.sql'])('an installation made with %s', (file) => {
  it('upgrades in place: rows intact, the schema a fresh one gets, the history recorded', async () => {
    const { url } = await database(fixture(file));
    await insertRows(url);
    const before = await dump(url);

    expect(await migrate(url)).toEqual({ version: SCHEMA_VERSION, applied: SHIPPED });

    const after = await dump(url);
    for (const [table, rows] of Object.entries(before)) {
      expect(after[table], table).toHaveLength(rows.length);
      // Old columns keep their values; columns added since take their defaults.
      if (table !== 'faasctl_meta') expect(after[table], table).toMatchObject(rows);
    }
    const meta = Object.fromEntries((after.faasctl_meta as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    const oldMeta = Object.fromEntries((before.faasctl_meta as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    expect(meta).toEqual({ installation_id: oldMeta.installation_id, schema_version: String(SCHEMA_VERSION) });
    expect(await schemaSnapshot(url)).toEqual(fresh);
    const history = await withClient(url, (c) => c.query('SELECT version, name FROM faasctl_migrations'));
    expect(history.rows.map((r: { version: number }) => r.version)).toEqual(SHIPPED.map((f) => Number(f.slice(0, 4))));
    expect(await migrate(url)).toEqual({ version: SCHEMA_VERSION, applied: [] });
  });

  it('answers the old user with the old function and request log afterwards', async () => {
    const { url } = await database(fixture(file));
    await insertRows(url);
    await migrate(url);
    const first = createTestContext({ env: { FAASCTL_DATABASE_URL: url } });
    const cli = async (...args: string[]) => {
      const t = createTestContext({ env: { XDG_CONFIG_HOME: first.configDir, FAASCTL_DATABASE_URL: url, FAASCTL_PASSWORD: PASSWORD } });
      const code = await main(['node', 'faasctl', '--json', ...args], t.ctx);
      expect(code, t.stderr()).toBe(0);
      return JSON.parse(t.stdout() || 'null');
    };
    await cli('login', 'olduser');
    expect(await cli('fn', 'list')).toMatchObject([{ name: 'oldfn', version: 2, versions: 2 }]);
    expect(await cli('fn', 'versions', 'oldfn')).toMatchObject([
      { version: 1, current: false },
      { version: 2, current: true, memoryBytes: 134217728, timeoutMs: 30000 },
    ]);
    const log = await cli('request', 'list', '--type', 'fn');
    expect(log.map((r: { status: string }) => r.status)).toEqual(['success', 'application_error', 'success']);
    expect(log[0]).toMatchObject({ functionName: 'oldfn', functionVersion: 2, mode: 'cold', durationMs: 12.5, sanitized: false });
  });
});

describe('every schema.sql in git history', () => {
  const history = git('log', '--format=%h', '--diff-filter=AM', '--', 'schema.sql').split('\n').filter(Boolean).reverse();

  it('has history to test (a clone of the repository)', () => {
    expect(history.length).toBeGreaterThanOrEqual(2);
  });

  it('upgrades to exactly what a fresh database gets', async () => {
    for (const commit of history) {
      const { url } = await database(git('show', `${commit}:schema.sql`));
      expect(await migrate(url), `upgraded from ${commit}`).toEqual({ version: SCHEMA_VERSION, applied: SHIPPED });
      expect(await schemaSnapshot(url), `upgraded from ${commit}`).toEqual(fresh);
    }
  }, 120_000);
});
