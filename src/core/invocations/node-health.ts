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

/** The node (its id) of a task still waiting in `assigned` after STALL_MS: the function never started there. */
export function stalledOn(task: SwarmTask | undefined, now: number): string | undefined {
  if (task?.state !== 'assigned' || !task.nodeId || !task.statusAt) return undefined;
  return now - task.statusAt.getTime() >= STALL_MS ? task.nodeId : undefined;
}

/**
 * stalledOn, when another node could take the job (Ready, active): with none, a copy would
 * have nowhere to go, and a one-node Swarm that is merely slow must not refuse its own jobs.
 */
export async function stalledWithElsewhere(deps: NodeHealthDeps, task: SwarmTask | undefined): Promise<string | undefined> {
  const nodeId = stalledOn(task, deps.clock.now().getTime());
  if (!nodeId) return undefined;
  try {
    const others = (await deps.swarm.listNodes()).filter((n) => n.id !== nodeId && n.state === 'ready' && n.availability === 'active');
    return others.length > 0 ? nodeId : undefined;
  } catch (err) {
    deps.log.debug(`nodes not listed: ${(err as Error).message}`);
    return undefined;
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
