import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { PoolDrainOptions, PoolResizeOptions } from './options.js';

const HELP = `
A sandbox pool keeps containers of the generic runtime started ahead of need, each waiting for
exactly one invocation, after which it exits and Swarm starts a fresh one: a cold fn invoke then
takes tens of milliseconds instead of a service's start. One pool per limit class (memory,
CPUs); a function runs in the pool of its own class, else as one service per call.

Examples:
  faasctl pool show
  faasctl pool resize 8                          # the default class: 256m, 1 CPU
  faasctl pool resize 4 --memory 512m --cpus 0.5
  faasctl pool drain`;

export function registerPool(program: Command, ctx: Context): void {
  const pool = program.command('pool').description('the sandbox pool: pre-started single-use containers for cold invocations').addHelpText('after', HELP);
  const run = () => import('./run.js');
  pool
    .command('show')
    .alias('ls')
    .description('each pool: its class, size, containers waiting and running a job, memory per waiting container')
    .addHelpText('after', '\nExamples:\n  faasctl pool show\n  faasctl pool show --json')
    .action(async () => (await run()).runPoolShow(ctx));
  pool
    .command('resize <size>')
    .description('keep SIZE containers in the pool of a class (made if missing; 0 drains it); returns once they run')
    .option('--memory <bytes>', 'the class: memory per container (default 256m)')
    .option('--cpus <n>', 'the class: CPUs per container (default 1)')
    .addHelpText('after', '\nA function runs in the pool whose class is exactly its --memory and --cpus.\n\nExamples:\n  faasctl pool resize 8\n  faasctl pool resize 4 --memory 512m --cpus 0.5')
    .action(async (size: string, opts: PoolResizeOptions) => (await run()).runPoolResize(ctx, size, opts));
  pool
    .command('drain')
    .description('remove the pools once the jobs running in them end (cold invocations then start services again)')
    .option('--class <name>', 'only this class (as pool show names it, e.g. m256-c1000)')
    .addHelpText('after', '\nWaits for the jobs running in the pool to end; new cold invocations meanwhile start services.\n\nExamples:\n  faasctl pool drain\n  faasctl pool drain --class m512-c500')
    .action(async (opts: PoolDrainOptions) => (await run()).runPoolDrain(ctx, opts));
}
