import type { QueuedRow } from '../../db/queue-repo.js';
import { nextStep, type DispatchPolicy } from '../functions/dispatch-policy.js';
import { removeInvocation } from '../invocations/invocation.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import type { AttemptResult } from './attempt.js';

/**
 * What an attempt's end does to its request: another attempt later (the service removed
 * first, so the next one can take its name), or the end, recorded once (a failure of an async
 * request after its retries makes it a dead letter). First writer wins, as everywhere: an
 * expiry closer that ended the row meanwhile keeps its word.
 */
export async function settle(deps: InvokeDeps, row: QueuedRow, a: AttemptResult, policy: DispatchPolicy, timeoutMs: number): Promise<'retry' | 'ended' | 'dead'> {
  const ageMs = deps.clock.now().getTime() - row.createdAt.getTime();
  const step = nextStep(a.outcome, a.attempt, ageMs, policy);
  const c = a.outcome.completion;
  const record = { attempt: a.attempt, status: c.status, error: c.error ?? a.outcome.message ?? null, node: c.node, startedAt: a.startedAt };
  if (step.kind === 'retry') {
    await removeCold(deps, row.id, a);
    const queueDeadlineMs = Math.max(0, policy.maxEventAgeMs - ageMs) + deadlineBudgetMs({ kind: 'cold', timeoutMs });
    await deps.store.queue.retryLater(row.id, record, step.delayMs, queueDeadlineMs);
    deps.log.debug(`request ${row.id}: attempt ${a.attempt} ${c.status}; next in ${step.delayMs} ms`);
    return 'retry';
  }
  const completion = step.why && c.status !== 'success' ? { ...c, error: `${c.error ?? a.outcome.message ?? c.status} (${step.why})` } : c;
  // The common end (a first attempt that succeeded) is one statement; the rest write together.
  if (a.attempt === 1 && !step.dead) await deps.store.requests.complete(row.id, completion);
  else
    await deps.store.transaction(async (tx) => {
      if (!(await tx.requests.complete(row.id, completion))) return;
      if (a.attempt > 1) await tx.queue.recordAttempt(row.id, record);
      if (step.dead) await tx.queue.markDead(row.id);
    });
  await removeCold(deps, row.id, a).catch((err: Error) => deps.log.debug(`service of ${row.id} not removed (${err.message}); gc removes it`));
  return step.dead ? 'dead' : 'ended';
}

/**
 * A cold attempt's service and input config. A warm or pool attempt made neither: looking for
 * its config anyway was an engine call per attempt, and under a burst of pool attempts, with the
 * engine at its busiest, it held each of the dispatcher's places for up to ~200 ms.
 */
async function removeCold(deps: InvokeDeps, requestId: string, a: AttemptResult): Promise<void> {
  if (a.mode === 'cold') await removeInvocation(deps, requestId, a.serviceId);
}

/** A queued request that can no longer run: its function or version is gone, or it aged out in the queue. */
export async function endUnrunnable(deps: InvokeDeps, row: QueuedRow, why: string): Promise<void> {
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    const ended = await tx.requests.complete(row.id, {
      status: 'system_error',
      result: null,
      error: why,
      output: '',
      outputTruncated: false,
      durationMs: null,
      cpuMs: null,
      maxRssKb: null,
      node: null,
      finishedAt: now,
    });
    if (ended) await tx.queue.markDead(row.id);
  });
}
