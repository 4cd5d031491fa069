import { createHash } from 'node:crypto';
import { CODE_PATH, identityEnvironment, PIDS_LIMIT, runtimeFile, SANDBOXED_CONTAINER, secretMounts, type VersionSettings, runtimeEnvironment } from './sandbox.js';
import { LABELS, COMPONENT_LABEL, MANAGED_LABEL } from './labels.js';
import type { ServiceSpec } from './spec.js';
import { bulkServiceName, warmServiceName } from './names.js';

/**
 * Replica services: long-running tasks of the runtime's `serve` mode. A warm function has
 * one for as long as it is warm; a cold bulk invocation has one for the length of the run.
 * Same sandbox as a cold invocation (read-only root, non-root, caps dropped, tmpfs /tmp),
 * with limits per worker: each of a replica's concurrent invocations gets what one cold
 * invocation would.
 */

/** The runtime's HTTP port inside the task; the node picks the published port. */
export const REPLICA_PORT = 8080;
export const TOKEN_SECRET_FILE = 'faasctl-token';
const TOKEN_PATH = `/run/secrets/${TOKEN_SECRET_FILE}`;
/** Beyond the workers' processes: the server, its threads (one per connection) and spares. */
const SERVER_PIDS = 256;
const SECOND_NS = 1_000_000_000;
/** A bulk replica with nothing to do for this long exits: the CLI that fed it is gone. */
export const BULK_IDLE_EXIT_MS = 60_000;

export type ReplicaPurpose = 'warm' | 'bulk';

export interface ReplicaSpecInput extends VersionSettings {
  purpose: ReplicaPurpose;
  installation: string;
  replicas: number;
  workers: number;
  code: { configId: string; configName: string };
  token: { secretId: string; secretName: string };
  labels: { functionId: string; functionName: string; version: number; userId: string; requestId?: string };
}

export function replicaLabels(o: Pick<ReplicaSpecInput, 'purpose' | 'installation' | 'labels'>): Record<string, string> {
  return {
    [MANAGED_LABEL]: 'true',
    [COMPONENT_LABEL]: o.purpose,
    [LABELS.installation]: o.installation,
    [LABELS.function]: o.labels.functionId,
    [LABELS.functionName]: o.labels.functionName,
    [LABELS.version]: String(o.labels.version),
    [LABELS.user]: o.labels.userId,
    ...(o.labels.requestId ? { [LABELS.request]: o.labels.requestId } : {}),
  };
}

export function buildReplicaServiceSpec(o: ReplicaSpecInput): ServiceSpec {
  const spec = replicaServiceSpec(o);
  const template = spec.TaskTemplate;
  // Swarm's UpdateStatus still says `completed` (of the last roll) for a moment after an update:
  // a roll is only done when every running task carries the new template's digest.
  const digest = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 16);
  template.ContainerSpec.Labels = { ...template.ContainerSpec.Labels, [LABELS.spec]: digest };
  return spec;
}

/** The digest of the template this spec runs (see buildReplicaServiceSpec). */
export function replicaSpecDigest(spec: ServiceSpec): string | undefined {
  return spec.TaskTemplate.ContainerSpec.Labels?.[LABELS.spec];
}

function replicaServiceSpec(o: ReplicaSpecInput): ServiceSpec {
  const labels = replicaLabels(o);
  const perReplica = (limit: number) => limit * o.workers;
  return {
    Name: o.purpose === 'warm' ? warmServiceName(o.installation, o.labels.functionId) : bulkServiceName(o.labels.requestId ?? ''),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Args: ['serve'],
        Env: runtimeEnvironment(
          { ...o, memoryLimit: perReplica(o.memoryBytes) },
          {
            ...identityEnvironment(o),
            FAASCTL_PORT: REPLICA_PORT,
            FAASCTL_WORKERS: o.workers,
            FAASCTL_TOKEN_FILE: TOKEN_PATH,
            FAASCTL_VERSION: o.labels.version,
            ...(o.purpose === 'bulk' ? { FAASCTL_IDLE_EXIT_MS: BULK_IDLE_EXIT_MS } : {}),
          },
        ),
        Labels: labels,
        ...SANDBOXED_CONTAINER,
        // Requests in flight finish before the replica exits (the server drains on SIGTERM).
        StopGracePeriod: (Math.ceil(o.timeoutMs / 1000) + 5) * SECOND_NS,
        Configs: [{ ConfigID: o.code.configId, ConfigName: o.code.configName, File: runtimeFile(CODE_PATH, 0o440) }],
        Secrets: [{ SecretID: o.token.secretId, SecretName: o.token.secretName, File: runtimeFile(TOKEN_SECRET_FILE, 0o400) }, ...secretMounts(o.secrets, o.flavor)],
      },
      Resources: { Limits: { MemoryBytes: perReplica(o.memoryBytes), NanoCPUs: perReplica(o.nanoCpus), Pids: SERVER_PIDS + PIDS_LIMIT * o.workers } },
      // A replica that dies (killed, out of memory in the server) comes back; a bulk replica
      // that exits on its own (idle: its CLI is gone) stays down, for gc to find.
      RestartPolicy: { Condition: o.purpose === 'bulk' ? 'on-failure' : 'any', Delay: SECOND_NS / 10 },
      ...(o.placement ? { Placement: o.placement } : {}),
    },
    Mode: { Replicated: { Replicas: o.replicas } },
    // A new version starts each new replica before stopping an old one, so callers always
    // have somewhere to go; the old one drains what it is running.
    UpdateConfig: { Parallelism: 1, Delay: 0, Order: 'start-first', FailureAction: 'pause', Monitor: SECOND_NS },
    // Host mode, no fixed port: no ingress mesh (IPVS is missing on some kernels) and any
    // number of replicas per node. Callers read each task's port from the task list.
    EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: REPLICA_PORT, PublishMode: 'host' }] },
  };
}
