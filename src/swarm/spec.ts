import { componentLabels } from './labels.js';
/**
 * Swarm service specs, built by pure functions so they can be unit-tested without an engine.
 * The types are the subset of the Engine API (v1.41) `ServiceSpec` that faasctl sets.
 */
export interface ServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Args?: string[];
      Env?: string[];
      Labels?: Record<string, string>;
      User?: string;
      Init?: boolean;
      ReadOnly?: boolean;
      CapabilityDrop?: string[];
      /** Nanoseconds. */
      StopGracePeriod?: number;
      Mounts?: Array<
        { Type: 'volume'; Source: string; Target: string } | { Type: 'bind'; Source: string; Target: string } | { Type: 'tmpfs'; Target: string; TmpfsOptions: { SizeBytes: number; Mode: number } }
      >;
      Secrets?: Array<{ SecretID: string; SecretName: string; File: FileTarget }>;
      Configs?: Array<{ ConfigID: string; ConfigName: string; File: FileTarget }>;
    };
    Resources?: { Limits?: { MemoryBytes?: number; NanoCPUs?: number; Pids?: number } };
    RestartPolicy?: { Condition: 'none' | 'on-failure' | 'any'; Delay?: number; MaxAttempts?: number };
    Placement?: { Constraints?: string[]; Preferences?: Array<{ Spread: { SpreadDescriptor: string } }> };
    /** `host`: the task shares its node's network (the dispatcher reaches a loopback database and warm replicas' host ports). */
    Networks?: Array<{ Target: string }>;
  };
  Mode: { Replicated: { Replicas: number } };
  /** How Swarm replaces tasks when the spec changes. Delay and Monitor in nanoseconds. */
  UpdateConfig?: { Parallelism: number; Delay?: number; Order: 'start-first' | 'stop-first'; FailureAction?: 'pause' | 'continue' | 'rollback'; Monitor?: number };
  /** Without PublishedPort a host-mode port is picked by the node, per task. */
  EndpointSpec?: { Ports: Array<{ Protocol: 'tcp' | 'udp'; TargetPort: number; PublishedPort?: number; PublishMode: 'host' | 'ingress' }> };
}

interface FileTarget {
  Name: string;
  UID: string;
  GID: string;
  Mode: number;
}

/** Where the official postgres image keeps its cluster; the named volume is mounted here. */
export const PGDATA = '/var/lib/postgresql/data';
export const POSTGRES_USER = 'faasctl';
export const POSTGRES_DB = 'faasctl';

export interface PostgresServiceOptions {
  /** Service name; the secret and volume names derive from it. */
  name: string;
  image: string;
  /** Published on the node's own interfaces (host mode). */
  port: number;
  /** The manager node that holds the volume. */
  nodeId: string;
  secretId: string;
  secretName: string;
  volume: string;
}

/**
 * PostgreSQL as a 1-replica service, the way the old system ran its database container.
 * - pinned to one node: a local volume exists on one node only, so a task rescheduled
 *   elsewhere would start an empty cluster;
 * - host-mode publish: the ingress routing mesh needs IPVS, which some kernels lack;
 * - restart `any`: a database is a long-running server, unlike faasctl's job services;
 * - no init: the image's entrypoint execs postgres, which reaps its own children and
 *   takes the image's STOPSIGNAL (SIGINT, fast shutdown) directly.
 */
export function buildPostgresServiceSpec(o: PostgresServiceOptions): ServiceSpec {
  const labels = componentLabels('postgres');
  const secretFile = `/run/secrets/${o.secretName}`;
  return {
    Name: o.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Env: [`POSTGRES_USER=${POSTGRES_USER}`, `POSTGRES_DB=${POSTGRES_DB}`, `POSTGRES_PASSWORD_FILE=${secretFile}`, `PGDATA=${PGDATA}`],
        Labels: labels,
        Init: false,
        Mounts: [{ Type: 'volume', Source: o.volume, Target: PGDATA }],
        // 0444 is Docker's default for secrets; the official entrypoint reads it as root anyway.
        Secrets: [{ SecretID: o.secretId, SecretName: o.secretName, File: { Name: o.secretName, UID: '0', GID: '0', Mode: 0o444 } }],
      },
      RestartPolicy: { Condition: 'any' },
      Placement: { Constraints: [`node.id==${o.nodeId}`] },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 5432, PublishedPort: o.port, PublishMode: 'host' }] },
  };
}
