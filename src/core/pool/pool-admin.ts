import type { Clock, Logger } from '../../base/ports.js';
import { PlatformError } from '../../base/errors.js';
import type { Store } from '../../db/store.js';
import type { ServiceInfo, SwarmClient } from '../../swarm/client.js';
import { COMPONENT_LABEL, LABELS } from '../../swarm/labels.js';
import { buildPoolServiceSpec } from '../../swarm/pool-spec.js';
import { idleTasks, standbyToken } from './claim-plan.js';
import { DEFAULT_POOL_CLASS, parsePoolClassName, poolClassName, type PoolClass } from './classes.js';
import type { PoolDeps } from './pool-deps.js';
import { reclaimExpired } from './reclaim.js';
import { VIEW_TTL_MS } from './pool-view.js';

/**
 * Sizing the pools: `up --pool N` and `pool resize N` make or scale a class's service, `pool
 * drain` removes them, `pool show` and doctor report them. A pool is shrunk or drained only
 * once no container of it runs a job: it is marked draining first (claimers skip it), then
 * its open claims are waited for, so Swarm never stops a container mid-invocation.
 */

export interface PoolAdminDeps {
  swarm: SwarmClient;
  store: Store;
  clock: Clock;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  runtimeImage: () => Promise<string>;
  replicaHost: PoolDeps['replicaHost'];
  standby: PoolDeps['standby'];
}

export interface PoolStatus {
  className: string;
  serviceId: string;
  memoryBytes: number;
  nanoCpus: number;
  /** Desired containers. */
  size: number;
  /** Running and not claimed: waiting for a job. */
  idle: number;
  /** Claimed: running a job (or about to). */
  claimed: number;
  draining: boolean;
  /** Median memory of a waiting container, from the engine's stats (those on this engine); null when none measured. */
  idleMemoryBytes: number | null;
}

const READY_MS = 60_000;
/** Past the longest job's deadline a claim is reclaimed anyway; this only bounds the wait. */
const DRAIN_WAIT_MS = 10 * 60_000;
const POLL_MS = 100;
/** A claim's own time between its read of the pool and its claim row. */
const CLAIM_MARGIN_MS = 500;

async function poolServices(deps: Pick<PoolAdminDeps, 'swarm' | 'store'>): Promise<ServiceInfo[]> {
  const installation = await deps.store.meta.installationId();
  return deps.swarm.listServices([`${COMPONENT_LABEL}=pool`, `${LABELS.installation}=${installation}`]);
}

async function classService(deps: Pick<PoolAdminDeps, 'swarm' | 'store'>, className: string): Promise<ServiceInfo | undefined> {
  return (await poolServices(deps)).find((s) => s.labels[LABELS.poolClass] === className);
}

/** Makes the class's pool exist with `size` containers (0 removes it), and waits until they wait for jobs. */
export async function resizePool(deps: PoolAdminDeps, size: number, cls: PoolClass = DEFAULT_POOL_CLASS): Promise<PoolStatus[]> {
  const className = poolClassName(cls);
  const existing = await classService(deps, className);
  if (size === 0) {
    if (existing) await drainService(deps, existing);
    return poolStatus(deps);
  }
  const installation = await deps.store.meta.installationId();
  const spec = buildPoolServiceSpec({ installation, className, image: await deps.runtimeImage(), replicas: size, ...cls });
  if (!existing) {
    await deps.swarm.createService(spec);
  } else if (imageOf(existing) !== spec.TaskTemplate.ContainerSpec.Image) {
    // A new runtime (faasctl upgraded): drained and made again with it. A rolling update would
    // stop containers in the middle of their jobs, and mix old and new ones for a while.
    await drainService(deps, existing);
    await deps.swarm.createService(spec);
  } else {
    const current = existing.replicas ?? 0;
    // Smaller: wait for its jobs first, so the containers Swarm stops are idle ones.
    if (size < current) await quiesce(deps, existing);
    await deps.swarm.updateService(existing.id, spec);
  }
  await waitReady(deps, className, size);
  return poolStatus(deps);
}

/**
 * The image a pool's containers run, exactly as faasctl wrote it into the spec (the engine's API
 * keeps it as given): a tag here, `repository@digest` with a registry (images.ts pinnedImage).
 */
const imageOf = (s: ServiceInfo) => s.spec?.TaskTemplate?.ContainerSpec?.Image;

/**
 * Pools whose containers run another runtime image than this faasctl's (`up` after an upgrade):
 * each made again at its size with the current one, once its jobs have ended. Answers the
 * classes made again.
 */
export async function refreshPools(deps: PoolAdminDeps): Promise<string[]> {
  const image = await deps.runtimeImage();
  const stale = (await poolServices(deps)).filter((s) => imageOf(s) !== image);
  const refreshed: string[] = [];
  for (const s of stale) {
    const className = s.labels[LABELS.poolClass] ?? '';
    const cls = parsePoolClassName(className);
    if (!cls || !s.replicas) continue; // not one this version can name, or being removed: left to pool drain
    await resizePool(deps, s.replicas, cls);
    refreshed.push(className);
  }
  return refreshed;
}

/** Removes every pool (or one class's) once its jobs have ended. */
export async function drainPools(deps: PoolAdminDeps, className?: string): Promise<number> {
  const services = (await poolServices(deps)).filter((s) => !className || s.labels[LABELS.poolClass] === className);
  for (const s of services) await drainService(deps, s);
  return services.length;
}

async function drainService(deps: PoolAdminDeps, s: ServiceInfo): Promise<void> {
  await quiesce(deps, s);
  await deps.swarm.removeService(s.id);
}

/** Marks the service draining (claimers skip it) and waits for its open claims to end. */
async function quiesce(deps: PoolAdminDeps, s: ServiceInfo): Promise<void> {
  const info = await deps.swarm.inspectService(s.id);
  if (info?.spec && info.spec.Labels?.[LABELS.poolDraining] !== 'true') {
    await deps.swarm.updateService(s.id, { ...info.spec, Labels: { ...info.spec.Labels, [LABELS.poolDraining]: 'true' } });
    // A dispatcher's claim may still go by a read of the pool from before the mark (pool-view.ts):
    // its claim row is in by the time that read is a view's lifetime old.
    await deps.sleep(VIEW_TTL_MS + CLAIM_MARGIN_MS);
  }
  const deadline = deps.clock.now().getTime() + DRAIN_WAIT_MS;
  for (;;) {
    // A claim of a CLI that died ends at its expiry, not by itself.
    await reclaimExpired(deps);
    const [claimed, tasks] = await Promise.all([deps.store.pool.claimedTasks([s.id]), deps.swarm.listTasks(s.id)]);
    // Busy: claimed and still running (a finished job's claim outlives its container a moment).
    if (!tasks.some((t) => claimed.has(t.id) && t.state === 'running')) return;
    if (deps.clock.now().getTime() > deadline)
      throw new PlatformError('pool containers still run jobs after 10 minutes', { code: 'pool_busy', hint: 'faasctl gc reclaims claims past their deadline; then run the command again' });
    await deps.sleep(POLL_MS);
  }
}

async function waitReady(deps: PoolAdminDeps, className: string, size: number): Promise<void> {
  const deadline = deps.clock.now().getTime() + READY_MS;
  // Running is not yet waiting: a container takes its jobs once it printed its token (listening).
  const listening = new Set<string>();
  for (;;) {
    const s = await classService(deps, className);
    if (!s) return;
    const tasks = await deps.swarm.listTasks(s.id);
    const up = tasks.filter((t) => t.state === 'running' && t.desiredState === 'running');
    for (const t of up.filter((t) => !listening.has(t.id))) if (standbyToken(await deps.swarm.taskLogs(t.id))) listening.add(t.id);
    const running = up.filter((t) => listening.has(t.id)).length;
    if (running >= size) return;
    const failed = tasks.find((t) => (t.state === 'rejected' || t.state === 'failed') && t.error);
    if (deps.clock.now().getTime() > deadline) {
      throw new PlatformError(`only ${running} of ${size} pool containers wait for jobs after ${READY_MS / 1000} s${failed ? ` (${failed.error})` : ''}`, {
        code: 'pool_not_ready',
        hint: 'docker service ps shows the tasks; faasctl doctor checks the runtime image',
      });
    }
    await deps.sleep(POLL_MS);
  }
}

export async function poolStatus(deps: Pick<PoolAdminDeps, 'swarm' | 'store'>): Promise<PoolStatus[]> {
  const services = await poolServices(deps);
  const claimed = await deps.store.pool.claimedTasks(services.map((s) => s.id));
  return Promise.all(
    services.map(async (s) => {
      const className = s.labels[LABELS.poolClass] ?? '';
      const cls = parsePoolClassName(className) ?? DEFAULT_POOL_CLASS;
      const tasks = await deps.swarm.listTasks(s.id);
      const idle = idleTasks(tasks, claimed);
      const busy = tasks.filter((t) => claimed.has(t.id) && t.state === 'running' && t.desiredState === 'running').length;
      return {
        className,
        serviceId: s.id,
        ...cls,
        size: s.replicas ?? 0,
        idle: idle.length,
        claimed: busy,
        draining: s.labels[LABELS.poolDraining] === 'true',
        idleMemoryBytes: await idleMemory(
          deps.swarm,
          idle.map((t) => t.containerId).filter((c): c is string => Boolean(c)),
        ),
      };
    }),
  );
}

/** The median memory of a few waiting containers, as the engine counts it (only this engine's). */
async function idleMemory(swarm: SwarmClient, containers: string[]): Promise<number | null> {
  const samples = (await Promise.all(containers.slice(0, 5).map((c) => swarm.containerStats(c).catch(() => undefined))))
    .filter((s) => s !== undefined)
    .map((s) => s.memoryBytes)
    .sort((a, b) => a - b);
  return samples.length ? (samples[Math.floor(samples.length / 2)] ?? null) : null;
}
