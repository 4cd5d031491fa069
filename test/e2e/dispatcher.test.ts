import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliResult, isolatedEnv, runCli, scratchDir } from '../helpers/cli.js';
import { cleansUpAfterEach, query } from '../helpers/leftovers.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/** Fails its first two calls in each worker process, then succeeds: a warm replica keeps the count. */
const FLAKY = `calls = 0

def main(args):
    global calls
    calls += 1
    if calls < 3:
        raise RuntimeError("not yet (call %d)" % calls)
    return {"calls": calls}
`;

const ALWAYS_FAILS = `def main(args):
    raise ValueError("bad order %s" % args)
`;

const FIXED = `def main(args):
    return {"fixed": args}
`;

const SLOW = `import time

def main(args):
    time.sleep(1.5)
    return args
`;

const NAP = `import time

def main(args):
    time.sleep(4)
    return "rested"
`;

const ECHO = `def main(args):
    return args
`;

/**
 * The dispatcher (issue 20) through the built binary, as `up --dispatcher` runs it: a Swarm
 * service from an image of faasctl itself, on the real engine and PostgreSQL.
 */
describe('the dispatcher', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string | undefined>;
  const { file } = scratchDir('faasctl-dispatcher-');
  const cli = (args: string[], input?: string) => runCli(args, { env, input, timeoutMs: 180_000 });
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async (args: string[], input?: string) => JSON.parse(ok(await cli(['--json', ...args], input)).stdout);
  const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => query<T>(db.url, sql, params);
  const leaderName = async () => JSON.parse((await rows<{ value: string }>(`SELECT value FROM faasctl_meta WHERE key = 'dispatcher_leader'`))[0]!.value).holder as string;
  /** SIGKILL of the leading task's container (its Swarm task name is its holder name); answers that name. */
  const killLeader = async () => {
    const leader = await leaderName();
    const [container] = await docker.listContainers({ filters: JSON.stringify({ name: [leader] }) });
    expect(container, `the leader's container (${leader})`).toBeDefined();
    await docker.getContainer(container!.Id).kill();
    return leader;
  };
  const ended = async (ids: string[]) => {
    const open = await rows<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'running')`, [ids]);
    return open[0]!.n === 0;
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    env = isolatedEnv({ FAASCTL_DATABASE_URL: db.url, FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm' });
    const up = await runCli(['up', '--dispatcher', '--dispatcher-replicas', '2'], { env, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    ok(await cli(['user', 'create', 'dispatch-user', '--password-stdin'], 'dispatch-user-pass'));
    ok(await cli(['login', 'dispatch-user', '--password-stdin'], 'dispatch-user-pass'));
  }, 360_000);
  cleansUpAfterEach(() => ({ db, env }));
  // Registered after cleansUpAfterEach, so it runs first: the service goes before its database.
  afterAll(async () => {
    const down = await runCli(['up', '--no-dispatcher'], { env, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    const installation = (await rows<{ value: string }>(`SELECT value FROM faasctl_meta WHERE key = 'installation_id'`))[0]!.value;
    const left = await docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.installation=${installation}`, 'io.faasctl.component=dispatcher'] }) } as object);
    expect(left).toEqual([]);
  }, 180_000);

  it('retries a function that fails twice, with backoff, and records every attempt', async () => {
    ok(await cli(['fn', 'deploy', file('flaky.py', FLAKY), '--warm', '1', '--workers', '1']));
    expect(await json(['fn', 'policy', 'flaky', '--retry-on-error'])).toMatchObject({ retries: 2, retryOnError: true });
    const queued = await json(['fn', 'invoke', 'flaky', '--async']);
    expect(queued).toMatchObject({ status: 'pending', queued: true });
    expect(await json(['request', 'wait', queued.requestId])).toMatchObject({ status: 'success', result: { calls: 3 } });
    const shown = await json(['request', 'show', queued.requestId]);
    expect(shown).toMatchObject({ attempt: 3, queued: true, deadAt: null });
    expect(shown.attempts.map((a: { status: string }) => a.status)).toEqual(['application_error', 'application_error', 'success']);
    expect(shown.attempts[0].error).toContain('not yet (call 1)');
    // The policy's backoff: at least half of one second before the second attempt, of two before the third.
    const starts = shown.attempts.map((a: { startedAt: string }) => Date.parse(a.startedAt));
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(500);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(1000);
    ok(await cli(['fn', 'delete', 'flaky']));
  });

  it('makes a request that fails after its retries a dead letter; redrive runs it again, purge forgets one', async () => {
    ok(await cli(['fn', 'deploy', file('orders.py', ALWAYS_FAILS)]));
    ok(await cli(['fn', 'policy', 'orders', '--retries', '1', '--retry-on-error']));
    const first = (await json(['fn', 'invoke', 'orders', '--async', '--data', '{"n": 1}'])).requestId;
    const second = (await json(['fn', 'invoke', 'orders', '--async', '--data', '{"n": 2}'])).requestId;
    await waitFor('both requests to end', () => ended([first, second]), 90_000);
    const dead = await json(['dlq', 'ls', '--fn', 'orders']);
    expect(dead.map((d: { id: string }) => d.id).sort()).toEqual([first, second].sort());
    expect(dead[0]).toMatchObject({ status: 'application_error', attempts: 2 });
    expect(ok(await cli(['request', 'show', first])).stdout).toMatch(/dead letter\s+since/);

    ok(await cli(['fn', 'update', 'orders', file('orders.py', FIXED)]));
    const [redriven] = await json(['dlq', 'redrive', first]);
    expect(redriven.from).toBe(first);
    expect(await json(['request', 'wait', redriven.requestId])).toMatchObject({ status: 'success', result: { fixed: { n: 1 } } });
    expect(await json(['request', 'show', first])).toMatchObject({ redrivenAs: redriven.requestId });
    expect(await json(['request', 'show', redriven.requestId])).toMatchObject({ redriveOf: first, functionVersion: 2 });

    expect(await json(['dlq', 'purge', '--all', '--fn', 'orders'])).toEqual({ purged: 1 });
    expect(await json(['dlq', 'ls'])).toEqual([]);
    const again = await cli(['dlq', 'redrive', second]);
    expect(again.code).toBe(3);
    ok(await cli(['fn', 'delete', 'orders']));
  });

  it('never runs more than --max-concurrency at once, on the sync and the queued path; --no-queue fails fast with exit 9', async () => {
    const deployed = await json(['fn', 'deploy', file('slow.py', SLOW)]);
    ok(await cli(['fn', 'policy', 'slow', '--max-concurrency', '2']));
    const fnId = (await rows<{ id: string }>(`SELECT id FROM functions WHERE name = 'slow'`))[0]!.id;
    expect(deployed.name).toBe('slow');
    let most = 0;
    let sampling = true;
    let sawFull = false;
    const sampler = (async () => {
      while (sampling) {
        const services = await docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.function=${fnId}`] }) } as object);
        most = Math.max(most, services.length);
        if (services.length === 2) sawFull = true;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const queued = await Promise.all([1, 2, 3].map((i) => json(['fn', 'invoke', 'slow', '--async', '--data', String(i)])));
    const sync = Promise.all([4, 5, 6, 7, 8, 9, 10].map((i) => cli(['--json', 'fn', 'invoke', 'slow', '--data', String(i)])));
    await waitFor('two invocations of slow running', async () => sawFull, 60_000);
    const refused = await cli(['fn', 'invoke', 'slow', '--no-queue', '--data', '0']);
    const answers = await sync;
    await waitFor('the queued requests to end', () => ended(queued.map((q) => q.requestId)), 120_000);
    sampling = false;
    await sampler;
    for (const a of answers) expect(a.code, a.stderr).toBe(0);
    expect(answers.map((a) => JSON.parse(a.stdout).result).sort()).toEqual([10, 4, 5, 6, 7, 8, 9]);
    for (const q of queued) expect(await json(['request', 'show', q.requestId])).toMatchObject({ status: 'success' });
    expect(most).toBe(2);
    // Usually refused; if a slot was free at that moment it ran, which is right too.
    if (refused.code !== 0) {
      expect(refused.code).toBe(9);
      expect(refused.stderr).toMatch(/concurrency limit reached \(slow runs at most 2 at once\)/);
    }
    ok(await cli(['fn', 'delete', 'slow']));
  });

  it('answers a repeat of an idempotency key with the first request, and refuses the key with another input', async () => {
    ok(await cli(['fn', 'deploy', file('echo.py', ECHO)]));
    const first = await json(['fn', 'invoke', 'echo', '--data', '{"order": 7}', '--idempotency-key', 'order-7']);
    const repeat = await cli(['--json', 'fn', 'invoke', 'echo', '--data', '{"order": 7}', '--idempotency-key', 'order-7']);
    expect(JSON.parse(ok(repeat).stdout)).toMatchObject({ requestId: first.requestId, status: 'success', result: { order: 7 } });
    expect(repeat.stderr).toContain('a repeat of idempotency key "order-7"; nothing new ran');
    const other = await cli(['--json', 'fn', 'invoke', 'echo', '--data', '{"order": 8}', '--idempotency-key', 'order-7']);
    expect(other.code).toBe(2);
    expect(JSON.parse(other.stdout).error).toMatchObject({ code: 'idempotency_conflict' });
    const asyncFirst = await json(['fn', 'invoke', 'echo', '--async', '--data', '1', '--idempotency-key', 'job-1']);
    const asyncRepeat = await json(['fn', 'invoke', 'echo', '--async', '--data', '1', '--idempotency-key', 'job-1']);
    expect(asyncRepeat.requestId).toBe(asyncFirst.requestId);
    await json(['request', 'wait', asyncFirst.requestId]);
    const keyed = await rows<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE idempotency_key IN ('order-7', 'job-1')`);
    expect(keyed[0]!.n).toBe(2);
    ok(await cli(['fn', 'delete', 'echo']));
  });

  it('adopts a cold attempt whose service still runs when the leader is killed: recorded once, not run again', async () => {
    ok(await cli(['fn', 'deploy', file('nap.py', NAP)]));
    const { requestId } = await json(['fn', 'invoke', 'nap', '--async']);
    const running = async () => {
      const [service] = await docker.listServices({ filters: JSON.stringify({ label: [`io.faasctl.request=${requestId}`] }) } as object);
      if (!service) return false;
      const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [service.ID] }) } as object);
      return tasks.some((t) => t.Status?.State === 'running');
    };
    await waitFor('the attempt to run', running, 60_000);
    await killLeader();
    expect(await json(['request', 'wait', requestId])).toMatchObject({ status: 'success', result: 'rested', attempt: 1 });
    expect(await json(['request', 'show', requestId])).toMatchObject({ attempt: 1, attempts: [] });
    ok(await cli(['fn', 'delete', 'nap']));
  });

  it('answers every line of a 500-line async bulk run exactly once when the leading task is killed mid-way; the standby takes over', async () => {
    ok(await cli(['fn', 'deploy', file('square.py', 'import time\n\ndef main(n):\n    time.sleep(0.05)\n    return n * n\n'), '--warm', '2', '--workers', '2']));
    const lines = Array.from({ length: 500 }, (_, i) => String(i)).join('\n');
    const queuedRun = ok(await cli(['fn', 'invoke', 'square', '--bulk', '-', '--async'], lines));
    const queued = queuedRun.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; requestId: string });
    expect(queued.map((q) => q.index)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    const ids = queued.map((q) => q.requestId);
    const done = async () => (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) AND status = 'success'`, [ids]))[0]!.n;
    await waitFor('60 lines answered', async () => (await done()) >= 60, 120_000);
    const leader = await killLeader();
    await waitFor('every line to end', () => ended(ids), 180_000);
    const statuses = await rows<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) GROUP BY status`, [ids]);
    expect(statuses).toEqual([{ status: 'success', n: 500 }]);
    const results = await rows<{ result: number; idx: string }>(`SELECT result, params->>'bulkIndex' AS idx FROM requests WHERE id = ANY($1::uuid[])`, [ids]);
    for (const r of results) expect(r.result).toBe(Number(r.idx) ** 2);
    // Another task led after the kill.
    await waitFor('a new leader', async () => (await leaderName()) !== leader, 30_000);
    ok(await cli(['fn', 'delete', 'square']));
  });

  // Last: with a pool, this installation's cold attempts would run in it.
  it('runs queued cold attempts in waiting pool containers, one each, with their answers', async () => {
    ok(await cli(['pool', 'resize', '3']));
    try {
      ok(await cli(['fn', 'deploy', file('echo.py', ECHO)]));
      const queued = ok(await cli(['fn', 'invoke', 'echo', '--bulk', '-', '--async'], '"a"\n"b"\n"c"\n'))
        .stdout.trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { requestId: string }).requestId);
      await waitFor('the three to end', () => ended(queued), 120_000);
      const ran = await rows<{ status: string; mode: string; result: string; pool_task: string }>(
        `SELECT status, mode, result, pool_task FROM requests WHERE id = ANY($1::uuid[]) ORDER BY params->>'bulkIndex'`,
        [queued],
      );
      expect(ran.map((r) => [r.status, r.mode, r.result])).toEqual([
        ['success', 'pool', 'a'],
        ['success', 'pool', 'b'],
        ['success', 'pool', 'c'],
      ]);
      expect(new Set(ran.map((r) => r.pool_task)).size).toBe(3);
      ok(await cli(['fn', 'delete', 'echo']));
    } finally {
      ok(await cli(['pool', 'drain']));
    }
  });
});
