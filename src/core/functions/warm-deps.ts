import type { ReplicaTransport } from '../../base/ports.js';
import type { FunctionDeps } from './lookup.js';

/** What managing a function's warm replicas needs, on top of the function use cases' deps. */
export interface WarmDeps extends FunctionDeps {
  /** 256 random bits, URL-safe. */
  newToken: () => string;
  sleep: (ms: number) => Promise<void>;
  /** Maps a node's Swarm address to one this CLI can reach. */
  replicaHost: (nodeAddress: string | undefined) => string;
  /** HTTP to replicas, to see them answer before saying they run (absent: Swarm's word is taken). */
  replicaTransport?: (maxSocketsPerReplica: number) => ReplicaTransport;
}
