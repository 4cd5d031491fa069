import type { LogChunk } from './log-demux.js';
import type { ServiceSpec } from './spec.js';
import { MANAGED_LABEL, COMPONENT_LABEL, LABELS } from './labels.js';
import { invocationServiceName } from './names.js';

/**
 * Where user code runs: the specs of invocation services and check containers. Pure, so
 * the sandbox can be unit-tested; every default here is part of the threat model.
 */

/** The runtime image's non-root user (see runtimes/python/Dockerfile). */
export const RUNTIME_UID = '10001';
export const CODE_PATH = '/faas/function.py';
export const INPUT_PATH = '/faas/input.json';
export const TMP_BYTES = 64 * 1024 * 1024;
export const PIDS_LIMIT = 128;
/** The runtime answers SIGTERM at once (it is PID 1 with a handler), so no 10 s wait. */
const STOP_GRACE_NS = 2_000_000_000;

/** Where a function finds its secrets: /run/secrets/NAME (Docker's default directory). */
export const SECRETS_DIR = '/run/secrets';

/** A user secret a function version mounts: `name` is the file, `secretName` the Swarm object. */
export interface SecretMount {
  name: string;
  secretId: string;
  secretName: string;
}

/** A file Swarm places in the task (config or secret), owned by the runtime's user. */
export function runtimeFile(name: string, mode: number) {
  return { Name: name, UID: RUNTIME_UID, GID: RUNTIME_UID, Mode: mode };
}

/** Where OpenFaaS functions read their secrets; an `openfaas` version finds them there too. */
export const OPENFAAS_SECRETS_DIR = '/var/openfaas/secrets';

/**
 * Read-only for the runtime's user alone (0400): no other uid in the task can read it. An
 * OpenFaaS handler also gets the same Swarm secret at /var/openfaas/secrets/NAME: a second
 * mount of one object, made by the engine like the first (no privilege, read-only root kept).
 */
export function secretMounts(secrets: SecretMount[] = [], flavor?: string) {
  const mount = (s: SecretMount, file: string) => ({ SecretID: s.secretId, SecretName: s.secretName, File: runtimeFile(file, 0o400) });
  const mounts = secrets.map((s) => mount(s, s.name));
  return flavor === 'openfaas' ? [...mounts, ...secrets.map((s) => mount(s, `${OPENFAAS_SECRETS_DIR}/${s.name}`))] : mounts;
}

/** What a function version gives every place its code runs: a job, a replica, a local run. */
export interface VersionSettings {
  image: string;
  entry: string;
  /** How the runtime calls the entry (main, lambda, openfaas, madhat); absent: detected when it loads. */
  flavor?: string;
  /** Code shipped as a zip archive: the entry module's path in it (the runtime unpacks it first). */
  codeModule?: string | null;
  timeoutMs: number;
  memoryBytes: number;
  nanoCpus: number;
  outputLimit: number;
  env: Record<string, string>;
  /** The version's secrets, mounted as /run/secrets/NAME. */
  secrets?: SecretMount[];
  /** Swarm placement (constraints, spread preferences); none: any node. */
  placement?: ServicePlacement;
}

export type ServicePlacement = NonNullable<ServiceSpec['TaskTemplate']['Placement']>;

/**
 * The function's own environment. FAASCTL_* is the runtime's namespace (deploy rejects it
 * too): a user value must never shadow the nonce, the token file or a limit.
 */
export function userEnvironment(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([k]) => !k.startsWith('FAASCTL_'))
    .map(([k, v]) => `${k}=${v}`);
}

/**
 * A container's environment, cold or warm: the function's own, then the runtime's settings
 * (the same names for both modes), then what only that mode needs (`extra`).
 */
export function runtimeEnvironment(
  o: { env: Record<string, string>; entry: string; flavor?: string; codeModule?: string | null; timeoutMs: number; outputLimit: number; memoryLimit: number },
  extra: Record<string, string | number>,
): string[] {
  const settings = {
    FAASCTL_ENTRY: o.entry,
    ...(o.flavor ? { FAASCTL_FLAVOR: o.flavor } : {}),
    FAASCTL_TIMEOUT_MS: o.timeoutMs,
    FAASCTL_OUTPUT_LIMIT: o.outputLimit,
    FAASCTL_MEMORY_LIMIT: o.memoryLimit,
    FAASCTL_CODE_FILE: CODE_PATH,
    ...(o.codeModule ? { FAASCTL_CODE_MODULE: o.codeModule } : {}),
    ...extra,
  };
  return [...userEnvironment(o.env), ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)];
}

/**
 * What a function may know of itself (a Lambda handler's context reads it): its name, version
 * and installation, none of it secret. The request id is the cold job's; a warm call sends its own.
 */
export function identityEnvironment(o: { installation: string; labels: { functionName: string; version: number } }, requestId?: string): Record<string, string | number> {
  return {
    FAASCTL_FUNCTION_NAME: o.labels.functionName,
    FAASCTL_FUNCTION_VERSION: o.labels.version,
    FAASCTL_INSTALLATION: o.installation,
    ...(requestId ? { FAASCTL_REQUEST_ID: requestId } : {}),
  };
}

/** The sandbox every task running user code shares; see the README's threat model. */
export const SANDBOXED_CONTAINER = {
  User: `${RUNTIME_UID}:${RUNTIME_UID}`,
  Init: false,
  ReadOnly: true,
  CapabilityDrop: ['ALL'],
  Mounts: [{ Type: 'tmpfs' as const, Target: '/tmp', TmpfsOptions: { SizeBytes: TMP_BYTES, Mode: 0o1777 } }],
};

export interface InvocationSpecInput extends VersionSettings {
  requestId: string;
  installation: string;
  nonce: string;
  code: { configId: string; configName: string };
  input: { configId: string; configName: string };
  labels: { functionId: string; functionName: string; version: number; userId: string };
}

/**
 * One invocation = one service with one replica and restart condition `none`, removed by
 * faasctl once it answers. Not `replicated-job`: on Docker 20.10 a removed job service
 * leaves its task and exited container behind (moby#42789, moby#44312).
 * No init process: docker-init would hold the nonce in its environment, readable by the
 * function; the runtime is PID 1 and handles SIGTERM itself.
 * No no-new-privileges here (not in the 1.41 service API): the runtime sets it with prctl
 * for the user-code process, and the image carries no setuid files.
 */
export function buildInvocationServiceSpec(o: InvocationSpecInput): ServiceSpec {
  const labels = {
    [MANAGED_LABEL]: 'true',
    [COMPONENT_LABEL]: 'invocation',
    [LABELS.installation]: o.installation,
    [LABELS.request]: o.requestId,
    [LABELS.function]: o.labels.functionId,
    [LABELS.functionName]: o.labels.functionName,
    [LABELS.version]: String(o.labels.version),
    [LABELS.user]: o.labels.userId,
  };
  return {
    Name: invocationServiceName(o.requestId),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Args: ['run'],
        Env: runtimeEnvironment({ ...o, memoryLimit: o.memoryBytes }, { ...identityEnvironment(o, o.requestId), FAASCTL_NONCE: o.nonce, FAASCTL_INPUT_FILE: INPUT_PATH }),
        Labels: labels,
        ...SANDBOXED_CONTAINER,
        StopGracePeriod: STOP_GRACE_NS,
        Configs: [
          { ConfigID: o.code.configId, ConfigName: o.code.configName, File: runtimeFile(CODE_PATH, 0o440) },
          { ConfigID: o.input.configId, ConfigName: o.input.configName, File: runtimeFile(INPUT_PATH, 0o440) },
        ],
        ...(o.secrets?.length ? { Secrets: secretMounts(o.secrets, o.flavor) } : {}),
      },
      Resources: { Limits: { MemoryBytes: o.memoryBytes, NanoCPUs: o.nanoCpus, Pids: PIDS_LIMIT } },
      RestartPolicy: { Condition: 'none' },
      ...(o.placement ? { Placement: o.placement } : {}),
    },
    Mode: { Replicated: { Replicas: 1 } },
  };
}

/** A one-shot container: the syntax check runs CPython's compiler, never the code. */
export interface ContainerRunSpec {
  image: string;
  cmd: string[];
  labels: Record<string, string>;
  /** Copied into the container before it starts: path → content. */
  files: Record<string, string | Buffer>;
  memoryBytes: number;
  nanoCpus: number;
  timeoutMs: number;
  /** The rest is unset for the syntax check; `fn run` sets the invocation's sandbox (local-run-spec.ts). */
  env?: string[];
  user?: string;
  readOnlyRoot?: boolean;
  /** tmpfs mounts: target → size in bytes (mode 1777). */
  tmpfs?: Record<string, number>;
  /** An anonymous volume mounted here, removed with the container: a read-only root takes `files` only there. */
  filesVolume?: string;
  /** @default 64 */
  pidsLimit?: number;
  /** Aborting kills the container (it is still removed). */
  signal?: AbortSignal;
  /** The container's output as it comes (attached before start), besides the collected copy. */
  onOutput?: (chunk: LogChunk) => void;
}

/**
 * The deploy-time import check: the module is imported (and its entry resolved) in the
 * function's own image, user, read-only root, tmpfs /tmp, memory, CPUs and environment.
 */
export interface ImportCheck {
  timeoutMs: number;
  memoryBytes: number;
  nanoCpus: number;
  env: Record<string, string>;
}

/** Where the check finds the code: in the files volume, as a read-only root requires. */
const CHECK_DIR = '/faas';

/** Start-up of the check container itself, beyond the import's own time limit. */
const CHECK_ALLOWANCE_MS = 60_000;

export function checkContainerSpec(
  image: string,
  code: string,
  call: { entry?: string; flavor?: string },
  filename: string,
  userId: string,
  installation: string,
  importCheck?: ImportCheck,
  archive?: { bytes: Buffer; module: string },
): ContainerRunSpec {
  const labels = { [MANAGED_LABEL]: 'true', [COMPONENT_LABEL]: 'check', [LABELS.user]: userId, [LABELS.installation]: installation };
  const args = [...(call.entry ? ['--entry', call.entry] : []), ...(call.flavor ? ['--flavor', call.flavor] : [])];
  if (!importCheck) {
    return {
      image,
      cmd: ['check', '--file', '/tmp/function.py', '--filename', filename, ...args],
      labels,
      files: { '/tmp/function.py': code },
      memoryBytes: 256 * 1024 * 1024,
      nanoCpus: 1_000_000_000,
      timeoutMs: CHECK_ALLOWANCE_MS,
    };
  }
  const file = `${CHECK_DIR}/function.py`;
  const zip = `${CHECK_DIR}/code.zip`;
  const unpack = archive ? ['--archive', zip, '--module', archive.module] : [];
  return {
    image,
    cmd: ['check', '--file', file, '--filename', filename, ...args, '--import-timeout-ms', String(importCheck.timeoutMs), ...unpack],
    labels,
    files: { [file]: code, ...(archive ? { [zip]: archive.bytes } : {}) },
    filesVolume: CHECK_DIR,
    env: userEnvironment(importCheck.env),
    user: SANDBOXED_CONTAINER.User,
    readOnlyRoot: true,
    tmpfs: { '/tmp': TMP_BYTES },
    memoryBytes: importCheck.memoryBytes,
    nanoCpus: importCheck.nanoCpus,
    pidsLimit: PIDS_LIMIT,
    timeoutMs: importCheck.timeoutMs + CHECK_ALLOWANCE_MS,
  };
}
