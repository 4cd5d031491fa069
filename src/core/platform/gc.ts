import { COMPONENT_LABEL, MANAGED_LABEL, LABELS, DEPS_LABEL } from '../../swarm/labels.js';
import { ConflictError } from '../../base/errors.js';
import { removeInvocation, type InvocationDeps } from '../invocations/invocation.js';
import { isOpen, reconcileInvocation } from '../invocations/reconcile.js';
import { removeSecrets } from '../functions/warm-replicas.js';
import { TERMINAL } from '../../swarm/task-states.js';
import { LOCAL_RUN_COMPONENT } from '../../swarm/local-run-spec.js';
import { unusedDependencyTags } from '../functions/dependencies.js';
import { closeExpiredRequests } from '../invocations/expired-requests.js';

/**
 * Removes what faasctl made and nothing needs any more, finishing interrupted work first:
 * - invocation services: an ended one is reconciled (its result recorded) and removed;
 *   one whose request is closed or unknown is removed;
 * - open requests whose service is gone: recorded as lost;
 * - input configs without a service, code configs no version refers to;
 * - check containers, and exited invocation containers a removed service left behind;
 * - warm services of functions that are no longer warm (or gone), bulk services whose run
 *   ended (or was abandoned: its CLI died), and the token secrets none of those needs;
 * - user secrets of users that were deleted.
 * Running invocations are left alone, but for those on a node Swarm reports Down: they are
 * started again on a live node (at-least-once), as `fn invoke` does for the ones it watches.
 */
export interface GcReport {
  servicesRemoved: number;
  requestsRecovered: number;
  requestsLost: number;
  configsRemoved: number;
  containersRemoved: number;
  secretsRemoved: number;
  /** Dependency image tags of this installation that no version runs in any more. */
  imagesRemoved: number;
}

/** A check container runs for seconds; one older than this belongs to a killed deploy. */
const STALE_CHECK_MS = 10 * 60_000;

export async function collectGarbage(deps: InvocationDeps, options: { dryRun: boolean } = { dryRun: false }): Promise<GcReport> {
  const report: GcReport = { servicesRemoved: 0, requestsRecovered: 0, requestsLost: 0, configsRemoved: 0, containersRemoved: 0, secretsRemoved: 0, imagesRemoved: 0 };
  // Rows past their deadline first (every user's): what they held is then waste like the rest.
  if (!options.dryRun) {
    const expired = await closeExpiredRequests({ ...deps, engine: async () => deps }, {}, 10_000);
    report.requestsLost += expired.closed;
    report.requestsRecovered += expired.recovered;
  }
  // Only this installation's objects: another database's invocations are not ours to judge.
  const mine = `${LABELS.installation}=${await deps.store.meta.installationId()}`;
  const services = await deps.swarm.listServices([`${COMPONENT_LABEL}=invocation`, mine]);
  const tasks = await deps.swarm.listTasksByLabel([`${COMPONENT_LABEL}=invocation`, mine]);
  const live = new Set<string>();
  const lostNodes = new Set((await deps.swarm.listNodes()).filter((n) => n.state === 'down' || n.state === 'disconnected').map((n) => n.id));
  for (const service of services) {
    const requestId = service.labels[LABELS.request] ?? '';
    const own = tasks.filter((t) => t.serviceId === service.id);
    const ended = own.length > 0 && own.every((t) => TERMINAL.has(t.state));
    const row = requestId ? await deps.store.requests.byIdAnyUser(requestId) : undefined;
    if (row && isOpen(row)) {
      if (!ended) {
        live.add(requestId);
        // An --async job on a lost node has no CLI to run it again: gc does (reconcile reruns it,
        // or closes it after its last attempt).
        const onLostNode = own.some((t) => !TERMINAL.has(t.state) && lostNodes.has(t.nodeId ?? ''));
        if (onLostNode && !options.dryRun && (await reconcileInvocation(deps, row, { wait: false }))) {
          live.delete(requestId);
          report.requestsRecovered++;
          report.servicesRemoved++;
        }
        continue;
      }
      if (options.dryRun) report.requestsRecovered++;
      else if (await reconcileInvocation(deps, row, { wait: false })) report.requestsRecovered++;
      report.servicesRemoved++;
      continue;
    }
    // Closed or unknown request: the result is recorded (or cannot be), the service is waste.
    if (!ended && !row) {
      live.add(requestId);
      continue;
    }
    if (!options.dryRun) await removeInvocation(deps, requestId, service.id);
    report.servicesRemoved++;
  }

  for (const row of await deps.store.requests.openInvocations(10_000)) {
    if (live.has(row.id) || services.some((s) => s.labels[LABELS.request] === row.id)) continue;
    if (options.dryRun) continue;
    if (await reconcileInvocation(deps, row, { wait: false })) report.requestsLost++;
  }

  await collectReplicaServices(deps, mine, report, options.dryRun);
  report.configsRemoved += await removeConfigs(deps, mine, live, options.dryRun);
  report.containersRemoved += await removeContainers(deps, mine, new Set(services.map((s) => s.id)), options.dryRun);
  report.imagesRemoved += await removeDependencyImages(deps, options.dryRun);
  return report;
}

/** On the engine faasctl talks to (registries keep what was pushed). */
async function removeDependencyImages(deps: InvocationDeps, dryRun: boolean): Promise<number> {
  const [images, inUse, installation] = await Promise.all([deps.swarm.listImages(DEPS_LABEL), deps.store.functions.imagesInUse(), deps.store.meta.installationId()]);
  let removed = 0;
  for (const tag of unusedDependencyTags(images, installation, inUse)) {
    if (dryRun) {
      removed++;
      continue;
    }
    try {
      await deps.swarm.removeImage(tag);
      removed++;
    } catch (err) {
      // In use by a container (a warm replica still stopping, a `fn run`): next gc.
      if (!(err instanceof ConflictError)) throw err;
      deps.log.debug(`image ${tag} not removed: ${(err as Error).message}`);
    }
  }
  return removed;
}

/**
 * A bulk run's replicas exit after a minute without requests (the CLI that fed them died),
 * and a run open this long has lost its CLI anyway.
 */
const ABANDONED_BULK_MS = 6 * 3600_000;

async function collectReplicaServices(deps: InvocationDeps, mine: string, report: GcReport, dryRun: boolean): Promise<void> {
  const warmFunctions = new Set((await deps.store.functions.warm()).map((f) => f.id));
  const bulkTasks = await deps.swarm.listTasksByLabel([`${COMPONENT_LABEL}=bulk`, mine]);
  const bulkServices = await deps.swarm.listServices([`${COMPONENT_LABEL}=bulk`, mine]);
  const idle = new Set(
    bulkServices.filter((s) => {
      const own = bulkTasks.filter((t) => t.serviceId === s.id);
      return own.length > 0 && own.every((t) => TERMINAL.has(t.state));
    }).map((s) => s.labels[LABELS.request] ?? ''),
  );
  const openBulk = new Set<string>();
  const now = deps.clock.now().getTime();
  for (const row of await deps.store.requests.openOfType('fn.invoke.bulk', 10_000)) {
    if (now - row.createdAt.getTime() < ABANDONED_BULK_MS && !idle.has(row.id)) {
      openBulk.add(row.id);
      continue;
    }
    if (!dryRun) await deps.store.requests.complete(row.id, { status: 'system_error', result: null, error: 'abandoned: the invoking CLI went away', output: '', outputTruncated: false, durationMs: now - row.createdAt.getTime(), cpuMs: null, maxRssKb: null, node: null, finishedAt: deps.clock.now() });
    report.requestsLost++;
  }
  const needed = (labels: Record<string, string>) => openBulk.has(labels[LABELS.request] ?? '') || (!labels[LABELS.request] && warmFunctions.has(labels[LABELS.function] ?? ''));
  const warmServices = await deps.swarm.listServices([`${COMPONENT_LABEL}=warm`, mine]);
  for (const service of [...warmServices, ...bulkServices]) {
    if (needed(service.labels)) continue;
    if (!dryRun) await deps.swarm.removeService(service.id);
    report.servicesRemoved++;
  }
  const secrets = (await deps.swarm.listSecrets([`${COMPONENT_LABEL}=token`, mine])).filter((s) => !needed(s.labels));
  if (!dryRun) await removeSecrets(deps, secrets.map((s) => s.id));
  report.secretsRemoved += secrets.length;
  // User secrets whose row is gone (their user was deleted): nothing can mount them again.
  const userSecrets = await deps.swarm.listSecrets([`${COMPONENT_LABEL}=secret`, mine]);
  const known = await deps.store.secrets.known(userSecrets.map((s) => s.name));
  const orphans = userSecrets.filter((s) => !known.has(s.name));
  if (!dryRun) await removeSecrets(deps, orphans.map((s) => s.id));
  report.secretsRemoved += orphans.length;
}

async function removeConfigs(deps: InvocationDeps, mine: string, live: Set<string>, dryRun: boolean): Promise<number> {
  let removed = 0;
  const inputs = await deps.swarm.listConfigs([`${COMPONENT_LABEL}=input`, mine]);
  const codes = await deps.swarm.listConfigs([`${COMPONENT_LABEL}=code`, mine]);
  const inUse = await deps.store.functions.shasInUse(codes.map((c) => c.labels[LABELS.sha256] ?? ''));
  const waste = [...inputs.filter((c) => !live.has(c.labels[LABELS.request] ?? '')), ...codes.filter((c) => !inUse.has(c.labels[LABELS.sha256] ?? ''))];
  for (const config of waste) {
    if (dryRun) {
      removed++;
      continue;
    }
    try {
      await deps.swarm.removeConfig(config.id);
      removed++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      deps.log.debug(`config ${config.name} is in use; kept`); // a running invocation of deleted code
    }
  }
  return removed;
}

async function removeContainers(deps: InvocationDeps, mine: string, services: Set<string>, dryRun: boolean): Promise<number> {
  const containers = await deps.swarm.listContainers([`${MANAGED_LABEL}=true`, mine]);
  const now = deps.clock.now().getTime();
  let removed = 0;
  for (const c of containers) {
    const component = c.labels[COMPONENT_LABEL];
    const stale = component === 'check' && (c.state !== 'running' || now - c.createdAt.getTime() > STALE_CHECK_MS);
    // Only a container whose service is gone: an existing service's logs are still to be read.
    const leftover = component === 'invocation' && c.state === 'exited' && !services.has(c.labels['com.docker.swarm.service.id'] ?? '');
    if (!stale && !leftover) continue;
    if (!dryRun) await deps.swarm.removeContainer(c.id);
    removed++;
  }
  return removed + (await removeOrphanedRuns(deps, now, dryRun));
}

/** A `fn run` whose CLI was killed leaves its container; the CLI removes it at once otherwise. */
const ORPHANED_RUN_MS = 10_000;

/**
 * `fn run` containers belong to no installation (it needs no database), so any gc may take
 * those that ended a while ago; a running one may still be someone's live run.
 */
async function removeOrphanedRuns(deps: InvocationDeps, now: number, dryRun: boolean): Promise<number> {
  const runs = await deps.swarm.listContainers([`${MANAGED_LABEL}=true`, `${COMPONENT_LABEL}=${LOCAL_RUN_COMPONENT}`]);
  let removed = 0;
  for (const c of runs) {
    if (c.state === 'running' || now - c.createdAt.getTime() < ORPHANED_RUN_MS) continue;
    if (!dryRun) await deps.swarm.removeContainer(c.id);
    removed++;
  }
  return removed;
}
