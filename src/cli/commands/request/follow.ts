import { recordedOutcome } from '../../../core/dispatch/recorded-outcome.js';
import type { Invocation } from '../../../core/invocations/invoke.js';
import { isOpenColdJob } from '../../../core/invocations/listed-requests.js';
import { reconcileInvocation } from '../../../core/invocations/reconcile.js';
import { waitForRow } from '../../../core/invocations/request-wait.js';
import { showRequest } from '../../../core/requests/requests.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';

/** An idempotent repeat of a running request: follow it to its end, as `request wait` does, for up to a day. */
export async function waitForRequest(ctx: Context, id: string, signal: AbortSignal): Promise<Invocation> {
  const { actor } = await requireActor(ctx);
  const store = await ctx.store();
  const deps = await functionDeps(ctx);
  const row = await showRequest(store, actor, id);
  const deadline = ctx.clock.now().getTime() + 24 * 3_600_000;
  const outcome = isOpenColdJob(row)
    ? await reconcileInvocation(deps, row, { wait: true, deadline, signal, onOutput: (_s, text) => ctx.io.relay(text) })
    : await waitForRow({ ...deps, engine: async () => deps }, row, { userId: actor.id, deadline, signal }).then(() => undefined);
  const final = await showRequest(store, actor, id);
  return { requestId: id, functionName: final.functionName ?? '', version: final.functionVersion ?? 0, mode: final.mode ?? 'cold', attempt: final.attempt, outcome: outcome ?? recordedOutcome(final) };
}
