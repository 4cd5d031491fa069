import { ConnectionError } from '../../base/errors.js';
import type { Clock, Logger } from '../../base/ports.js';
import type { SwarmClient, SwarmTask } from '../../swarm/client.js';
import { latest } from '../../swarm/task-states.js';

/**
 * After an engine restart or a reboot, the PostgreSQL service `up` deployed starts again with
 * the engine, a few seconds after it: a command run at once finds its port closed. For that
 * database only (the context says `up` manages it, and the engine reports the service), a
 * command waits for it, bounded, instead of failing (issue 17, "restart-safe start-up").
 */

/** How long a command waits for the platform's PostgreSQL to come back. */
export const POSTGRES_RESTART_WAIT_MS = 60_000;
const POLL_MS = 500;

export interface RestartWaitDeps {
  swarm: () => Promise<SwarmClient>;
  clock: Clock;
  log: Logger;
  /** A spinner line on a terminal (a message), or its end (undefined). */
  progress: (text: string | undefined) => void;
  /** One real query; rejects while PostgreSQL does not answer. */
  probe: () => Promise<void>;
}

export interface RestartWaitTarget {
  /** The service name `up` saved in the context. */
  service: string;
  /** @default POSTGRES_RESTART_WAIT_MS */
  timeoutMs?: number;
}

/**
 * A database error worth waiting on: refused or dropped connections and "starting up".
 * Not a refused login or a missing database: waiting would not change those.
 */
export function isStartingDatabase(err: unknown): boolean {
  return err instanceof ConnectionError && !/refused the login|does not exist/i.test(err.message);
}

/**
 * Resolves once the database answers; rethrows `first` (the error that started the wait) when
 * the engine does not report the service; throws an exit-5 error naming the service and its
 * task's state when the bound passes.
 */
export async function waitForRestartedPostgres(deps: RestartWaitDeps, t: RestartWaitTarget, first: Error): Promise<void> {
  const timeoutMs = t.timeoutMs ?? POSTGRES_RESTART_WAIT_MS;
  const swarm = await deps.swarm();
  const started = deps.clock.now().getTime();
  let state = 'unknown';
  let last: Error = first;
  let seen = false;
  try {
    for (;;) {
      try {
        const service = await swarm.inspectService(t.service);
        if (!service) {
          if (!seen) throw first; // not ours to wait for: the plain error
        } else {
          if (!seen) deps.log.debug(`postgres: ${first.message}; the engine reports the service ${t.service}: waiting up to ${timeoutMs / 1000} s for it`);
          seen = true;
          const task = current(await swarm.listTasks(service.id));
          state = task?.state ?? 'none';
          if (state === 'running') {
            await deps.probe();
            deps.log.debug(`postgres: ${t.service} answers after ${((deps.clock.now().getTime() - started) / 1000).toFixed(1)} s`);
            return;
          }
        }
      } catch (err) {
        if (err === first) throw err;
        // The engine itself may still be coming up (Swarm without a leader for a moment).
        if (!(err instanceof ConnectionError)) throw err;
        if (!seen && /cannot reach the Docker engine/.test(err.message)) throw first;
        last = err;
      }
      const waited = deps.clock.now().getTime() - started;
      deps.log.debug(`postgres: ${t.service} task ${state} (${last.message})`);
      if (waited >= timeoutMs) throw notBack(t.service, state, timeoutMs, last);
      deps.progress(`waiting for PostgreSQL service ${t.service} (task ${state}) after an engine restart…`);
      await deps.clock.sleep(POLL_MS);
    }
  } finally {
    deps.progress(undefined);
  }
}

/** The task Swarm means to run now (the newest), not the ones the restart ended. */
function current(tasks: SwarmTask[]): SwarmTask | undefined {
  return latest(tasks.filter((x) => x.desiredState === 'running')) ?? latest(tasks);
}

function notBack(service: string, state: string, timeoutMs: number, last: Error): ConnectionError {
  return new ConnectionError(`the platform's PostgreSQL service ${service} did not answer within ${timeoutMs / 1000} s (task ${state}; last error: ${last.message})`, {
    code: 'postgres_not_ready',
    cause: last,
    hint: `docker service ps ${service} shows why its task is not running; faasctl doctor checks the rest`,
  });
}
