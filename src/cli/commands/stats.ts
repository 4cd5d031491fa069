import type { Command } from 'commander';
import type { Context } from '../context.js';

export function registerStats(program: Command, ctx: Context): void {
  program
    .command('stats [function]')
    .description('invocation statistics per function: counts, error rate, latency percentiles, CPU, memory, cold/warm, activity')
    .option('--since <when>', 'a duration (1h, 2d) or an ISO time', '24h')
    .option('--user <name>', "another user's functions (operator view)")
    .addHelpText(
      'after',
      "\nDurations are the caller's view: wall time for a job, the round trip for a warm call.\nPercentiles interpolate linearly between ranks (PostgreSQL percentile_cont). Bulk runs count each input.\n\nExamples:\n  faasctl stats\n  faasctl stats sum --since 7d\n  faasctl stats --json | jq '.functions[] | {name, p99Ms}'",
    )
    .action(async (name: string | undefined, opts: { since: string; user?: string }) => (await import('./stats-run.js')).runStats(ctx, name, opts));
}
