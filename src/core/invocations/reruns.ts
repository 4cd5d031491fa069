import { LABELS } from '../../swarm/labels.js';
import { watchInvocation, type InvocationDeps, type Watched, type WatchOptions } from './invocation.js';
import { MAX_ATTEMPTS } from './node-health.js';
import { rerunServiceName } from '../../swarm/names.js';

export interface RunWatch extends WatchOptions {
  requestId: string;
  /** The attempt the service runs (1 for the first). */
  attempt: number;
  /** The function's own timeout and the start allowance: each new run gets this long again. */
  runMs?: number;
  /** lost: the node went Down mid-run; stalled: the node never started it. */
  onRerun?: (attempt: number, node: string, why: 'lost' | 'stalled') => void;
}

/**
 * Watches an invocation to its answer, running it again when its node is lost or never starts
 * it: the service is replaced by a copy (same code, input and nonce) that Swarm places on
 * another node, under the same request id, with the attempt counted in the row. At-least-once:
 * a lost run may have executed, or may still be executing on a node cut off from the cluster.
 */
export async function watchWithReruns(deps: InvocationDeps, o: RunWatch): Promise<Watched & { serviceId: string; attempt: number }> {
  let { serviceId, attempt, deadline } = o;
  for (;;) {
    const watched = await watchInvocation(deps, { ...o, serviceId, deadline });
    if (watched.reason !== 'node_lost' && watched.reason !== 'stalled') return { ...watched, serviceId, attempt };
    const lostNode = watched.node ?? watched.task?.nodeId ?? 'unknown';
    if (attempt >= MAX_ATTEMPTS) {
      return { ...watched, serviceId, attempt };
    }
    // First writer wins: a `request wait` racing this CLI must not start a second copy.
    const next = await rerunService(deps, o.requestId, serviceId, attempt + 1, watched.task?.nodeId);
    if (!next) return { ...watched, reason: 'ended', serviceId, attempt };
    const why = watched.reason === 'stalled' ? 'stalled' : 'lost';
    deps.log.debug(`request ${o.requestId}: node ${lostNode} ${why === 'lost' ? 'lost' : 'never started it'}; running it again (attempt ${attempt + 1})`);
    o.onRerun?.(attempt + 1, lostNode, why);
    serviceId = next;
    attempt += 1;
    if (o.runMs !== undefined) deadline = deps.clock.now().getTime() + o.runMs;
  }
}

/**
 * Replaces an invocation's service by a copy for the next attempt, kept off `avoidNode` (a node
 * that came back at once can be listed Ready and still take no work); undefined when another
 * process already did.
 */
export async function rerunService(deps: InvocationDeps, requestId: string, serviceId: string, attempt: number, avoidNode?: string): Promise<string | undefined> {
  const old = await deps.swarm.inspectService(serviceId);
  if (!old?.spec || !(await deps.store.requests.claimAttempt(requestId, attempt))) return undefined;
  const spec = structuredClone(old.spec);
  spec.Name = rerunServiceName(old.spec.Name, attempt);
  spec.Labels = { ...spec.Labels, [LABELS.attempt]: String(attempt) };
  if (avoidNode) {
    const placement = spec.TaskTemplate.Placement ?? {};
    spec.TaskTemplate.Placement = { ...placement, Constraints: [...(placement.Constraints ?? []), `node.id!=${avoidNode}`] };
  }
  await deps.swarm.removeService(serviceId);
  const created = await deps.swarm.createService(spec);
  await deps.store.requests.markRunning(requestId, created);
  return created;
}
