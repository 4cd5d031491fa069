import { cancelRequest } from '../../../core/deletes/request-cancel.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';

/** `request cancel ID`: its own file, so the request log's listing work and this change stay apart. */
export async function runCancel(ctx: Context, id: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  const cancelled = await cancelRequest(await functionDeps(ctx), actor, id);
  if (ctx.io.options.json) return ctx.io.json(cancelled);
  if (ctx.io.options.quiet) return ctx.io.out(cancelled.id);
  const what =
    cancelled.mode === 'warm' ? 'its row closed; the warm replica finishes the call and its answer is dropped' : cancelled.type === 'fn.invoke.bulk' ? 'its replicas removed' : 'its service removed';
  ctx.io.out(`cancelled request ${cancelled.id}${cancelled.functionName ? ` (${cancelled.functionName})` : ''}: ${what}; recorded as ${cancelled.status}`);
}
