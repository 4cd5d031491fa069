/**
 * Every label faasctl puts on Swarm objects (services, tasks, configs, secrets, images): how gc,
 * top and people find what belongs to which installation, user, function and request.
 */
export const MANAGED_LABEL = 'io.faasctl.managed';

export const COMPONENT_LABEL = 'io.faasctl.component';

/** Labels on every object of a platform component, so `gc` and people can find them. */
export function componentLabels(component: string): Record<string, string> {
  return { [MANAGED_LABEL]: 'true', [COMPONENT_LABEL]: component };
}

export const LABELS = {
  request: 'io.faasctl.request',
  function: 'io.faasctl.function',
  functionName: 'io.faasctl.function-name',
  version: 'io.faasctl.version',
  user: 'io.faasctl.user',
  sha256: 'io.faasctl.sha256',
  installation: 'io.faasctl.installation',
  /** The run of an invocation, from 2 on: its node was lost and it runs again. */
  attempt: 'io.faasctl.attempt',
  /** A digest of a replica's task template: which tasks already run the service's current spec. */
  spec: 'io.faasctl.spec',
  /** A sandbox pool's limit class (`m256-c1000`: MiB of memory, milli-CPUs). */
  poolClass: 'io.faasctl.pool-class',
  /** A pool being drained or shrunk: claimers skip it. */
  poolDraining: 'io.faasctl.pool-draining',
} as const;

/** The label that scopes an object to one installation (one database). */
export function installationLabel(installation: string): Record<string, string> {
  return { [LABELS.installation]: installation };
}

/** Labels as the engine's list filters take them: `key=value`. */
export function labelList(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** On every dependency image: its hash. */
export const DEPS_LABEL = 'io.faasctl.deps';

export const SECRET_NAME_LABEL = 'io.faasctl.secret';

/** Records which base image a runtime image was built from. */
export const BASE_ID_LABEL = 'io.faasctl.base-id';
