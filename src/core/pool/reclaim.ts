import type { PoolClaim } from '../../db/pool-repo.js';
import { NO_RUN_FIGURES } from '../../db/requests-repo.js';
import { standbyToken } from './claim-plan.js';
import type { PoolDeps } from './pool-deps.js';

/**
 * Claims past their expiry, given back (by gc, and by a claimer that found no free container).
 * A claim whose job was never sent (its CLI died between the claim and the job) holds an idle
 * container: the container is told to retire over its own channel (it exits unused and Swarm
 * replaces it; this works on any node, unlike removing a container through the manager) and
 * the request row, still open, is closed. A claim whose job was sent expires with the
 * request's deadline: the runtime's timeout has ended that job and its container by then, and
 * the row is closed as any expired row is.
 */
export async function reclaimExpired(deps: Pick<PoolDeps, 'store' | 'swarm' | 'clock' | 'log' | 'replicaHost' | 'standby'>): Promise<number> {
  const expired = await deps.store.pool.expired(deps.clock.now());
  for (const claim of expired) {
    if (!claim.jobSent) await retire(deps, claim).catch((e: Error) => deps.log.debug(`retiring ${claim.taskId}: ${e.message}`));
    if (claim.requestId && !claim.jobSent) {
      const now = deps.clock.now();
      await deps.store.requests.complete(claim.requestId, {
        ...NO_RUN_FIGURES,
        status: 'system_error',
        result: null,
        error: 'its CLI stopped after claiming a pool container and before sending it the job: the function did not run',
        durationMs: now.getTime() - claim.claimedAt.getTime(),
        finishedAt: now,
      });
    }
    await deps.store.pool.release(claim.taskId);
  }
  return expired.length;
}

async function retire(deps: Pick<PoolDeps, 'swarm' | 'replicaHost' | 'standby'>, claim: PoolClaim): Promise<void> {
  await tellContainer(deps, claim, '/retire');
}

/**
 * A request to a claimed pool container over its own channel (`/retire` an idle one, `/cancel`
 * its running job): its endpoint from the task, its token from the task's log. False when the
 * container is gone already (nothing to tell).
 */
export async function tellContainer(deps: Pick<PoolDeps, 'swarm' | 'replicaHost' | 'standby'>, claim: Pick<PoolClaim, 'taskId' | 'serviceId'>, path: '/retire' | '/cancel'): Promise<boolean> {
  const [tasks, nodes] = await Promise.all([deps.swarm.listTasks(claim.serviceId), deps.swarm.listNodes()]);
  const task = tasks.find((t) => t.id === claim.taskId && t.state === 'running');
  const token = task && standbyToken(await deps.swarm.taskLogs(task.id));
  const port = task?.ports[0]?.published;
  if (!task || !token || !port) return false;
  const node = nodes.find((n) => n.id === task.nodeId);
  const answer = await deps.standby().post({ taskId: task.id, host: deps.replicaHost(node?.address), port }, path, token, '{}', {});
  return answer.status === 200;
}
