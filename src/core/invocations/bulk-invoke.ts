import { waitForSlotsUpTo } from '../functions/concurrency.js';
import { limitsOf } from './invoke.js';
import type { CurrentFunction } from '../../db/functions-repo.js';
import type { Completion, RequestItem } from '../../db/requests-repo.js';
import { EXIT, PlatformError, type ExitCode } from '../../base/errors.js';
import { requireFunction } from '../functions/lookup.js';
import type { Outcome } from './invocation.js';
import type { Frame } from './invocation-output.js';
import { deadlineBudgetMs, stoppedBulkMessage } from '../requests/deadlines.js';
import { holdLease } from '../requests/lease.js';
import { anySignal } from '../../base/signals.js';
import { closeExpiredOf } from './expired-requests.js';
import type { ReplicaTransport } from '../../base/ports.js';
import type { ReplicaRouter } from './replica-router.js';
import type { Actor } from '../users/accounts.js';
import { DEFAULT_WORKERS, ensureTokenSecret, removeSecrets, replicaSpec, warmService } from '../functions/warm-replicas.js';
import { waitConverged } from '../functions/replica-readiness.js';
import type { WarmDeps } from '../functions/warm-deps.js';
import { callWarm, openRouter, type RouteDeps } from './warm-invoke.js';
import { batchWriter } from './bulk-io.js';
import { NO_RUN_FIGURES } from '../../db/requests-repo.js';

const MAX_BULK_REPLICAS = 8;

export interface BulkDeps extends Omit<WarmDeps, 'replicaTransport'>, RouteDeps {}

export interface BulkRequest {
  name: string;
  inputs: string[];
  /** In-flight inputs at once; default: every worker of every replica busy. */
  concurrency?: number;
  cold: boolean;
  signal?: AbortSignal;
  onAnswer: (answer: BulkAnswer) => void;
  onProgress?: (done: number, total: number) => void;
  /** The row exists: the id to look at should this process die. */
  onRequest?: (requestId: string) => void;
}

export interface BulkAnswer {
  index: number;
  /** The function version that answered. */
  version: number | null;
  status: Completion['status'];
  exitCode: ExitCode;
  result: unknown;
  error: Frame['error'] | { type: string; message: string; traceback?: null };
  durationMs: number | null;
  /** This CLI's round trip for the input, retries included. */
  latencyMs: number;
  attempts: number;
  /** The node that answered (its hostname). */
  node: string | null;
}

export interface BulkRun {
  requestId: string;
  functionName: string;
  version: number;
  mode: 'warm' | 'cold';
  total: number;
  answered: number;
  counts: Partial<Record<Completion['status'], number>>;
  /** Answers per node (hostname): where Swarm spread the work. */
  nodes: Record<string, number>;
  /** The versions that answered, in order: more than one when a roll happened during the run. */
  answeredVersions: number[];
  durationMs: number;
  exitCode: ExitCode;
  /** Why the run stopped before every input was answered (Ctrl-C, the output reader went away). */
  stopReason?: string;
}

interface Route {
  mode: 'warm' | 'cold';
  router: ReplicaRouter;
  transport: ReplicaTransport;
  concurrency: number;
  cleanUp: () => Promise<void>;
}

export async function invokeBulk(deps: BulkDeps, actor: Actor, req: BulkRequest): Promise<BulkRun> {
  const fn = await requireFunction(deps.store, actor, req.name);
  await closeExpiredOf(deps, fn.id);
  // A concurrency limit holds here too: the run feeds as many inputs at once as it got slots.
  const slots = await waitForSlotsUpTo(deps.store, await limitsOf(deps.store, actor, fn), fn.name, req.concurrency ?? 1024, { signal: req.signal, sleep: deps.sleep });
  try {
    return await runBulk(deps, actor, slots ? { ...req, concurrency: slots.count } : req, fn);
  } finally {
    slots?.release();
  }
}

async function runBulk(deps: BulkDeps, actor: Actor, req: BulkRequest, fn: CurrentFunction): Promise<BulkRun> {
  const requestId = deps.newId();
  const startedAt = deps.clock.now();
  const started = deps.monotonic();
  const total = req.inputs.length;
  const row = { id: requestId, userId: actor.id, type: 'fn.invoke.bulk', functionId: fn.id, functionName: fn.name, functionVersion: fn.current.version, startedAt };
  const params = { name: fn.name, version: fn.current.version, inputs: total, concurrency: req.concurrency ?? null };
  await deps.store.requests.insert({ ...row, status: 'pending', params, deadlineMs: deadlineBudgetMs({ kind: 'bulk' }) });
  req.onRequest?.(requestId);
  const lease = holdLease(deps, requestId);
  // Ctrl-C, a reader that went away, or a row another process closed: all stop the feeding.
  const signal = anySignal([req.signal, lease.lost]);
  let route: Route | undefined;
  const counts: BulkRun['counts'] = {};
  const nodes: BulkRun['nodes'] = {};
  const versions = new Set<number>();
  let answered = 0;
  let worst = EXIT.ok as ExitCode;
  try {
    route = (!req.cold && (await warmRoute(deps, fn, req.concurrency))) || (await coldRoute(deps, fn, requestId, total, req.concurrency));
    await deps.store.requests.markMode(requestId, route.mode);
    const writer = batchWriter(deps, requestId);
    await dispatch(deps, fn, route, { ...req, signal }, requestId, (answer, item) => {
      answered++;
      counts[answer.status] = (counts[answer.status] ?? 0) + 1;
      if (answer.node) nodes[answer.node] = (nodes[answer.node] ?? 0) + 1;
      if (answer.version !== null) versions.add(answer.version);
      if (answer.exitCode !== EXIT.ok && (worst === EXIT.ok || answer.exitCode === EXIT.platform)) worst = answer.exitCode;
      writer.add(item);
      req.onAnswer(answer);
      req.onProgress?.(answered, total);
    });
    await writer.flush();
  } catch (err) {
    await close(deps, requestId, started, { status: 'system_error', error: (err as Error).message, total, answered, counts, nodes });
    throw err;
  } finally {
    lease.stop();
    route?.transport.close();
    await route?.cleanUp().catch((err: Error) => deps.log.debug(`bulk clean-up: ${err.message}; gc removes the rest`));
  }
  const stopReason = signal.aborted ? stopReasonOf(signal) : undefined;
  // A row closed by another process: PostgreSQL was unreachable for longer than the lease.
  const exitCode = signal.aborted ? (lease.lost.aborted ? EXIT.connection : EXIT.interrupted) : worst;
  const status = signal.aborted || exitCode === EXIT.platform ? 'system_error' : exitCode === EXIT.ok ? 'success' : 'application_error';
  // Ctrl-C keeps its message ("cancelled after 3 of 10 inputs"); other reasons say what happened.
  const error = !signal.aborted ? null : stopReason ? stoppedBulkMessage(stopReason, total, answered) : `cancelled after ${answered} of ${total} inputs`;
  const durationMs = await close(deps, requestId, started, { status, error, total, answered, counts, nodes });
  return {
    requestId,
    functionName: fn.name,
    version: fn.current.version,
    mode: route!.mode,
    total,
    answered,
    counts,
    nodes,
    answeredVersions: [...versions].sort((a, b) => a - b),
    durationMs,
    exitCode,
    stopReason,
  };
}

/** A reason given to abort() (an Error with a message), or undefined for a plain Ctrl-C. */
function stopReasonOf(signal: AbortSignal): string | undefined {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? reason.message : undefined;
}

async function close(
  deps: BulkDeps,
  requestId: string,
  started: number,
  s: { status: Completion['status']; error: string | null; total: number; answered: number; counts: BulkRun['counts']; nodes: BulkRun['nodes'] },
): Promise<number> {
  const durationMs = deps.monotonic() - started;
  await deps.store.requests.complete(requestId, {
    status: s.status,
    result: { total: s.total, answered: s.answered, ...s.counts, nodes: s.nodes },
    error: s.error,
    ...NO_RUN_FIGURES,
    durationMs,
    finishedAt: deps.clock.now(),
  });
  return durationMs;
}

async function warmRoute(deps: BulkDeps, fn: CurrentFunction, concurrency: number | undefined): Promise<Route | undefined> {
  if (fn.warmReplicas === 0) return undefined;
  const [serviceId, token] = await Promise.all([warmService(deps, fn), deps.store.functions.warmToken(fn.id)]);
  if (!serviceId || !token) return undefined;
  const slots = concurrency ?? fn.warmReplicas * fn.warmWorkers;
  const { router, transport } = await openRouter(deps, serviceId, token, slots);
  if (router.size === 0) {
    transport.close();
    return undefined;
  }
  return { mode: 'warm', router, transport, concurrency: slots, cleanUp: async () => {} };
}

/** A replica service for this run only: a few replicas, removed with its token at the end. */
async function coldRoute(deps: BulkDeps, fn: CurrentFunction, requestId: string, total: number, concurrency: number | undefined): Promise<Route> {
  const cpus = (await deps.swarm.listNodes()).filter((n) => n.state === 'ready' && n.availability === 'active').reduce((sum, n) => sum + n.cpus, 0);
  const workers = DEFAULT_WORKERS;
  const slots = Math.min(total, concurrency ?? Math.max(2, Math.round(cpus * 2)));
  const replicas = Math.max(1, Math.min(MAX_BULK_REPLICAS, Math.ceil(slots / workers)));
  const installation = await deps.store.meta.installationId();
  const token = deps.newToken();
  deps.progress(`starting ${replicas} replica${replicas === 1 ? '' : 's'} for ${total} inputs…`);
  const secret = await ensureTokenSecret(deps, installation, { functionId: fn.id, userId: fn.userId, requestId }, token);
  let serviceId: string | undefined;
  const cleanUp = async () => {
    if (serviceId) await deps.swarm.removeService(serviceId);
    await removeSecrets(deps, [secret.id]);
  };
  try {
    serviceId = await deps.swarm.createService(await replicaSpec(deps, fn, { purpose: 'bulk', installation, replicas, workers, secret, requestId }));
    await deps.store.requests.markRunning(requestId, serviceId);
    await waitConverged({ ...deps, progress: () => {} }, serviceId, 1);
    const { router, transport } = await openRouter(deps, serviceId, token, slots);
    return { mode: 'cold', router, transport, concurrency: slots, cleanUp };
  } catch (err) {
    await cleanUp().catch(() => {});
    throw err;
  }
}

/** `concurrency` loops take inputs in order; answers are released in input order. */
async function dispatch(deps: BulkDeps, fn: CurrentFunction, route: Route, req: BulkRequest, requestId: string, emit: (answer: BulkAnswer, item: RequestItem) => void): Promise<void> {
  const total = req.inputs.length;
  const ready = new Map<number, { answer: BulkAnswer; item: RequestItem }>();
  let next = 0;
  let released = 0;
  let fatal: Error | undefined;
  const clock = { monotonic: deps.monotonic, now: () => deps.clock.now() };
  const loop = async () => {
    while (next < total && !fatal && !req.signal?.aborted) {
      const index = next++;
      const { outcome, attempts, latencyMs } = await callWarm(clock, route.router, fn.current, req.inputs[index]!, req.signal, `${requestId}:${index}`);
      if (req.signal?.aborted) return;
      // With no replica at all, every other input would wait out its own deadline.
      if (outcome.exitCode === EXIT.platform && route.router.size === 0) fatal = new PlatformError(`no replica answers any more: ${outcome.message}`, { code: 'no_replica' });
      ready.set(index, toAnswer(index, outcome, attempts, latencyMs));
      while (ready.has(released)) {
        const done = ready.get(released)!;
        ready.delete(released++);
        emit(done.answer, done.item);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(route.concurrency, total)) }, loop));
  if (fatal) throw fatal;
}

function toAnswer(index: number, o: Outcome, attempts: number, latencyMs: number): { answer: BulkAnswer; item: RequestItem } {
  const c = o.completion;
  const error = o.frame?.error ?? (o.message ? { type: 'PlatformError', message: o.message, traceback: null } : null);
  return {
    answer: { index, version: c.functionVersion ?? null, status: c.status, exitCode: o.exitCode, result: c.result ?? null, error, durationMs: c.durationMs, latencyMs, attempts, node: c.node },
    // The row keeps the caller's view, like a request row: the round trip.
    item: {
      index,
      version: c.functionVersion ?? null,
      status: c.status,
      result: c.result ?? null,
      error: c.error,
      output: c.output,
      attempts,
      durationMs: latencyMs,
      cpuMs: c.cpuMs,
      maxRssKb: c.maxRssKb,
    },
  };
}
