import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { connectDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createStore, type Store } from '../../src/db/store.js';
import { pruneAll, prunePending, pruneRequestLog, retentionFromFlags } from '../../src/core/requests/prune.js';
import { createTestContext } from '../helpers/test-context.js';
import { createTestDatabase } from '../helpers/test-db.js';

const PASSWORD = 'prune-user-password';
let made: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: pg.Client;
let db: Database;
let store: Store;

function session() {
  const first = createTestContext({ env: { FAASCTL_DATABASE_URL: made.url, FAASCTL_PASSWORD: PASSWORD } });
  return async (args: string[]) => {
    const t = createTestContext({ env: { XDG_CONFIG_HOME: first.configDir, FAASCTL_DATABASE_URL: made.url, FAASCTL_PASSWORD: PASSWORD } });
    const code = await main(['node', 'faasctl', ...args], t.ctx);
    return { code, stdout: t.stdout(), stderr: t.stderr(), json: () => JSON.parse(t.stdout()) };
  };
}

const count = async (from: string, params: unknown[] = []) => Number((await sql.query(`SELECT count(*) AS n FROM ${from}`, params)).rows[0].n);

beforeAll(async () => {
  made = await createTestDatabase(inject('databaseUrl'));
  sql = new pg.Client({ connectionString: made.url });
  await sql.connect();
  db = await connectDatabase(made.url, { debug: () => {} });
  await applyMigrations(db);
  store = createStore(db);
});
afterAll(async () => {
  await db?.close();
  await sql?.end();
  await made?.drop();
});

/** `n` closed invocations of `user` (with a bulk answer each tenth) dated `ageDays` back, and their rollups. */
async function history(user: string, n: number, ageDays: number, output = 'printed\n') {
  await sql.query(
    `WITH ins AS (
       INSERT INTO requests (id, user_id, type, status, function_name, mode, duration_ms, output, created_at)
       SELECT gen_random_uuid(), u.id, CASE WHEN g % 10 = 0 THEN 'fn.invoke.bulk' ELSE 'fn.invoke' END, 'success', 'f', 'warm', 5, $4,
              now() - $3::float8 * interval '1 day' - g * interval '1 second'
         FROM users u, generate_series(1, $2::int) g WHERE u.name = $1
       RETURNING id, type)
     INSERT INTO request_items (request_id, idx, status, duration_ms) SELECT id, 0, 'success', 5 FROM ins WHERE type = 'fn.invoke.bulk'`,
    [user, n, ageDays, output],
  );
  await sql.query(
    `INSERT INTO request_rollups (user_id, function_name, grain, bucket_start, invocations, succeeded, application_errors, developer_errors, system_errors,
                                  cold, warm, cpu_ms_sum, cpu_ms_count, latency)
     SELECT u.id, 'f', 'day', date_trunc('day', now() - $2::float8 * interval '1 day'), 1, 1, 0, 0, 0, 0, 1, 0, 0, '{}' FROM users u WHERE u.name = $1`,
    [user, ageDays],
  );
}

/**
 * Pruning (issue 24): a deleted user's history, left in place by `user delete` so that it costs
 * the same whatever the history, goes afterwards in bounded batches, while their user.delete
 * record stays listable; with a retention, old rows, output text and rollups go the same way.
 */
describe('pruning the request log', () => {
  it("removes a deleted user's rows in batches after the delete, keeping the record of the delete listable", async () => {
    const gone = session();
    expect((await gone(['user', 'create', 'leaver'])).code).toBe(0);
    expect((await gone(['login', 'leaver'])).code).toBe(0);
    const { id } = (await gone(['--json', 'whoami'])).json();
    await history('leaver', 2500, 1);
    const stays = session();
    expect((await stays(['user', 'create', 'stayer'])).code).toBe(0);
    expect((await stays(['login', 'stayer'])).code).toBe(0);
    await history('stayer', 50, 1);

    expect((await gone(['user', 'delete', '--force', '--yes'])).code).toBe(0);
    // The delete left the history in place, unowned by anyone who can log in.
    expect(await count('requests WHERE user_id = $1', [id])).toBe(2501);
    expect(await prunePending(store)).toEqual({ requestsPruned: 2501, outputsCleared: 0, rollupsPruned: 1 });

    const first = await pruneRequestLog(store, 1000);
    expect(first).toEqual({ requestsPruned: 1000, outputsCleared: 0, rollupsPruned: 1, more: true });
    expect(await count('requests WHERE user_id = $1', [id])).toBe(1501);
    expect(await pruneAll(store, 1000)).toEqual({ requestsPruned: 1501, outputsCleared: 0, rollupsPruned: 0 });
    expect(await count('requests WHERE user_id = $1', [id])).toBe(0);
    expect(await count('request_items i WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = i.request_id)')).toBe(0);
    expect(await count('deleted_users')).toBe(0);
    expect(await count(`requests r JOIN users u ON u.id = r.user_id WHERE u.name = 'stayer'`)).toBe(51);

    // The record of the delete outlives the user and the pruning: an operator lists it.
    const records = (await stays(['--json', 'request', 'list', '--deleted-users'])).json();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ type: 'user.delete', userId: null, params: { userId: id, name: 'leaver' } });
    expect((await stays(['--json', 'request', 'list', '--deleted-users', '--before', records[0].id])).json()).toEqual([]);
  });

  it('with a retention, prunes old rows, clears older output sooner, keeps rollups longer and open rows always', async () => {
    const cli = session();
    expect((await cli(['user', 'create', 'keeper'])).code).toBe(0);
    await history('keeper', 30, 100); // past the rows' retention
    await history('keeper', 20, 10); // rows kept, output past its retention
    await history('keeper', 10, 1); // everything kept
    await history('keeper', 5, 500); // rollup past its retention too
    await sql.query(
      `INSERT INTO requests (id, user_id, type, status, function_name, created_at, deadline_at)
       SELECT gen_random_uuid(), id, 'fn.invoke', 'running', 'f', now() - interval '200 days', now() FROM users WHERE name = 'keeper'`,
    );
    await store.prune.setRetention(retentionFromFlags({ retention: '30d', outputRetention: '7d' }, await store.prune.retention()));
    expect(await store.prune.retention()).toEqual({ requestsMs: 30 * 86_400_000, outputMs: 7 * 86_400_000, rollupsMs: 400 * 86_400_000 });

    const pending = await prunePending(store);
    expect(pending).toEqual({ requestsPruned: 35, outputsCleared: 20, rollupsPruned: 1 });
    expect(await pruneAll(store, 7)).toEqual(pending);
    const left = await sql.query(
      `SELECT r.status, r.output IS NULL AS cleared, count(*)::int AS n FROM requests r JOIN users u ON u.id = r.user_id
        WHERE u.name = 'keeper' AND r.type LIKE 'fn.%' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(left.rows).toEqual([
      { status: 'running', cleared: true, n: 1 }, // open: never pruned (it had no output)
      { status: 'success', cleared: false, n: 10 },
      { status: 'success', cleared: true, n: 20 },
    ]);
    expect(await count(`request_rollups r JOIN users u ON u.id = r.user_id WHERE u.name = 'keeper'`)).toBe(3);
    expect(await prunePending(store)).toEqual({ requestsPruned: 0, outputsCleared: 0, rollupsPruned: 0 });
  });
});

describe('retentionFromFlags', () => {
  const none = { requestsMs: null, outputMs: null, rollupsMs: null };
  const day = 86_400_000;
  it('keeps everything for ever unless told, and rollups at least as long as rows', () => {
    expect(retentionFromFlags({}, none)).toEqual(none);
    expect(retentionFromFlags({ retention: '500d' }, none)).toEqual({ requestsMs: 500 * day, outputMs: null, rollupsMs: 500 * day });
    expect(retentionFromFlags({ retention: 'forever' }, { requestsMs: day, outputMs: null, rollupsMs: 400 * day })).toEqual(none);
  });
  it('refuses output kept longer than its row, and rollups shorter than the rows', () => {
    expect(() => retentionFromFlags({ retention: '7d', outputRetention: '30d' }, none)).toThrow(/--output-retention/);
    expect(() => retentionFromFlags({ retention: '30d', rollupRetention: '7d' }, none)).toThrow(/--rollup-retention/);
    expect(() => retentionFromFlags({ retention: 'soon' }, none)).toThrow(/--retention/);
  });
});
