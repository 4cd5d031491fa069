import { createHash } from 'node:crypto';
import type { Store } from '../../db/store.js';
import type { SwarmClient } from '../../swarm/client.js';
import { buildDispatcherServiceSpec } from '../../swarm/dispatcher-spec.js';
import { COMPONENT_LABEL, componentLabels, installationLabel, LABELS } from '../../swarm/labels.js';
import { USER_CAP_KEY } from '../functions/concurrency.js';
import { DISPATCHER_KEY } from '../dispatch/queue-state.js';
import { ensurePushed, type UpDeps, type UpStep } from './up.js';

/**
 * `up --dispatcher`: the dispatcher as a Swarm service from an image of faasctl itself, the
 * database URL in a Swarm secret named by its hash (a changed URL is a new secret, since a
 * secret cannot change), and the installation marked as having one, so async work is queued.
 * `up --no-dispatcher` removes all of it; queued requests then wait for a dispatcher or their
 * deadline.
 */

export interface DispatcherStepOptions {
  image: string;
  /** Builds the image's context (~100 MB in memory), only when the image is missing. */
  files: () => Map<string, Buffer>;
  databaseUrl: string;
  replicas: number;
  registry?: string;
}

export const dispatcherServiceName = (installation: string) => `faasctl-dispatcher-${installation.slice(0, 12)}`;

export async function ensureDispatcher(deps: UpDeps & { store: Store }, o: DispatcherStepOptions): Promise<UpStep[]> {
  const steps: UpStep[] = [];
  const installation = await deps.store.meta.installationId();
  if (!(await deps.swarm.imageId(o.image))) {
    deps.progress(`building ${o.image}…`);
    await deps.swarm.buildImageFromFiles(o.files(), o.image, (line) => deps.log.debug(`build: ${line}`));
    steps.push({ step: 'dispatcher image', outcome: 'created', detail: o.image });
  } else steps.push({ step: 'dispatcher image', outcome: 'exists', detail: o.image });
  if (o.registry) steps.push(await ensurePushed(deps, o.image, o.registry));
  const secret = await urlSecret(deps.swarm, installation, o.databaseUrl);
  const spec = buildDispatcherServiceSpec({
    name: dispatcherServiceName(installation),
    image: o.image,
    installation,
    ...secret,
    replicas: o.replicas,
    ...(o.registry ? { registry: o.registry } : {}),
  });
  const existing = await deps.swarm.inspectService(spec.Name);
  if (!existing) {
    await deps.swarm.createService(spec);
    steps.push({ step: 'dispatcher', outcome: 'created', detail: `service ${spec.Name}, ${o.replicas} replica(s)` });
  } else if (
    JSON.stringify(existing.spec?.TaskTemplate.ContainerSpec.Image) !== JSON.stringify(o.image) ||
    existing.spec?.Mode.Replicated.Replicas !== o.replicas ||
    !sameSecret(existing, secret.secretName)
  ) {
    await deps.swarm.updateService(existing.id, spec);
    steps.push({ step: 'dispatcher', outcome: 'updated', detail: `service ${spec.Name}, ${o.replicas} replica(s)` });
  } else steps.push({ step: 'dispatcher', outcome: 'exists', detail: `service ${spec.Name}` });
  await deps.store.meta.set(DISPATCHER_KEY, 'on');
  await removeOldSecrets(deps.swarm, installation, secret.secretName);
  return steps;
}

/** `up --no-dispatcher`: the service and its secrets removed, async work runs as a job per invocation again. */
export async function removeDispatcher(deps: UpDeps & { store: Store }): Promise<UpStep> {
  const installation = await deps.store.meta.installationId();
  await deps.store.meta.unset(DISPATCHER_KEY);
  const service = await deps.swarm.inspectService(dispatcherServiceName(installation));
  if (service) await deps.swarm.removeService(service.id);
  await removeOldSecrets(deps.swarm, installation, undefined);
  return { step: 'dispatcher', outcome: service ? 'removed' : 'absent', detail: 'async invocations run as jobs of the invoking CLI' };
}

/** `up --user-concurrency N` (0 removes the cap): invocations one user runs at once, on every path. */
export async function setUserCap(store: Store, n: number): Promise<UpStep> {
  if (n === 0) await store.meta.unset(USER_CAP_KEY);
  else await store.meta.set(USER_CAP_KEY, String(n));
  return { step: 'user concurrency', outcome: 'applied', detail: n === 0 ? 'no cap' : `at most ${n} invocations per user at once` };
}

async function urlSecret(swarm: SwarmClient, installation: string, url: string): Promise<{ secretId: string; secretName: string }> {
  const secretName = `faasctl-dispatcher-db-${installation.slice(0, 12)}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
  const [found] = await swarm.listSecrets([`${COMPONENT_LABEL}=dispatcher`, `${LABELS.installation}=${installation}`]).then((all) => all.filter((s) => s.name === secretName));
  if (found) return { secretId: found.id, secretName };
  const secretId = await swarm.createSecret(secretName, url, { ...componentLabels('dispatcher'), ...installationLabel(installation) });
  return { secretId, secretName };
}

function sameSecret(service: { spec?: { TaskTemplate: { ContainerSpec: { Secrets?: Array<{ SecretName: string }> } } } }, name: string): boolean {
  return Boolean(service.spec?.TaskTemplate.ContainerSpec.Secrets?.some((s) => s.SecretName === name));
}

/** Secrets of URLs no longer used; one still mounted by a task being replaced is refused by the engine and left for the next up. */
async function removeOldSecrets(swarm: SwarmClient, installation: string, keep: string | undefined): Promise<void> {
  for (const s of await swarm.listSecrets([`${COMPONENT_LABEL}=dispatcher`, `${LABELS.installation}=${installation}`])) {
    if (s.name !== keep) await swarm.removeSecret(s.id).catch(() => undefined);
  }
}
