import type { SwarmClient, SwarmTask } from '../../swarm/client.js';
import type { Clock, Logger } from '../../base/ports.js';
import { latest, TERMINAL } from '../../swarm/task-states.js';

/**
 * Whether the node under a running task is still there. Swarm keeps a task "running" for as
 * long as its node is Down and never reschedules a one-shot task, so faasctl asks itself.
 */
/** What looking at a node needs (invocation.ts passes its own deps). */
export interface NodeHealthDeps {
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
}

/** How often the node of a running task is looked at while an invocation is watched. */
export const NODE_CHECK_MS = 1_000;
/** Runs of one invocation at most: a first one and two after lost nodes. */
export const MAX_ATTEMPTS = 3;
/**
 * How long a task may wait in `assigned` before its node counts as not taking work. A live
 * agent takes an assignment within a heartbeat (image pulls come after, in `preparing`); a
 * worker whose engine came back within the heartbeat timeout can be listed Ready while every
 * task sent to it stays `assigned` (Docker 20.10, reproduced on the test cluster).
 */
export const STALL_MS = 15_000;

export interface NodeCheck {
  checkedAt: number;
  /** The node's hostname, once looked up. */
  name?: string;
  lost: boolean;
}

export const newNodeCheck = (): NodeCheck => ({ checkedAt: -Infinity, name: undefined, lost: false });

export async function checkNode(deps: NodeHealthDeps, nodeId: string, node: NodeCheck): Promise<void> {
  node.checkedAt = deps.clock.now().getTime();
  try {
    const found = (await deps.swarm.listNodes()).find((n) => n.id === nodeId);
    node.name = found?.hostname ?? node.name;
    // Down: missed heartbeats (power cut, cable cut). A node removed from the swarm is lost too.
    node.lost = !found || found.state === 'down' || found.state === 'disconnected';
  } catch (err) {
    deps.log.debug(`node ${nodeId} not looked up: ${(err as Error).message}`);
  }
}

/**
 * Tasks seen waiting in `assigned`, timed by this watcher's own clock from when it first saw
 * each: the task's timestamp is the manager's clock, and a CLI whose clock runs 15 s ahead would
 * call every fresh task stalled.
 */
export class StallWatch {
  private readonly firstSeen = new Map<string, number>();
  private readonly waived = new Set<string>();

  /** The node (its id) of a task this watcher has seen in `assigned` for STALL_MS: the function never started there. */
  stalledOn(task: SwarmTask | undefined, now: number): string | undefined {
    if (task?.state !== 'assigned' || !task.nodeId || this.waived.has(task.id)) return undefined;
    const since = this.firstSeen.get(task.id) ?? now;
    this.firstSeen.set(task.id, since);
    return now - since >= STALL_MS ? task.nodeId : undefined;
  }

  /** A stalled task that has nowhere else to go waits out its deadline: not asked about again. */
  waive(taskId: string): void {
    this.waived.add(taskId);
  }
}

/**
 * Whether a job stalled on `nodeId` has another node to go to (Ready, active): with none, a
 * copy would have nowhere to go, and a one-node Swarm that is merely slow must not refuse its
 * own jobs.
 */
export async function canLeave(deps: NodeHealthDeps, nodeId: string): Promise<boolean> {
  try {
    return (await deps.swarm.listNodes()).some((n) => n.id !== nodeId && n.state === 'ready' && n.availability === 'active');
  } catch (err) {
    deps.log.debug(`nodes not listed: ${(err as Error).message}`);
    return false;
  }
}

/** The hostname of the node a still-running task sits on, when Swarm reports that node lost. */
export async function lostNode(deps: NodeHealthDeps, tasks: SwarmTask[]): Promise<string | undefined> {
  const task = latest(tasks);
  if (!task?.nodeId || TERMINAL.has(task.state)) return undefined;
  const node = newNodeCheck();
  await checkNode(deps, task.nodeId, node);
  return node.lost ? (node.name ?? task.nodeId) : undefined;
}
