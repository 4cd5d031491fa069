// Cold invocation: `faasctl fn invoke` against the floor of the same job done by hand with
// dockerode (two Swarm configs, a one-shot service, poll its task, read the logs, remove it
// all), same runtime image, same function (examples/sum.py), interleaved run by run.
// Needs the engine in Swarm mode; uses FAASCTL_DATABASE_URL, or a throwaway PostgreSQL.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { median, ms } from './stats.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'faasctl.cjs');
const FN_NAME = 'bench-sum';
const CODE = join(root, 'examples', 'sum.py');
const INPUT = join(root, 'examples', 'sum.input.json');
const USER = 'bench';
const PASSWORD = 'faasctl-bench-password';
const POLL_MS = 20;
const JOB_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 120_000; // `up` may build the runtime image
const FRAME = 'FAASCTL-RESULT:';
const DONE = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned']);
const LABEL = 'io.faasctl.bench.run';

/** As src/runtime/python.ts: the image tag is a hash of the runtime's build context. */
function runtimeImageRef() {
  const dir = join(root, 'runtimes', 'python');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === '__pycache__') continue;
    hash.update(name).update('\0').update(readFileSync(join(dir, name))).update('\0');
  }
  return `faasctl/runtime-python:${hash.digest('hex').slice(0, 12)}`;
}

// ------------------------------------------------------------------ throwaway PostgreSQL

function pgBin(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort().reverse() : [];
  const candidate = versions.map((v) => join(base, v, 'bin', name)).find((path) => existsSync(path));
  if (!candidate) throw new Error(`${name} not found: run bash scripts/testbed.sh up`);
  return candidate;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** initdb refuses to run as root, so the cluster runs as the postgres user when we are root. */
function asPostgres(cmd, args) {
  const [file, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** As test/helpers/postgres.ts; returns { url, stop }. */
async function startPostgres(dir) {
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  execFileSync('sh', ['-c', `printf %s '${PASSWORD}' > ${dir}/pw && chmod 644 ${dir}/pw`]);
  asPostgres(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--pwfile', `${dir}/pw`, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  asPostgres(pgBin('pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: () => asPostgres(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']),
  };
}

// ------------------------------------------------------------------ faasctl

function faasctl(env, args, input) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8', cwd: root, timeout: CLI_TIMEOUT_MS });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  return { status: r.status ?? r.signal, stdout: r.stdout, stderr: r.stderr, wall };
}

function mustFaasctl(env, args, input, okCodes = [0]) {
  const r = faasctl(env, args, input);
  if (!okCodes.includes(r.status)) throw new Error(`faasctl ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r;
}

/**
 * The platform, a user, a session and the deployed function, in a private config dir.
 * faasctl names code configs by content hash and `fn delete` removes the config when no
 * function in *its* database uses it, so deploying examples/sum.py byte for byte could
 * delete a config that another database on this Swarm still needs. A comment line with
 * the run label makes the bench's copy (and so its config) its own.
 */
function setUp(env, dir, runLabel) {
  const code = join(dir, 'bench_sum.py');
  writeFileSync(code, `${readFileSync(CODE, 'utf8')}\n# faasctl bench run ${runLabel}\n`);
  mustFaasctl(env, ['up']);
  // 3: the user already exists (a reused FAASCTL_DATABASE_URL); the fixed password still logs in.
  mustFaasctl(env, ['user', 'create', USER, '--password-stdin'], PASSWORD, [0, 3]);
  mustFaasctl(env, ['login', USER, '--password-stdin'], PASSWORD);
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

/** A whole non-follow logs answer (multiplexed frames) as text: 1 stdout, 2 stderr. */
function demux(bytes, stream = 1) {
  const parts = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at + 4);
    if (bytes[at] === stream) parts.push(bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

function parseFrame(stdout, nonce) {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(FRAME));
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
  const config = (suffix, path) =>
    docker.createConfig({ Name: `${name}-${suffix}`, Labels: { [LABEL]: runLabel }, Data: readFileSync(path).toString('base64') });
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
  for (const s of await docker.listServices({ filters })) await docker.getService(s.ID).remove().catch(() => {});
  for (const c of await docker.listConfigs({ filters })) {
    for (let i = 0; i < 20; i++) {
      if (await docker.getConfig(c.ID).remove().then(() => true, () => false)) break;
      await sleep(250); // still referenced while the service is torn down
    }
  }
}

// ------------------------------------------------------------------ the suite

async function measure(docker, env, runs, runLabel, stats) {
  const image = runtimeImageRef();
  await docker.getImage(image).inspect().catch(() => {
    throw new Error(`${image} is not on the engine after faasctl up`);
  });
  const raw = [], cli = [];
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

/** Memoised, so the finally block and a Ctrl-C handler can both call it. */
function cleanUpOnce(docker, runLabel, dir, state) {
  let done;
  return () =>
    (done ??= (async () => {
      if (state.env) tearDown(state.env);
      await sweep(docker, runLabel).catch((err) => console.error(`bench invoke: clean-up failed: ${err.message}`));
      try {
        state.pg?.stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    })());
}

export async function benchInvoke(runs = 10) {
  // Loaded here, not at the top: the startup suite has no use for it.
  const Docker = createRequire(join(root, 'package.json'))('dockerode');
  const docker = new Docker();
  const runLabel = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'faasctl-bench-'));
  const stats = { polls: 0, logRetries: 0 };
  const state = {}; // { pg, env }, as far as set-up got
  const cleanUp = cleanUpOnce(docker, runLabel, dir, state);
  // pg_ctl daemonises PostgreSQL: without this, Ctrl-C would leave it (and a service) running.
  const onSignal = () => cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    if (!process.env.FAASCTL_DATABASE_URL) state.pg = await startPostgres(dir);
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: join(dir, 'config'),
      FAASCTL_DATABASE_URL: process.env.FAASCTL_DATABASE_URL ?? state.pg.url,
      FAASCTL_BASE_IMAGE: process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm',
      NO_COLOR: '1',
    };
    setUp((state.env = env), dir, runLabel);
    const { raw, cli } = await measure(docker, env, runs, runLabel, stats);
    const floor = floorRow(raw, runs, stats);
    const c = median(cli);
    return [floor, { name: 'invoke: faasctl fn invoke (cold)', median: c, ratio: c / floor.median, target: 1.5, display: ms(c) }];
  } finally {
    await cleanUp();
    process.removeListener('SIGINT', onSignal);
  }
}
