import { parseReplicas, parseWorkers, scaleFunction } from '../../../core/functions/warm-replicas.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';

export async function runScale(ctx: Context, name: string, replicasArg: string, opts: { workers?: string }): Promise<void> {
  const replicas = parseReplicas(replicasArg, 'replica count');
  const workers = parseWorkers(opts.workers);
  const { actor } = await requireActor(ctx);
  const spinner = await ctx.io.spinner(replicas ? `scaling ${name} to ${replicas} warm replica${replicas === 1 ? '' : 's'}…` : `making ${name} cold…`);
  try {
    const r = await scaleFunction(await functionDeps(ctx, (t) => spinner.update(t)), actor, name, replicas, workers);
    spinner.stop();
    if (ctx.io.options.json) return ctx.io.json(r);
    if (ctx.io.options.quiet) return;
    ctx.io.info(
      r.replicas
        ? `${r.name} v${r.version}: ${r.replicas} warm replica${r.replicas === 1 ? '' : 's'} × ${r.workers} worker${r.workers === 1 ? '' : 's'} running (was ${r.previous})`
        : `${r.name} is cold: invocations run as jobs (was ${r.previous} warm replica${r.previous === 1 ? '' : 's'})`,
    );
  } catch (err) {
    spinner.stop();
    throw err;
  }
}
