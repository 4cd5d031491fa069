import type { Store } from '../../db/store.js';
import type { SwarmClient } from '../../swarm/client.js';
import type { Check } from '../platform/check.js';
import { poolStatus } from './pool-admin.js';

/** doctor's row for the sandbox pools: size, waiting containers, and what one waiting costs in memory. */
export async function poolCheck(swarm: SwarmClient, store: Store): Promise<Check> {
  const pools = await poolStatus({ swarm, store });
  if (pools.length === 0) return { name: 'sandbox pool', status: 'ok', detail: 'none: cold invocations start a service each (faasctl up --pool N makes one)' };
  const mib = (b: number | null) => (b === null ? 'memory not measured (another node)' : `${(b / 1048576).toFixed(1)} MiB each while waiting`);
  const detail = pools.map((p) => `${p.className}: ${p.idle} of ${p.size} waiting, ${p.claimed} running a job, ${mib(p.idleMemoryBytes)}${p.draining ? ', draining' : ''}`).join('; ');
  const empty = pools.some((p) => p.size > 0 && p.idle === 0 && !p.draining);
  return {
    name: 'sandbox pool',
    status: empty ? 'warn' : 'ok',
    detail,
    ...(empty ? { fix: 'docker service ps faasctl-pool-… shows why no container waits; cold invocations fall back to services meanwhile' } : {}),
  };
}
