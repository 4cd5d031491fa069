// Cold invocation: `faasctl fn invoke` against the floor of the same job done by hand with
// dockerode (two Swarm configs, a one-shot service, poll its task, read the logs, remove it
// all), same runtime image, same function (examples/sum.py), interleaved run by run.
// Needs the engine in Swarm mode; uses FAASCTL_DATABASE_URL, or a throwaway PostgreSQL.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { demux, faasctl, mustFaasctl, requireDep, root, withPlatform } from './platform.mjs';
import { median, ms } from './stats.mjs';

const FN_NAME = 'bench-sum';
const CODE = join(root, 'examples', 'sum.py');
const INPUT = join(root, 'examples', 'sum.input.json');
const POLL_MS = 20;
const JOB_TIMEOUT_MS = 60_000;
const FRAME = 'FAASCTL-RESULT:';
const DONE = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned']);
const LABEL = 'io.faasctl.bench.run';

/** As src/runtime/python.ts: the image tag is a hash of the runtime's build context, every
 * file under it by sorted relative path, dotfiles and __pycache__ left out. Keep in step. */
function contextFiles(dir, prefix = '') {
  const files = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === '__pycache__') continue;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...contextFiles(dir, path));
    else files.push(path);
  }
  return files.sort();
}

function runtimeImageRef() {
  const dir = join(root, 'runtimes', 'python');
  const hash = createHash('sha256');
  for (const path of contextFiles(dir)) {
    hash
      .update(path)
      .update('\0')
      .update(readFileSync(join(dir, path)))
      .update('\0');
  }
  return `faasctl/runtime-python:${hash.digest('hex').slice(0, 12)}`;
}

// ------------------------------------------------------------------ faasctl

/**
 * The deployed function. faasctl names code configs by content hash and `fn delete` removes
 * the config when no function in *its* database uses it, so deploying examples/sum.py byte
 * for byte could delete a config that another database on this Swarm still needs. A comment
 * line with the run label makes the bench's copy (and so its config) its own.
 */
function setUp(env, dir, runLabel) {
  const code = join(dir, 'bench_sum.py');
  writeFileSync(code, `${readFileSync(CODE, 'utf8')}\n# faasctl bench run ${runLabel}\n`);
  mustFaasctl(env, ['fn', 'delete', FN_NAME], undefined, [0, 3]); // left by an interrupted run
  mustFaasctl(env, ['fn', 'deploy', code, '--name', FN_NAME]);
}

/** The function's versions keep Swarm configs, which outlive a throwaway database. */
function tearDown(env) {
  const r = faasctl(env, ['fn', 'delete', FN_NAME]);
  if (r.status !== 0 && r.status !== 3) console.error(`bench invoke: fn delete ${FN_NAME} exited ${r.status}: ${r.stderr.trim()}`);
}

function timeFaasctlInvoke(env) {
  const r = mustFaasctl(env, ['fn', 'invoke', FN_NAME, '--data-file', INPUT, '--json']);
  const out = JSON.parse(r.stdout);
  if (out.result?.sum !== 25.5) throw new Error(`unexpected fn invoke answer: ${r.stdout}`);
  return r.wall;
}

// ------------------------------------------------------------------ the raw floor

function parseFrame(stdout, nonce) {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(FRAME));
  if (!line) return undefined;
  const prefix = `${FRAME}${nonce}:`;
  if (!line.startsWith(prefix)) throw new Error(`result frame with a wrong nonce: ${line.slice(0, 60)}`);
  return JSON.parse(line.slice(prefix.length));
}

async function waitForTask(docker, serviceId, stats) {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const [task] = await docker.listTasks({ filters: { service: [serviceId] } });
    stats.polls++;
    if (task && DONE.has(task.Status.State)) return task;
    if (Date.now() > deadline) throw new Error(`task of ${serviceId} not done after ${JOB_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** Logs can lag the task state; retried briefly, and how often is counted. */
async function readFrame(service, nonce, stats) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const stdout = demux(await service.logs({ stdout: true, stderr: true }));
    const frame = parseFrame(stdout, nonce);
    if (frame) return frame;
    stats.logRetries++;
    await sleep(POLL_MS);
  }
  throw new Error(`no ${FRAME} line in the logs of service ${service.id}`);
}

function rawSpec(name, image, nonce, configs, runLabel) {
  const file = (path) => ({ Name: path, UID: '10001', GID: '10001', Mode: 0o444 });
  return {
    Name: name,
    Labels: { [LABEL]: runLabel },
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Args: ['run'],
        Env: [`FAASCTL_NONCE=${nonce}`, 'FAASCTL_INPUT_FILE=/faas/input.json'],
        Configs: [
          { ConfigID: configs.code.id, ConfigName: `${name}-code`, File: file('/faas/function.py') },
          { ConfigID: configs.input.id, ConfigName: `${name}-input`, File: file('/faas/input.json') },
        ],
      },
      RestartPolicy: { Condition: 'none' },
    },
    Mode: { Replicated: { Replicas: 1 } },
  };
}

const since = (t) => Number(process.hrtime.bigint() - t) / 1e6;

/**
 * One raw invocation, timed from the first API call to everything removed; `phases`
 * splits that up (create configs+service, wait for the task, read the logs, remove).
 */
async function timeRawInvoke(docker, image, name, runLabel, stats) {
  const nonce = randomBytes(12).toString('base64url'); // 16 characters
  const config = (suffix, path) => docker.createConfig({ Name: `${name}-${suffix}`, Labels: { [LABEL]: runLabel }, Data: readFileSync(path).toString('base64') });
  const started = process.hrtime.bigint();
  const [code, input] = await Promise.all([config('code', CODE), config('input', INPUT)]);
  const service = await docker.createService(rawSpec(name, image, nonce, { code, input }, runLabel));
  const created = since(started);
  const task = await waitForTask(docker, service.id, stats);
  const done = since(started);
  if (task.Status.State !== 'complete') {
    const stderr = demux(await service.logs({ stdout: true, stderr: true }), 2).trim();
    throw new Error(`raw run ${name}: task ${task.Status.State} (${task.Status.Err ?? 'no error'}); stderr: ${stderr || '(none)'}`);
  }
  const frame = await readFrame(service, nonce, stats);
  const read = since(started);
  if (frame.status !== 'success') throw new Error(`raw run ${name}: the function failed: ${JSON.stringify(frame.error)}`);
  await service.remove();
  await Promise.all([code.remove(), input.remove()]);
  const total = since(started);
  return { total, phases: { create: created, task: done - created, logs: read - done, remove: total - read } };
}

/** Removes whatever this run left behind (services first: a config in use cannot go). */
async function sweep(docker, runLabel) {
  const filters = { label: [`${LABEL}=${runLabel}`] };
  for (const s of await docker.listServices({ filters }))
    await docker
      .getService(s.ID)
      .remove()
      .catch(() => {});
  for (const c of await docker.listConfigs({ filters })) {
    for (let i = 0; i < 20; i++) {
      if (
        await docker
          .getConfig(c.ID)
          .remove()
          .then(
            () => true,
            () => false,
          )
      )
        break;
      await sleep(250); // still referenced while the service is torn down
    }
  }
}

// ------------------------------------------------------------------ the suite

async function measure(docker, env, runs, runLabel, stats) {
  const image = runtimeImageRef();
  await docker
    .getImage(image)
    .inspect()
    .catch(() => {
      throw new Error(`${image} is not on the engine after faasctl up`);
    });
  const raw = [],
    cli = [];
  for (let i = -2; i < runs; i++) {
    const r = await timeRawInvoke(docker, image, `faasctl-bench-raw-${runLabel}-${i + 2}`, runLabel, stats);
    const c = timeFaasctlInvoke(env);
    if (i >= 0) raw.push(r), cli.push(c); // the first two of each are warm-ups
  }
  return { raw, cli };
}

/** The floor's row, with the median of each phase and how often the engine was asked. */
function floorRow(raw, runs, stats) {
  const f = median(raw.map((r) => r.total));
  const phases = {};
  for (const key of Object.keys(raw[0].phases)) phases[key] = Number(median(raw.map((r) => r.phases[key])).toFixed(1));
  const detail = { phases, taskPollsPerRun: stats.polls / (runs + 2), logRetries: stats.logRetries };
  return { name: 'invoke: raw dockerode service (floor)', median: f, ratio: 1, display: ms(f), detail };
}

export function benchInvoke(runs = 10) {
  const Docker = requireDep('dockerode');
  const docker = new Docker();
  return withPlatform('invoke', async ({ env, dir, runLabel, atExit }) => {
    const stats = { polls: 0, logRetries: 0 };
    atExit(() => sweep(docker, runLabel));
    atExit(() => tearDown(env));
    setUp(env, dir, runLabel);
    const { raw, cli } = await measure(docker, env, runs, runLabel, stats);
    const floor = floorRow(raw, runs, stats);
    const c = median(cli);
    return [floor, { name: 'invoke: faasctl fn invoke (cold)', median: c, ratio: c / floor.median, target: 1.5, display: ms(c) }];
  });
}
