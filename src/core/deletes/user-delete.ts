import { installationLabel, LABELS, COMPONENT_LABEL, DEPS_LABEL } from '../../swarm/labels.js';
import { unusedDependencyTags } from '../functions/dependencies.js';
import { removeRetrying, waitTasksGone } from './engine-removal.js';
import { ConflictError, EXIT, FaasctlError, NotFoundError } from '../../base/errors.js';
import { removeUnusedCodeConfigs } from '../functions/code-configs.js';
import type { FailPoint } from '../invocations/invoke.js';
import { removeInvocation, type InvocationDeps } from '../invocations/invocation.js';
import { stopped } from './open-requests.js';
import type { Actor } from '../users/accounts.js';

/**
 * `user delete`: the user and, with force, everything they own, at once: their rows (functions
 * and versions cascade; their request history stays, unowned, for gc to prune in batches), then every object on the engine labelled with them (running
 * invocations stopped, warm and bulk replicas, token and user secrets, input configs), the code
 * configs and dependency image tags no one else uses. It reads the engine before it changes
 * anything, so an engine it cannot reach refuses the delete; an engine step that fails after
 * the rows are gone says so, and `faasctl gc` finishes it (gc-plan.ts: a deleted user's objects).
 */

export interface DeletedUser {
  id: string;
  name: string;
  functions: number;
  /** Invocations that were still running and were stopped. */
  stopped: number;
  requestId: string;
}

export interface UserDeleteDeps extends InvocationDeps {
  newId: () => string;
  /** Test-only (src/cli/failpoints.ts). */
  failpoint?: (point: FailPoint) => Promise<void>;
}

export async function deleteUser(deps: UserDeleteDeps, target: Actor, options: { force: boolean }): Promise<DeletedUser> {
  const functions = await deps.store.users.functionCount(target.id);
  if (functions > 0 && !options.force) {
    throw new ConflictError(`user "${target.name}" owns ${functions} function${functions === 1 ? '' : 's'}`, {
      code: 'user_has_functions',
      hint: 'delete them first (faasctl fn delete), or pass --force to delete the user with everything they own',
    });
  }
  const installation = await deps.store.meta.installationId();
  const labels = [`${LABELS.user}=${target.id}`, ...Object.entries(installationLabel(installation)).map(([k, v]) => `${k}=${v}`)];
  const services = await deps.swarm.listServices(labels); // the engine answers before anything changes
  const [owned, open] = await Promise.all([deps.store.functions.ownedBy(target.id), deps.store.requests.openOf({ userId: target.id }, 10_000)]);
  const started = deps.clock.now();
  const requestId = deps.newId();
  await deps.store.transaction(async (tx) => {
    // Closed before they cascade away with the user: nothing reads them as running meanwhile.
    for (const row of open) await tx.requests.complete(row.id, stopped(started, `stopped: its user ${target.name} was deleted (user delete --force)`));
    if (!(await tx.users.remove(target.id))) throw new NotFoundError(`user "${target.name}" not found`);
    // Their history is not touched here (its cost would grow with it): gc prunes it in batches.
    await tx.requests.markOwnerDeleted(target.id, target.name);
    // The row outlives the user (user_id NULL), so the log still shows who was deleted: request list --deleted-users.
    await tx.requests.insert({
      ...finished(deps, requestId, started),
      userId: null,
      type: 'user.delete',
      params: { userId: target.id, name: target.name, functions, ...(open.length ? { stopped: open.length } : {}) },
    });
    await deps.failpoint?.('user-delete:in-transaction');
  });
  await deps.failpoint?.('user-delete:committed');
  try {
    await removeEngineObjects(deps, { installation, labels, services, openRequests: open.map((r) => r.id), ...owned });
  } catch (err) {
    const e = err as Error;
    throw new FaasctlError(`user ${target.name} was deleted, but removing their objects from the engine failed: ${e.message}`, {
      code: 'cleanup_incomplete',
      exitCode: err instanceof FaasctlError ? err.exitCode : EXIT.platform,
      hint: "faasctl gc finishes it (its objects are now nobody's)",
      cause: err,
    });
  }
  return { id: target.id, name: target.name, functions, stopped: open.length, requestId };
}

interface Owned {
  installation: string;
  labels: string[];
  services: Array<{ id: string; labels: Record<string, string> }>;
  openRequests: string[];
  shas: string[];
  images: string[];
}

async function removeEngineObjects(deps: InvocationDeps, o: Owned): Promise<void> {
  for (const s of o.services) await deps.swarm.removeService(s.id);
  // Their tasks gone, nothing mounts the configs and secrets any more.
  await waitTasksGone(deps, o.labels);
  const invocations = o.services.filter((s) => s.labels[COMPONENT_LABEL] === 'invocation').map((s) => s.labels[LABELS.request] ?? '');
  for (const id of new Set([...invocations, ...o.openRequests])) if (id) await removeInvocation(deps, id, undefined); // their input configs
  const secrets = [...(await deps.swarm.listSecrets([`${COMPONENT_LABEL}=token`, ...o.labels])), ...(await deps.swarm.listSecrets([`${COMPONENT_LABEL}=secret`, ...o.labels]))];
  const kept = [];
  for (const s of secrets) if (!(await removeRetrying(deps, `secret ${s.name}`, () => deps.swarm.removeSecret(s.id)))) kept.push(s.name);
  await removeUnusedCodeConfigs(deps, o.shas);
  await removeUnusedImages(deps, o.installation, new Set(o.images));
  if (kept.length) throw new ConflictError(`secret${kept.length === 1 ? '' : 's'} ${kept.join(', ')} still in use`);
}

/** Their dependency image tags that no version of anyone runs in any more. */
async function removeUnusedImages(deps: InvocationDeps, installation: string, refs: Set<string>): Promise<void> {
  if (!refs.size) return;
  const theirs = (await deps.swarm.listImages(DEPS_LABEL)).filter((i) => i.tags.some((t) => refs.has(t)) || i.digests.some((d) => refs.has(d)));
  const inUse = await deps.store.functions.imagesInUse();
  for (const tag of unusedDependencyTags(theirs, installation, inUse)) await removeRetrying(deps, `image ${tag}`, () => deps.swarm.removeImage(tag), 0);
}

function finished(deps: Pick<InvocationDeps, 'clock'>, id: string, started: Date) {
  const end = deps.clock.now();
  return { id, status: 'success' as const, startedAt: started, finishedAt: end, durationMs: end.getTime() - started.getTime() };
}
