// Warm invocations: `faasctl fn invoke --bulk` against a function with running replicas,
// measured against a bare Node HTTP client talking to the same replicas, in the same run,
// interleaved round by round.
//   warm        latency at concurrency 1: faasctl's own per-input round trip (latencyMs in
//               its NDJSON) against a keep-alive GET /healthz of the same replica
//   throughput  invocations/s over 2 replicas x 2 workers: faasctl against bare POST /invoke
//               with the token, at the same concurrency
// Needs the engine in Swarm mode; uses FAASCTL_DATABASE_URL, or a throwaway PostgreSQL.
import { mustFaasctl, withPlatform } from './platform.mjs';
import { deployEcho, parseAnswers, parseSummary, rawClient, replicaTargets, serviceLogTail, sweepFunction, writeInputs } from './replicas.mjs';
import { median, percentile } from './stats.mjs';

const since = (t) => performance.now() - t;

/** `count` sequential calls of `call()`, each timed; returns the latencies in ms. */
async function sequential(count, call) {
  const latencies = new Array(count);
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call(i);
    latencies[i] = since(t);
  }
  return latencies;
}

/** Runs `body` with a warm echo function deployed as `name`; swept off the Swarm at the end. */
function withEcho(tag, name, deployArgs, body) {
  return withPlatform(tag, async (platform) => {
    let target;
    // Registered first so it runs last (clean-up goes in reverse), after deployEcho's fn delete.
    platform.atExit(() => target && sweepFunction(target.functionId, tag));
    deployEcho(platform, name, deployArgs);
    target = await replicaTargets(platform.env, name);
    try {
      return await body(platform, target);
    } catch (err) {
      // A replica that drops a connection says why on its stderr; the service goes with fn delete.
      const tail = await serviceLogTail(target.serviceId).catch((e) => `(no logs: ${e.message})`);
      err.message += `\nlast lines of ${name}'s replicas:\n${tail || '(none)'}`;
      throw err;
    }
  });
}

// ------------------------------------------------------------------ latency

/**
 * `rounds` rounds of `count` inputs each after one warm-up round, interleaved: the floor's
 * GETs, then the same number of raw POST /invoke (the replica's own cost of an invocation,
 * for the breakdown), then one `fn invoke --bulk --concurrency 1` process. The raw client
 * runs in this long-lived process; faasctl is a fresh one each round, so its p99 includes
 * V8 optimising its hot code (on 2 CPUs the compiler thread competes with the replica).
 */
export function benchWarm(count = 5000, rounds = 5) {
  const name = 'bench-echo-warm';
  return withEcho('warm', name, ['--warm', '1'], async ({ env, dir }, target) => {
    const [endpoint] = target.endpoints;
    const client = rawClient(1);
    const inputs = writeInputs(dir, name, count);
    const bodies = Array.from({ length: count }, (_, i) => JSON.stringify({ i }));
    const p = { floor50: [], floor99: [], raw50: [], raw99: [], cli50: [], cli99: [], cliMax: [], wall: [] };
    try {
      for (let round = -1; round < rounds; round++) {
        const floor = await sequential(count, () => client.health(endpoint));
        const raw = await sequential(count, (i) => client.invoke(endpoint, target.token, bodies[i]));
        const r = mustFaasctl(env, ['fn', 'invoke', name, '--bulk', inputs, '--concurrency', '1']);
        const cli = parseAnswers(r.stdout, count).map((a) => a.latencyMs);
        if (parseSummary(r.stderr).mode !== 'warm') throw new Error('fn invoke --bulk did not go to the warm replica');
        if (round < 0) continue; // warm-up: JIT, connections, the replica's workers
        p.floor50.push(percentile(floor, 50)), p.floor99.push(percentile(floor, 99));
        p.raw50.push(percentile(raw, 50)), p.raw99.push(percentile(raw, 99));
        p.cli50.push(percentile(cli, 50)), p.cli99.push(percentile(cli, 99)), p.cliMax.push(Math.max(...cli));
        p.wall.push(r.wall);
      }
    } finally {
      client.close();
    }
    const m = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, median(v)]));
    const detail = { inputs: count, rounds, cliMaxMs: m.cliMax, cliWallMs: m.wall, endpoint: `${endpoint.host}:${endpoint.port}` };
    const row = (label, v, f, extra = {}) => ({ name: `warm: ${label}`, median: v, ratio: v / f, display: ms2(v), ...extra });
    return [
      row('GET /healthz p50 (floor)', m.floor50, m.floor50),
      row('GET /healthz p99 (floor)', m.floor99, m.floor99),
      row('raw POST /invoke p50', m.raw50, m.floor50),
      row('raw POST /invoke p99', m.raw99, m.floor99),
      row('fn invoke --bulk p50', m.cli50, m.floor50, { goal: { text: 'p50 <= 2 ms', met: m.cli50 <= 2 }, detail }),
      row('fn invoke --bulk p99', m.cli99, m.floor99),
    ];
  });
}

const ms2 = (v) => `${v.toFixed(2)} ms`;

// ------------------------------------------------------------------ throughput

/** `count` POST /invoke over `concurrency` loops, each loop keeping to one replica. */
async function rawThroughput(client, target, bodies, concurrency) {
  let next = 0;
  const loop = async (k) => {
    const endpoint = target.endpoints[k % target.endpoints.length];
    while (next < bodies.length) await client.invoke(endpoint, target.token, bodies[next++]);
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, k) => loop(k)));
  return bodies.length / (since(t) / 1000);
}

/**
 * 2 replicas x 2 workers, concurrency 4 (faasctl's default for that: every worker busy).
 * faasctl's rate is answered / the duration its summary prints (the run inside the CLI:
 * request row, replica lookup, dispatch, answers written); the rate over the process's wall
 * time (start-up, login check and reading the file too) is in the detail.
 */
export function benchThroughput(count = 20000, rounds = 5, replicas = 2, workers = 2) {
  const name = 'bench-echo-throughput';
  const concurrency = replicas * workers;
  return withEcho('throughput', name, ['--warm', String(replicas), '--workers', String(workers)], async ({ env, dir }, target) => {
    if (target.endpoints.length !== replicas) throw new Error(`${target.endpoints.length} of ${replicas} replicas running`);
    const client = rawClient(concurrency);
    const inputs = writeInputs(dir, name, count);
    const bodies = Array.from({ length: count }, (_, i) => JSON.stringify({ i }));
    const floor = [],
      cli = [],
      wall = [];
    try {
      await rawThroughput(client, target, bodies.slice(0, 2000), concurrency); // warm-up
      for (let round = 0; round < rounds; round++) {
        floor.push(await rawThroughput(client, target, bodies, concurrency));
        const r = mustFaasctl(env, ['fn', 'invoke', name, '--bulk', inputs, '--concurrency', String(concurrency)]);
        parseAnswers(r.stdout, count);
        const s = parseSummary(r.stderr);
        if (s.mode !== 'warm') throw new Error('fn invoke --bulk did not go to the warm replicas');
        cli.push(s.answered / s.seconds);
        wall.push(count / (r.wall / 1000));
      }
    } finally {
      client.close();
    }
    const f = median(floor),
      c = median(cli);
    const perSecond = (v) => `${Math.round(v)}/s`;
    const detail = { inputs: count, rounds, replicas, workers, concurrency, cliWallRate: Math.round(median(wall)), floorRounds: floor.map(Math.round), cliRounds: cli.map(Math.round) };
    return [
      { name: `throughput: raw POST /invoke x${concurrency} (floor)`, median: f, ratio: 1, display: perSecond(f) },
      { name: `throughput: fn invoke --bulk x${concurrency}`, median: c, ratio: c / f, display: perSecond(c), goal: { text: '>= 2000/s', met: c >= 2000 }, detail },
      { name: `throughput: fn invoke --bulk x${concurrency}, wall`, median: median(wall), ratio: median(wall) / f, display: perSecond(median(wall)) },
    ];
  });
}
