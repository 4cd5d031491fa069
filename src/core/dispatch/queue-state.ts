import type { Store } from '../../db/store.js';

/**
 * Whether this installation has a dispatcher: `up` sets it when it deploys one and `up
 * --no-dispatcher` unsets it. Async work is queued only then, so an installation without one
 * runs async jobs as before; a dispatcher that is merely restarting keeps its queue.
 */
export const DISPATCHER_KEY = 'dispatcher';
/** The leader writes this every HEARTBEAT_MS: its holder name and since when it leads. */
export const LEADER_KEY = 'dispatcher_leader';
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this means no dispatcher leads right now. */
export const LEADER_STALE_MS = 4 * HEARTBEAT_MS;
/** The channel a new queued request is announced on, so the leader need not wait for its next poll. */
export const QUEUE_CHANNEL = 'faasctl_queue';

export async function dispatcherInstalled(store: Store): Promise<boolean> {
  return (await store.meta.get(DISPATCHER_KEY))?.value === 'on';
}

export interface LeaderState {
  holder: string;
  since: string;
  /** Since the last heartbeat, PostgreSQL's clock. */
  heartbeatAgeMs: number;
  fresh: boolean;
}

export async function leaderState(store: Store): Promise<LeaderState | undefined> {
  const row = await store.meta.get(LEADER_KEY);
  if (!row) return undefined;
  let parsed: { holder?: string; since?: string } = {};
  try {
    parsed = JSON.parse(row.value) as typeof parsed;
  } catch {
    // a heartbeat written by another version: only its age counts
  }
  return { holder: parsed.holder ?? '?', since: parsed.since ?? '?', heartbeatAgeMs: row.ageMs, fresh: row.ageMs < LEADER_STALE_MS };
}
