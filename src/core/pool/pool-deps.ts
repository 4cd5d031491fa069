import type { StandbyChannel } from '../../base/ports.js';
import type { InvocationDeps } from '../invocations/invocation.js';
import type { PoolViews } from './pool-view.js';

/** What the pool path needs beyond an invocation's deps. */
export interface PoolDeps extends InvocationDeps {
  replicaHost: (nodeAddress: string | undefined) => string;
  standby: () => StandbyChannel;
  random?: () => number;
  /** A long-running caller's shared reads of the pools (the dispatcher's; pool-view.ts). */
  poolViews?: PoolViews;
}
