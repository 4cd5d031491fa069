import { EXIT } from '../../base/errors.js';
import type { Store } from '../../db/store.js';
import { dispatcherInstalled, leaderState } from '../dispatch/queue-state.js';
import type { Check } from './check.js';

/** A queue whose oldest due request waits longer than this is behind. */
const LAG_WARN_MS = 30_000;

/** `doctor`'s dispatcher row: running, leading, and how far behind the queue is. */
export async function dispatcherCheck(store: Store): Promise<Check> {
  if (!(await dispatcherInstalled(store))) return { name: 'dispatcher', status: 'skip', detail: 'none: async invocations run as jobs of the invoking CLI (faasctl up --dispatcher adds one)' };
  const [leader, lag] = await Promise.all([leaderState(store), store.queue.lag()]);
  const queue = `${lag.due} due${lag.oldestMs ? `, oldest ${(lag.oldestMs / 1000).toFixed(1)} s` : ''}, ${lag.running} running`;
  if (!leader?.fresh) {
    const last = leader ? `last heartbeat ${Math.round(leader.heartbeatAgeMs / 1000)} s ago` : 'never led';
    return {
      name: 'dispatcher',
      status: 'fail',
      detail: `no dispatcher leads (${last}); queue: ${queue}`,
      fix: 'docker service ps faasctl-dispatcher-…; faasctl up --dispatcher starts it again',
      exitCode: EXIT.platform,
    };
  }
  const detail = `${leader.holder} leads since ${leader.since}; queue: ${queue}`;
  if ((lag.oldestMs ?? 0) > LAG_WARN_MS)
    return { name: 'dispatcher', status: 'warn', detail, fix: 'the queue is behind: faasctl up --dispatcher-replicas does not add throughput; raise concurrency limits or warm replicas' };
  return { name: 'dispatcher', status: 'ok', detail };
}
