import { removeRetrying } from '../deletes/engine-removal.js';
import { closeExpiredRow } from '../invocations/expired-requests.js';
import { NO_COUNTS, type GcAction, type GcCounts } from './gc-plan.js';
import { removeInvocation, type InvocationDeps } from '../invocations/invocation.js';
import { isOpen, reconcileInvocation } from '../invocations/reconcile.js';
import { NO_RUN_FIGURES } from '../../db/requests-repo.js';

/**
 * Applies gc's plan in its order (rows first: closing them removes their services; then
 * services, so the secrets and configs they mounted are free; then the rest) and counts what
 * was done. An object someone else removed meanwhile counts as removed: it is gone either way.
 */
export async function applyGcPlan(deps: InvocationDeps, actions: GcAction[]): Promise<GcCounts> {
  const done = { ...NO_COUNTS };
  for (const a of actions) await applyOne(deps, a, done);
  return done;
}

async function applyOne(deps: InvocationDeps, a: GcAction, done: GcCounts): Promise<void> {
  switch (a.kind) {
    case 'recover':
      return recover(deps, a.requestId, a.serviceId, done);
    case 'rerun': {
      const row = await deps.store.requests.byIdAnyUser(a.requestId);
      if (!row || !isOpen(row)) return;
      const outcome = await reconcileInvocation(deps, row, { wait: false });
      const after = await deps.store.requests.byIdAnyUser(a.requestId);
      if (outcome) countEnded(done, outcome.completion.status === 'system_error' ? 'lost' : 'recovered', true);
      else if ((after?.attempt ?? 0) > row.attempt) done.requestsRerun++;
      return;
    }
    case 'close-lost': {
      const row = await deps.store.requests.byIdAnyUser(a.requestId);
      if (row && isOpen(row) && (await reconcileInvocation(deps, row, { wait: false }))) countEnded(done, 'lost', Boolean(a.serviceId));
      return;
    }
    case 'close-expired':
      return closeExpired(deps, a.requestId, Boolean(a.serviceId), done);
    case 'close-abandoned-bulk': {
      const now = deps.clock.now();
      const row = await deps.store.requests.byIdAnyUser(a.requestId);
      const durationMs = row ? now.getTime() - row.createdAt.getTime() : null;
      const closed = await deps.store.requests.complete(a.requestId, {
        status: 'system_error',
        result: null,
        error: 'abandoned: the invoking CLI went away',
        ...NO_RUN_FIGURES,
        durationMs,
        finishedAt: now,
      });
      if (closed) done.requestsLost++;
      return;
    }
    case 'remove-service':
      await deps.swarm.removeService(a.serviceId);
      done.servicesRemoved++;
      return;
    case 'remove-secret':
      if (await removeRetrying(deps, `secret ${a.secretId}`, () => deps.swarm.removeSecret(a.secretId))) done.secretsRemoved++;
      return;
    case 'remove-config':
      if (await removeRetrying(deps, `config ${a.name}`, () => deps.swarm.removeConfig(a.configId))) done.configsRemoved++;
      return;
    case 'remove-container':
      await deps.swarm.removeContainer(a.containerId);
      done.containersRemoved++;
      return;
    case 'remove-image':
      // In use by a container (a warm replica still stopping, a `fn run`): next gc.
      if (await removeRetrying(deps, `image ${a.tag}`, () => deps.swarm.removeImage(a.tag), 0)) done.imagesRemoved++;
      return;
  }
}

/** An ended invocation: its result recorded (if nobody did meanwhile) and its service removed. */
async function recover(deps: InvocationDeps, requestId: string, serviceId: string, done: GcCounts): Promise<void> {
  const row = await deps.store.requests.byIdAnyUser(requestId);
  const outcome = row && isOpen(row) ? await reconcileInvocation(deps, row, { wait: false }) : undefined;
  if (outcome) done.requestsRecovered++;
  else await removeInvocation(deps, requestId, serviceId);
  done.servicesRemoved++;
}

async function closeExpired(deps: InvocationDeps, requestId: string, withService: boolean, done: GcCounts): Promise<void> {
  const row = await deps.store.requests.byIdAnyUser(requestId);
  if (!row || !isOpen(row)) return;
  const cold = row.type === 'fn.invoke' && row.mode !== 'warm';
  // Without the engine a bulk run's service and token stay: the plan removes them as its own actions.
  const ended = await closeExpiredRow({ ...deps, engine: cold ? async () => deps : undefined }, row);
  // Without a service nothing could be recovered: reconcile's "lost" ending is still a loss.
  if (ended === 'closed' || ended === 'recovered') countEnded(done, ended === 'closed' || !withService ? 'lost' : 'recovered', withService);
}

function countEnded(done: GcCounts, how: 'lost' | 'recovered', serviceRemoved: boolean): void {
  if (how === 'lost') done.requestsLost++;
  else done.requestsRecovered++;
  if (serviceRemoved) done.servicesRemoved++;
}
