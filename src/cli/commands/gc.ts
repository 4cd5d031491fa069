import type { Command } from 'commander';
import type { Context } from '../context.js';

export function registerGc(program: Command, ctx: Context): void {
  program
    .command('gc')
    .description('finish interrupted invocations and remove what faasctl left behind (services, configs, containers)')
    .option('--dry-run', 'only count what would be removed')
    .addHelpText('after', '\nRunning invocations are never touched. Safe to run at any time, e.g. from cron.\n\nExamples:\n  faasctl gc --dry-run\n  faasctl gc --json')
    .action(async (opts: { dryRun?: boolean }) => {
      const { collectGarbage } = await import('../../core/platform/gc.js');
      const { functionDeps } = await import('../deps.js');
      const report = await collectGarbage(await functionDeps(ctx), { dryRun: Boolean(opts.dryRun) });
      if (ctx.io.options.json) return ctx.io.json(report);
      const verb = opts.dryRun ? 'would remove' : 'removed';
      ctx.io.info(
        `${verb} ${report.servicesRemoved} service(s), ${report.configsRemoved} config(s), ${report.containersRemoved} container(s), ${report.secretsRemoved} secret(s), ${report.imagesRemoved} image tag(s); recovered ${report.requestsRecovered} result(s), ${report.requestsLost} lost request(s) closed`,
      );
    });
}
