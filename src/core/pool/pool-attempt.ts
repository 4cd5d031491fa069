import type { CurrentFunction } from '../../db/functions-repo.js';
import { MAX_INPUT_BYTES } from '../invocations/invoke-input.js';
import { poolFit } from './classes.js';
import type { PoolDeps } from './pool-deps.js';
import { type PoolAnswer, runInPool } from './pool-invoke.js';

/**
 * The dispatcher's cold attempt through the pool, on its existing queued row: the same
 * claim, job and answer as fn invoke's (pool-invoke.ts). Undefined when the version fits no
 * pool, its pool has no waiting container, or the input is larger than a service's (which the
 * fallback then refuses the same way as before). A dispatcher that dies mid-attempt leaves the
 * row running with mode `pool`: the next leader finds no service to adopt and settles it as cut
 * off, so the policy retries it (at least once, as for a lost node).
 */
export async function poolAttempt(
  deps: Omit<PoolDeps, 'standby'> & { standby?: PoolDeps['standby'] },
  fn: CurrentFunction,
  row: { id: string },
  input: string,
  signal: AbortSignal,
): Promise<PoolAnswer | undefined> {
  const standby = deps.standby;
  if (!standby || Buffer.byteLength(input) > MAX_INPUT_BYTES) return undefined;
  const fit = poolFit(fn.current, fn.isolation ?? 'auto');
  if ('fallback' in fit) return undefined;
  const answer = await runInPool({ ...deps, standby }, fn, fit.pool, {
    requestId: row.id,
    input,
    signal,
    row: (poolTask) => deps.store.requests.markPoolTask(row.id, poolTask),
  });
  return 'missing' in answer ? undefined : answer;
}
