/** What faasctl needs from a Swarm manager. DockerSwarmClient implements it over the Engine API. */
export interface SwarmClient {
  /** The URL this client talks to, for messages. */
  readonly endpoint: string;
  engineInfo(): Promise<EngineInfo>;
  swarmState(): Promise<SwarmState>;
  /** `docker swarm init` on this engine; a no-op when the swarm is already active. */
  initSwarm(advertiseAddr: string): Promise<void>;
  listNodes(): Promise<SwarmNode[]>;
  imageExists(ref: string): Promise<boolean>;
  /** Builds an image from a directory with the legacy builder (no buildx on these engines). */
  buildImage(contextDir: string, tag: string, buildArgs: Record<string, string>, onLine?: (line: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

export interface SwarmState {
  /** inactive | pending | active | error | locked */
  localNodeState: string;
  nodeId?: string;
  isManager: boolean;
  nodeAddr?: string;
}

export interface SwarmNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** ready | down | unknown | disconnected */
  state: string;
  /** active | pause | drain */
  availability: string;
  leader: boolean;
  address?: string;
  cpus: number;
  memoryBytes: number;
}
