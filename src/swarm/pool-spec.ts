import { COMPONENT_LABEL, LABELS, MANAGED_LABEL } from './labels.js';
import { poolServiceName } from './names.js';
import { REPLICA_PORT } from './replica-spec.js';
import { PIDS_LIMIT, SANDBOXED_CONTAINER } from './sandbox.js';
import type { ServiceSpec } from './spec.js';

/**
 * A sandbox pool (issue 23): N replicas of the runtime's `standby` mode, no function code in
 * them, each serving one job and exiting 0 (2 s after it, so the teardowns of a burst's
 * containers come after the burst); restart condition `any` makes Swarm start the replacement
 * as soon as it has exited. The sandbox is a cold invocation's (read-only root, non-root, no
 * capabilities, tmpfs /tmp, no init so the runtime is PID 1 and kills what the function left;
 * no_new_privs set by the runtime), and the limits are the class's, fixed per service: Swarm
 * cannot change one task's resources, so a function runs in the pool of its own class or not
 * in a pool at all.
 */

/** The standby server and the `run` parent it starts, beyond the function's own processes. */
export const POOL_EXTRA_PIDS = 8;
const STOP_GRACE_NS = 2_000_000_000;

export interface PoolSpecInput {
  installation: string;
  className: string;
  image: string;
  replicas: number;
  memoryBytes: number;
  nanoCpus: number;
}

export function poolLabels(installation: string, className: string): Record<string, string> {
  return { [MANAGED_LABEL]: 'true', [COMPONENT_LABEL]: 'pool', [LABELS.installation]: installation, [LABELS.poolClass]: className };
}

export function buildPoolServiceSpec(o: PoolSpecInput): ServiceSpec {
  const labels = poolLabels(o.installation, o.className);
  return {
    Name: poolServiceName(o.installation, o.className),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Args: ['standby'],
        Env: [`FAASCTL_PORT=${REPLICA_PORT}`],
        Labels: labels,
        ...SANDBOXED_CONTAINER,
        StopGracePeriod: STOP_GRACE_NS,
      },
      Resources: { Limits: { MemoryBytes: o.memoryBytes, NanoCPUs: o.nanoCpus, Pids: PIDS_LIMIT + POOL_EXTRA_PIDS } },
      // No delay: the replacement of a container that did its job starts at once.
      RestartPolicy: { Condition: 'any', Delay: 0 },
    },
    Mode: { Replicated: { Replicas: o.replicas } },
    // Host mode, the node picks the port (as warm replicas): callers read it from the task.
    EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: REPLICA_PORT, PublishMode: 'host' }] },
  };
}
