import { ConnectionError, EXIT, FaasctlError, type ExitCode } from '../../base/errors.js';
import type { SwarmClient } from '../../swarm/client.js';
import type { Database } from '../../db/database.js';
import { createStore } from '../../db/store.js';
import { dispatcherCheck } from './dispatcher-check.js';
import { poolCheck } from '../pool/pool-check.js';
import type { Check } from './check.js';

export type { Check, CheckStatus } from './check.js';

export interface DoctorDeps {
  swarm: () => Promise<SwarmClient>;
  db: () => Promise<Database>;
  hasDatabase: boolean;
  runtimeImage: string;
  /** HOST:PORT every node pulls from, when the cluster has one. */
  registry?: string;
  expectedSchema: number;
  schemaVersion: (db: Database) => Promise<number | undefined>;
}

/** Runs every check, never stopping at the first failure: the point is the whole picture. */
export async function runDoctor(deps: DoctorDeps): Promise<Check[]> {
  return [...(await engineChecks(deps)), ...(await databaseChecks(deps))];
}

async function engineChecks(deps: DoctorDeps): Promise<Check[]> {
  let swarm: SwarmClient;
  try {
    swarm = await deps.swarm();
    const info = await swarm.engineInfo();
    const engine = ok('engine', `Docker ${info.version} (API ${info.apiVersion}, ${info.os}/${info.arch}) at ${swarm.endpoint}`);
    const rest = await swarmChecks(swarm, deps.runtimeImage, deps.registry);
    return [engine, ...rest];
  } catch (err) {
    const skipped = ['swarm', 'nodes', 'runtime image'].map((name) => skip(name, 'engine unreachable'));
    return [fail('engine', err, 'start the Docker engine (systemctl start docker, or dockerd &), or point --host / DOCKER_HOST at a Swarm manager'), ...skipped];
  }
}

async function swarmChecks(swarm: SwarmClient, runtimeImage: string, registry: string | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  let nodeCount = 1;
  const state = await swarm.swarmState();
  if (state.localNodeState !== 'active') {
    checks.push({ name: 'swarm', status: 'fail', detail: `swarm is ${state.localNodeState}`, fix: 'run faasctl up --swarm-init (or docker swarm init)', exitCode: EXIT.notFound });
    checks.push(skip('nodes', 'no swarm'));
  } else if (!state.isManager) {
    checks.push({ name: 'swarm', status: 'fail', detail: 'this engine is a worker, not a manager', fix: 'point --host at a Swarm manager', exitCode: EXIT.usage });
    checks.push(skip('nodes', 'not a manager'));
  } else {
    checks.push(ok('swarm', `active, this node is a manager (${state.nodeAddr ?? state.nodeId})`));
    const nodes = await swarm.listNodes();
    nodeCount = nodes.length;
    checks.push(nodesCheck(nodes));
  }
  const present = await swarm.imageExists(runtimeImage);
  checks.push(present ? ok('runtime image', runtimeImage) : { name: 'runtime image', status: 'fail', detail: `${runtimeImage} not found`, fix: 'run faasctl up to build it', exitCode: EXIT.notFound });
  if (registry) checks.push(await registryCheck(swarm, runtimeImage, registry));
  else if (nodeCount > 1) {
    // Only the manager has the images faasctl builds: a task placed on another node cannot start.
    checks.push({ name: 'registry', status: 'warn', detail: 'none, on a Swarm of several nodes', fix: 'run faasctl up --registry HOST:PORT (a registry every node can pull from)' });
  }
  return checks;
}

/** Workers pull the runtime image by digest, so it must be in the registry, not only on the manager. */
async function registryCheck(swarm: SwarmClient, runtimeImage: string, registry: string): Promise<Check> {
  const pinned = await swarm.pushedDigest(runtimeImage);
  if (pinned) return ok('registry', `${registry}: ${pinned.slice(pinned.indexOf('@') + 1, pinned.indexOf('@') + 20)}…`);
  return { name: 'registry', status: 'fail', detail: `${runtimeImage} was not pushed to ${registry}`, fix: `run faasctl up --registry ${registry}`, exitCode: EXIT.notFound };
}

function nodesCheck(nodes: Array<{ hostname: string; state: string; availability: string; role: string }>): Check {
  const ready = nodes.filter((n) => n.state === 'ready' && n.availability === 'active');
  const down = nodes.filter((n) => n.state !== 'ready');
  const detail = `${ready.length}/${nodes.length} ready and active${down.length ? `; down: ${down.map((n) => n.hostname).join(', ')}` : ''}`;
  if (ready.length === 0) return { name: 'nodes', status: 'fail', detail, fix: 'bring a node back (docker node ls)', exitCode: EXIT.connection };
  return { name: 'nodes', status: down.length ? 'warn' : 'ok', detail, fix: down.length ? 'docker node ls; remove dead nodes with docker node rm' : undefined };
}

async function databaseChecks(deps: DoctorDeps): Promise<Check[]> {
  if (!deps.hasDatabase) {
    return [
      { name: 'database', status: 'fail', detail: 'no database configured', fix: 'run faasctl up, or faasctl context add NAME --db URL', exitCode: EXIT.notFound },
      skip('schema', 'no database'),
      skip('dispatcher', 'no database'),
    ];
  }
  let db: Database;
  let version: number | undefined;
  try {
    db = await deps.db();
    const [row] = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    version = await deps.schemaVersion(db);
    const database = ok('database', `PostgreSQL ${row?.v} at ${db.where}`);
    const schema = schemaCheck(version, deps.expectedSchema);
    if (schema.status !== 'ok') return [database, schema, skip('dispatcher', 'schema not current')];
    const store = createStore(db);
    const dispatcher = await dispatcherCheck(store).catch((err: unknown) => fail('dispatcher', err, 'faasctl up --dispatcher'));
    const pool = await deps
      .swarm()
      .then((swarm) => poolCheck(swarm, store))
      .catch((err: unknown) => fail('sandbox pool', err, 'faasctl pool show; faasctl up --pool N'));
    return [database, schema, dispatcher, pool];
  } catch (err) {
    return [fail('database', err, 'start PostgreSQL or fix the URL (faasctl context show)'), skip('schema', 'database unreachable'), skip('dispatcher', 'database unreachable')];
  }
}

function schemaCheck(version: number | undefined, expected: number): Check {
  if (version === undefined) return { name: 'schema', status: 'fail', detail: 'not applied', fix: 'run faasctl up', exitCode: EXIT.notFound };
  if (version < expected) return { name: 'schema', status: 'fail', detail: `version ${version}, this faasctl needs ${expected}`, fix: 'run faasctl up', exitCode: EXIT.notFound };
  if (version > expected) return { name: 'schema', status: 'warn', detail: `version ${version} is newer than this faasctl (${expected})`, fix: 'upgrade faasctl' };
  return ok('schema', `version ${version}`);
}

/** The exit code for a set of checks: the most serious failure wins. */
export function doctorExitCode(checks: Check[]): ExitCode {
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length === 0) return EXIT.ok;
  if (failed.some((c) => c.exitCode === EXIT.connection)) return EXIT.connection;
  return failed[0]?.exitCode ?? EXIT.bug;
}

function ok(name: string, detail: string): Check {
  return { name, status: 'ok', detail };
}

function skip(name: string, detail: string): Check {
  return { name, status: 'skip', detail };
}

function fail(name: string, err: unknown, fix: string): Check {
  const known = err instanceof FaasctlError ? err : undefined;
  const exitCode = known?.exitCode ?? (err instanceof ConnectionError ? EXIT.connection : EXIT.bug);
  return { name, status: 'fail', detail: known?.message ?? String((err as Error)?.message ?? err), fix: known?.hint ?? fix, exitCode };
}
