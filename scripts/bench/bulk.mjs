// Cold bulk: 200 inputs as ONE `fn invoke --bulk FILE --cold` (one temporary replica service
// fed every input) against the same 200 inputs as separate `fn invoke --cold` processes (one
// Swarm job each), run 4 at a time. Both are wall times of whole CLI processes, interleaved
// round by round. Needs the engine in Swarm mode; uses FAASCTL_DATABASE_URL, or a throwaway
// PostgreSQL.
import { faasctlAsync, mustFaasctl, withPlatform } from './platform.mjs';
import { COUNTING, resumeRun, scaleRuns } from './bulk-scale.mjs';
import { deployCode, deployEcho, parseAnswers, parseSummary, replicaTargets, writeInputs } from './replicas.mjs';
import { median } from './stats.mjs';

const seconds = (v) => `${(v / 1000).toFixed(2)} s`;

/** One `fn invoke --cold` per input in [from, to), `parallel` processes at a time; their wall time. */
async function separateJobs(env, name, [from, to], parallel) {
  let next = from;
  const loop = async () => {
    while (next < to) {
      const i = next++;
      const r = await faasctlAsync(env, ['fn', 'invoke', name, '--cold', '--data', JSON.stringify({ i }), '--json']);
      if (r.status !== 0) throw new Error(`fn invoke --cold (input ${i}) exited ${r.status}: ${r.stderr.trim()}`);
      if (JSON.parse(r.stdout).result?.i !== i) throw new Error(`unexpected fn invoke answer: ${r.stdout}`);
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: parallel }, loop));
  return performance.now() - t;
}

function oneBulk(env, name, inputs, count) {
  const r = mustFaasctl(env, ['fn', 'invoke', name, '--bulk', inputs, '--cold']);
  parseAnswers(r.stdout, count);
  const s = parseSummary(r.stderr);
  if (s.mode !== 'cold') throw new Error('fn invoke --bulk --cold did not run cold');
  return { wall: r.wall, inside: s.seconds * 1000 };
}

/**
 * The 200 separate jobs take one to two minutes, so they run once, in `slices` parts, each
 * between two bulk runs (after a bulk warm-up): bulk, jobs 0-99, bulk, jobs 100-199, bulk.
 * Their time is the sum of the parts; the bulk's is the median of its runs.
 */
export function benchBulk(count = 200, parallel = 4, slices = 2) {
  const name = 'bench-echo-cold';
  return withPlatform('bulk', async (platform) => {
    const { env, dir } = platform;
    deployEcho(platform, name);
    const inputs = writeInputs(dir, name, count);
    const bulk = [],
      inside = [],
      parts = [];
    const runBulk = () => {
      const b = oneBulk(env, name, inputs, count);
      bulk.push(b.wall), inside.push(b.inside);
    };
    oneBulk(env, name, inputs, count); // warm-up: page cache, the runtime image's layers
    for (let k = 0; k < slices; k++) {
      runBulk();
      const range = [Math.floor((k * count) / slices), Math.floor(((k + 1) * count) / slices)];
      parts.push(await separateJobs(env, name, range, parallel));
    }
    runBulk();
    const s = parts.reduce((a, b) => a + b, 0),
      m = median(bulk);
    const speedUp = s / m;
    const detail = {
      inputs: count,
      parallel,
      separateParts: parts.map(Math.round),
      bulkRounds: bulk.map(Math.round),
      bulkInsideMs: Math.round(median(inside)),
      perSeparateInvokeMs: Math.round((s * parallel) / count),
    };
    return [
      { name: `bulk: ${count} x fn invoke --cold, ${parallel} at a time (baseline)`, median: s, ratio: 1, display: seconds(s) },
      {
        name: `bulk: fn invoke --bulk --cold, ${count} inputs`,
        median: m,
        ratio: m / s,
        display: seconds(m),
        goal: { text: `speed-up >= 10x, got ${speedUp.toFixed(1)}x`, met: speedUp >= 10 },
        detail,
      },
    ];
  });
}

/**
 * Bulk at scale (issue 26): peak CLI RSS and inputs/s at 10k, 100k and 1M inputs of a trivial
 * warm function of 2 replicas (10k three times, median; the others once: 1M takes minutes),
 * then a 100k run killed at ~50% and resumed. `max` stops the sizes early (--bulk-max 100k for
 * the inner loop); `resume: false` leaves the killed run out.
 */
export function benchBulkScale({ max = 1_000_000, resume = true } = {}) {
  const name = 'bench-echo-scale';
  return withPlatform('bulk-scale', async (platform) => {
    deployEcho(platform, name, ['--warm', '2']);
    const sizes = [10_000, 100_000, 1_000_000].filter((n) => n <= max);
    // The resumed run first: its figures come in minutes, the 1M run's after a quarter of an hour.
    const resumed = [];
    if (resume) {
      const counting = 'bench-count-scale';
      deployCode(platform, counting, COUNTING, ['--warm', '2']);
      const fn = await replicaTargets(platform.env, counting);
      resumed.push(...(await resumeRun(platform, counting, fn.serviceId, Math.min(100_000, max))));
      console.error(`bench bulk: ${resumed[0].name}: ${resumed[0].display} (${resumed[0].goal.text})`);
    }
    return [...(await scaleRuns(platform, name, sizes, 3)), ...resumed];
  });
}
