import type { WarmDeps } from './warm-deps.js';
import { LABELS } from '../../swarm/labels.js';
import { PlatformError } from '../../base/errors.js';
import { REPLICA_PORT } from '../../swarm/replica-spec.js';
import type { ReplicaEndpoint } from '../../base/ports.js';
import type { SwarmTask } from '../../swarm/client.js';
import { engineRefusal } from '../../swarm/engine-refusals.js';
/**
 * Waiting for replicas to be ready: until Swarm runs the new spec (waitConverged), the servers in
 * them answer (waitAnswering), and the replicas a roll replaced have stopped (waitDrained); and
 * where the running ones are (endpointSource). Used by fn scale and rolls, bulk runs and warm calls.
 */
const CONVERGE_MS = 120_000;

const POLL_MS = 50;
/** Failed starts of a service's tasks after which its replicas are said not to start. */
const REPEATED_FAILURES = 3;

/** How long a roll waits for the replicas it replaced to stop (see waitDrained). */
const DRAIN_MS = 15_000;

/**
 * After a roll, until no task of an older spec still runs. Swarm marks an old task for shutdown
 * before its container stops, and until its SIGTERM arrives (and for up to the server's 0.5 s
 * poll after) it still accepts work from callers holding the old replica list: an answer from
 * the previous version after `fn update` returned (issue 18). Bounded, since a task on a lost
 * node reports running for ever; by then a reachable replica has long stopped accepting.
 */
export async function waitDrained(deps: Pick<WarmDeps, 'swarm' | 'clock' | 'sleep' | 'log'>, serviceId: string, current: string): Promise<void> {
  const deadline = deps.clock.now().getTime() + DRAIN_MS;
  for (;;) {
    const old = (await deps.swarm.listTasks(serviceId)).filter((t) => t.state === 'running' && t.labels[LABELS.spec] !== current);
    if (old.length === 0) return;
    if (deps.clock.now().getTime() > deadline) return deps.log.debug(`${old.length} replaced replica(s) still running after ${DRAIN_MS / 1000} s`);
    await deps.sleep(POLL_MS);
  }
}

/** How long replicas Swarm reports running get to answer /healthz (interpreter start-up). */
const ANSWER_MS = 30_000;

/**
 * Swarm reports a replica running once its container starts, ~0.5 s before the server in it
 * listens: `fn scale` returns when every running replica answers, so a caller that goes
 * straight to a replica (or a roll's next step) finds it ready.
 */
export async function waitAnswering(deps: Pick<WarmDeps, 'swarm' | 'replicaHost' | 'replicaTransport' | 'clock' | 'sleep'>, serviceId: string): Promise<void> {
  if (!deps.replicaTransport) return;
  const transport = deps.replicaTransport(1);
  const { endpoints } = endpointSource(deps, serviceId);
  const deadline = deps.clock.now().getTime() + ANSWER_MS;
  try {
    for (;;) {
      const answers = await Promise.all(
        (await endpoints()).map((e) =>
          transport.get(e, '/healthz', {}, { timeoutMs: 1_000 }).then(
            (r) => r.status === 200,
            () => false,
          ),
        ),
      );
      if (answers.every(Boolean)) return;
      if (deps.clock.now().getTime() > deadline) {
        throw new PlatformError(`${answers.filter((a) => !a).length} running replica(s) do not answer /healthz after ${ANSWER_MS / 1000} s`, {
          code: 'replicas_silent',
          hint: 'docker service logs shows why; faasctl fn scale NAME 0 turns them off',
        });
      }
      await deps.sleep(POLL_MS);
    }
  } finally {
    transport.close();
  }
}

/**
 * Until `replicas` tasks run the current spec (a roll, given the new template's digest: until
 * every task meant to run carries it). A task Swarm rejects (image missing,
 * no node fits) fails fast with its reason.
 */
export async function waitConverged(deps: Pick<WarmDeps, 'swarm' | 'clock' | 'sleep' | 'progress'>, serviceId: string, replicas: number, rollingTo?: string): Promise<void> {
  const deadline = deps.clock.now().getTime() + CONVERGE_MS;
  const rolling = rollingTo !== undefined;
  for (;;) {
    const [service, tasks] = await Promise.all([rolling ? deps.swarm.inspectService(serviceId) : undefined, deps.swarm.listTasks(serviceId)]);
    const live = tasks.filter((t) => t.state === 'running' && t.desiredState === 'running' && t.ports.length);
    const running = live.length;
    // Not UpdateStatus: right after an update it still reports the previous roll `completed`.
    // The replaced replicas' exit is waited for apart, and bounded (waitDrained).
    const rolled = !rolling || live.every((t) => t.labels[LABELS.spec] === rollingTo);
    if (rolled && running >= replicas) return;
    if (service?.updateState === 'paused' || service?.updateState?.startsWith('rollback')) {
      throw new PlatformError(`the roll of the warm replicas stopped (${service.updateState}: ${service.updateMessage ?? 'no message'})`, {
        code: 'roll_failed',
        hint: 'docker service ps shows the failed task; fix it and run the command again',
      });
    }
    const unplaced = tasks.find((t) => t.state === 'pending' && t.error?.startsWith('no suitable node'));
    if (unplaced && running === 0) {
      throw new PlatformError(`Swarm cannot place the replicas: ${unplaced.error}`, { code: 'unschedulable', hint: "see the function's --constraint in faasctl fn show, and docker node ls" });
    }
    const failed = failedTask(tasks);
    const refusal = failed && running === 0 ? engineRefusal(failed.error ?? failed.message ?? '') : undefined;
    // Worded as fn invoke and fn run word the same refusal (one error path).
    if (refusal) throw new PlatformError(refusal.message, { code: 'engine_refused', hint: refusal.hint });
    // One failed start can be the engine's own race (moby/moby#48783: the secrets tmpfs is busy on
    // its read-only remount) and Swarm starts another task at once: only a repeated failure is
    // the replicas' own, and its reason is the last one.
    const failures = tasks.filter((t) => (t.state === 'rejected' || t.state === 'failed') && t.error);
    if (failures.length >= REPEATED_FAILURES && running === 0) {
      const last = failures.reduce((a, b) => ((a.updatedAt?.getTime() ?? 0) >= (b.updatedAt?.getTime() ?? 0) ? a : b));
      throw new PlatformError(`warm replicas do not start: ${last.error ?? last.message}`, { code: 'replicas_failed', hint: 'run faasctl doctor; the runtime image must exist on every node' });
    }
    if (deps.clock.now().getTime() > deadline) {
      throw new PlatformError(`only ${running} of ${replicas} warm replicas run after ${CONVERGE_MS / 1000} s`, {
        code: 'replicas_timeout',
        hint: 'docker service ps shows the tasks; faasctl fn scale NAME 0 turns them off',
      });
    }
    deps.progress(`${running}/${replicas} replicas running…`);
    await deps.sleep(POLL_MS);
  }
}

function failedTask(tasks: SwarmTask[]): SwarmTask | undefined {
  return tasks.find((t) => (t.state === 'rejected' || t.state === 'failed') && t.error);
}

/**
 * The running replicas of a service, and the nodes Swarm has lost. A replica on a node that
 * is not Ready is left out even though Swarm still lists its task as running (it does so for
 * as long as the node is Down); the router also gives up on requests in flight there.
 */
export function endpointSource(deps: Pick<WarmDeps, 'swarm' | 'replicaHost'>, serviceId: string): { endpoints: () => Promise<ReplicaEndpoint[]>; lostNodes: () => ReadonlySet<string> } {
  let lost: ReadonlySet<string> = new Set();
  const endpoints = async () => {
    const [tasks, nodes] = await Promise.all([deps.swarm.listTasks(serviceId), deps.swarm.listNodes()]);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    lost = new Set(nodes.filter((n) => n.state !== 'ready').map((n) => n.id));
    const live = tasks.filter((t) => t.state === 'running' && t.desiredState === 'running' && !lost.has(t.nodeId ?? ''));
    return live.flatMap((t) => {
      const port = t.ports.find((p) => p.target === REPLICA_PORT)?.published;
      const node = byId.get(t.nodeId ?? '');
      return port ? [{ taskId: t.id, nodeId: t.nodeId, node: node?.hostname, host: deps.replicaHost(node?.address), port }] : [];
    });
  };
  return { endpoints, lostNodes: () => lost };
}
