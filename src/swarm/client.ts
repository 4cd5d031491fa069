import type { ServiceSpec } from './spec.js';

/**
 * What faasctl needs from a Swarm manager. DockerSwarmClient implements it over the Engine API.
 * Lookups (`find*`, `inspect*`, `*Exists`) answer "absent" instead of throwing NotFound, and
 * `remove*` of something already gone succeeds: callers want absence, not a race to lose.
 */
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
  /** The secret with exactly this name (the API's name filter also matches prefixes). */
  findSecret(name: string): Promise<NamedObject | undefined>;
  /** Creates a secret holding `data`; returns its ID. */
  createSecret(name: string, data: string, labels: Record<string, string>): Promise<string>;
  removeSecret(id: string): Promise<void>;
  /** Creates a service as given: no registry look-up, so local images stay usable. Returns its ID. */
  createService(spec: ServiceSpec): Promise<string>;
  inspectService(nameOrId: string): Promise<NamedObject | undefined>;
  removeService(id: string): Promise<void>;
  listTasks(serviceId: string): Promise<SwarmTask[]>;
  volumeExists(name: string): Promise<boolean>;
  /** A `local` volume on the engine this client talks to. */
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  /** Throws ConflictError while a container still uses the volume. */
  removeVolume(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface NamedObject {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface SwarmTask {
  id: string;
  /** new | pending | assigned | accepted | preparing | starting | running | complete | failed | shutdown | rejected | orphaned | remove */
  state: string;
  desiredState: string;
  /** The engine's short status message, e.g. "started". */
  message: string;
  /** Why the task failed or was rejected, e.g. "No such image: …". */
  error?: string;
  containerId?: string;
  nodeId?: string;
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
