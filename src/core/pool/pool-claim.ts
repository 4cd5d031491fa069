import type { ReplicaEndpoint } from '../../base/ports.js';
import type { ServiceInfo, SwarmTask } from '../../swarm/client.js';
import { LABELS } from '../../swarm/labels.js';
import { poolLabels } from '../../swarm/pool-spec.js';
import type { PoolDeps } from './pool-deps.js';
export type { PoolDeps } from './pool-deps.js';
import { claimCandidates, MAX_CLAIM_TRIES, standbyToken } from './claim-plan.js';
import { reclaimExpired } from './reclaim.js';

/** How long a claim whose job was not sent yet holds its container (the CLI may have died). */
export const CLAIM_HOLD_MS = 5_000;

export interface Claimed {
  task: SwarmTask;
  serviceId: string;
  endpoint: ReplicaEndpoint;
  token: string;
  /** `<task id>/<container id>`, as the request row keeps it. */
  poolTask: string;
}

/** The pool service of a class, unless it is being drained or shrunk. */
export async function poolService(deps: Pick<PoolDeps, 'swarm' | 'store'>, className: string): Promise<ServiceInfo | undefined> {
  const installation = await deps.store.meta.installationId();
  const labels = poolLabels(installation, className);
  const [service] = await deps.swarm.listServices(Object.entries(labels).map(([k, v]) => `${k}=${v}`));
  return service && service.labels[LABELS.poolDraining] !== 'true' ? service : undefined;
}

/**
 * Claims one waiting container of the service for `requestId`: an insert keyed by the task id
 * (PostgreSQL decides between racing claimers), then the container's one-time token from its
 * log through the engine. Undefined when no container is ready: the caller falls back.
 */
export async function claimContainer(deps: PoolDeps, serviceId: string, requestId: string): Promise<Claimed | undefined> {
  await deps.store.pool.pruneDone(deps.clock.now());
  const [tasks, nodes, claimed] = await Promise.all([deps.swarm.listTasks(serviceId), deps.swarm.listNodes(), deps.store.pool.claimedTasks([serviceId])]);
  const lost = new Set(nodes.filter((n) => n.state !== 'ready').map((n) => n.id));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const candidates = claimCandidates(tasks, claimed, lost, deps.random ?? Math.random);
  // None free: claims of CLIs that died may hold some; give back those past their expiry.
  if (candidates.length === 0 && claimed.size > 0) await reclaimExpired(deps);
  for (const task of candidates.slice(0, MAX_CLAIM_TRIES)) {
    const expiresAt = new Date(deps.clock.now().getTime() + CLAIM_HOLD_MS);
    if (!(await deps.store.pool.claim({ taskId: task.id, serviceId, containerId: task.containerId ?? null, requestId, expiresAt }))) continue;
    const token = standbyToken(await deps.swarm.taskLogs(task.id));
    const port = task.ports[0]?.published;
    if (!token || !port) {
      // Running but not listening yet: not ours to keep.
      await deps.store.pool.release(task.id);
      continue;
    }
    const node = byId.get(task.nodeId ?? '');
    const endpoint = { taskId: task.id, nodeId: task.nodeId, node: node?.hostname, host: deps.replicaHost(node?.address), port };
    return { task, serviceId, endpoint, token, poolTask: `${task.id}/${task.containerId ?? ''}` };
  }
  return undefined;
}
