// The sandbox pool (issue 23), against today's cold path in the same run:
// - one cold fn invoke at a time through a warm pool vs --isolation service: p50/p99 of the
//   invocation's latency inside the CLI (`latencyMs` of fn invoke --json: from looking the
//   function up to the answer, the same span on both paths; the node process's start is not in
//   it) and of the CLI's wall time, each call once the pool is whole again (see settled());
// - 50 concurrent cold invocations of a 50 ms function: the batch's wall time, p50/p99 each,
//   through a pool sized to the burst (50);
// - the sustained rate of fresh-container invocations (4 callers in a loop) with the pool's size
//   and its memory per waiting container;
// - the same 50 queued at once to the dispatcher, as services vs in the pool;
// - the same with the pool drained (the fallback), so the cost of an empty pool is visible.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { faasctlAsync, mustFaasctl, requireDep, withPlatform } from './platform.mjs';
import { drained } from './dispatch.mjs';
import { median, ms, percentile } from './stats.mjs';

const POOL = 8;
const SEQUENTIAL = 10;
const CONCURRENT = 50;
/** The burst's pool: one container per concurrent call, as an operator sizes a pool to its bursts. */
const BURST_POOL = CONCURRENT;
const RATE_CALLERS = 4;
const RATE_CALLS = 32;

/** One CLI run; under the 50-at-once load a run may fail (counted, its error kept, not thrown). */
async function invoke(env, name, isolation) {
  const r = await faasctlAsync(env, ['--json', 'fn', 'invoke', name, ...(isolation ? ['--isolation', isolation] : []), '--data', '{"numbers": [1, 2]}']);
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = { error: { message: r.stderr.trim() } };
  }
  if (r.status !== 0) return { wall: r.wall, duration: NaN, mode: out.mode, failed: `exit ${r.status}: ${out.error?.message ?? ''}` };
  return { wall: r.wall, duration: out.latencyMs, mode: out.mode };
}

const failures = (runs) => {
  const failed = runs.filter((r) => r.failed);
  return failed.length ? { failed: failed.length, firstError: failed[0].failed } : { failed: 0 };
};
const ok = (runs) => runs.filter((r) => !r.failed);

/**
 * "Through a warm pool": each call starts once the pool is whole again and its containers are up,
 * so a call does not share the two CPUs with the restart of the container the last call used
 * (that refill is what the sustained rate measures). The service path waits the same way.
 */
async function settled(size) {
  const docker = new (requireDep('dockerode'))({ socketPath: '/var/run/docker.sock' });
  const running = async () => (await docker.listTasks({ filters: { label: ['io.faasctl.component=pool'], 'desired-state': ['running'] } })).filter((t) => t.Status?.State === 'running').length;
  for (let steady = 0; steady < 3; ) {
    steady = (await running()) >= size ? steady + 1 : 0;
    await new Promise((r) => setTimeout(r, 200));
  }
  // A container prints its token before its function process has started: let that finish too.
  await new Promise((r) => setTimeout(r, 500));
}

async function sequential(env, name, isolation, poolSize = POOL) {
  const runs = [];
  for (let i = 0; i < SEQUENTIAL + 2; i++) {
    await settled(poolSize);
    const r = await invoke(env, name, isolation);
    if (i >= 2) runs.push(r); // two warm-ups
  }
  return runs;
}

async function concurrent(env, name, isolation) {
  const started = process.hrtime.bigint();
  const runs = await Promise.all(Array.from({ length: CONCURRENT }, () => invoke(env, name, isolation)));
  return { batch: Number(process.hrtime.bigint() - started) / 1e6, runs };
}

async function rate(env, name, isolation) {
  const started = process.hrtime.bigint();
  let left = RATE_CALLS;
  const modes = [];
  await Promise.all(
    Array.from({ length: RATE_CALLERS }, async () => {
      while (left-- > 0) modes.push((await invoke(env, name, isolation)).mode);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: RATE_CALLS / seconds, pooled: modes.filter((m) => m === 'pool').length };
}

/**
 * The same 50 invocations through one long-running client: queued at once (`fn invoke --bulk
 * FILE --async`, one request a line) and run by the dispatcher (8 attempts at a time, its
 * default) in pool containers, or, for a function deployed `--isolation service`, as one service
 * each. The batch's wall is from the submit to the last request's end; each invocation's latency
 * is its row's end minus its creation.
 */
async function viaDispatcher(env, name, inputs) {
  const started = performance.now();
  const q = mustFaasctl(env, ['fn', 'invoke', name, '--bulk', inputs, '--async']);
  const ids = q.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).requestId);
  await drained(env.FAASCTL_DATABASE_URL, ids);
  const batch = performance.now() - started;
  const pg = requireDep('pg');
  const client = new pg.Client({ connectionString: env.FAASCTL_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT mode, (extract(epoch FROM finished_at - created_at) * 1000)::float8 AS ms FROM requests WHERE id = ANY($1::uuid[])`, [ids]);
    return { batch, runs: rows.map((r) => ({ wall: r.ms, mode: r.mode })) };
  } finally {
    await client.end();
  }
}

const stats = (runs, key) => ({
  p50: median(ok(runs).map((r) => r[key])),
  p99: percentile(
    ok(runs).map((r) => r[key]),
    99,
  ),
});

export function benchPool() {
  return withPlatform('pool', async ({ env, dir, runLabel, atExit }) => {
    const sum = join(dir, 'bench_pool_sum.py');
    const nap = join(dir, 'bench_pool_nap.py');
    writeFileSync(sum, `def main(data):\n    return {"sum": sum(data["numbers"])}\n# faasctl bench run ${runLabel}\n`);
    writeFileSync(nap, `import time\ndef main(data):\n    time.sleep(0.05)\n    return 1\n# faasctl bench run ${runLabel}\n`);
    atExit(() => mustFaasctl(env, ['pool', 'drain'], undefined, [0, 1, 3, 8]));
    atExit(() => mustFaasctl(env, ['fn', 'delete', 'bench-pool-sum', '--force'], undefined, [0, 3]));
    atExit(() => mustFaasctl(env, ['fn', 'delete', 'bench-pool-nap', '--force'], undefined, [0, 3]));
    mustFaasctl(env, ['fn', 'deploy', sum, '--name', 'bench-pool-sum', '--no-import-check']);
    mustFaasctl(env, ['fn', 'deploy', nap, '--name', 'bench-pool-nap', '--no-import-check']);
    mustFaasctl(env, ['pool', 'resize', String(POOL)]);

    const cold = await sequential(env, 'bench-pool-sum', 'service');
    const pooled = await sequential(env, 'bench-pool-sum', 'pool');
    const c = stats(cold, 'duration');
    const p = stats(pooled, 'duration');
    const cw = stats(cold, 'wall');
    const pw = stats(pooled, 'wall');
    const [shown] = JSON.parse(mustFaasctl(env, ['--json', 'pool', 'show']).stdout);
    const memory = shown?.idleMemoryBytes ? `${(shown.idleMemoryBytes / 1048576).toFixed(1)} MiB` : 'not measured';

    await settled(POOL);
    const burstCold = await concurrent(env, 'bench-pool-nap', 'service');
    mustFaasctl(env, ['pool', 'resize', String(BURST_POOL)]);
    await settled(BURST_POOL);
    const burstPool = await concurrent(env, 'bench-pool-nap', undefined);
    // The same burst through the dispatcher: services (a function deployed --isolation service) vs the pool.
    mustFaasctl(env, ['up', '--dispatcher']);
    atExit(() => mustFaasctl(env, ['up', '--no-dispatcher']));
    atExit(() => mustFaasctl(env, ['fn', 'delete', 'bench-pool-napsvc', '--force'], undefined, [0, 3]));
    mustFaasctl(env, ['fn', 'deploy', nap, '--name', 'bench-pool-napsvc', '--no-import-check', '--isolation', 'service']);
    const lines = join(dir, 'bench_pool_burst.jsonl');
    writeFileSync(lines, `${Array.from({ length: CONCURRENT }, (_, i) => JSON.stringify({ i })).join('\n')}\n`);
    await settled(BURST_POOL);
    const queuedCold = await viaDispatcher(env, 'bench-pool-napsvc', lines);
    await settled(BURST_POOL);
    const queuedPool = await viaDispatcher(env, 'bench-pool-nap', lines);
    mustFaasctl(env, ['pool', 'resize', String(POOL)]);
    await settled(POOL);
    const rPool = await rate(env, 'bench-pool-nap', undefined);
    mustFaasctl(env, ['pool', 'drain']);
    const emptied = await sequential(env, 'bench-pool-sum', undefined, 0);
    const e = stats(emptied, 'duration');
    const rEmpty = await rate(env, 'bench-pool-nap', undefined);

    const bc = stats(burstCold.runs, 'wall');
    const bp = stats(burstPool.runs, 'wall');
    return [
      { name: 'pool: cold invoke via a service (floor), latency p50', median: c.p50, ratio: 1, display: ms(c.p50), detail: { p99: c.p99, wallP50: cw.p50 } },
      {
        name: 'pool: cold invoke via the pool, latency p50',
        median: p.p50,
        ratio: p.p50 / c.p50,
        target: 0.15,
        goal: { text: 'p50 <= 100 ms', met: p.p50 <= 100 },
        display: ms(p.p50),
        detail: { p99: p.p99, wallP50: pw.p50, wallP99: pw.p99, pooled: pooled.filter((r) => r.mode === 'pool').length, of: pooled.length },
      },
      { name: 'pool: cold invoke via the pool, latency p99', median: p.p99, ratio: p.p99 / c.p99, display: ms(p.p99) },
      { name: 'pool: CLI wall, pool vs service (p50)', median: pw.p50, ratio: pw.p50 / cw.p50, display: ms(pw.p50) },
      { name: `pool: ${CONCURRENT} concurrent via services (floor), batch wall`, median: burstCold.batch, ratio: 1, display: ms(burstCold.batch), detail: { ...bc, ...failures(burstCold.runs) } },
      {
        name: `pool: ${CONCURRENT} concurrent via a pool of ${BURST_POOL}, batch wall`,
        median: burstPool.batch,
        ratio: burstPool.batch / burstCold.batch,
        target: 0.2,
        display: ms(burstPool.batch),
        detail: { ...bp, ...failures(burstPool.runs), pooled: burstPool.runs.filter((r) => r.mode === 'pool').length },
      },
      {
        name: `pool: ${CONCURRENT} queued at once, dispatcher + services (floor), batch wall`,
        median: queuedCold.batch,
        ratio: 1,
        display: ms(queuedCold.batch),
        detail: { ...stats(queuedCold.runs, 'wall'), modes: [...new Set(queuedCold.runs.map((r) => r.mode))] },
      },
      {
        name: `pool: ${CONCURRENT} queued at once, dispatcher + a pool of ${BURST_POOL}, batch wall`,
        median: queuedPool.batch,
        ratio: queuedPool.batch / queuedCold.batch,
        target: 0.2,
        display: ms(queuedPool.batch),
        detail: { ...stats(queuedPool.runs, 'wall'), pooled: queuedPool.runs.filter((r) => r.mode === 'pool').length },
      },
      {
        name: `pool: sustained fresh containers/s (pool ${POOL}, ${memory} each waiting)`,
        median: rPool.perSecond,
        ratio: rPool.perSecond / rEmpty.perSecond,
        display: `${rPool.perSecond.toFixed(2)}/s`,
        detail: { pooled: rPool.pooled, of: RATE_CALLS },
      },
      { name: 'pool: sustained invocations/s, pool drained (fallback)', median: rEmpty.perSecond, ratio: 1, display: `${rEmpty.perSecond.toFixed(2)}/s` },
      { name: 'pool: cold invoke, pool drained (fallback), latency p50', median: e.p50, ratio: e.p50 / c.p50, display: ms(e.p50), detail: { p99: e.p99 } },
    ];
  });
}
