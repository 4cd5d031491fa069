import type { CurrentFunction } from '../../db/functions-repo.js';
import type { LogStream } from '../../swarm/log-demux.js';
import { ConnectionError } from '../../base/errors.js';
import { requireFunction } from '../functions/lookup.js';
import { finishInvocation, outcomeOf, removeInvocation, type InvocationDeps, type Outcome } from './invocation.js';
import { watchWithReruns } from './reruns.js';
import { startService } from './cold-service.js';
import { type Limits, userCap, waitForSlots } from '../functions/concurrency.js';
import { closedElsewhere } from './closed-elsewhere.js';
import { invokeRow, MAX_WARM_INPUT_BYTES, validateInput } from './invoke-input.js';
import { deadlineBudgetMs, START_ALLOWANCE_MS } from '../requests/deadlines.js';
import { closeExpiredOf } from './expired-requests.js';
import { versionImage } from '../functions/dependencies.js';
import type { Actor } from '../users/accounts.js';
import { warmService } from '../functions/warm-replicas.js';
import { callWarm, openRouter, warmTruncationNotice, type RouteDeps } from './warm-invoke.js';
import type { StandbyChannel } from '../../base/ports.js';
import { tryPool } from '../pool/pool-path.js';
import type { Isolation } from '../pool/classes.js';
import type { PoolViews } from '../pool/pool-view.js';

export { MAX_INPUT_BYTES, MAX_WARM_INPUT_BYTES, validateInput, invokeRow } from './invoke-input.js';
export { RUNTIME_OUTPUT_LIMIT } from './cold-service.js';
export { START_ALLOWANCE_MS } from '../requests/deadlines.js';

export interface InvokeDeps extends InvocationDeps, RouteDeps {
  newId: () => string;
  newNonce: () => string;
  runtimeImage: () => Promise<string>;
  /** The channel to sandbox-pool containers (issue 23); absent: never the pool. */
  standby?: () => StandbyChannel;
  /** The dispatcher's shared reads of the pools (core/pool/pool-view.ts). */
  poolViews?: PoolViews;
  /** Test-only (see src/cli/failpoints.ts): called at named points so a test can kill the CLI there. */
  failpoint?: (point: FailPoint) => Promise<void>;
}

/** Where a fault test may stop a cold invocation: after its row exists (no service yet), and after its answer was read but before it is written. */
export type FailPoint = 'invoke:row-written' | 'pool:claimed' | 'invoke:answer-read' | 'user-delete:committed' | 'user-delete:in-transaction' | 'fn-delete:in-transaction';

export interface InvokeRequest {
  name: string;
  /** The input document as JSON text; undefined means no input (the function gets None). */
  input: string | undefined;
  async: boolean;
  /** A job even when the function has warm replicas. */
  cold?: boolean;
  /** `service`: one service per invocation even when a pool fits; `pool`: the pool (refused when the version cannot run there); absent: the function's default. */
  isolation?: Isolation;
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
  /** A cold run's node was lost and it runs again elsewhere. */
  onRerun?: (attempt: number, node: string, why: 'lost' | 'stalled') => void;
  /** The engine went away mid-run (a message), or answers again (undefined). */
  onEngineAway?: (message: string | undefined) => void;
  /** A cold job's row exists (before its service): the id to `request wait` on should this process die. */
  onRequest?: (requestId: string) => void;
  /** Fail at once when a concurrency limit is reached, instead of waiting in line. */
  noQueue?: boolean;
  /** Waiting for a concurrency slot (a one-line reason), for a terminal's status line. */
  onQueued?: (why: string | undefined) => void;
  /** Written into the row: a repeat with this key finds it (core/dispatch/submit.ts). */
  idempotency?: { key: string; inputSha256: string };
}

export interface Invocation {
  requestId: string;
  functionName: string;
  version: number;
  mode: 'cold' | 'warm' | 'pool';
  /** A pool run's container: `<task id>/<container id>`. */
  poolTask?: string;
  /** Runs it took: more than 1 when a node was lost mid-run (the function may have run twice). */
  attempt?: number;
  /** Absent for --async: the invocation is still running. */
  outcome?: Outcome;
}

/**
 * Warm when the function has a running replica (and neither --cold nor --async: an async
 * call must outlive this process, which only a job does); otherwise a cold job.
 */
export async function invokeFunction(deps: InvokeDeps, actor: Actor, req: InvokeRequest, found?: CurrentFunction): Promise<Invocation> {
  // `found`: the caller looked it up already (core/dispatch/submit.ts), in this same call.
  const fn = found ?? (await requireFunction(deps.store, actor, req.name));
  await closeExpiredOf(deps, fn.id);
  // An --async job outlives this process, so no slot of ours could cover it: limits on async
  // work hold through the dispatcher's queue (core/dispatch).
  const slots = req.async ? undefined : await waitForSlots(deps.store, await limitsOf(deps.store, actor, fn), fn.name, { ...req, sleep: deps.sleep, onWait: req.onQueued });
  try {
    if (!req.cold && !req.async && fn.warmReplicas > 0) {
      const warm = await tryWarm(deps, actor, fn, req);
      if (warm) return warm;
      deps.log.debug(`${fn.name} has no running warm replica: invoking cold`);
    }
    // An --async call must outlive this process: only a service does (the dispatcher may use the pool).
    if (!req.async) {
      const pooled = await tryPool(deps, actor, fn, req);
      if (pooled) return pooled;
    }
    return await invokeCold(deps, actor, fn, req);
  } finally {
    slots?.release();
  }
}

/** The limits an invocation of `fn` by `actor` runs under (the function's and the per-user cap). */
export async function limitsOf(store: InvokeDeps['store'], actor: Actor, fn: CurrentFunction): Promise<Limits> {
  // One after the other: at once, the second would open another connection (a new login costs more than a query).
  const policy = await store.functions.dispatchPolicy(fn.id);
  const cap = await userCap(store);
  return { functionId: fn.id, userId: actor.id, ...(policy.maxConcurrency ? { maxConcurrency: policy.maxConcurrency } : {}), ...(cap ? { userCap: cap } : {}) };
}

async function tryWarm(deps: InvokeDeps, actor: Actor, fn: CurrentFunction, req: InvokeRequest): Promise<Invocation | undefined> {
  const [serviceId, token] = await Promise.all([warmService(deps, fn), deps.store.functions.warmToken(fn.id)]);
  if (!serviceId || !token) return undefined;
  const input = validateInput(req.input, MAX_WARM_INPUT_BYTES);
  const { router, transport } = await openRouter(deps, serviceId, token, 1);
  try {
    if (router.size === 0) return undefined;
    const v = fn.current;
    const requestId = deps.newId();
    const deadlineMs = deadlineBudgetMs({ kind: 'warm', timeoutMs: v.timeoutMs });
    await deps.store.requests.insert({ ...invokeRow(actor, fn, input, req.idempotency), id: requestId, status: 'running', startedAt: deps.clock.now(), mode: 'warm', deadlineMs });
    const { outcome, latencyMs } = await callWarm({ monotonic: deps.monotonic, now: () => deps.clock.now() }, router, v, input, req.signal, requestId);
    // The row's duration is the caller's view, as for a cold invocation: the round trip.
    outcome.completion.durationMs = latencyMs;
    const recorded = await deps.store.requests.complete(requestId, outcome.completion);
    if (outcome.completion.output) req.onOutput?.('stderr', outcome.completion.output);
    const notice = warmTruncationNotice(outcome.frame, outcome.completion.output);
    if (notice) req.onOutput?.('stderr', notice);
    // Cancelled while it ran (request cancel): the answer came but the row says how it ended.
    const closed = recorded ? undefined : await closedElsewhere(deps, requestId).catch(() => undefined);
    return { requestId, functionName: fn.name, version: outcome.completion.functionVersion ?? v.version, mode: 'warm', outcome: closed ?? outcome };
  } finally {
    transport.close();
  }
}

/** A cold invocation: one Swarm service, watched to its answer (or left running with --async). */
async function invokeCold(deps: InvokeDeps, actor: Actor, fn: CurrentFunction, req: InvokeRequest): Promise<Invocation> {
  const input = validateInput(req.input);
  const v = fn.current;
  const image = await versionImage(deps, v);
  const requestId = deps.newId();
  const nonce = deps.newNonce();
  const startedAt = deps.clock.now();
  const deadlineMs = deadlineBudgetMs({ kind: 'cold', timeoutMs: v.timeoutMs });
  await deps.store.requests.insert({ ...invokeRow(actor, fn, input, req.idempotency), id: requestId, status: 'pending', startedAt, mode: 'cold', deadlineMs });
  req.onRequest?.(requestId);
  await deps.failpoint?.('invoke:row-written');
  const serviceId = await startService(deps, fn, { requestId, nonce, image, input, startedAt });
  const invocation = { requestId, functionName: fn.name, version: v.version, mode: 'cold' as const };
  if (req.async) return invocation;

  const runMs = v.timeoutMs + START_ALLOWANCE_MS;
  const watch = watchWithReruns(deps, {
    requestId,
    serviceId,
    attempt: 1,
    nonce,
    deadline: startedAt.getTime() + runMs,
    runMs,
    signal: req.signal,
    onOutput: req.onOutput,
    onRerun: req.onRerun,
    onEngineAway: req.onEngineAway,
  });
  // A cancel (or fn delete --force) removes the service under the watch: the row says why.
  const watched = await watch.catch(async (err: unknown) => {
    // The watch's own error stands unless the row says another process ended it (PostgreSQL may be the one away).
    const closed = await closedElsewhere(deps, requestId).catch(() => undefined);
    if (!closed) throw err;
    await removeInvocation(deps, requestId, undefined);
    return closed;
  });
  if (!('reason' in watched)) return { ...invocation, outcome: watched };
  const outcome = outcomeOf(watched, startedAt, deps.clock.now(), v);
  await deps.failpoint?.('invoke:answer-read');
  const recorded = await finishInvocation(deps, requestId, watched.serviceId, outcome).catch((err: unknown) => {
    throw unrecorded(err, requestId);
  });
  return { ...invocation, attempt: watched.attempt, outcome: recorded ? outcome : ((await closedElsewhere(deps, requestId).catch(() => undefined)) ?? outcome) };
}

/** PostgreSQL went away before the answer was written: the service keeps it (finishInvocation records first, then removes). */
function unrecorded(err: unknown, requestId: string): unknown {
  if (!(err instanceof ConnectionError)) return err;
  return new ConnectionError(`${err.message}: the answer of request ${requestId} was not recorded`, {
    cause: err,
    hint: `its service keeps it: once PostgreSQL is back, faasctl request wait ${requestId} records it`,
  });
}
