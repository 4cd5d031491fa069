import type { ReplicaEndpoint } from '../../base/ports.js';
import type { ServiceInfo, SwarmNode, SwarmTask } from '../../swarm/client.js';
import { LABELS, labelList } from '../../swarm/labels.js';
import { poolLabels } from '../../swarm/pool-spec.js';
import type { PoolDeps } from './pool-deps.js';
export type { PoolDeps } from './pool-deps.js';
import { claimCandidates, MAX_CLAIM_TRIES, standbyToken } from './claim-plan.js';
import { reclaimExpired } from './reclaim.js';
import { readPoolView, type PoolView } from './pool-view.js';

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
const openService = (services: ServiceInfo[]) => services.find((s) => s.labels[LABELS.poolDraining] !== 'true');

/** A claim, or why there is none: no pool of the class (`pool`) or no free container in it. */
export type ClaimResult = { claimed: Claimed } | { missing: 'pool' | 'container' };

/** The open service of the class and its free tasks, in the order to try them. */
type Plan = { missing: 'pool' } | { service: ServiceInfo; candidates: SwarmTask[]; byId: Map<string, SwarmNode> };

function planClaim(deps: PoolDeps, view: PoolView, claimed: ReadonlySet<string>): Plan {
  const service = openService(view.services);
  if (!service) return { missing: 'pool' };
  const lost = new Set(view.nodes.filter((n) => n.state !== 'ready').map((n) => n.id));
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const candidates = claimCandidates(
    view.tasks.filter((t) => t.serviceId === service.id),
    claimed,
    lost,
    deps.random ?? Math.random,
  );
  return { service, candidates, byId };
}

/**
 * Claims one waiting container of the class's pool for `requestId`: an insert keyed by the
 * task id (PostgreSQL decides between racing claimers), then the container's one-time token
 * from its log through the engine. The service, its tasks (found by their labels), the nodes
 * and the claims are read at once: the claim is on every pool invocation's path. The
 * dispatcher shares its reads of the engine among its claims (pool-view.ts).
 */
export async function claimContainer(deps: PoolDeps, className: string, requestId: string): Promise<ClaimResult> {
  const filter = labelList(poolLabels(await deps.store.meta.installationId(), className));
  const shared = deps.poolViews?.read(deps.swarm, filter);
  let [view, claimed] = await Promise.all([shared?.view ?? readPoolView(deps.swarm, filter), deps.store.pool.claimedTasks()]);
  let plan = planClaim(deps, view, claimed);
  // A shared read with nothing free may predate new containers: read once more.
  if (shared?.cached && !('candidates' in plan && plan.candidates.length)) {
    [view, claimed] = await Promise.all([deps.poolViews!.read(deps.swarm, filter, true).view, deps.store.pool.claimedTasks()]);
    plan = planClaim(deps, view, claimed);
  }
  if ('missing' in plan) return plan;
  const { service, candidates, byId } = plan;
  // None free: claims of CLIs that died may hold some; give back those past their expiry.
  if (candidates.length === 0 && claimed.size > 0) await reclaimExpired(deps);
  for (const task of candidates.slice(0, MAX_CLAIM_TRIES)) {
    const expiresAt = new Date(deps.clock.now().getTime() + CLAIM_HOLD_MS);
    if (!(await deps.store.pool.claim({ taskId: task.id, serviceId: service.id, containerId: task.containerId ?? null, requestId, expiresAt }))) continue;
    const token = standbyToken(await deps.swarm.taskLogs(task.id));
    const port = task.ports[0]?.published;
    if (!token || !port) {
      // Running but not listening yet: not ours to keep.
      await deps.store.pool.release(task.id);
      continue;
    }
    const node = byId.get(task.nodeId ?? '');
    const endpoint = { taskId: task.id, nodeId: task.nodeId, node: node?.hostname, host: deps.replicaHost(node?.address), port };
    return { claimed: { task, serviceId: service.id, endpoint, token, poolTask: `${task.id}/${task.containerId ?? ''}` } };
  }
  return { missing: 'container' };
}
