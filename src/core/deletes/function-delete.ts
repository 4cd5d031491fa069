import type { RequestRow } from '../../db/requests-repo.js';
import { installationLabel, LABELS, COMPONENT_LABEL, labelList } from '../../swarm/labels.js';
import { waitTasksGone } from './engine-removal.js';
import { ConflictError } from '../../base/errors.js';
import { removeUnusedCodeConfigs } from '../functions/code-configs.js';
import { requireFunction } from '../functions/lookup.js';
import { removeInvocation, type InvocationDeps } from '../invocations/invocation.js';
import { settleOpenRequests, stopRequests } from './open-requests.js';
import type { Actor } from '../users/accounts.js';
import type { FailPoint } from '../invocations/invoke.js';
import { makeCold } from '../functions/warm-replicas.js';

/**
 * `fn delete`: the function, its versions, and every object of it on the engine (warm and bulk
 * replicas, token secrets, invocation services, code configs no other version uses), at once.
 * Its request history is not rewritten: the rows keep its id and name (issue 24).
 * An invocation that ended unread is recorded first; one still running makes it refuse before
 * anything changed, unless `force`, which stops it (its row says so).
 */

export interface DeletedFunction {
  name: string;
  versions: number;
  configsRemoved: number;
  /** Invocations --force stopped. */
  stopped: number;
  requestId: string;
}

export async function deleteFunction(
  deps: InvocationDeps & { newId: () => string; failpoint?: (point: FailPoint) => Promise<void> },
  actor: Actor,
  name: string,
  options: { force: boolean } = { force: false },
): Promise<DeletedFunction> {
  const fn = await requireFunction(deps.store, actor, name);
  const running = await settleOpenRequests(deps, { functionId: fn.id });
  if (running.length && !options.force) throw stillRunning(fn.name, running);
  await stopRequests(deps, running, `stopped: its function ${fn.name} was deleted (fn delete --force) while it ran`);
  // Its replicas (and any bulk run's token) use the code configs: they go first.
  await makeCold(deps, fn);
  const started = deps.clock.now();
  const requestId = deps.newId();
  const shas = await deps.store.transaction(async (tx) => {
    const removed = await tx.functions.remove(fn.id);
    await tx.requests.insert({
      ...finished(deps, requestId, started),
      userId: actor.id,
      type: 'fn.delete',
      params: { name: fn.name, versions: fn.currentVersion, ...(running.length ? { stopped: running.map((r) => r.id) } : {}) },
      functionName: fn.name,
    });
    await deps.failpoint?.('fn-delete:in-transaction');
    return removed;
  });
  const labels = [`${LABELS.function}=${fn.id}`, ...labelList(installationLabel(await deps.store.meta.installationId()))];
  // Whatever is still labelled with it is waste now (a service whose row was closed, a bulk run's left replicas).
  const leftover = await deps.swarm.listServices(labels);
  for (const service of leftover) await deps.swarm.removeService(service.id);
  await waitTasksGone(deps, labels);
  for (const service of leftover) if (service.labels[COMPONENT_LABEL] === 'invocation') await removeInvocation(deps, service.labels[LABELS.request] ?? '', undefined); // its input config
  const configsRemoved = await removeUnusedCodeConfigs(deps, shas);
  return { name: fn.name, versions: shas.length, configsRemoved, stopped: running.length, requestId };
}

function stillRunning(name: string, rows: RequestRow[]): ConflictError {
  const first = rows[0]!.id;
  const ids = rows.length === 1 ? first : `${first} and ${rows.length - 1} more`;
  return new ConflictError(`function "${name}" has ${rows.length} invocation${rows.length === 1 ? '' : 's'} still running (${ids}); nothing was deleted`, {
    code: 'function_running',
    hint: `wait for it (faasctl request wait ${first}) and delete again, or stop it: faasctl fn delete ${name} --force`,
  });
}

function finished(deps: Pick<InvocationDeps, 'clock'>, id: string, started: Date) {
  const end = deps.clock.now();
  return { id, status: 'success' as const, startedAt: started, finishedAt: end, durationMs: end.getTime() - started.getTime() };
}
