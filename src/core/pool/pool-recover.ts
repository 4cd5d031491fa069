import type { RequestRow } from '../../db/requests-repo.js';
import { InvocationOutput } from '../invocations/invocation-output.js';
import { outcomeOf, ROW_OUTPUT_LIMIT, type InvocationDeps, type Outcome } from '../invocations/invocation.js';
import { jobLog, poolNonce, standbyToken } from './claim-plan.js';
import type { PoolDeps } from './pool-deps.js';
import { tellContainer } from './reclaim.js';

/**
 * An open pool invocation whose CLI went away (killed, a lost connection): the container ran
 * the job to its end anyway and wrote its output and result frame into its own log (the runtime's
 * standby mode), where it is read through the engine as a cold service's log is, and checked with
 * the nonce made from the container's token (claim-plan.ts poolNonce). Undefined while the log
 * has no result (still running, or it ended without one: the closer settles that at the row's
 * deadline) or when another writer ended the row first.
 */
export async function recoverPoolRun(deps: InvocationDeps, row: RequestRow): Promise<Outcome | undefined> {
  const taskId = row.poolTask?.split('/')[0];
  if (!taskId) return undefined;
  const chunks = await deps.swarm.taskLogs(taskId, { stderr: true });
  const token = standbyToken(chunks);
  if (!token) return undefined;
  const out = new InvocationOutput(poolNonce(token, row.id), ROW_OUTPUT_LIMIT);
  for (const chunk of jobLog(chunks)) out.push(chunk);
  out.end();
  if (!out.frame) return undefined;
  const timeoutMs = row.functionId ? ((await deps.store.functions.version(row.functionId, row.functionVersion ?? 0))?.timeoutMs ?? 0) : 0;
  const outcome = outcomeOf({ reason: 'frame', out, node: row.node ?? undefined }, row.startedAt ?? row.createdAt, deps.clock.now(), { timeoutMs }, false);
  return (await deps.store.requests.complete(row.id, outcome.completion)) ? outcome : undefined;
}

/**
 * `request cancel` of a pool invocation run by another process: its container is told to stop
 * the job (`/cancel`, as the CLI's Ctrl-C does). False when its claim or container is gone.
 */
export async function cancelPoolJob(deps: Pick<PoolDeps, 'store' | 'swarm' | 'replicaHost' | 'standby'>, row: RequestRow): Promise<boolean> {
  const taskId = row.poolTask?.split('/')[0];
  const claim = taskId ? (await deps.store.pool.all()).find((c) => c.taskId === taskId) : undefined;
  return claim ? tellContainer(deps, claim, '/cancel') : false;
}
