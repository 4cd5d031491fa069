import { buildInvocationServiceSpec, CODE_PATH, INPUT_PATH, type ContainerRunSpec, type VersionSettings } from './sandbox.js';
import { LABELS, COMPONENT_LABEL, MANAGED_LABEL } from './labels.js';

/** The component label of `fn run` containers: what tests and clean-up look for. */
export const LOCAL_RUN_COMPONENT = 'run';

export interface LocalRunSpecInput extends VersionSettings {
  runId: string;
  nonce: string;
  /** The runtime's own timeout plus start-up: after this the container is killed. */
  killAfterMs: number;
  /** The code: a file's text, or a zip (with `codeModule`). */
  code: string | Buffer;
  input: string;
  /** What a Lambda handler's context calls the function: the file's name. */
  functionName?: string;
}

/**
 * `fn run`: one plain container on the local engine with the sandbox of a cold invocation.
 * Derived from buildInvocationServiceSpec rather than written again, so the two cannot drift:
 * same image and `run` mode, environment (nonce included), user, read-only root, dropped
 * capabilities, tmpfs /tmp and limits. Only the delivery of code and input differs: a plain
 * container has no Swarm configs, so both are copied into an anonymous volume at /faas
 * (a read-only root accepts a copy only into a volume).
 */
export function localRunSpec(o: LocalRunSpecInput): ContainerRunSpec {
  const service = buildInvocationServiceSpec({
    ...o,
    requestId: o.runId,
    installation: 'local',
    code: { configId: '', configName: '' },
    input: { configId: '', configName: '' },
    labels: { functionId: '', functionName: o.functionName ?? '', version: 0, userId: '' },
  });
  const c = service.TaskTemplate.ContainerSpec;
  const limits = service.TaskTemplate.Resources?.Limits;
  return {
    image: c.Image,
    cmd: c.Args ?? ['run'],
    // The function's name too, so `docker ps` says what a run container runs (the file's name).
    labels: { [MANAGED_LABEL]: 'true', [COMPONENT_LABEL]: LOCAL_RUN_COMPONENT, [LABELS.request]: o.runId, [LABELS.functionName]: o.functionName ?? '' },
    files: { [CODE_PATH]: o.code, [INPUT_PATH]: o.input },
    filesVolume: '/faas',
    env: c.Env,
    user: c.User,
    readOnlyRoot: c.ReadOnly,
    tmpfs: Object.fromEntries((c.Mounts ?? []).filter((m) => m.Type === 'tmpfs').map((m) => [m.Target, m.TmpfsOptions?.SizeBytes ?? 0])),
    memoryBytes: limits?.MemoryBytes ?? o.memoryBytes,
    nanoCpus: limits?.NanoCPUs ?? o.nanoCpus,
    pidsLimit: limits?.Pids,
    timeoutMs: o.killAfterMs,
  };
}
