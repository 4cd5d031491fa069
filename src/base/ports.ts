/** Injected so use cases and adapters stay free of process-level I/O. */
export interface Logger {
  /** Shown only with --debug. */
  debug(message: string): void;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const silentLogger: Logger = { debug: () => {} };

/** Where one replica of a warm (or bulk) service answers: a task's port on its node. */
export interface ReplicaEndpoint {
  taskId: string;
  nodeId?: string;
  /** The node's hostname, for request rows and bulk answers. */
  node?: string;
  host: string;
  port: number;
}

export interface ReplicaResponse {
  status: number;
  body: string;
}

/**
 * HTTP to replicas, kept alive between calls. Throws ReplicaUnreachable when no response
 * came back (refused, reset, closed): the caller decides whether to go elsewhere.
 */
export interface ReplicaTransport {
  /** Rejects with an error named TimeoutError when no answer came within timeoutMs. */
  post(endpoint: ReplicaEndpoint, path: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ReplicaResponse>;
  get(endpoint: ReplicaEndpoint, path: string, headers: Record<string, string>, options: { timeoutMs: number }): Promise<ReplicaResponse>;
  /** Closes idle connections to endpoints that are gone. */
  forget(endpoint: ReplicaEndpoint): void;
  close(): void;
}

export class ReplicaUnreachable extends Error {
  constructor(
    readonly endpoint: ReplicaEndpoint,
    readonly reason: string,
  ) {
    super(`replica ${endpoint.host}:${endpoint.port} did not answer (${reason})`);
  }
}

/**
 * The channel to one sandbox-pool container (issue 23): an authenticated POST whose answer body
 * streams while the job runs. Resolves with the status once the body ended (the container
 * closes it when its one job is done); rejects with ReplicaUnreachable when no answer came.
 */
export interface StandbyChannel {
  post(endpoint: ReplicaEndpoint, path: string, token: string, body: string, options: { signal?: AbortSignal; onBytes?: (bytes: Buffer) => void }): Promise<{ status: number; body: string }>;
}
