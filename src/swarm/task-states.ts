import type { SwarmTask } from './client.js';

/** Task states after which a task never runs again. */
export const TERMINAL = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

/** The task Swarm changed last: the current one of a one-replica service. */
export function latest(tasks: SwarmTask[]): SwarmTask | undefined {
  return [...tasks].sort((a, b) => (b.updatedAt?.getTime() ?? 0) - (a.updatedAt?.getTime() ?? 0))[0];
}
