import type { RequestRow } from '../../db/requests-repo.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import type { Outcome } from '../invocations/invocation.js';
import { closeExpiredRequests } from '../invocations/expired-requests.js';
import { isOpenColdJob } from '../invocations/listed-requests.js';
import { isOpen, reconcileInvocation } from '../invocations/reconcile.js';
import { waitForRow } from '../invocations/request-wait.js';
import { showRequest } from '../requests/requests.js';
import type { Actor } from '../users/accounts.js';

/**
 * `GET /v1/requests/ID` and `…/wait`, as `request show` and `request wait` read a row: an
 * expired row is closed first; an open cold job is looked at on the cluster (show) or followed
 * to its end (wait); any other open row is written by its owner, so a wait polls it.
 */
export async function lookAtRequest(deps: InvokeDeps, actor: Actor, id: string): Promise<RequestRow> {
  let row = await showRequest(deps.store, actor, id);
  if (!isOpen(row)) return row;
  await closeExpiredRequests({ ...deps, engine: async () => deps }, { userId: actor.id, requestId: row.id });
  row = await showRequest(deps.store, actor, id);
  if (isOpen(row) && row.type === 'fn.invoke') {
    const ended = await reconcileInvocation(deps, row, { wait: false }).catch((err: Error) => deps.log.debug(`reconcile: ${err.message}`));
    if (ended) row = await showRequest(deps.store, actor, id);
  }
  return row;
}

export async function followRequest(deps: InvokeDeps, actor: Actor, id: string, o: { deadline: number; signal?: AbortSignal }): Promise<{ row: RequestRow; outcome?: Outcome }> {
  const expiry = { ...deps, engine: async () => deps };
  const asked = await showRequest(deps.store, actor, id);
  if (isOpen(asked)) await closeExpiredRequests(expiry, { userId: actor.id, requestId: asked.id });
  const row = await showRequest(deps.store, actor, id);
  const outcome = isOpenColdJob(row)
    ? await reconcileInvocation(deps, row, { wait: true, deadline: o.deadline, signal: o.signal })
    : await waitForRow(expiry, row, { userId: actor.id, deadline: o.deadline, signal: o.signal }).then(() => undefined);
  return { row: await showRequest(deps.store, actor, id), outcome };
}
