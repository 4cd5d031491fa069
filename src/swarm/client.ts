import type { LogChunk } from './log-demux.js';
import type { ContainerRunSpec } from './sandbox.js';
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
  buildImage(contextDir: string, tag: string, buildArgs: Record<string, string>, onLine?: (line: string) => void, labels?: Record<string, string>): Promise<void>;
  /** Another name for an existing image (`docker tag`). */
  tagImage(source: string, target: string): Promise<void>;
  /** Images carrying this label, with their tags and registry digests. */
  listImages(label: string): Promise<Array<{ id: string; tags: string[]; digests: string[] }>>;
  /** Removes a tag (the image goes with its last tag, unless a container uses it: then ConflictError). */
  removeImage(ref: string): Promise<void>;
  /** An image's labels; undefined when the engine does not have it. */
  imageLabels(ref: string): Promise<Record<string, string> | undefined>;
  /**
   * Pushes a tagged image (`host:port/repo:tag`) to its registry; resolves with the
   * pinned reference `host:port/repo@sha256:…` that every node can pull.
   */
  pushImage(ref: string, onLine?: (line: string) => void): Promise<string>;
  /** The pinned reference of a tagged image already pushed to its registry, if it was. */
  pushedDigest(ref: string): Promise<string | undefined>;
  /** The image's ID (`sha256:…`), or undefined when the engine does not have it. */
  imageId(ref: string): Promise<string | undefined>;
  /** Builds an image from in-memory files (a `Dockerfile` among them), legacy builder; tags only on success. */
  buildImageFromFiles(files: Map<string, Buffer>, tag: string, onLine?: (line: string) => void): Promise<void>;
  /** The secret with exactly this name (the API's name filter also matches prefixes). */
  findSecret(name: string): Promise<NamedObject | undefined>;
  /** Creates a secret holding `data`; returns its ID. */
  createSecret(name: string, data: string, labels: Record<string, string>): Promise<string>;
  removeSecret(id: string): Promise<void>;
  listSecrets(labels: string[]): Promise<NamedObject[]>;
  /** Creates a service as given: no registry look-up, so local images stay usable. Returns its ID. */
  createService(spec: ServiceSpec): Promise<string>;
  inspectService(nameOrId: string): Promise<ServiceInfo | undefined>;
  /** Services carrying every one of these labels (`key` or `key=value`). */
  listServices(labels: string[]): Promise<ServiceInfo[]>;
  /**
   * Replaces a service's spec (Swarm then rolls its tasks per the spec's UpdateConfig).
   * Retries once when another writer bumped the service version in between.
   */
  updateService(id: string, spec: ServiceSpec): Promise<void>;
  removeService(id: string): Promise<void>;
  listTasks(serviceId: string): Promise<SwarmTask[]>;
  /** Tasks of every service carrying these labels, in one call. */
  listTasksByLabel(labels: string[]): Promise<SwarmTask[]>;
  /**
   * A service's stdout and stderr. With `follow` the iterable stays open for new output
   * until `signal` aborts or the service goes away; without it, it ends with what exists.
   */
  serviceLogs(id: string, options: { follow: boolean; signal?: AbortSignal }): AsyncIterable<LogChunk>;
  /** What one task wrote on stdout so far (a pool container's token line); empty when the task is gone. */
  /** A task's log so far (stdout; with `stderr`, both, in order). */
  taskLogs(taskId: string, options?: { stderr?: boolean }): Promise<LogChunk[]>;
  /** The config with exactly this name, or undefined. */
  findConfig(name: string): Promise<NamedObject | undefined>;
  /** Creates a config; ConflictError when the name exists. Returns its ID. */
  createConfig(name: string, data: string | Buffer, labels: Record<string, string>): Promise<string>;
  listConfigs(labels: string[]): Promise<NamedObject[]>;
  /** Throws ConflictError while a service still uses the config; false when it was already gone. */
  removeConfig(id: string): Promise<boolean>;
  /**
   * Runs a one-shot container on this engine (not a service): files are copied in before
   * it starts, and it is removed on every path. For short checks such as the syntax check.
   */
  runContainer(spec: ContainerRunSpec): Promise<ContainerRun>;
  /** Containers of this engine carrying these labels, running or not. */
  listContainers(labels: string[]): Promise<ContainerInfo[]>;
  removeContainer(id: string): Promise<void>;
  /** One sample of a container's counters on this engine (undefined when it is gone). */
  containerStats(id: string): Promise<ContainerStats | undefined>;
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

export interface ServiceInfo extends NamedObject {
  createdAt: Date;
  /** Desired replicas of a replicated service. */
  replicas?: number;
  /** Of the last spec update: updating | paused | completed | rollback_started | rollback_paused | rollback_completed. */
  updateState?: string;
  updateMessage?: string;
  /** The container environment of the task template (`K=V`). */
  env: string[];
  /** The spec as Swarm holds it, to copy a service. */
  spec?: ServiceSpec;
}

export interface ContainerRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when the container ran past the spec's timeout and was killed. */
  timedOut: boolean;
  /** True when the spec's signal aborted the run and the container was killed. */
  cancelled?: boolean;
}

export interface ContainerStats {
  /** Cumulative CPU time of the container, and of the whole host, in nanoseconds. */
  cpuNs: number;
  systemCpuNs: number;
  onlineCpus: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  rxBytes: number;
  txBytes: number;
}

export interface ContainerInfo {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
  createdAt: Date;
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
  serviceId?: string;
  /** The container's exit code once it has exited. */
  exitCode?: number;
  updatedAt?: Date;
  /** When Swarm created the task (the run's first moment, before scheduling). */
  createdAt?: Date;
  /** When the task entered its current state: for an ended task, when it ended. */
  statusAt?: Date;
  /** Ports the task publishes on its node (host mode). */
  ports: Array<{ target: number; published: number }>;
  /** The service's container labels, as the task carries them. */
  labels: Record<string, string>;
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
