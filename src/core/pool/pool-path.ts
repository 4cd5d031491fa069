import type { CurrentFunction } from '../../db/functions-repo.js';
import { UsageError } from '../../base/errors.js';
import type { Actor } from '../users/accounts.js';
import type { LogStream } from '../../swarm/log-demux.js';
import type { Outcome } from '../invocations/invocation.js';
import type { Isolation } from './classes.js';
import type { PoolDeps } from './pool-deps.js';
import { invokeRow, validateInput } from '../invocations/invoke-input.js';
import { closedElsewhere } from '../invocations/closed-elsewhere.js';
import { poolFit } from './classes.js';
import { runInPool } from './pool-invoke.js';

/** What fn invoke's request carries that the pool path reads (core/invocations/invoke.ts). */
export interface PoolRequest {
  input: string | undefined;
  isolation?: Isolation;
  idempotency?: { key: string; inputSha256: string };
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
  onRequest?: (requestId: string) => void;
}

export interface PoolPathDeps extends Omit<PoolDeps, 'standby'> {
  standby?: PoolDeps['standby'];
  newId: () => string;
  failpoint?: (point: 'pool:claimed') => Promise<void>;
}

export interface PoolInvocation {
  requestId: string;
  functionName: string;
  version: number;
  mode: 'pool';
  poolTask: string;
  outcome: Outcome;
}

/**
 * fn invoke's pool path: when the version fits a pool class whose service exists and has a
 * ready container, the invocation runs there (mode `pool`); otherwise undefined and the caller
 * takes today's one-service-per-invocation path. `--isolation pool` on a version that cannot
 * run in a pool is refused rather than silently run elsewhere.
 */
export async function tryPool(deps: PoolPathDeps, actor: Actor, fn: CurrentFunction, req: PoolRequest): Promise<PoolInvocation | undefined> {
  if (!deps.standby) return undefined;
  const isolation = req.isolation ?? fn.isolation ?? 'auto';
  const fit = poolFit(fn.current, isolation);
  if ('fallback' in fit) {
    if (req.isolation === 'pool')
      throw new UsageError(`${fn.name} cannot run in a sandbox pool: ${fit.fallback}`, { code: 'pool_unfit', hint: 'run it without --isolation pool (it then runs as a service)' });
    deps.log.debug(`${fn.name}: not the pool (${fit.fallback})`);
    return undefined;
  }
  const input = validateInput(req.input);
  const v = fn.current;
  const requestId = deps.newId();
  const answer = await runInPool({ ...deps, standby: deps.standby }, fn, fit.pool, {
    requestId,
    input,
    signal: req.signal,
    onOutput: req.onOutput,
    onClaimed: () => deps.failpoint?.('pool:claimed') ?? Promise.resolve(),
    row: async (poolTask, deadlineMs) => {
      await deps.store.requests.insert({ ...invokeRow(actor, fn, input, req.idempotency), id: requestId, status: 'running', startedAt: deps.clock.now(), mode: 'pool', poolTask, deadlineMs });
      req.onRequest?.(requestId);
    },
  });
  if ('missing' in answer) {
    if (answer.missing === 'pool' && req.isolation === 'pool') {
      throw new UsageError(`no sandbox pool of ${fn.name}'s class (${fit.pool})`, {
        code: 'no_pool',
        hint: 'faasctl pool resize N --memory M --cpus C makes one with its limits (faasctl pool show lists them)',
      });
    }
    deps.log.debug(answer.missing === 'pool' ? `${fn.name}: no pool of class ${fit.pool}` : `${fn.name}: no ready container in pool ${fit.pool}`);
    return undefined;
  }
  const recorded = await deps.store.requests.complete(requestId, answer.outcome.completion);
  const closed = recorded ? undefined : await closedElsewhere(deps, requestId).catch(() => undefined);
  return { requestId, functionName: fn.name, version: v.version, mode: 'pool', poolTask: answer.poolTask, outcome: closed ?? answer.outcome };
}
