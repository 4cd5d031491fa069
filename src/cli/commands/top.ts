import type { Command } from 'commander';
import type { Context } from '../context.js';

export function registerTop(program: Command, ctx: Context): void {
  program
    .command('top')
    .description('live view of the Swarm nodes, running faasctl jobs and warm replicas (q or Ctrl-C quits)')
    .option('--once', 'print one snapshot and exit (tables; --json implies it); the way to use it off a terminal')
    .option('--interval <seconds>', 'seconds between refreshes', '2')
    .addHelpText(
      'after',
      "\nCPU, memory and network come from the Docker stats API for tasks on the engine faasctl talks to;\nwarm replicas on every node also report their own counters (requests served, in flight, CPU, memory).\n\nExamples:\n  faasctl top\n  faasctl top --once --json | jq '.tasks[] | {functionName, memoryBytes}'",
    )
    .action(async (opts: { once?: boolean; interval: string }) => (await import('./top-run.js')).runTop(ctx, opts));
}
