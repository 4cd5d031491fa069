import { networkInterfaces } from 'node:os';
// Shared by the warm suites: the bench's echo function, a way to reach its replicas without
// faasctl (the Docker API for their ports, the database for their token), and a bare
// keep-alive HTTP client, which is the floor those suites measure faasctl against.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { demux, faasctl, mustFaasctl, requireDep, USER } from './platform.mjs';

/** The trivial function: it answers its input. */
const ECHO = 'def main(data):\n    return data\n';

/**
 * Deploys the echo function as `name` with `deployArgs` (e.g. --warm 1) and arranges its
 * deletion (which scales it to 0 first). The run label in a comment makes its code config
 * this run's own, as in invoke.mjs.
 */
export function deployEcho(platform, name, deployArgs = []) {
  deployCode(platform, name, ECHO, deployArgs);
}

/** As deployEcho, with code of one's own. */
export function deployCode({ env, dir, runLabel, atExit }, name, source, deployArgs = []) {
  const code = join(dir, `${name.replaceAll('-', '_')}.py`);
  writeFileSync(code, `${source}# faasctl bench run ${runLabel}\n`);
  mustFaasctl(env, ['fn', 'delete', name], undefined, [0, 3]); // left by an interrupted run
  atExit(() => {
    const r = faasctl(env, ['fn', 'delete', name]);
    if (r.status !== 0 && r.status !== 3) throw new Error(`fn delete ${name} exited ${r.status}: ${r.stderr.trim()}`);
  });
  mustFaasctl(env, ['fn', 'deploy', code, '--name', name, ...deployArgs]);
}

/** `count` JSON Lines inputs in a file; returns its path. */
export function writeInputs(dir, name, count) {
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, `${Array.from({ length: count }, (_, i) => JSON.stringify({ i })).join('\n')}\n`);
  return path;
}

/**
 * What a client outside faasctl needs to call the function's warm replicas: the token
 * (functions.warm_token) and each running task's published port, reached at the address
 * faasctl uses for a local engine (this machine's first non-loopback IPv4: the kernel's DNAT
 * path rather than docker-proxy on loopback), so floor and faasctl take the same way in.
 */
export async function replicaTargets(env, name) {
  const { Client } = requireDep('pg');
  const Docker = requireDep('dockerode');
  const db = new Client({ connectionString: env.FAASCTL_DATABASE_URL });
  await db.connect();
  let fn, installation;
  try {
    ({
      rows: [fn],
    } = await db.query('SELECT f.id, f.warm_token AS token FROM functions f JOIN users u ON u.id = f.user_id WHERE u.name = $1 AND f.name = $2', [USER, name]));
    ({
      rows: [{ value: installation }],
    } = await db.query("SELECT value FROM faasctl_meta WHERE key = 'installation_id'"));
  } finally {
    await db.end();
  }
  if (!fn?.token) throw new Error(`${name} has no warm token`);
  const docker = new Docker();
  const labels = ['io.faasctl.component=warm', `io.faasctl.function=${fn.id}`, `io.faasctl.installation=${installation}`];
  const [service] = await docker.listServices({ filters: { label: labels } });
  if (!service) throw new Error(`no warm service for ${name}`);
  const tasks = await docker.listTasks({ filters: { service: [service.ID], 'desired-state': ['running'] } });
  const ports = tasks
    .filter((t) => t.Status.State === 'running')
    .map((t) => t.Status.PortStatus?.Ports?.[0]?.PublishedPort)
    .filter(Boolean);
  if (!ports.length) throw new Error(`no running replica of ${name}`);
  return { functionId: fn.id, token: fn.token, serviceId: service.ID, endpoints: ports.map((port) => ({ host: replicaAddress(), port })) };
}

/** The last lines a service's replicas wrote, for an error message. */
export async function serviceLogTail(serviceId, lines = 20) {
  const Docker = requireDep('dockerode');
  const bytes = await new Docker().getService(serviceId).logs({ stdout: true, stderr: true, tail: lines, timestamps: true });
  return `${demux(bytes, 1)}${demux(bytes, 2)}`.trim();
}

/** Services and secrets of this function still on the Swarm after its deletion: removed, and said. */
export async function sweepFunction(functionId, tag) {
  const Docker = requireDep('dockerode');
  const docker = new Docker();
  const filters = { label: [`io.faasctl.function=${functionId}`] };
  const services = await docker.listServices({ filters });
  for (const s of services)
    await docker
      .getService(s.ID)
      .remove()
      .catch(() => {});
  const secrets = await docker.listSecrets({ filters });
  for (const s of secrets)
    await docker
      .getSecret(s.ID)
      .remove()
      .catch(() => {});
  if (services.length || secrets.length) console.error(`bench ${tag}: fn delete left ${services.length} service(s) and ${secrets.length} secret(s); removed`);
}

/** A bare keep-alive HTTP client: one request at a time per socket, no routing, no parsing. */
export function rawClient(maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const request = (endpoint, method, path, headers, body) =>
    new Promise((resolve, reject) => {
      const fail = (why) => reject(new Error(`${method} http://${endpoint.host}:${endpoint.port}${path}: ${why}`));
      const req = http.request({ host: endpoint.host, port: endpoint.port, method, path, agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : fail(`HTTP ${res.statusCode} ${Buffer.concat(chunks)}`)));
        res.on('error', (err) => fail(err.message));
      });
      req.on('error', (err) => fail(err.message));
      req.end(body);
    });
  return {
    health: (endpoint) => request(endpoint, 'GET', '/healthz', {}),
    invoke: (endpoint, token, body) => request(endpoint, 'POST', '/invoke', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body),
    close: () => agent.destroy(),
  };
}

/** NDJSON answers of `fn invoke --bulk`; throws unless every input came back as itself. */
export function parseAnswers(stdout, count) {
  const answers = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  if (answers.length !== count) throw new Error(`fn invoke --bulk answered ${answers.length} of ${count} inputs`);
  const bad = answers.find((a, i) => a.index !== i || a.status !== 'success' || a.result?.i !== i);
  if (bad) throw new Error(`unexpected bulk answer: ${JSON.stringify(bad)}`);
  return answers;
}

/** The summary line's own figures: "... in 1.23 s (4567/s, warm); request ...". */
export function parseSummary(stderr) {
  const m = /(\d+) inputs, all (\d+) succeeded in ([\d.]+) s \((\d+)\/s, (warm|cold)\)/.exec(stderr);
  if (!m) throw new Error(`no bulk summary in: ${stderr.trim().slice(-300)}`);
  return { total: Number(m[1]), answered: Number(m[2]), seconds: Number(m[3]), rate: Number(m[4]), mode: m[5] };
}

/** The same choice as src/cli/deps.ts replicaHost() for a local engine. */
function replicaAddress() {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return found?.address ?? '127.0.0.1';
}
