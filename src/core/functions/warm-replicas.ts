import type { CurrentFunction } from '../../db/functions-repo.js';
import { buildReplicaServiceSpec, replicaSpecDigest, type ReplicaPurpose } from '../../swarm/replica-spec.js';
import { tokenSecretName, warmServiceName } from '../../swarm/names.js';
import { installationLabel, LABELS, componentLabels, labelList } from '../../swarm/labels.js';
import { ConflictError, UsageError } from '../../base/errors.js';
import { requireFunction } from './lookup.js';
import { versionImage } from './dependencies.js';
import type { Actor } from '../users/accounts.js';
import { versionRuntime } from './version-runtime.js';
import type { WarmDeps } from './warm-deps.js';
import { waitAnswering, waitConverged, waitDrained } from './replica-readiness.js';

/**
 * Warm functions: N long-running replicas of the runtime's `serve` mode per function, so an
 * invocation is one HTTP request instead of a Swarm service. The replicas demand a
 * per-function token, held in a Swarm secret (and in the database, since Swarm never
 * gives a secret back).
 */
export const MAX_REPLICAS = 64;
export const MAX_WORKERS = 32;
export const DEFAULT_WORKERS = 2;
/** What a warm replica keeps of a function's output per request (it answers in the response). */
export const WARM_OUTPUT_LIMIT = 64 * 1024;

export function parseReplicas(raw: string | number, flag: string): number {
  // Number('') is 0: a blank argument (an unset shell variable) must not make the function cold.
  const n = typeof raw === 'string' && !raw.trim() ? NaN : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_REPLICAS) throw new UsageError(`invalid ${flag} ${raw}`, { code: 'invalid_replicas', hint: `a whole number from 0 (cold) to ${MAX_REPLICAS}` });
  return n;
}

export function parseWorkers(raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
    throw new UsageError(`invalid --workers ${raw}`, { code: 'invalid_workers', hint: `a whole number from 1 to ${MAX_WORKERS}: invocations one replica runs at once` });
  return n;
}

export interface Scaled {
  name: string;
  replicas: number;
  workers: number;
  version: number;
  previous: number;
  requestId: string;
}

/** `fn scale NAME N`: N warm replicas (0 = cold again), waiting until they run. */
export async function scaleFunction(deps: WarmDeps, actor: Actor, name: string, replicas: number, workers?: number): Promise<Scaled> {
  const fn = await requireFunction(deps.store, actor, name);
  const started = deps.clock.now();
  const requestId = deps.newId();
  const w = workers ?? fn.warmWorkers ?? DEFAULT_WORKERS;
  const params = { name: fn.name, replicas, workers: w, from: fn.warmReplicas };
  const record = (status: 'success' | 'system_error', error?: string) => {
    const end = deps.clock.now();
    return deps.store.requests.insert({
      id: requestId,
      userId: actor.id,
      type: 'fn.scale',
      status,
      params,
      error,
      startedAt: started,
      finishedAt: end,
      durationMs: end.getTime() - started.getTime(),
      functionId: fn.id,
      functionName: fn.name,
      functionVersion: fn.currentVersion,
    });
  };
  try {
    if (replicas === 0) await makeCold(deps, fn);
    else await applyWarm(deps, fn, replicas, w);
  } catch (err) {
    await record('system_error', (err as Error).message).catch(() => {});
    throw err;
  }
  await record('success');
  return { name: fn.name, replicas, workers: w, version: fn.currentVersion, previous: fn.warmReplicas, requestId };
}

/**
 * Creates or updates the warm service to run the function's current version with these
 * replicas and workers, then waits until they run. An update is a rolling one (start-first),
 * so callers are served throughout.
 */
export async function applyWarm(deps: WarmDeps, fn: CurrentFunction, replicas: number, workers: number): Promise<void> {
  const installation = await deps.store.meta.installationId();
  const name = warmServiceName(installation, fn.id);
  const existing = await deps.swarm.inspectService(name);
  const token = (fn.warmReplicas > 0 ? await deps.store.functions.warmToken(fn.id) : undefined) ?? deps.newToken();
  const secret = await ensureTokenSecret(deps, installation, { functionId: fn.id, userId: fn.userId }, token);
  deps.progress(existing ? `rolling ${fn.name} to v${fn.current.version}…` : `starting ${replicas} warm replica${replicas === 1 ? '' : 's'}…`);
  const spec = await replicaSpec(deps, fn, { purpose: 'warm', installation, replicas, workers, secret });
  let serviceId = existing?.id;
  try {
    if (serviceId) await deps.swarm.updateService(serviceId, spec);
    else serviceId = await deps.swarm.createService(spec);
    await deps.store.functions.setWarm(fn.id, { replicas, workers, token });
  } catch (err) {
    if (!existing && serviceId) await deps.swarm.removeService(serviceId).catch(() => {});
    if (!existing) await removeSecrets(deps, [secret.id]);
    throw err;
  }
  const rollingTo = existing ? replicaSpecDigest(spec) : undefined;
  await waitConverged(deps, serviceId, replicas, rollingTo);
  if (rollingTo) await waitDrained(deps, serviceId, rollingTo);
  await waitAnswering(deps, serviceId);
}

/** After a new version or a rollback: the warm service rolls to it. */
export async function rollWarm(deps: WarmDeps, actor: Actor, name: string): Promise<boolean> {
  const fn = await requireFunction(deps.store, actor, name);
  if (fn.warmReplicas === 0) return false;
  await applyWarm(deps, fn, fn.warmReplicas, fn.warmWorkers);
  return true;
}

/** Removes the warm service and its token; the function is cold from then on. */
export async function makeCold(deps: Pick<WarmDeps, 'store' | 'swarm' | 'log' | 'clock'>, fn: Pick<CurrentFunction, 'id' | 'warmWorkers'>): Promise<void> {
  const installation = await deps.store.meta.installationId();
  const service = await deps.swarm.inspectService(warmServiceName(installation, fn.id));
  await deps.store.functions.setWarm(fn.id, { replicas: 0, workers: fn.warmWorkers, token: null });
  if (service) await deps.swarm.removeService(service.id);
  const secrets = await deps.swarm.listSecrets([...labelList(installationLabel(installation)), `${LABELS.function}=${fn.id}`]);
  await removeSecrets(
    deps,
    secrets.map((s) => s.id),
  );
}

interface SpecOptions {
  purpose: ReplicaPurpose;
  installation: string;
  replicas: number;
  workers: number;
  secret: { id: string; name: string };
  requestId?: string;
}

export async function replicaSpec(deps: Pick<WarmDeps, 'store' | 'swarm' | 'runtimeImage'>, fn: CurrentFunction, o: SpecOptions) {
  const runtime = await versionRuntime(deps, fn, o.installation);
  return buildReplicaServiceSpec({
    ...runtime,
    purpose: o.purpose,
    installation: o.installation,
    image: await versionImage(deps, fn.current),
    replicas: o.replicas,
    workers: o.workers,
    outputLimit: WARM_OUTPUT_LIMIT,
    token: { secretId: o.secret.id, secretName: o.secret.name },
    labels: { ...runtime.labels, requestId: o.requestId },
  });
}

export async function ensureTokenSecret(
  deps: Pick<WarmDeps, 'swarm' | 'sha256'>,
  installation: string,
  owner: { functionId: string; userId: string; requestId?: string },
  token: string,
): Promise<{ id: string; name: string }> {
  const name = tokenSecretName(installation, owner.requestId ?? owner.functionId, deps.sha256(token).slice(0, 12));
  const found = await deps.swarm.findSecret(name);
  if (found) return found;
  const labels = {
    ...componentLabels('token'),
    ...installationLabel(installation),
    [LABELS.function]: owner.functionId,
    [LABELS.user]: owner.userId,
    ...(owner.requestId ? { [LABELS.request]: owner.requestId } : {}),
  };
  try {
    return { id: await deps.swarm.createSecret(name, token, labels), name };
  } catch (err) {
    const raced = err instanceof ConflictError ? await deps.swarm.findSecret(name) : undefined;
    if (raced) return raced;
    throw err;
  }
}

/** Secrets stay "in use" for a moment after their service is removed: retry a few times. */
export async function removeSecrets(deps: Pick<WarmDeps, 'swarm' | 'log' | 'clock'>, ids: string[]): Promise<void> {
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      try {
        await deps.swarm.removeSecret(id);
        break;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 8) {
          deps.log.debug(`token secret ${id} not removed (${(err as Error).message}); gc removes it`);
          break;
        }
        await deps.clock.sleep(150 * (attempt + 1));
      }
    }
  }
}

/** The warm service of a function, when it has one with at least one running replica. */
export async function warmService(deps: Pick<WarmDeps, 'swarm' | 'store'>, fn: Pick<CurrentFunction, 'id' | 'warmReplicas'>): Promise<string | undefined> {
  if (fn.warmReplicas === 0) return undefined;
  const service = await deps.swarm.inspectService(warmServiceName(await deps.store.meta.installationId(), fn.id));
  return service?.id;
}
