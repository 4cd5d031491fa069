import type { Completion, RequestRow } from '../../db/requests-repo.js';
import { LABELS } from '../../swarm/labels.js';
import { EXIT } from '../../base/errors.js';
import { closeExpiredRequests, removeBulkObjects } from '../invocations/expired-requests.js';
import { finishInvocation, type InvocationDeps } from '../invocations/invocation.js';
import { reconcileInvocation } from '../invocations/reconcile.js';
import { cancelPoolJob } from '../pool/pool-recover.js';
import type { PoolDeps } from '../pool/pool-deps.js';

/**
 * A delete's open rows: brought up to date first (an --async job that ended gets its result
 * recorded and its service removed, as `request wait` would), and what is still running is
 * either a reason to refuse or, with --force, stopped at once with the reason on its row.
 */

export type OpenScope = { userId: string } | { functionId: string };

const OPEN_LIMIT = 10_000;

/** Expired rows closed and ended jobs recorded; answers the rows still open (still running). */
export async function settleOpenRequests(deps: InvocationDeps, scope: OpenScope): Promise<RequestRow[]> {
  await closeExpiredRequests({ ...deps, engine: async () => deps }, scope, OPEN_LIMIT);
  for (const row of await deps.store.requests.openOf(scope, OPEN_LIMIT)) {
    if (row.type === 'fn.invoke' && row.mode !== 'warm') await reconcileInvocation(deps, row, { wait: false });
  }
  return deps.store.requests.openOf(scope, OPEN_LIMIT);
}

/**
 * Closes each row with `reason` (first writer wins, as everywhere) and removes its service: a
 * cold job's own, a bulk run's replicas and token; a pool job's container is told to stop it. A
 * warm call's replicas go with the function.
 */
export async function stopRequests(deps: InvocationDeps & Partial<Pick<PoolDeps, 'replicaHost' | 'standby'>>, rows: RequestRow[], reason: string): Promise<void> {
  for (const row of rows) {
    const completion = stopped(deps.clock.now(), reason);
    if (row.type === 'fn.invoke' && row.mode === 'pool') {
      await stopPoolRow(deps, row, completion);
    } else if (row.type === 'fn.invoke' && row.mode !== 'warm') {
      const [service] = await deps.swarm.listServices([`${LABELS.request}=${row.id}`]);
      await finishInvocation(deps, row.id, service?.id, { completion, exitCode: EXIT.platform, message: reason });
    } else {
      await deps.store.requests.complete(row.id, completion);
      if (row.type === 'fn.invoke.bulk') await removeBulkObjects(deps, row.id);
    }
  }
}

/**
 * Closes a pool invocation's row and tells its container to stop the job, as a Ctrl-C of its
 * CLI would (best effort: the row is closed either way, and a job not stopped ends at its
 * timeout). False when another writer had ended the row.
 */
export async function stopPoolRow(deps: InvocationDeps & Partial<Pick<PoolDeps, 'replicaHost' | 'standby'>>, row: RequestRow, completion: Completion): Promise<boolean> {
  const recorded = await deps.store.requests.complete(row.id, completion);
  const { replicaHost, standby } = deps;
  if (recorded && replicaHost && standby)
    await cancelPoolJob({ ...deps, replicaHost, standby }, row).catch((e: Error) => deps.log.debug(`request ${row.id}: its pool container was not told: ${e.message}`));
  return recorded;
}

/** As a row a stop closes reads: nothing ran to its end, so no figures. */
export function stopped(now: Date, reason: string): Completion {
  return { status: 'system_error', result: null, error: reason, output: '', outputTruncated: false, durationMs: null, cpuMs: null, maxRssKb: null, node: null, finishedAt: now };
}
