import type { CurrentFunction } from '../../db/functions-repo.js';
import type { QueuedRow } from '../../db/queue-repo.js';
import { EXIT } from '../../base/errors.js';
import { LABELS } from '../../swarm/labels.js';
import { versionImage } from '../functions/dependencies.js';
import { launchService } from '../invocations/cold-service.js';
import { failedOutcome, nonceOf, outcomeOf, type Outcome } from '../invocations/invocation.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import { watchWithReruns } from '../invocations/reruns.js';
import { callWarm } from '../invocations/warm-invoke.js';
import type { ReplicaRouter } from '../invocations/replica-router.js';
import { START_ALLOWANCE_MS } from '../requests/deadlines.js';
import { poolAttempt } from '../pool/pool-attempt.js';

/**
 * One attempt of a queued request, warm when the function has a running replica, else as a
 * cold job: the same paths `fn invoke` takes, on a row that already exists. Never throws for
 * what the attempt met (a failed start is an outcome the policy may retry).
 */

export interface AttemptResult {
  outcome: Outcome;
  /** The cold job's service, removed by the caller after the outcome is recorded. */
  serviceId?: string;
  /** The attempt number the row holds now (a lost node's rerun counts as one). */
  attempt: number;
  startedAt: Date;
  mode: 'cold' | 'warm' | 'pool';
  /** The dispatcher is stopping: the attempt was left as it was, for the next leader. */
  abandoned?: boolean;
}

/** `router`: the function's warm replicas (dispatch/warm-routes.ts), when it has any up. */
export async function runAttempt(deps: InvokeDeps, fn: CurrentFunction, row: QueuedRow, signal: AbortSignal, router: ReplicaRouter | undefined): Promise<AttemptResult> {
  const input = row.input ?? 'null';
  const startedAt = deps.clock.now();
  if (router) {
    // The mode is written with the end (one statement less per warm call); a row cut off mid-call says running, mode unset.
    const { outcome, latencyMs } = await callWarm({ monotonic: deps.monotonic, now: () => deps.clock.now() }, router, fn.current, input, signal, row.id);
    outcome.completion.durationMs = latencyMs;
    outcome.completion.mode = 'warm';
    return { outcome, attempt: row.attempt, startedAt, mode: 'warm', abandoned: signal.aborted };
  }
  return runCold(deps, fn, row, input, signal, startedAt);
}

async function runCold(deps: InvokeDeps, fn: CurrentFunction, row: QueuedRow, input: string, signal: AbortSignal, startedAt: Date): Promise<AttemptResult> {
  // A waiting sandbox-pool container when one fits (issue 23); a pool that refuses falls back to a service.
  const pooled = await poolAttempt(deps, fn, row, input, signal).catch((err: Error) => {
    deps.log.debug(`request ${row.id}: the pool failed (${err.message}); starting a service`);
    return undefined;
  });
  if (pooled) {
    pooled.outcome.completion.mode = 'pool';
    return { outcome: pooled.outcome, attempt: row.attempt, startedAt, mode: 'pool', abandoned: signal.aborted };
  }
  const nonce = deps.newNonce();
  let serviceId: string;
  try {
    await deps.store.requests.markMode(row.id, 'cold');
    const image = await versionImage(deps, fn.current);
    serviceId = await launchService(deps, fn, { requestId: row.id, nonce, image, input, startedAt });
  } catch (err) {
    const base = { output: '', outputTruncated: false, node: null, finishedAt: deps.clock.now(), durationMs: deps.clock.now().getTime() - startedAt.getTime() };
    return { outcome: failedOutcome(base, `could not start: ${(err as Error).message}`, EXIT.platform), attempt: row.attempt, startedAt, mode: 'cold' };
  }
  return watchCold(deps, fn, row, { serviceId, nonce, startedAt, signal });
}

/** Follows a cold attempt's service to its end: one this dispatcher started, or one a previous leader left running. */
export async function watchCold(deps: InvokeDeps, fn: CurrentFunction, row: QueuedRow, s: { serviceId: string; nonce: string; startedAt: Date; signal: AbortSignal }): Promise<AttemptResult> {
  const runMs = fn.current.timeoutMs + START_ALLOWANCE_MS;
  const watched = await watchWithReruns(deps, { requestId: row.id, serviceId: s.serviceId, attempt: row.attempt, nonce: s.nonce, deadline: s.startedAt.getTime() + runMs, runMs, signal: s.signal });
  const outcome = outcomeOf(watched, s.startedAt, deps.clock.now(), fn.current);
  return { outcome, serviceId: watched.serviceId, attempt: watched.attempt, startedAt: s.startedAt, mode: 'cold', abandoned: watched.reason === 'cancelled' };
}

/** A cold attempt a previous leader started and that still runs: its service and nonce. */
export async function leftRunning(deps: InvokeDeps, requestId: string): Promise<{ serviceId: string; nonce: string } | undefined> {
  const [service] = await deps.swarm.listServices([`${LABELS.request}=${requestId}`]);
  const nonce = service ? nonceOf(service.env) : undefined;
  return service && nonce ? { serviceId: service.id, nonce } : undefined;
}
