import type { CurrentFunction } from '../../db/functions-repo.js';
import { EXIT, PlatformError } from '../../base/errors.js';
import { ReplicaUnreachable } from '../../base/ports.js';
import { LogDemuxer, type LogStream } from '../../swarm/log-demux.js';
import { identityEnvironment, runtimeEnvironment } from '../../swarm/sandbox.js';
import { failedOutcome, outcomeOf, ROW_OUTPUT_LIMIT, type Outcome } from '../invocations/invocation.js';
import { InvocationOutput } from '../invocations/invocation-output.js';
import { RUNTIME_OUTPUT_LIMIT } from '../invocations/cold-service.js';
import { deadlineBudgetMs, START_ALLOWANCE_MS } from '../requests/deadlines.js';
import { claimContainer, type Claimed, type PoolDeps } from './pool-claim.js';
import { poolNonce } from './claim-plan.js';

/**
 * One invocation in a claimed pool container: the same runtime `run` mode as a cold service,
 * given the code, input, nonce and settings over the container's authenticated channel
 * instead of Swarm configs and a service spec; its output and framed result come back on
 * that channel as they would in a service's log, and are read by the same InvocationOutput.
 */

/** How long a finished job's claim outlives it (the engine reports the exit within seconds). */
const DONE_CLAIM_MS = 30_000;

export interface PoolRun {
  requestId: string;
  /** The request row to write (fn invoke's), made once a container is claimed. */
  row: (poolTask: string, deadlineMs: number) => Promise<void>;
  input: string;
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
  /** Test-only: called once the container is claimed and the row written, before the job goes. */
  onClaimed?: () => Promise<void>;
}

export interface PoolAnswer {
  outcome: Outcome;
  poolTask: string;
  node?: string;
}

/**
 * Claims a container of the class's pool and runs the current version in it. `missing` when
 * no container could be claimed (no pool, none ready, or each refused): nothing was run and
 * no row written.
 */
export async function runInPool(deps: PoolDeps, fn: CurrentFunction, className: string, run: PoolRun): Promise<PoolAnswer | { missing: 'pool' | 'container' }> {
  const v = fn.current;
  // Before the claim, not beside it: two queries at once would open a second connection.
  const job = await jobBody(deps, fn, run.requestId, run.input);
  for (let tries = 0; tries < 3; tries++) {
    // From before the claim: a pool invocation's duration counts finding its container.
    const startedAt = deps.clock.now();
    const claim = await claimContainer(deps, className, run.requestId);
    if ('missing' in claim) return tries === 0 ? claim : { missing: 'container' };
    const { claimed } = claim;
    if (tries === 0) await run.row(claimed.poolTask, deadlineBudgetMs({ kind: 'cold', timeoutMs: v.timeoutMs }));
    else await deps.store.requests.markPoolTask(run.requestId, claimed.poolTask);
    await run.onClaimed?.();
    const nonce = poolNonce(claimed.token, run.requestId);
    const answer = await sendJob(deps, claimed, job(nonce), nonce, v, startedAt, run);
    if (answer) {
      // The container exits by itself (2 s later: runtimes/python/faasctl_runtime/standby.py), and
      // Swarm lists it running a moment longer: the claim keeps it from looking free until then.
      const now = deps.clock.now();
      await deps.store.pool.finish(claimed.task.id, new Date(now.getTime() + DONE_CLAIM_MS), now).catch((e: Error) => deps.log.debug(`claim of ${claimed.task.id}: ${e.message}`));
      return answer;
    }
    // Refused before it ran (the container went away, or took another job): the next one.
    await deps.store.pool.release(claimed.task.id);
  }
  throw new PlatformError('three pool containers in a row refused the job', { code: 'pool_refused', hint: 'faasctl pool show; faasctl fn invoke --isolation service runs it without the pool' });
}

/** The job's body for a nonce (made from the claimed container's token: claim-plan.ts poolNonce). */
async function jobBody(deps: PoolDeps, fn: CurrentFunction, requestId: string, input: string) {
  const v = fn.current;
  const installation = await deps.store.meta.installationId();
  const archive = v.module ? await deps.store.functions.archive(v.sha256) : undefined;
  const code = archive ?? Buffer.from(v.code, 'utf8');
  const env = runtimeEnvironment(
    { env: v.env, entry: v.entry, flavor: v.format, codeModule: v.module, timeoutMs: v.timeoutMs, outputLimit: RUNTIME_OUTPUT_LIMIT, memoryLimit: v.memoryBytes },
    identityEnvironment({ installation, labels: { functionName: fn.name, version: v.version } }, requestId),
  );
  // The container checks the code against the version's sha256 before it runs it.
  return (nonce: string) => JSON.stringify({ code: code.toString('base64'), sha256: v.sha256, archive: Boolean(archive), input, nonce, env });
}

/** The job to the container and its answer read to the end; undefined when it was refused unrun. */
async function sendJob(deps: PoolDeps, claim: Claimed, body: string, nonce: string, v: CurrentFunction['current'], startedAt: Date, run: PoolRun): Promise<PoolAnswer | undefined> {
  const out = new InvocationOutput(nonce, ROW_OUTPUT_LIMIT, run.onOutput);
  const demux = new LogDemuxer();
  const stop = new AbortController();
  let why: 'deadline' | 'cancelled' | undefined;
  // Going away alone would not stop the job (the container finishes it into its log, for a
  // closer to read should this CLI die): a cancel or a deadline tells the container first.
  const cancelJob = () =>
    void deps
      .standby()
      .post(claim.endpoint, '/cancel', claim.token, '{}', {})
      .catch((e: Error) => deps.log.debug(`cancelling the job in ${claim.task.id}: ${e.message}`))
      .finally(() => stop.abort());
  const timer = setTimeout(() => {
    why = 'deadline';
    cancelJob();
  }, v.timeoutMs + START_ALLOWANCE_MS);
  const onCancel = () => {
    if (why) return;
    why = 'cancelled';
    cancelJob();
  };
  run.signal?.addEventListener('abort', onCancel, { once: true });
  if (run.signal?.aborted) onCancel();
  await deps.store.pool.markSent(claim.task.id, new Date(startedAt.getTime() + deadlineBudgetMs({ kind: 'cold', timeoutMs: v.timeoutMs })));
  let received = false;
  try {
    const answer = await deps
      .standby()
      .post(claim.endpoint, '/job', claim.token, body, {
        signal: stop.signal,
        onBytes: (bytes) => {
          received = true;
          for (const chunk of demux.push(bytes)) out.push(chunk);
        },
      })
      .catch((err: unknown) => {
        if (err instanceof ReplicaUnreachable && !received) return undefined;
        if (why) return { status: 200, body: '' };
        throw err;
      });
    if (!answer || answer.status === 401 || answer.status === 409) return undefined;
    out.end();
    const now = deps.clock.now();
    const node = claim.endpoint.node ?? claim.task.nodeId;
    // Cancelled or past the deadline: that is how it ended, whatever frame the stopped run still sent.
    const watched = { reason: why ?? (out.frame ? ('frame' as const) : ('ended' as const)), out, node };
    if (answer.status !== 200) {
      const base = { output: '', outputTruncated: false, node: node ?? null, finishedAt: now, durationMs: now.getTime() - startedAt.getTime() };
      return { outcome: failedOutcome(base, `the pool container refused the job (${answer.status}: ${answer.body.slice(0, 200)})`, EXIT.platform), poolTask: claim.poolTask, node };
    }
    if (!out.frame && !why) {
      const base = { output: out.output.text, outputTruncated: out.output.truncated, node: node ?? null, finishedAt: now, durationMs: now.getTime() - startedAt.getTime() };
      return { outcome: failedOutcome(base, 'the pool container ended without a result (stopped by the engine, or its runtime failed)', EXIT.platform), poolTask: claim.poolTask, node };
    }
    return { outcome: outcomeOf(watched, startedAt, now, v), poolTask: claim.poolTask, node };
  } finally {
    clearTimeout(timer);
    run.signal?.removeEventListener('abort', onCancel);
  }
}
