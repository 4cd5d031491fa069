import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createStore } from '../../src/db/store.js';
import { enqueueBulk, type QueuedLine } from '../../src/core/dispatch/bulk-enqueue.js';
import { bulkLines } from '../../src/core/invocations/bulk-io.js';
import type { InvokeDeps } from '../../src/core/invocations/invoke.js';
import { DISPATCHER_KEY } from '../../src/core/dispatch/queue-state.js';
import { createTestDatabase } from '../helpers/test-db.js';

/**
 * `fn invoke --bulk FILE --async --resume RUN` (issue 26) on a real PostgreSQL: a run queued
 * only in part (its CLI killed after some batches) resumes by its keys RUN:i, queueing only
 * the lines not queued and answering every line's request in order; a line changed since it
 * was queued refuses the resume before anything is queued; another user's run is not found.
 */
describe('resuming an async bulk run', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let conn: Database;
  let sql: pg.Client;
  const owner = { id: randomUUID(), name: 'queuer' };
  const stranger = { id: randomUUID(), name: 'stranger' };
  const functionId = randomUUID();
  const lines = (n: number, change?: number) => Array.from({ length: n }, (_, i) => JSON.stringify(i === change ? { i, changed: true } : { i }));
  const deps = () => ({ store: createStore(conn), newId: randomUUID }) as unknown as InvokeDeps;
  const queue = async (actor: typeof owner, input: string[], key: string, resume: boolean) => {
    const out: QueuedLine[] = [];
    const n = await enqueueBulk(deps(), actor, { name: 'job', lines: () => bulkLines(input, 'in.jsonl'), label: 'in.jsonl', key, resume, onQueued: (q) => void out.push(...q) });
    return { ...n, out };
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    conn = await connectDatabase(db.url, { debug: () => {} });
    await applyMigrations(conn);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    await sql.query(`INSERT INTO users (id, name, password_hash) VALUES ($1, 'queuer', 'x'), ($2, 'stranger', 'x')`, [owner.id, stranger.id]);
    await sql.query(`INSERT INTO functions (id, user_id, name) VALUES ($1, $2, 'job'), ($3, $4, 'job')`, [functionId, owner.id, randomUUID(), stranger.id]);
    await sql.query(
      `INSERT INTO function_versions (function_id, version, code, sha256, memory_bytes, nano_cpus, timeout_ms)
       SELECT id, 1, 'def main(a):\n    return a\n', 'sha', 268435456, 1000000000, 30000 FROM functions`,
    );
    await createStore(conn).meta.set(DISPATCHER_KEY, 'on');
  });
  afterAll(async () => {
    await conn?.close();
    await sql?.end();
    await db?.drop();
  });

  it('queues only the lines not queued before, prints every line, refuses a changed line and another user', async () => {
    const run = randomUUID();
    // The first CLI got through two batches of 500 before it was killed.
    const first = await queue(owner, lines(1000), run, false);
    expect(first).toMatchObject({ queued: 1000, repeats: 0 });

    const changed = await queue(owner, lines(1700, 742), run, true).catch((e: Error) => e);
    expect((changed as Error).message).toBe(`in.jsonl:743 changed since run ${run} answered it; a resumed run must read the same lines`);
    const other = await queue(stranger, lines(1700), run, true).catch((e: Error) => e);
    expect((other as Error).message).toBe(`bulk run ${run} not found`);
    expect((await sql.query(`SELECT count(*)::int AS n FROM requests WHERE idempotency_key LIKE $1`, [`${run}:%`])).rows[0].n).toBe(1000);

    const resumed = await queue(owner, lines(1700), run, true);
    expect(resumed).toMatchObject({ queued: 700, repeats: 1000 });
    expect(resumed.out.map((q) => q.index)).toEqual(Array.from({ length: 1700 }, (_, i) => i));
    expect(resumed.out.slice(0, 1000).map((q) => q.requestId)).toEqual(first.out.map((q) => q.requestId));
    expect(resumed.out.every((q, i) => q.repeat === i < 1000)).toBe(true);
    expect((await sql.query(`SELECT count(*)::int AS n FROM requests WHERE idempotency_key LIKE $1 AND queued`, [`${run}:%`])).rows[0].n).toBe(1700);
  });
});
