import type { RequestRow } from '../../db/requests-repo.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { requireFunction } from '../functions/lookup.js';
import { effectivePolicy } from '../functions/dispatch-policy.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import { invokeRow } from '../invocations/invoke.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import type { Actor } from '../users/accounts.js';
import { dispatcherInstalled, QUEUE_CHANNEL } from './queue-state.js';

/**
 * Dead letters: async requests that failed after their retries, or aged out in the queue.
 * Their rows stay in the request log; the input is kept for a redrive, which queues a new
 * request (linked both ways) on the function's current version.
 */

export async function listDeadLetters(deps: Pick<InvokeDeps, 'store'>, actor: Actor, fnName: string | undefined, limit: number): Promise<RequestRow[]> {
  const fn = fnName ? await requireFunction(deps.store, actor, fnName) : undefined;
  return deps.store.queue.deadLetters(actor.id, fn?.id, limit);
}

export interface Redriven {
  from: string;
  requestId: string;
}

export async function redrive(deps: InvokeDeps, actor: Actor, ids: string[]): Promise<Redriven[]> {
  if (!(await dispatcherInstalled(deps.store))) throw new UsageError('redrive queues requests for the dispatcher, and this installation has none', { hint: 'run faasctl up --dispatcher' });
  const out: Redriven[] = [];
  for (const id of ids) {
    const row = await deps.store.requests.byId(id, actor.id);
    if (!row?.deadAt || row.redrivenAs) throw new NotFoundError(`no dead letter ${id}`, { hint: 'faasctl dlq list shows them' });
    const fn = await requireFunction(deps.store, actor, row.functionName ?? '');
    const input = (await deps.store.queue.inputOf(id)) ?? 'null';
    const policy = effectivePolicy(await deps.store.functions.dispatchPolicy(fn.id));
    const requestId = deps.newId();
    await deps.store.transaction(async (tx) => {
      if (!(await tx.queue.markRedriven(id, actor.id, requestId))) throw new NotFoundError(`dead letter ${id} was redriven meanwhile`);
      await tx.requests.insert({
        ...invokeRow(actor, fn, input),
        id: requestId,
        status: 'pending',
        queuedInput: input,
        redriveOf: id,
        deadlineMs: policy.maxEventAgeMs + deadlineBudgetMs({ kind: 'cold', timeoutMs: fn.current.timeoutMs }),
      });
    });
    out.push({ from: id, requestId });
  }
  await deps.store.queue.notify(QUEUE_CHANNEL);
  return out;
}

export async function purgeDeadLetters(deps: Pick<InvokeDeps, 'store'>, actor: Actor, ids: string[] | 'all', fnName?: string): Promise<number> {
  const fn = fnName ? await requireFunction(deps.store, actor, fnName) : undefined;
  return deps.store.queue.purge(actor.id, ids, fn?.id);
}
