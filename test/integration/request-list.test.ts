import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createTestContext } from '../helpers/test-context.js';
import { createTestDatabase } from '../helpers/test-db.js';

const PASSWORD = 'list-user-password';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: pg.Client;

function session() {
  const first = createTestContext({ env: { FAASCTL_DATABASE_URL: db.url, FAASCTL_PASSWORD: PASSWORD } });
  return async (args: string[]) => {
    const t = createTestContext({ env: { XDG_CONFIG_HOME: first.configDir, FAASCTL_DATABASE_URL: db.url, FAASCTL_PASSWORD: PASSWORD } });
    const code = await main(['node', 'faasctl', ...args], t.ctx);
    return { code, stdout: t.stdout(), stderr: t.stderr(), json: () => JSON.parse(t.stdout()) };
  };
}

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'));
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const { applyMigrations } = await import('../../src/db/migrate.js');
  const { connectDatabase } = await import('../../src/db/database.js');
  const conn = await connectDatabase(db.url, { debug: () => {} });
  await applyMigrations(conn);
  await conn.close();
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

/**
 * `request list` over a long history (issue 24): --before pages through every row exactly once,
 * newest first, even where many rows share one created_at (to the microsecond); --function and
 * --type groups filter; --limit's cap names the way to the next page.
 */
describe('request list', () => {
  it('pages with --before through every row once, and filters by function and type group', async () => {
    const cli = session();
    expect((await cli(['user', 'create', 'lister'])).code).toBe(0);
    expect((await cli(['login', 'lister'])).code).toBe(0);
    // 120 rows: 40 share one instant (microseconds included), the rest a second apart; three functions.
    await sql.query(
      `INSERT INTO requests (id, user_id, type, status, function_name, created_at)
       SELECT gen_random_uuid(), u.id, CASE WHEN g % 30 = 0 THEN 'user.update' ELSE 'fn.invoke' END, 'success', 'f' || (g % 3),
              CASE WHEN g <= 40 THEN timestamptz '2026-11-01 10:00:00.123456+00' ELSE timestamptz '2026-11-01 09:00:00+00' - g * interval '1 second' END
         FROM users u, generate_series(1, 120) g WHERE u.name = 'lister'`,
    );
    const all = (await sql.query(`SELECT r.id FROM requests r JOIN users u ON u.id = r.user_id WHERE u.name = 'lister' ORDER BY r.created_at DESC, r.id DESC`)).rows.map((r: { id: string }) => r.id);
    expect(all.length).toBe(121); // with user.create's own row

    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await cli(['--json', 'request', 'list', '--limit', '7', ...(before ? ['--before', before] : [])]);
      expect(page.code, page.stderr).toBe(0);
      const ids = page.json().map((r: { id: string }) => r.id);
      if (!ids.length) break;
      seen.push(...ids);
      before = ids.at(-1);
    }
    expect(seen).toEqual(all);

    const f1 = (await cli(['--json', 'request', 'list', '--function', 'f1', '--limit', '1000'])).json();
    expect(f1.length).toBe(40);
    expect(f1.every((r: { functionName: string }) => r.functionName === 'f1')).toBe(true);
    const users = (await cli(['--json', 'request', 'list', '--type', 'user', '--limit', '1000'])).json();
    expect(users.map((r: { type: string }) => r.type).sort()).toEqual(['user.create', 'user.update', 'user.update', 'user.update', 'user.update']);
    const older = (await cli(['--json', 'request', 'list', '--before', '2026-11-01T09:00:00Z', '--limit', '1000'])).json();
    expect(older.length).toBe(80);
  });

  it('refuses a cursor that is not one of your requests, and a --limit above the cap, naming the next step', async () => {
    const cli = session();
    expect((await cli(['user', 'create', 'lister2'])).code).toBe(0);
    expect((await cli(['login', 'lister2'])).code).toBe(0);
    const other = (await sql.query(`SELECT r.id FROM requests r JOIN users u ON u.id = r.user_id WHERE u.name = 'lister' LIMIT 1`)).rows[0].id;
    const foreign = await cli(['request', 'list', '--before', other]);
    expect(foreign.code).toBe(3);
    expect(foreign.stderr).toContain('not found');
    const capped = await cli(['request', 'list', '--limit', '10001']);
    expect(capped.code).toBe(2);
    expect(capped.stderr).toContain('--before');
    expect((await cli(['request', 'list', '--before', 'yesterday'])).code).toBe(2);
  });
});
