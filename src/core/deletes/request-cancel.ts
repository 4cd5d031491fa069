import type { RequestRow } from '../../db/requests-repo.js';
import { LABELS } from '../../swarm/labels.js';
import { ConflictError, EXIT, UsageError } from '../../base/errors.js';
import { removeBulkObjects } from '../invocations/expired-requests.js';
import { finishInvocation, type InvocationDeps } from '../invocations/invocation.js';
import { isOpen, reconcileInvocation } from '../invocations/reconcile.js';
import { showRequest } from '../requests/requests.js';
import type { Actor } from '../users/accounts.js';
import { waitTasksGone } from './engine-removal.js';
import { stopped, stopPoolRow } from './open-requests.js';
import type { PoolDeps } from '../pool/pool-deps.js';

/**
 * `request cancel ID`: stops one running invocation of the caller's and closes its row as
 * `system_error` with "cancelled by NAME (request cancel)", as `fn delete --force` closes the
 * rows it stops (no new status: the request log's statuses stay OpenWhisk's six).
 * - a cold job: its service and input config removed, its task and container waited for;
 * - a bulk run: its replicas and token removed;
 * - a pool job: the row is closed and its container told to stop the job (`/cancel`);
 * - a warm call: the row is closed; the replica's worker finishes the call (a warm replica
 *   cannot stop one call without its other work) and its answer is dropped (first writer wins).
 */

export interface Cancelled {
  id: string;
  type: string;
  functionName: string | null;
  mode: RequestRow['mode'];
  status: RequestRow['status'];
  error: string | null;
}

export async function cancelRequest(deps: InvocationDeps & Partial<Pick<PoolDeps, 'replicaHost' | 'standby'>>, actor: Actor, id: string): Promise<Cancelled> {
  let row = await showRequest(deps.store, actor, id);
  if (!row.type.startsWith('fn.invoke')) throw new UsageError(`request ${row.id} is a ${row.type}: only invocations can be cancelled`, { hint: 'faasctl request list --type fn.invoke shows yours' });
  // A cold job that already answered is recorded as it ended, not as cancelled.
  if (isOpen(row) && row.type === 'fn.invoke' && row.mode !== 'warm') {
    await reconcileInvocation(deps, row, { wait: false });
    row = await showRequest(deps.store, actor, row.id);
  }
  if (!isOpen(row)) throw alreadyEnded(row);
  const reason = `cancelled by ${actor.name} (faasctl request cancel) while it ran`;
  const completion = stopped(deps.clock.now(), reason);
  let recorded: boolean;
  if (row.type === 'fn.invoke' && row.mode === 'pool') {
    recorded = await stopPoolRow(deps, row, completion);
  } else if (row.type === 'fn.invoke' && row.mode !== 'warm') {
    const [service] = await deps.swarm.listServices([`${LABELS.request}=${row.id}`]);
    recorded = await finishInvocation(deps, row.id, service?.id, { completion, exitCode: EXIT.platform, message: reason });
    await waitTasksGone(deps, [`${LABELS.request}=${row.id}`]);
  } else {
    recorded = await deps.store.requests.complete(row.id, completion);
    if (row.type === 'fn.invoke.bulk') await removeBulkObjects(deps, row.id);
  }
  const final = await showRequest(deps.store, actor, row.id);
  if (!recorded) throw alreadyEnded(final);
  return { id: final.id, type: final.type, functionName: final.functionName, mode: final.mode, status: final.status, error: final.error };
}

function alreadyEnded(row: RequestRow): ConflictError {
  return new ConflictError(`request ${row.id} already ended (${row.status}): nothing to cancel`, { hint: `faasctl request show ${row.id}` });
}
