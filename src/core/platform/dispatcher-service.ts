import { createHash, generateKeyPairSync } from 'node:crypto';
import type { Store } from '../../db/store.js';
import type { SwarmClient } from '../../swarm/client.js';
import { buildDispatcherServiceSpec } from '../../swarm/dispatcher-spec.js';
import { COMPONENT_LABEL, componentLabels, installationLabel, LABELS } from '../../swarm/labels.js';
import { USER_CAP_KEY } from '../functions/concurrency.js';
import { DISPATCHER_KEY } from '../dispatch/queue-state.js';
import { WEBHOOK_KEY } from '../api/webhooks.js';
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
  /** The HTTP API (issue 25): a port, TLS material (PEM text), or `false` to stop serving; undefined keeps what the service had. */
  api?: { port: number; tls?: { cert: string; key: string } } | false;
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
  const existing = await deps.swarm.inspectService(dispatcherServiceName(installation));
  const api = await apiSettings(deps, installation, o.api, existing?.spec?.TaskTemplate.ContainerSpec);
  const spec = buildDispatcherServiceSpec({
    name: dispatcherServiceName(installation),
    image: o.image,
    installation,
    ...secret,
    replicas: o.replicas,
    ...(o.registry ? { registry: o.registry } : {}),
    files: api.files,
    env: api.env,
  });
  if (!existing) {
    await deps.swarm.createService(spec);
    steps.push({ step: 'dispatcher', outcome: 'created', detail: `service ${spec.Name}, ${o.replicas} replica(s)` });
  } else if (
    JSON.stringify(existing.spec?.TaskTemplate.ContainerSpec.Image) !== JSON.stringify(o.image) ||
    existing.spec?.Mode.Replicated.Replicas !== o.replicas ||
    JSON.stringify(existing.spec?.TaskTemplate.ContainerSpec.Env ?? []) !== JSON.stringify(spec.TaskTemplate.ContainerSpec.Env ?? []) ||
    !sameSecret(existing, secret.secretName)
  ) {
    await deps.swarm.updateService(existing.id, spec);
    steps.push({ step: 'dispatcher', outcome: 'updated', detail: `service ${spec.Name}, ${o.replicas} replica(s)` });
  } else steps.push({ step: 'dispatcher', outcome: 'exists', detail: `service ${spec.Name}` });
  await deps.store.meta.set(DISPATCHER_KEY, 'on');
  await removeOldSecrets(deps.swarm, installation, [secret.secretName, ...api.files.map((f) => f.secretName)]);
  if (api.port) steps.push({ step: 'api', outcome: 'applied', detail: `port ${api.port} on the manager, ${api.tls ? 'TLS' : 'plain HTTP on 127.0.0.1 only'}` });
  return steps;
}

type ContainerSpecLike = { Env?: string[]; Secrets?: Array<{ SecretID: string; SecretName: string }> };

/**
 * The API's environment and secret files: given anew, carried over from the running service
 * (TLS material cannot be read back from Swarm, so the secrets are kept by reference), or none.
 * The webhook key pair is made once per installation: the private key as a Swarm secret only
 * the dispatcher mounts, the public key in the database for `fn update --webhook-secret-stdin`.
 */
async function apiSettings(deps: UpDeps & { store: Store }, installation: string, api: DispatcherStepOptions['api'], running: ContainerSpecLike | undefined) {
  const files = [await webhookKeySecret(deps, installation)];
  if (api === false) return { files, env: [], port: undefined, tls: false };
  if (api === undefined) {
    const env = (running?.Env ?? []).filter((e) => e.startsWith('FAASCTL_API_PORT=') || e.startsWith('FAASCTL_API_RATE='));
    const kept = (running?.Secrets ?? []).filter((s) => s.SecretName.startsWith(`faasctl-dispatcher-tls-`));
    const tlsEnv = (name: string) => (name.includes('-tls-cert-') ? 'FAASCTL_API_TLS_CERT_FILE' : 'FAASCTL_API_TLS_KEY_FILE');
    files.push(...kept.map((s) => ({ secretId: s.SecretID, secretName: s.SecretName, env: tlsEnv(s.SecretName) })));
    const port = env.find((e) => e.startsWith('FAASCTL_API_PORT='))?.split('=')[1];
    return { files, env, port, tls: kept.length > 0 };
  }
  if (api.tls) {
    files.push({ ...(await contentSecret(deps.swarm, installation, 'tls-cert', api.tls.cert)), env: 'FAASCTL_API_TLS_CERT_FILE' });
    files.push({ ...(await contentSecret(deps.swarm, installation, 'tls-key', api.tls.key)), env: 'FAASCTL_API_TLS_KEY_FILE' });
  }
  return { files, env: [`FAASCTL_API_PORT=${api.port}`], port: String(api.port), tls: Boolean(api.tls) };
}

async function webhookKeySecret(deps: UpDeps & { store: Store }, installation: string): Promise<{ secretId: string; secretName: string; env: string }> {
  const publicKey = (await deps.store.meta.get(WEBHOOK_KEY))?.value;
  const env = 'FAASCTL_WEBHOOK_KEY_FILE';
  if (publicKey) {
    const name = secretName(installation, 'hookkey', publicKey);
    const [found] = (await dispatcherSecrets(deps.swarm, installation)).filter((s) => s.name === name);
    if (found) return { secretId: found.id, secretName: name, env };
  }
  // No key yet, or its private half is gone: a new pair (webhook secrets sealed before must be set again).
  const pair = generateKeyPairSync('rsa', { modulusLength: 3072, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const made = await contentSecret(deps.swarm, installation, 'hookkey', pair.privateKey, pair.publicKey);
  await deps.store.meta.set(WEBHOOK_KEY, pair.publicKey);
  return { ...made, env };
}

/** A secret named by a hash of its content (or of `naming`): a change is a new secret, since a secret cannot change. */
async function contentSecret(swarm: SwarmClient, installation: string, kind: string, content: string, naming = content): Promise<{ secretId: string; secretName: string }> {
  const name = secretName(installation, kind, naming);
  const [found] = (await dispatcherSecrets(swarm, installation)).filter((s) => s.name === name);
  if (found) return { secretId: found.id, secretName: name };
  const secretId = await swarm.createSecret(name, content, { ...componentLabels('dispatcher'), ...installationLabel(installation) });
  return { secretId, secretName: name };
}

function secretName(installation: string, kind: string, content: string): string {
  return `faasctl-dispatcher-${kind}-${installation.slice(0, 12)}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

function dispatcherSecrets(swarm: SwarmClient, installation: string) {
  return swarm.listSecrets([`${COMPONENT_LABEL}=dispatcher`, `${LABELS.installation}=${installation}`]);
}

/** `up --no-dispatcher`: the service and its secrets removed, async work runs as a job per invocation again. */
export async function removeDispatcher(deps: UpDeps & { store: Store }): Promise<UpStep> {
  const installation = await deps.store.meta.installationId();
  await deps.store.meta.unset(DISPATCHER_KEY);
  const service = await deps.swarm.inspectService(dispatcherServiceName(installation));
  if (service) await deps.swarm.removeService(service.id);
  await removeOldSecrets(deps.swarm, installation, []);
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
async function removeOldSecrets(swarm: SwarmClient, installation: string, keep: string[]): Promise<void> {
  for (const s of await dispatcherSecrets(swarm, installation)) {
    if (!keep.includes(s.name)) await swarm.removeSecret(s.id).catch(() => undefined);
  }
}
