import type { ServiceInfo, SwarmNode, SwarmTask } from '../../swarm/client.js';
import type { SwarmClient } from '../../swarm/client.js';
import { TtlMemo } from '../../base/ttl-memo.js';

/**
 * What a claim reads from the engine about a class's pool: its service (draining or not), its
 * tasks and the nodes. The claimed tasks are not part of it: PostgreSQL decides those, fresh
 * at every claim.
 */
export interface PoolView {
  services: ServiceInfo[];
  tasks: SwarmTask[];
  nodes: SwarmNode[];
}

export function readPoolView(swarm: SwarmClient, filter: string[]): Promise<PoolView> {
  return Promise.all([swarm.listServices(filter), swarm.listTasksByLabel(filter), swarm.listNodes()]).then(([services, tasks, nodes]) => ({ services, tasks, nodes }));
}

/** How long the dispatcher's claims share one read of a pool. */
export const VIEW_TTL_MS = 1_000;

/**
 * The dispatcher's reads of its pools, shared by the claims of VIEW_TTL_MS. A burst of 50
 * queued invocations made three engine calls per claim while the engine was busiest (tearing
 * down and replacing the used containers), each 50–150 ms; now a handful for the burst.
 * A stale view is safe: a task claimed since is refused by the claim's insert (PostgreSQL), one
 * gone since refuses the job unrun and the claimer tries the next, a pool marked draining since
 * is waited for by the drain (pool-admin.ts waits out VIEW_TTL_MS before it trusts the claims).
 * A read that finds no free container is made again at once: new containers may be up.
 */
export class PoolViews {
  private readonly memo: TtlMemo<PoolView>;

  constructor(monotonic: () => number) {
    this.memo = new TtlMemo(VIEW_TTL_MS, monotonic);
  }

  /** The view of the pool with these labels; `fresh` forces a new read (the last one had nothing free). */
  read(swarm: SwarmClient, filter: string[], fresh = false): { view: Promise<PoolView>; cached: boolean } {
    const { value, cached } = this.memo.get(filter.join(','), () => readPoolView(swarm, filter), fresh);
    return { view: value, cached };
  }
}
