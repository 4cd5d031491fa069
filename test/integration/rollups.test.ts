import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { invocationStats } from '../../src/core/monitoring/stats.js';
import { connectDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { loadMigrations } from '../../src/db/migrations.js';
import { packagePath } from '../../src/base/paths.js';
import type { Completion, RequestItem, RequestStatus } from '../../src/db/requests-repo.js';
import { createStore, type Store } from '../../src/db/store.js';
import { createTestDatabase } from '../helpers/test-db.js';

const made: Array<{ drop(): Promise<void> }> = [];
const opened: Database[] = [];
afterAll(async () => {
  for (const db of opened) await db.close();
  for (const db of made) await db.drop();
});

async function freshDatabase(migrationsUpTo?: number): Promise<{ db: Database; store: Store }> {
  const made_ = await createTestDatabase(inject('databaseUrl'));
  made.push(made_);
  const db = await connectDatabase(made_.url, { debug: () => {} });
  opened.push(db);
  const all = await loadMigrations(packagePath('migrations'));
  await applyMigrations(db, migrationsUpTo === undefined ? all : all.filter((m) => m.version <= migrationsUpTo));
  return { db, store: createStore(db) };
}

const HOUR = 3_600_000;
const STATUSES: Array<Completion['status']> = ['success', 'success', 'success', 'success', 'success', 'success', 'application_error', 'developer_error', 'system_error'];
const MODES = ['cold', 'warm'] as const;

/** A fixed pseudo-random sequence, so a failure can be replayed. */
function generator(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

interface Invocation {
  name: string;
  status: RequestStatus;
  mode: 'cold' | 'warm';
  durationMs: number;
  cpuMs: number;
  maxRssKb: number;
  at: Date;
}

/**
 * Writes invocations the way the CLI does (an open row, then complete(); a bulk run's answers
 * through insertItems()), each dated `at` by moving its row's created_at before it ends.
 */
async function record(db: Database, store: Store, userId: string, list: Invocation[], bulkEvery: number): Promise<void> {
  for (let i = 0; i < list.length; i++) {
    const inv = list[i]!;
    const id = randomUUID();
    if (bulkEvery && i % bulkEvery === 0) {
      await store.requests.insert({ id, userId, type: 'fn.invoke.bulk', status: 'running', functionName: inv.name, mode: inv.mode, deadlineMs: 60_000 });
      await db.query('UPDATE requests SET created_at = $2 WHERE id = $1', [id, inv.at]);
      const item: RequestItem = {
        index: 0,
        version: 1,
        status: inv.status as Completion['status'],
        result: null,
        error: null,
        output: '',
        attempts: 1,
        durationMs: inv.durationMs,
        cpuMs: inv.cpuMs,
        maxRssKb: inv.maxRssKb,
      };
      await store.requests.insertItems(id, [item]);
      await store.requests.insertItems(id, [item]); // a repeated batch: stored once, counted once
      await store.requests.complete(id, {
        status: 'success',
        result: null,
        error: null,
        output: '',
        outputTruncated: false,
        durationMs: 1,
        cpuMs: null,
        maxRssKb: null,
        node: null,
        finishedAt: new Date(),
      });
      continue;
    }
    await store.requests.insert({ id, userId, type: 'fn.invoke', status: 'running', functionName: inv.name, mode: inv.mode, deadlineMs: 60_000 });
    await db.query('UPDATE requests SET created_at = $2 WHERE id = $1', [id, inv.at]);
    const completion: Completion = {
      status: inv.status as Completion['status'],
      result: null,
      error: null,
      output: 'x',
      outputTruncated: false,
      durationMs: inv.durationMs,
      cpuMs: inv.cpuMs,
      maxRssKb: inv.maxRssKb,
      node: 'n1',
      finishedAt: new Date(),
    };
    expect(await store.requests.complete(id, completion)).toBe(true);
    expect(await store.requests.complete(id, completion)).toBe(false); // a second ending changes nothing, its rollup included
  }
}

/** Finished rows as a build of schema 7 stored them: plain SQL, no rollups yet; every fifth a bulk answer. */
async function recordAsVersion7(db: Database, userId: string, list: Invocation[]): Promise<void> {
  for (const [i, inv] of list.entries()) {
    const id = randomUUID();
    const bulk = i % 5 === 0;
    await db.query(
      `INSERT INTO requests (id, user_id, type, status, function_name, mode, duration_ms, cpu_ms, max_rss_kb, created_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())`,
      bulk
        ? [id, userId, 'fn.invoke.bulk', 'success', inv.name, inv.mode, 1, null, null, inv.at]
        : [id, userId, 'fn.invoke', inv.status, inv.name, inv.mode, inv.durationMs, inv.cpuMs, inv.maxRssKb, inv.at],
    );
    if (bulk)
      await db.query(`INSERT INTO request_items (request_id, idx, status, duration_ms, cpu_ms, max_rss_kb) VALUES ($1, 0, $2, $3, $4, $5)`, [id, inv.status, inv.durationMs, inv.cpuMs, inv.maxRssKb]);
  }
}

function invocations(count: number, now: number, spanMs: number, seed: number): Invocation[] {
  const random = generator(seed);
  return Array.from({ length: count }, (_, i) => ({
    name: i % 3 ? 'alpha' : 'beta',
    status: STATUSES[Math.floor(random() * STATUSES.length)]!,
    mode: MODES[Math.floor(random() * 2)]!,
    durationMs: Math.exp(Math.log(2) + random() * 6),
    cpuMs: random() * 50,
    maxRssKb: 10_000 + Math.floor(random() * 90_000),
    at: new Date(now - random() * spanMs),
  }));
}

/** What stats must say, computed here from the list: exact counts, nearest-rank percentiles. */
function expected(list: Invocation[], name: string, since: Date) {
  const mine = list.filter((i) => i.name === name && i.at >= since);
  const d = mine.map((i) => i.durationMs).sort((a, b) => a - b);
  const rank = (p: number) => d[Math.max(1, Math.ceil(p * d.length)) - 1]!;
  const count = (s: RequestStatus) => mine.filter((i) => i.status === s).length;
  return {
    counts: {
      name,
      invocations: mine.length,
      succeeded: count('success'),
      applicationErrors: count('application_error'),
      developerErrors: count('developer_error'),
      systemErrors: count('system_error'),
      cold: mine.filter((i) => i.mode === 'cold').length,
      warm: mine.filter((i) => i.mode === 'warm').length,
      peakRssKb: Math.max(...mine.map((i) => i.maxRssKb)),
    },
    meanCpuMs: mine.reduce((s, i) => s + i.cpuMs, 0) / mine.length,
    p50: rank(0.5),
    p95: rank(0.95),
    p99: rank(0.99),
  };
}

async function expectStatsMatch(store: Store, userId: string, list: Invocation[], since: Date, until: Date) {
  const report = await invocationStats(store, { id: userId, name: 'roll-user' }, { since, until });
  expect(report.percentilesExact).toBe(false);
  for (const name of ['alpha', 'beta']) {
    const want = expected(list, name, since);
    const got = report.functions.find((f) => f.name === name)!;
    expect(got).toMatchObject(want.counts);
    expect(got.meanCpuMs).toBeCloseTo(want.meanCpuMs, 6);
    // The histogram's answer for the rank's duration: within 1% of it.
    for (const [key, value] of [
      ['p50Ms', want.p50],
      ['p95Ms', want.p95],
      ['p99Ms', want.p99],
    ] as const)
      expect(Math.abs(got[key]! - value) / value, `${name} ${key}`).toBeLessThanOrEqual(0.01);
    expect(got.timeline.reduce((n, p) => n + p.invocations, 0)).toBe(want.counts.invocations);
  }
}

async function createUser(db: Database): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO users (id, name, password_hash) VALUES ($1, 'roll-user', 'unused')`, [id]);
  return id;
}

/**
 * Rollups (issue 24): stats over a window holding whole hours and days reads them, and agrees
 * with the raw rows: the same counts, sums and peaks, percentiles within 1%, whether the rows
 * were rolled up as they ended or backfilled by the migration from rows stored before it.
 */
describe('request rollups', () => {
  it('are written as invocations end and give the raw rows’ figures over days, hours and partial hours', async () => {
    const { db, store } = await freshDatabase();
    const userId = await createUser(db);
    const now = Date.now();
    const list = invocations(400, now, 3 * 24 * HOUR, 7);
    await record(db, store, userId, list, 9);
    // Not on an hour: partial hours at both ends come from raw rows, whole days from day rollups.
    await expectStatsMatch(store, userId, list, new Date(now - 50 * HOUR - 1234), new Date(now + 1));
    await expectStatsMatch(store, userId, list, new Date(now - 5 * HOUR - 999), new Date(now + 1));
    const [{ n }] = await db.query<{ n: number }>(`SELECT sum(invocations)::int AS n FROM request_rollups WHERE grain = 'day'`);
    expect(n).toBe(list.length);
  });

  it('are backfilled by the migration from the rows stored before it', async () => {
    const { db, store } = await freshDatabase(7);
    const userId = await createUser(db);
    const now = Date.now();
    const list = invocations(300, now, 2 * 24 * HOUR, 11);
    await recordAsVersion7(db, userId, list);
    await applyMigrations(db);
    await expectStatsMatch(store, userId, list, new Date(now - 40 * HOUR - 77), new Date(now + 1));
  });

  it('leave a window without a whole hour to the raw rows, with exact percentiles', async () => {
    const { db, store } = await freshDatabase();
    const userId = await createUser(db);
    const now = new Date();
    const report = await invocationStats(store, { id: userId, name: 'roll-user' }, { since: new Date(now.getTime() - 30 * 60_000), until: now });
    expect(report.percentilesExact).toBe(true);
    expect(report.functions).toEqual([]);
  });
});
