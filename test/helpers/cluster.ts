import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The 3-node Swarm of scripts/cluster.sh (`npm test` and `npm run test:cluster` start it): node 1 is the
 * manager, 2 and 3 are workers, each a dockerd in its own network namespace with its own socket.
 * Names and addresses follow the script's defaults and its FAASCTL_CLUSTER_DIR/_NET overrides.
 */
export const CLUSTER_SCRIPT = resolve(import.meta.dirname, '../../scripts/cluster.sh');
export const CLUSTER_DIR = process.env.FAASCTL_CLUSTER_DIR ?? '/tmp/faasctl-cluster';
const NET = process.env.FAASCTL_CLUSTER_NET ?? '192.168.223';
export const NODE_COUNT = 3;
/** Swarm hostnames of nodes 1..3 (index 0 = node 1, the manager). */
export const NODE_NAMES = ['fcl-n1', 'fcl-n2', 'fcl-n3'] as const;
/** Docker host URL of node i (1-based). */
export const nodeHost = (i: number): string => `unix://${CLUSTER_DIR}/n${checkNode(i)}/docker.sock`;
export const nodeAddr = (i: number): string => `${NET}.${10 + checkNode(i)}`;
export const MANAGER_HOST = nodeHost(1);
/** The private registry (plain HTTP) every node trusts: push from the manager, pull by digest. */
export const REGISTRY = process.env.FAASCTL_CLUSTER_REGISTRY ?? `${NET}.1:5000`;
/** The base image, which `up` loads into the manager only. */
export const BASE_IMAGE = process.env.FAASCTL_BASE_IMAGE ?? 'faasctl/python-base:bookworm';

function checkNode(i: number): number {
  if (!Number.isInteger(i) || i < 1 || i > NODE_COUNT) throw new Error(`no cluster node ${i} (1..${NODE_COUNT})`);
  return i;
}

/** The docker CLI against node i; stdout trimmed. */
export async function dockerOn(i: number, args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run('docker', ['-H', nodeHost(i), ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout.trim();
}

async function cluster(...args: string[]): Promise<void> {
  await run('bash', [CLUSTER_SCRIPT, ...args], { timeout: 120_000 });
}

/** Power cut: dockerd, containerd, shims and task processes of node i SIGKILLed at once. */
export const crashNode = (i: number) => cluster('crash-node', String(checkNode(i)));
/** Node i unplugged (its switch port down): it and its tasks keep running, unreachable. */
export const cutNode = (i: number) => cluster('cut-node', String(checkNode(i)));
/** Node i plugged back in. */
export const healNode = (i: number) => cluster('heal-node', String(checkNode(i)));
/** Boots node i again after crashNode (a worker once the manager lists it Down); resolves once it is Ready. */
export const restartNode = (i: number) => cluster('restart-node', String(checkNode(i)));
/** dockerd of node i restarted gracefully (SIGTERM stops its containers, as `systemctl restart docker` does). */
export const restartEngine = (i: number) => cluster('restart-engine', String(checkNode(i)));

/** Node i's state as the manager sees it: ready, down, unknown, disconnected. */
export async function nodeState(i: number): Promise<string> {
  return dockerOn(1, ['node', 'inspect', NODE_NAMES[checkNode(i) - 1], '--format', '{{.Status.State}}'], 10_000);
}

/** Polls the manager until node i is in `state`; answers the milliseconds it took. */
export async function waitForNodeState(i: number, state: 'down' | 'ready', timeoutMs = 30_000): Promise<number> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < timeoutMs) {
    last = await nodeState(i).catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
    if (last === state) return Date.now() - start;
    await sleep(100);
  }
  throw new Error(`node ${i} (${NODE_NAMES[i - 1]}) not ${state} after ${timeoutMs} ms (last: ${last})`);
}

export interface ClusterLeftovers {
  /** faasctl services (label io.faasctl.managed) on the manager. */
  services: string[];
  /** faasctl containers on any node, as `<node name>/<container name>`. */
  containers: string[];
}

export const NO_CLUSTER_LEFTOVERS: ClusterLeftovers = { services: [], containers: [] };

/**
 * What faasctl left on the cluster: its services (on the manager) and its containers on EVERY
 * node, read from each node's own socket. A node whose engine does not answer fails the call
 * (a crashed node must be restarted before its leftovers can be counted).
 */
export async function clusterLeftovers(): Promise<ClusterLeftovers> {
  const lines = (s: string) => s.split('\n').filter(Boolean);
  const services = lines(await dockerOn(1, ['service', 'ls', '--filter', 'label=io.faasctl.managed', '--format', '{{.Name}}']));
  const perNode = await Promise.all(
    NODE_NAMES.map(async (name, k) => lines(await dockerOn(k + 1, ['ps', '-a', '--filter', 'label=io.faasctl.managed', '--format', '{{.Names}}'])).map((c) => `${name}/${c}`)),
  );
  return { services: services.sort(), containers: perNode.flat().sort() };
}

/** Removal is asynchronous (containers go a moment after their service): polls until none or timeout. */
export async function settledClusterLeftovers(timeoutMs = 30_000): Promise<ClusterLeftovers> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await clusterLeftovers();
    if ((found.services.length === 0 && found.containers.length === 0) || Date.now() > until) return found;
    await sleep(250);
  }
}
