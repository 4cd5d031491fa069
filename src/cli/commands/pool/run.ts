import { wholeNumber } from '../../../base/numbers.js';
import { DEFAULT_POOL_CLASS } from '../../../core/pool/classes.js';
import { drainPools, poolStatus, resizePool, type PoolStatus } from '../../../core/pool/pool-admin.js';
import { parseCpus, parseMemory } from '../../../core/functions/limits.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import type { PoolDrainOptions, PoolResizeOptions } from './options.js';

export async function runPoolShow(ctx: Context): Promise<void> {
  const deps = await functionDeps(ctx);
  await printPools(ctx, await poolStatus(deps));
}

export async function runPoolResize(ctx: Context, raw: string, opts: PoolResizeOptions): Promise<void> {
  const size = wholeNumber(raw, 'SIZE', 0, 1000);
  const cls = {
    memoryBytes: opts.memory === undefined ? DEFAULT_POOL_CLASS.memoryBytes : parseMemory(opts.memory),
    nanoCpus: opts.cpus === undefined ? DEFAULT_POOL_CLASS.nanoCpus : parseCpus(opts.cpus),
  };
  const deps = await functionDeps(ctx);
  await printPools(ctx, await resizePool(deps, size, cls));
}

export async function runPoolDrain(ctx: Context, opts: PoolDrainOptions): Promise<void> {
  const deps = await functionDeps(ctx);
  const drained = await drainPools(deps, opts.class);
  if (ctx.io.options.json) return ctx.io.json({ drained });
  ctx.io.info(`drained ${drained} pool(s)`);
}

/** The JSON shape of `pool show`, also in `resize`'s answer and doctor's. */
export function poolJson(p: PoolStatus) {
  return {
    class: p.className,
    serviceId: p.serviceId,
    memoryBytes: p.memoryBytes,
    nanoCpus: p.nanoCpus,
    size: p.size,
    idle: p.idle,
    claimed: p.claimed,
    draining: p.draining,
    idleMemoryBytes: p.idleMemoryBytes,
  };
}

async function printPools(ctx: Context, pools: PoolStatus[]): Promise<void> {
  if (ctx.io.options.json) return ctx.io.json(pools.map(poolJson));
  if (!pools.length) return ctx.io.info('no pool: faasctl pool resize N (or up --pool N) makes one');
  const mib = (b: number | null) => (b === null ? '-' : `${(b / 1048576).toFixed(1)} MiB`);
  await ctx.io.table(
    ['class', 'size', 'waiting', 'running a job', 'memory per waiting container', 'state'],
    pools.map((p) => [p.className, String(p.size), String(p.idle), String(p.claimed), mib(p.idleMemoryBytes), p.draining ? 'draining' : 'ready']),
  );
}
