import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createTestContext } from '../helpers/test-context.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { startThrowawayPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

const PASSWORD = 'correct horse battery';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: pg.Client;

/** One CLI "session": a config dir shared by the calls, like a user's machine. */
function session(extraEnv: Record<string, string> = {}) {
  const first = createTestContext({ env: { FAASCTL_DATABASE_URL: db.url, ...extraEnv } });
  return async (args: string[], env: Record<string, string> = {}) => {
    const t = createTestContext({ env: { XDG_CONFIG_HOME: first.configDir, FAASCTL_DATABASE_URL: db.url, ...extraEnv, ...env } });
    const code = await main(['node', 'faasctl', ...args], t.ctx);
    return { code, stdout: t.stdout(), stderr: t.stderr(), json: () => JSON.parse(t.stdout()) };
  };
}

const count = async (table: string, where = 'true', params: unknown[] = []) => Number((await sql.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params)).rows[0].n);

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'));
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  // Schema only: the engine part of `up` is covered by doctor's tests.
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

describe('users', () => {
  it('creates, logs in, shows, updates and deletes a user, recording each change', async () => {
    const cli = session({ FAASCTL_PASSWORD: PASSWORD });
    const created = await cli(['--json', 'user', 'create', 'alice']);
    expect(created.code, created.stderr).toBe(0);
    const { id, requestId } = created.json();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    expect((await cli(['login', 'alice'])).code).toBe(0);
    expect((await cli(['whoami'])).stdout).toBe('alice\n');
    expect((await cli(['--json', 'user', 'show'])).json()).toMatchObject({ id, name: 'alice', functions: 0 });
    expect((await cli(['--json', 'user', 'list'])).json().map((u: { name: string }) => u.name)).toContain('alice');

    const renamed = await cli(['--json', 'user', 'update', '--name', 'alice2', '--password'], { FAASCTL_PASSWORD: 'a brand new secret' });
    expect(renamed.code, renamed.stderr).toBe(0);
    expect((await cli(['whoami'])).stdout).toBe('alice2\n');
    expect((await cli(['login', 'alice2'])).code).toBe(7);
    expect((await cli(['login', 'alice2'], { FAASCTL_PASSWORD: 'a brand new secret' })).code).toBe(0);

    const log = (await cli(['--json', 'request', 'list', '--type', 'user'])).json();
    expect(log.map((r: { type: string }) => r.type)).toEqual(['user.update', 'user.create']);
    expect(log[1]).toMatchObject({ id: requestId, status: 'success', params: { name: 'alice' } });
    expect(log[0].params).toEqual({ name: 'alice2', previousName: 'alice', passwordChanged: true });
    const shown = await cli(['--json', 'request', 'show', requestId]);
    expect(shown.json()).toMatchObject({ id: requestId, type: 'user.create', userId: id });

    const deleted = await cli(['--json', 'user', 'delete', '--yes']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await count('users', 'id = $1', [id])).toBe(0);
    expect(await count('requests', "type = 'user.delete' AND params->>'userId' = $1", [id])).toBe(1);
    expect((await cli(['whoami'])).code).toBe(7);
  });

  it('refuses a duplicate name with the conflict code and one line', async () => {
    const cli = session({ FAASCTL_PASSWORD: PASSWORD });
    expect((await cli(['user', 'create', 'bob'])).code).toBe(0);
    const again = await cli(['user', 'create', 'bob']);
    expect(again.code).toBe(3);
    expect(again.stderr.split('\n')[0]).toBe('error: user name "bob" is already taken');
    expect(await count('users', "name = 'bob'")).toBe(1);
  });

  it('answers a wrong password or unknown user with the auth code, alike', async () => {
    const cli = session({ FAASCTL_PASSWORD: PASSWORD });
    await cli(['user', 'create', 'carol']);
    const wrong = await cli(['--json', 'login', 'carol'], { FAASCTL_PASSWORD: 'not the password' });
    const unknown = await cli(['--json', 'login', 'nobody-here']);
    expect(wrong.code).toBe(7);
    expect(unknown.code).toBe(7);
    expect(wrong.json().error.message).toBe(unknown.json().error.message);
    expect((await cli(['request', 'list'])).code).toBe(7);
  });

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(33)],
    ['spaces', 'al ice'],
    ['quotes', "o'brien"],
    ['SQL', "x'); DROP TABLE users; --"],
    ['non-ASCII', 'zoë'],
    ['upper case', 'Alice'],
  ])('rejects a name with %s: usage code, nothing written', async (_what, name) => {
    const cli = session({ FAASCTL_PASSWORD: PASSWORD });
    const before = [await count('users'), await count('requests')];
    const r = await cli(['user', 'create', name]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: (invalid user name|user create needs a NAME)/);
    expect([await count('users'), await count('requests')]).toEqual(before);
  });

  it('never stores a password in clear, in any column of any table', async () => {
    const secret = 'Unique-Secret-4711-xyz';
    const cli = session({ FAASCTL_PASSWORD: secret });
    expect((await cli(['user', 'create', 'dave'])).code).toBe(0);
    expect((await cli(['login', 'dave'])).code).toBe(0);
    const tables = (await sql.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename as string);
    expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'requests', 'functions', 'function_versions']));
    for (const table of tables) {
      const dump = JSON.stringify((await sql.query(`SELECT * FROM ${table}`)).rows);
      expect(dump, table).not.toContain(secret);
    }
    const [user] = (await sql.query("SELECT password_hash FROM users WHERE name = 'dave'")).rows;
    expect(user.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('writes nothing when the transaction fails half-way', async () => {
    await sql.query(`CREATE OR REPLACE FUNCTION fail_user_create() RETURNS trigger AS $$
      BEGIN IF NEW.type = 'user.create' AND NEW.params->>'name' = 'erin' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await sql.query('CREATE TRIGGER fail_user_create BEFORE INSERT ON requests FOR EACH ROW EXECUTE FUNCTION fail_user_create()');
    try {
      const r = await session({ FAASCTL_PASSWORD: PASSWORD })(['user', 'create', 'erin']);
      expect(r.code).not.toBe(0);
      expect(await count('users', "name = 'erin'")).toBe(0);
    } finally {
      await sql.query('DROP TRIGGER fail_user_create ON requests');
    }
  });

  it('creates and deletes users in bulk by prefix, with a summary', async () => {
    const cli = session({ FAASCTL_PASSWORD: PASSWORD });
    const created = await cli(['--json', 'user', 'create', '--bulk', '5', '--prefix', 'load']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ succeeded: 5, failed: 0 });
    expect(created.json().items.map((i: { name: string }) => i.name)).toEqual(['load1', 'load2', 'load3', 'load4', 'load5']);
    const again = await cli(['user', 'create', '--bulk', '6', '--prefix', 'load']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('1 created, 5 failed');
    const gone = await cli(['--json', 'user', 'delete', '--prefix', 'load', '--yes']);
    expect(gone.json()).toMatchObject({ succeeded: 6, failed: 0 });
    expect(await count('users', "name LIKE 'load%'")).toBe(0);
  });

  it('needs a terminal or a flag for a password, and says which flag', async () => {
    const cli = session();
    const r = await cli(['user', 'create', 'frank']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--password-stdin');
    expect(await count('users', "name = 'frank'")).toBe(0);
  });
});

describe('ownership', () => {
  it("keeps one user's requests out of another's sight", async () => {
    const hal = session({ FAASCTL_PASSWORD: PASSWORD });
    const ivy = session({ FAASCTL_PASSWORD: PASSWORD });
    const { requestId } = (await hal(['--json', 'user', 'create', 'hal'])).json();
    await ivy(['user', 'create', 'ivy']);
    await hal(['login', 'hal']);
    await ivy(['login', 'ivy']);
    expect((await hal(['request', 'show', requestId])).code).toBe(0);
    const other = await ivy(['request', 'show', requestId]);
    expect(other.code).toBe(3);
    expect(other.stderr.split('\n')[0]).toBe(`error: request ${requestId} not found`);
    const ivyLog = (await ivy(['--json', 'request', 'list'])).json();
    expect(ivyLog.map((r: { id: string }) => r.id)).not.toContain(requestId);
  });
});

describe('with PostgreSQL down', () => {
  it('fails with the connection code and one line, writing nothing', async () => {
    const pgDown = await startThrowawayPostgres(tempDir('faasctl-pg-'));
    pgDown.stop();
    try {
      const t = createTestContext({ env: { FAASCTL_DATABASE_URL: pgDown.url, FAASCTL_PASSWORD: PASSWORD } });
      const code = await main(['node', 'faasctl', 'user', 'create', 'gina'], t.ctx);
      expect(code).toBe(5);
      expect(t.stderr().split('\n')[0]).toBe(`error: cannot reach PostgreSQL at 127.0.0.1:${pgDown.port}/postgres (ECONNREFUSED)`);
    } finally {
      pgDown.destroy();
    }
  });
});
