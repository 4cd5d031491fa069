import { AuthError, ConflictError, ConnectionError, type FaasctlError, NotFoundError, TimeoutError } from '../../base/errors.js';
import type { Clock } from '../../base/ports.js';
import type { SwarmClient, SwarmTask } from '../../swarm/client.js';

export interface WaitDeps {
  swarm: SwarmClient;
  clock: Clock;
  progress: (text: string) => void;
  probe: (url: string) => Promise<void>;
}

export interface WaitTarget {
  service: string;
  serviceId: string;
  url: string;
  image: string;
  port: number;
  volume: string;
  timeoutMs: number;
}

/** Task states after which this deploy's first task will never serve: fail now, not at the timeout. */
const DEAD = new Set(['failed', 'rejected', 'complete', 'orphaned']);
const POLL_MS = 500;

/**
 * Ready = the task runs AND a real query works through the published port (a running
 * container may still be in initdb, or docker-proxy may accept and drop connections).
 */
export async function waitForPostgres(deps: WaitDeps, t: WaitTarget): Promise<void> {
  const deadline = deps.clock.now().getTime() + t.timeoutMs;
  let state = 'new';
  let lastError: Error | undefined;
  for (;;) {
    const tasks = await deps.swarm.listTasks(t.serviceId);
    const dead = tasks.find(isDead);
    if (dead) throw taskFailed(t, dead);
    state = (tasks.find((x) => x.desiredState === 'running') ?? tasks[0])?.state ?? state;
    if (state === 'running') {
      try {
        return await deps.probe(t.url);
      } catch (err) {
        if (err instanceof AuthError) throw passwordMismatch(t, err);
        lastError = err as Error;
      }
    }
    deps.progress(`waiting for PostgreSQL ${t.service} (task ${state})…`);
    if (deps.clock.now().getTime() >= deadline) throw notReady(t, state, lastError);
    await deps.clock.sleep(POLL_MS);
  }
}

/**
 * A host-mode port held by another service leaves the task pending with "no suitable node"
 * for ever: the task is pinned to one node, so nothing will change without the user.
 */
function isDead(task: SwarmTask): boolean {
  return DEAD.has(task.state) || (task.state === 'pending' && /no suitable node/i.test(task.error ?? ''));
}

function taskFailed(t: WaitTarget, task: SwarmTask): FaasctlError {
  const why = task.error || task.message || 'no reason given';
  const message = `PostgreSQL service ${t.service} did not start: task ${task.state}: ${why}`;
  if (/no such image/i.test(why)) {
    return new NotFoundError(message, { code: 'image_not_found', hint: `load or pull ${t.image} on the manager node, or pass --postgres-image` });
  }
  return new ConnectionError(message, {
    code: 'postgres_start_failed',
    hint: `check that port ${t.port} is free on the manager node (or pass --postgres-port) and that ${t.image} is a PostgreSQL image`,
  });
}

function passwordMismatch(t: WaitTarget, cause: AuthError): FaasctlError {
  return new ConflictError(`the volume ${t.volume} holds a database made with another password`, {
    code: 'postgres_volume_conflict',
    cause,
    hint: `pass --db with that database's URL, or remove the old data: docker volume rm ${t.volume}`,
  });
}

function notReady(t: WaitTarget, state: string, lastError: Error | undefined): TimeoutError {
  const seconds = Math.round(t.timeoutMs / 1000);
  const last = lastError ? `; last error: ${lastError.message}` : '';
  return new TimeoutError(`PostgreSQL service ${t.service} was not ready within ${seconds} s (task ${state}${last})`, {
    code: 'postgres_timeout',
    hint: 'this run removed what it created; run faasctl up again (a first image pull can be slow), with --debug to see every check',
  });
}
