import type { Command } from 'commander';
import { UsageError } from '../../base/errors.js';
import type { Context } from '../context.js';

interface GcOptions {
  dryRun?: boolean;
  mine?: boolean;
  user?: string;
}

const HELP = `
Running invocations are never touched. Safe to run at any time, e.g. from cron.
Without --mine or --user, gc cleans the whole installation. With one, only that user's
invocation services, rows, input configs, warm and bulk services and token secrets; what
belongs to nobody in particular (code configs no version uses, check containers, fn run
leftovers, dependency images, secrets of deleted users) is left to the unscoped gc, as is
pruning the request log: deleted users' history, and rows, output text and rollups older than
the retention set by faasctl up --retention (in batches of 5000, each its own statement).

Examples:
  faasctl gc --dry-run
  faasctl gc --mine
  faasctl gc --user alice --json`;

export function registerGc(program: Command, ctx: Context): void {
  program
    .command('gc')
    .description('finish interrupted invocations and remove what faasctl left behind (services, configs, containers)')
    .option('--dry-run', 'only count what would be done (the same plan a real run applies)')
    .option('--mine', "only the logged-in user's work")
    .option('--user <name>', "only this user's work (an operator cleaning up after one user)")
    .addHelpText('after', HELP)
    .action(async (opts: GcOptions) => {
      if (opts.mine && opts.user !== undefined) throw new UsageError('give either --mine or --user NAME, not both');
      const { collectGarbage } = await import('../../core/platform/gc.js');
      const { functionDeps } = await import('../deps.js');
      const scope = await gcScope(ctx, opts);
      const report = await collectGarbage(await functionDeps(ctx), { dryRun: Boolean(opts.dryRun), scope });
      if (ctx.io.options.json) return ctx.io.json(report);
      const [remove, recover, close, rerun] = opts.dryRun ? ['would remove', 'would recover', 'close', 'run again'] : ['removed', 'recovered', 'closed', 'ran again'];
      const whose = report.scope === 'all' ? '' : ` (${report.scope.user}'s work only)`;
      ctx.io.info(
        `${remove} ${report.servicesRemoved} service(s), ${report.configsRemoved} config(s), ${report.containersRemoved} container(s), ${report.secretsRemoved} secret(s), ${report.imagesRemoved} image tag(s); ${recover} ${report.requestsRecovered} result(s), ${close} ${report.requestsLost} lost request(s), ${rerun} ${report.requestsRerun} on a live node; ${opts.dryRun ? 'would prune' : 'pruned'} ${report.requestsPruned} request row(s), ${report.outputsCleared} output(s), ${report.rollupsPruned} rollup(s); ${opts.dryRun ? 'would give back' : 'gave back'} ${report.poolClaimsReclaimed} abandoned pool claim(s)${whose}`,
      );
    });
}

async function gcScope(ctx: Context, opts: GcOptions) {
  if (opts.mine) {
    const { requireActor } = await import('../session.js');
    const { actor } = await requireActor(ctx);
    return { kind: 'user' as const, userId: actor.id, name: actor.name };
  }
  if (opts.user === undefined) return { kind: 'all' as const };
  const { findUser } = await import('../../core/users/accounts.js');
  const { userDeps } = await import('../session.js');
  const user = await findUser(await userDeps(ctx), opts.user);
  return { kind: 'user' as const, userId: user.id, name: user.name };
}
