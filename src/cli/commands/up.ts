import type { Command } from 'commander';
import { applySchema } from '../../db/migrate.js';
import { ensureRuntimeImage, ensureSwarm, type UpStep } from '../../core/up.js';
import { runtimeDir, runtimeImageRef } from '../../runtime/python.js';
import type { Context } from '../context.js';

interface UpOptions {
  swarmInit?: boolean;
  advertiseAddr: string;
  baseImage?: string;
}

const DEFAULT_BASE_IMAGE = 'python:3.12-slim';

export function registerUp(program: Command, ctx: Context): void {
  program
    .command('up')
    .description('set up everything faasctl needs; safe to run again (changes only what is missing)')
    .option('--swarm-init', 'put the engine in Swarm mode if it is not')
    .option('--advertise-addr <addr>', 'address to advertise with --swarm-init', '127.0.0.1')
    .option('--base-image <image>', `Python base image for the runtime (env FAASCTL_BASE_IMAGE; default ${DEFAULT_BASE_IMAGE})`)
    .addHelpText('after', '\nExample:\n  faasctl up --swarm-init')
    .action(async (opts: UpOptions) => {
      const steps = await runUp(ctx, opts);
      if (ctx.io.options.json) return ctx.io.json({ steps });
      await ctx.io.table(['step', 'outcome', 'detail'], steps.map((s) => [s.step, s.outcome, s.detail]));
    });
}

async function runUp(ctx: Context, opts: UpOptions): Promise<UpStep[]> {
  const cfg = await ctx.config();
  const swarm = await ctx.swarm();
  const spinner = await ctx.io.spinner('checking the engine…');
  const deps = { swarm, log: ctx.log, progress: (t: string) => spinner.update(t) };
  try {
    const steps = [await ensureSwarm(deps, { swarmInit: Boolean(opts.swarmInit), advertiseAddr: opts.advertiseAddr })];
    const baseImage = opts.baseImage ?? ctx.env.FAASCTL_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
    steps.push(await ensureRuntimeImage(deps, { image: await runtimeImageRef(cfg.context?.registry), baseImage, contextDir: runtimeDir() }));
    if (cfg.databaseUrl.value) {
      spinner.update('applying the database schema…');
      const version = await applySchema(await ctx.db());
      steps.push({ step: 'schema', outcome: 'applied', detail: `version ${version}` });
    } else {
      steps.push({ step: 'database', outcome: 'skipped', detail: 'no database configured (pass --db)' });
    }
    spinner.stop();
    return steps;
  } catch (err) {
    spinner.fail();
    throw err;
  }
}
