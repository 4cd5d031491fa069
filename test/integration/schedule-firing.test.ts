import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createStore } from '../../src/db/store.js';
import { fireDueSchedules } from '../../src/core/schedules/fire.js';
import { createTestDatabase } from '../helpers/test-db.js';

/**
 * schedules/fire.ts on a real PostgreSQL: deciders racing (each with its own pool, as two
 * dispatchers would) and a decider with a stale view of the schedule never fire a slot twice,
 * nor lose one.
 */
describe('firing schedules', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: pg.Client;
  const pools: Database[] = [];
  const userId = randomUUID();
  const functionId = randomUUID();
  const log = { debug: () => {} };

  const deciders = async (n: number) => {
    while (pools.length < n) pools.push(await connectDatabase(db.url, log));
    return pools.slice(0, n).map((conn) => ({ store: createStore(conn), newId: randomUUID }));
  };
  /** A schedule every second whose slots from `dueSeconds` ago to now are due. */
  const schedule = async (catchUp: string, overlap: string, dueSeconds: number) => {
    const id = randomUUID();
    await sql.query(
      `INSERT INTO schedules (id, user_id, function_id, name, kind, expression, tz, data, anchor_at, overlap, catch_up, next_slot_at)
       VALUES ($1, $2, $3, $4, 'every', '1000', 'UTC', '{"n": 1}', date_trunc('second', now()) - $5 * interval '1 second', $6, $7, date_trunc('second', now()) - $5 * interval '1 second')`,
      [id, userId, functionId, `s-${id.slice(0, 8)}`, dueSeconds, overlap, catchUp],
    );
    return id;
  };
  const slots = async (id: string) =>
    (await sql.query<{ slot: Date; outcome: string; request_id: string | null }>(`SELECT slot_at AS slot, outcome, request_id FROM schedule_slots WHERE schedule_id = $1 ORDER BY slot_at`, [id])).rows;
  const requests = async (id: string) =>
    (
      await sql.query<{ id: string; slot: string; queued: boolean; status: string; input: string }>(
        `SELECT id, params->>'slot' AS slot, queued, status, input FROM requests WHERE params->>'scheduleId' = $1 ORDER BY params->>'slot'`,
        [id],
      )
    ).rows;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    const conn = await connectDatabase(db.url, log);
    await applyMigrations(conn);
    await conn.close();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    await sql.query(`INSERT INTO users (id, name, password_hash) VALUES ($1, 'sched', 'x')`, [userId]);
    await sql.query(`INSERT INTO functions (id, user_id, name) VALUES ($1, $2, 'job')`, [functionId, userId]);
    await sql.query(
      `INSERT INTO function_versions (function_id, version, code, sha256, memory_bytes, nano_cpus, timeout_ms) VALUES ($1, 1, 'def main(a):\n    return a\n', 'sha', 268435456, 1000000000, 30000)`,
      [functionId],
    );
  });
  beforeEach(async () => {
    await sql.query(`DELETE FROM schedules`);
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    await sql?.end();
    await db?.drop();
  });

  it('four deciders racing over 30 due slots (catch-up all) fire each slot exactly once, with one queued request each', async () => {
    const id = await schedule('all', 'allow', 29);
    const racers = await deciders(4);
    await Promise.all(
      racers.map(async (d) => {
        for (let i = 0; i < 3; i++) await fireDueSchedules(d);
      }),
    );
    const decided = await slots(id);
    expect(decided.length).toBeGreaterThanOrEqual(30);
    expect(decided.every((s) => s.outcome === 'fired')).toBe(true);
    for (let i = 1; i < decided.length; i++) expect(decided[i]!.slot.getTime() - decided[i - 1]!.slot.getTime()).toBe(1000);
    const runs = await requests(id);
    expect(runs.map((r) => r.slot)).toEqual(decided.map((s) => s.slot.toISOString()));
    expect(runs.map((r) => r.id).sort()).toEqual(decided.map((s) => s.request_id).sort());
    expect(runs.every((r) => r.queued && r.status === 'pending' && r.input === '{"n": 1}')).toBe(true);
  });

  it('a decider that sees a stale next slot (as a leader cut off mid-way might) fires nothing already decided', async () => {
    const id = await schedule('all', 'allow', 9);
    const [d] = await deciders(1);
    await fireDueSchedules(d!);
    const before = (await slots(id)).length;
    expect(before).toBeGreaterThanOrEqual(10);
    // Turn the schedule back to its first slot: only the (schedule, slot) key stands between it and a second run.
    await sql.query(`UPDATE schedules SET next_slot_at = anchor_at WHERE id = $1`, [id]);
    await fireDueSchedules(d!);
    const after = await slots(id);
    expect(after.slice(0, before)).toEqual((await slots(id)).slice(0, before));
    expect((await requests(id)).length).toBe(after.length);
    expect(new Set((await requests(id)).map((r) => r.slot)).size).toBe(after.length);
  });

  it('catch-up none: missed slots are recorded skipped, without a request; only the current one runs', async () => {
    const id = await schedule('none', 'allow', 20);
    const [d] = await deciders(1);
    await fireDueSchedules(d!);
    const decided = await slots(id);
    const fired = decided.filter((s) => s.outcome === 'fired');
    expect(fired.length).toBe(1);
    expect(fired[0]).toEqual(decided.at(-1));
    expect(decided.filter((s) => s.outcome === 'skipped').every((s) => s.request_id === null)).toBe(true);
    expect((await requests(id)).length).toBe(1);
  });

  it('overlap queue: fires the first due slot, then waits while its run is open, and fires the next once it ended', async () => {
    const id = await schedule('all', 'queue', 2);
    const [d] = await deciders(1);
    await fireDueSchedules(d!);
    const [first, ...rest] = await requests(id);
    expect(rest).toEqual([]);
    await fireDueSchedules(d!);
    expect((await slots(id)).length).toBe(1);
    await sql.query(`UPDATE requests SET status = 'success', finished_at = now() WHERE id = $1`, [first!.id]);
    await fireDueSchedules(d!);
    const decided = await slots(id);
    expect(decided.map((s) => s.outcome)).toEqual(['fired', 'fired']);
    expect(decided[1]!.slot.getTime() - decided[0]!.slot.getTime()).toBe(1000);
  });

  it('a function deleted takes its schedules and their slots with it; its queued requests stay', async () => {
    const id = await schedule('all', 'allow', 2);
    const [d] = await deciders(1);
    await fireDueSchedules(d!);
    const runs = (await requests(id)).length;
    expect(runs).toBeGreaterThan(0);
    const other = randomUUID();
    await sql.query(`INSERT INTO functions (id, user_id, name) VALUES ($1, $2, 'gone')`, [other, userId]);
    await sql.query(`UPDATE schedules SET function_id = $2 WHERE id = $1`, [id, other]);
    await sql.query(`DELETE FROM functions WHERE id = $1`, [other]);
    expect((await sql.query(`SELECT 1 FROM schedules WHERE id = $1`, [id])).rowCount).toBe(0);
    expect((await slots(id)).length).toBe(0);
    expect((await requests(id)).length).toBe(runs);
  });
});
