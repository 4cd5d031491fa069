import type { Store } from '../../db/store.js';
import type { SwarmClient, SwarmNode } from '../../swarm/client.js';
import { REPLICA_PORT } from '../../swarm/replica-spec.js';
import { LABELS, COMPONENT_LABEL, MANAGED_LABEL } from '../../swarm/labels.js';
import type { Logger, ReplicaTransport } from '../../base/ports.js';

/**
 * `faasctl top`: what runs now. Nodes from Swarm; for each running faasctl task, the Docker
 * stats of its container when it runs on the engine we talk to (the stats API is per engine),
 * and, for warm replicas on any node, the runtime's own counters (GET /stats with the
 * function's token). Rates (CPU %) come from two samples: this one and the previous.
 */
export interface TopDeps {
  swarm: SwarmClient;
  store: Store;
  log: Logger;
  replicaTransport: (maxSocketsPerReplica: number) => ReplicaTransport;
  replicaHost: (nodeAddress: string | undefined) => string;
}

export interface RuntimeCounters {
  version: number;
  workers: number;
  idleWorkers: number;
  inFlight: number;
  served: number;
  refused: number;
  uptimeS: number;
  cpuUsec: number | null;
  memoryBytes: number | null;
}

export interface TopTask {
  taskId: string;
  kind: string;
  functionName: string;
  version: number | null;
  requestId: string | null;
  nodeId: string | null;
  node: string;
  state: string;
  since: Date | null;
  /** Percent of one CPU (100 = one core busy); null until two samples exist. */
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  rxBytes: number | null;
  txBytes: number | null;
  runtime: RuntimeCounters | null;
  /** Raw counters for the next sample's rates. */
  raw: { atMs: number; cpuNs?: number; systemCpuNs?: number; onlineCpus?: number; cpuUsec?: number | null };
}

export interface TopSnapshot {
  at: Date;
  nodes: SwarmNode[];
  tasks: TopTask[];
}

const STATS_TIMEOUT_MS = 2_000;

export async function sampleTop(deps: TopDeps, now: () => Date, previous?: TopSnapshot): Promise<TopSnapshot> {
  const mine = `${LABELS.installation}=${await deps.store.meta.installationId()}`;
  const [nodes, state, tasks] = await Promise.all([deps.swarm.listNodes(), deps.swarm.swarmState(), deps.swarm.listTasksByLabel([`${MANAGED_LABEL}=true`, mine])]);
  const running = tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const transport = deps.replicaTransport(1);
  const tokens = new Map<string, Promise<string | undefined>>();
  const token = (functionId: string) => {
    if (!tokens.has(functionId)) tokens.set(functionId, deps.store.functions.warmToken(functionId));
    return tokens.get(functionId)!;
  };
  try {
    const rows = await Promise.all(
      running.map(async (t): Promise<TopTask> => {
        const kind = t.labels[COMPONENT_LABEL] ?? 'unknown';
        const node = t.nodeId ? nodeById.get(t.nodeId) : undefined;
        const local = Boolean(t.nodeId && t.nodeId === state.nodeId && t.containerId);
        const port = t.ports.find((p) => p.target === REPLICA_PORT)?.published;
        const [stats, runtime] = await Promise.all([
          local ? deps.swarm.containerStats(t.containerId!).catch(() => undefined) : undefined,
          kind === 'warm' && port ? counters(deps, transport, { host: deps.replicaHost(node?.address), port, taskId: t.id }, await token(t.labels[LABELS.function] ?? '')) : undefined,
        ]);
        const atMs = now().getTime();
        const before = previous?.tasks.find((p) => p.taskId === t.id)?.raw;
        const version = Number(t.labels[LABELS.version]);
        return {
          taskId: t.id,
          kind,
          functionName: t.labels[LABELS.functionName] ?? '-',
          version: Number.isInteger(version) ? version : null,
          requestId: t.labels[LABELS.request] ?? null,
          nodeId: t.nodeId ?? null,
          node: node?.hostname ?? t.nodeId?.slice(0, 12) ?? '-',
          state: t.state,
          since: t.updatedAt ?? null,
          cpuPercent: cpuPercent(before, stats, runtime, atMs),
          memoryBytes: stats?.memoryBytes ?? runtime?.memoryBytes ?? null,
          memoryLimitBytes: stats?.memoryLimitBytes ?? null,
          rxBytes: stats?.rxBytes ?? null,
          txBytes: stats?.txBytes ?? null,
          runtime: runtime ?? null,
          raw: { atMs, cpuNs: stats?.cpuNs, systemCpuNs: stats?.systemCpuNs, onlineCpus: stats?.onlineCpus, cpuUsec: runtime?.cpuUsec },
        };
      }),
    );
    rows.sort((a, b) => a.kind.localeCompare(b.kind) || a.functionName.localeCompare(b.functionName) || a.node.localeCompare(b.node));
    return { at: now(), nodes, tasks: rows };
  } finally {
    transport.close();
  }
}

async function counters(deps: TopDeps, transport: ReplicaTransport, endpoint: { host: string; port: number; taskId: string }, token: string | undefined): Promise<RuntimeCounters | undefined> {
  if (!token) return undefined;
  try {
    const res = await transport.get(endpoint, '/stats', { authorization: `Bearer ${token}` }, { timeoutMs: STATS_TIMEOUT_MS });
    return res.status === 200 ? (JSON.parse(res.body) as RuntimeCounters) : undefined;
  } catch (err) {
    deps.log.debug(`stats of ${endpoint.host}:${endpoint.port}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Docker's own formula (as `docker stats`), else the runtime's cgroup CPU time over wall time. */
export function cpuPercent(
  before: TopTask['raw'] | undefined,
  stats: { cpuNs: number; systemCpuNs: number; onlineCpus: number } | undefined,
  runtime: { cpuUsec: number | null } | undefined,
  atMs: number,
): number | null {
  if (!before) return null;
  if (stats && before.cpuNs !== undefined && before.systemCpuNs !== undefined) {
    const cpu = stats.cpuNs - before.cpuNs;
    const system = stats.systemCpuNs - before.systemCpuNs;
    return system > 0 && cpu >= 0 ? (cpu / system) * stats.onlineCpus * 100 : null;
  }
  if (runtime?.cpuUsec != null && before.cpuUsec != null && atMs > before.atMs) {
    return ((runtime.cpuUsec - before.cpuUsec) / ((atMs - before.atMs) * 1000)) * 100;
  }
  return null;
}
