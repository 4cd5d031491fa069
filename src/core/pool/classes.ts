import type { VersionRow } from '../../db/functions-repo.js';
import { swarmPlacement } from '../functions/placement.js';

/**
 * Which pool, if any, may run a version. Swarm fixes a service's resources for all its tasks
 * (and the manager's API cannot change one container's on another node), so a pool is made per
 * limit class, (memory, CPUs) with the sandbox's fixed pids limit, and a version runs in the
 * pool of exactly its class or falls back to one service per invocation.
 */

/** How a function's invocations run: `auto` takes a pool when one fits, `service` never does. */
export type Isolation = 'auto' | 'pool' | 'service';
export const ISOLATIONS: readonly Isolation[] = ['auto', 'pool', 'service'];

const MIB = 1024 * 1024;
/** The class `up --pool N` makes: a version deployed with the default limits. */
export const DEFAULT_POOL_CLASS = { memoryBytes: 256 * MIB, nanoCpus: 1_000_000_000 };

export interface PoolClass {
  memoryBytes: number;
  nanoCpus: number;
}

/** `m256-c1000`: MiB of memory, thousandths of a CPU (a Swarm name part and a label). */
export function poolClassName(c: PoolClass): string {
  return `m${Math.round(c.memoryBytes / MIB)}-c${Math.round(c.nanoCpus / 1_000_000)}`;
}

export function parsePoolClassName(name: string): PoolClass | undefined {
  const m = /^m(\d+)-c(\d+)$/.exec(name);
  return m ? { memoryBytes: Number(m[1]) * MIB, nanoCpus: Number(m[2]) * 1_000_000 } : undefined;
}

export type PoolFit = { pool: string } | { fallback: string };

/**
 * The pool class a version would run in, or why it runs as a service instead. `requested` is
 * fn invoke's --isolation, over the function's own default.
 */
export function poolFit(v: Pick<VersionRow, 'image' | 'secrets' | 'placement' | 'memoryBytes' | 'nanoCpus'>, isolation: Isolation): PoolFit {
  if (isolation === 'service') return { fallback: 'isolation service' };
  // A dependency image is the function's own: the generic pool image lacks its packages.
  if (v.image) return { fallback: 'it has its own dependency image' };
  // Swarm secrets are mounted when a task is created; a waiting container cannot get them.
  if (v.secrets.length > 0) return { fallback: 'it mounts secrets' };
  if (swarmPlacement(v.placement)) return { fallback: 'it has placement constraints' };
  return { pool: poolClassName(v) };
}
