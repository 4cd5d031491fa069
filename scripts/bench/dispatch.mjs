// Async drain through the dispatcher (issue 20): 1,000 inputs queued as ONE `fn invoke --bulk
// FILE --async` (one queued request per line) and drained by the dispatcher service, against
// the same 1,000 inputs as one synchronous `fn invoke --bulk` (the floor: the CLI feeding the
// warm replicas itself). Both on a warm echo of 2 replicas x 2 workers, interleaved round by
// round. Reports the enqueue rate and the time to the last result. Needs the engine in Swarm
// mode; uses FAASCTL_DATABASE_URL, or a throwaway PostgreSQL.
import { mustFaasctl, requireDep, withPlatform } from './platform.mjs';
import { deployEcho, parseAnswers, writeInputs } from './replicas.mjs';
import { median } from './stats.mjs';

const seconds = (v) => `${(v / 1000).toFixed(2)} s`;

/** Resolves once every one of `ids` has ended; throws if one did not succeed. */
export async function drained(url, ids) {
  const pg = requireDep('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query(
        `SELECT count(*) FILTER (WHERE status IN ('pending', 'running'))::int AS open, count(*) FILTER (WHERE status <> 'success' AND status NOT IN ('pending', 'running'))::int AS failed FROM requests WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      if (rows[0].failed) throw new Error(`${rows[0].failed} queued requests did not succeed`);
      if (rows[0].open === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

export function benchDispatch(count = 1000, rounds = 3) {
  const name = 'bench-echo-async';
  return withPlatform('dispatch', async (platform) => {
    const { env, dir, atExit } = platform;
    mustFaasctl(env, ['up', '--dispatcher']);
    atExit(() => mustFaasctl(env, ['up', '--no-dispatcher']));
    deployEcho(platform, name, ['--warm', '2', '--workers', '2']);
    const inputs = writeInputs(dir, name, count);
    const sync = [],
      enqueue = [],
      drain = [];
    for (let k = 0; k < rounds; k++) {
      const s = mustFaasctl(env, ['fn', 'invoke', name, '--bulk', inputs]);
      parseAnswers(s.stdout, count);
      sync.push(s.wall);
      const t = performance.now();
      const q = mustFaasctl(env, ['fn', 'invoke', name, '--bulk', inputs, '--async']);
      enqueue.push(q.wall);
      const ids = q.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).requestId);
      if (ids.length !== count) throw new Error(`--bulk --async queued ${ids.length} of ${count}`);
      await drained(env.FAASCTL_DATABASE_URL, ids);
      drain.push(performance.now() - t);
    }
    const floor = median(sync),
      q = median(enqueue),
      d = median(drain);
    const detail = {
      inputs: count,
      rounds,
      syncMs: sync.map(Math.round),
      enqueueMs: enqueue.map(Math.round),
      drainMs: drain.map(Math.round),
      enqueuePerSecond: Math.round(count / (q / 1000)),
      drainPerSecond: Math.round(count / (d / 1000)),
    };
    return [
      { name: `dispatch: fn invoke --bulk, ${count} inputs, warm (floor)`, median: floor, ratio: 1, display: seconds(floor) },
      { name: `dispatch: --bulk --async, ${count} queued (enqueue, ${detail.enqueuePerSecond}/s)`, median: q, ratio: q / floor, display: seconds(q), detail },
      { name: `dispatch: --bulk --async, ${count} drained (last result, ${detail.drainPerSecond}/s)`, median: d, ratio: d / floor, display: seconds(d), detail },
    ];
  });
}
