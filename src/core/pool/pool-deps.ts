import type { StandbyChannel } from '../../base/ports.js';
import type { InvocationDeps } from '../invocations/invocation.js';

/** What the pool path needs beyond an invocation's deps. */
export interface PoolDeps extends InvocationDeps {
  replicaHost: (nodeAddress: string | undefined) => string;
  standby: () => StandbyChannel;
  random?: () => number;
}
