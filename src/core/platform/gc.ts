import { applyGcPlan } from './gc-apply.js';
import { readGcFacts } from './gc-facts.js';
import { countPlan, planGc, type GcCounts, type GcScope } from './gc-plan.js';
import type { InvocationDeps } from '../invocations/invocation.js';
import { NO_PRUNE, pruneAll, prunePending, type PruneCounts } from '../requests/prune.js';
import type { PoolDeps } from '../pool/pool-deps.js';
import { reclaimExpired } from '../pool/reclaim.js';

export type { GcScope } from './gc-plan.js';

/**
 * Removes what faasctl made and nothing needs any more, finishing interrupted work first:
 * - invocation services: an ended one is reconciled (its result recorded) and removed; one
 *   whose request is closed, or whose user was deleted, is removed;
 * - open requests past their deadline, or whose service is gone: closed, saying what was lost;
 * - input configs without a live request, warm services of functions that are no longer warm
 *   (or gone), bulk services whose run ended or was abandoned, and the token secrets none needs;
 * - installation-wide only (not with a scope): code configs no version refers to, check
 *   containers, `fn run` leftovers, unused dependency images, secrets of deleted users.
 * Running invocations are left alone, but for those on a node Swarm reports Down: they are
 * started again on a live node (at-least-once), as `fn invoke` does for the ones it watches.
 * It reads first and plans (gc-plan.ts); a dry run reports the plan, a real run applies it.
 * Unscoped, it then prunes the request log in batches (core/requests/prune.ts): deleted users'
 * history, and what is past the retention `up --retention` set.
 * Pool claims past their expiry are given back first (core/pool/reclaim.ts): a container
 * claimed by a CLI that died before sending its job retires, and that request is closed.
 */
export interface GcReport extends GcCounts, PruneCounts {
  /** `"all"`, or the one user whose work was collected (`--mine`, `--user NAME`). */
  scope: 'all' | { user: string };
  /** Sandbox-pool claims past their expiry, given back (issue 23). */
  poolClaimsReclaimed: number;
}

export async function collectGarbage(deps: InvocationDeps & Partial<Pick<PoolDeps, 'replicaHost' | 'standby'>>, options: { dryRun: boolean; scope?: GcScope } = { dryRun: false }): Promise<GcReport> {
  const scope = options.scope ?? { kind: 'all' };
  const { replicaHost, standby } = deps;
  const poolClaimsReclaimed =
    scope.kind !== 'all' ? 0 : options.dryRun || !replicaHost || !standby ? (await deps.store.pool.expired(deps.clock.now())).length : await reclaimExpired({ ...deps, replicaHost, standby });
  const plan = planGc(await readGcFacts(deps, scope));
  const counts = options.dryRun ? countPlan(plan) : await applyGcPlan(deps, plan);
  const pruned = scope.kind !== 'all' ? NO_PRUNE : options.dryRun ? await prunePending(deps.store) : await pruneAll(deps.store);
  return { scope: scope.kind === 'all' ? 'all' : { user: scope.name }, ...counts, ...pruned, poolClaimsReclaimed };
}
