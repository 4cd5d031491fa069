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
  onRerun?: (attempt: number, lostNode: string) => void;
}

/**
 * Watches an invocation to its answer, running it again when its node is lost: the service
 * is replaced by a copy (same code, input and nonce) that Swarm places on a live node, under
 * the same request id, with the attempt counted in the row. At-least-once: the lost run may
 * have executed, or may still be executing on a node cut off from the cluster.
 */
export async function watchWithReruns(deps: InvocationDeps, o: RunWatch): Promise<Watched & { serviceId: string; attempt: number }> {
  let { serviceId, attempt, deadline } = o;
  for (;;) {
    const watched = await watchInvocation(deps, { ...o, serviceId, deadline });
    if (watched.reason !== 'node_lost') return { ...watched, serviceId, attempt };
    const lostNode = watched.node ?? watched.task?.nodeId ?? 'unknown';
    if (attempt >= MAX_ATTEMPTS) {
      return { ...watched, serviceId, attempt };
    }
    // First writer wins: a `request wait` racing this CLI must not start a second copy.
    const next = await rerunService(deps, o.requestId, serviceId, attempt + 1);
    if (!next) return { ...watched, reason: 'ended', serviceId, attempt };
    deps.log.debug(`request ${o.requestId}: node ${lostNode} lost; running it again (attempt ${attempt + 1})`);
    o.onRerun?.(attempt + 1, lostNode);
    serviceId = next;
    attempt += 1;
    if (o.runMs !== undefined) deadline = deps.clock.now().getTime() + o.runMs;
  }
}

/** Replaces an invocation's service by a copy for the next attempt; undefined when another process already did. */
export async function rerunService(deps: InvocationDeps, requestId: string, serviceId: string, attempt: number): Promise<string | undefined> {
  const old = await deps.swarm.inspectService(serviceId);
  if (!old?.spec || !(await deps.store.requests.claimAttempt(requestId, attempt))) return undefined;
  const spec = structuredClone(old.spec);
  spec.Name = rerunServiceName(old.spec.Name, attempt);
  spec.Labels = { ...spec.Labels, [LABELS.attempt]: String(attempt) };
  await deps.swarm.removeService(serviceId);
  const created = await deps.swarm.createService(spec);
  await deps.store.requests.markRunning(requestId, created);
  return created;
}
