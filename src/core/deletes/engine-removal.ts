import type { SwarmClient } from '../../swarm/client.js';
import { ConflictError } from '../../base/errors.js';
import type { Clock, Logger } from '../../base/ports.js';

/**
 * Removing what services used. Swarm counts a just-removed service as a user of its configs
 * and secrets for a moment (and its tasks and containers go a moment after it), so removals
 * that follow a service's are retried briefly on a conflict.
 */

type Deps = { swarm: SwarmClient; clock: Clock; log: Logger };

/** True when removed (or already gone); false when still in use after the retries. */
export async function removeRetrying(deps: Deps, what: string, remove: () => Promise<unknown>, retries = 8): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await remove();
      return true;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (attempt >= retries) {
        deps.log.debug(`${what} is in use; kept (${err.message})`);
        return false;
      }
      await deps.clock.sleep(150 * (attempt + 1));
    }
  }
}

const GONE_WAIT_MS = 20_000;
const GONE_POLL_MS = 200;

/**
 * Until no task or container of these labels is left (bounded: what is left then is gc's), so
 * a delete that returns has left nothing behind, and the configs and secrets are free.
 */
export async function waitTasksGone(deps: Deps, labels: string[]): Promise<boolean> {
  const deadline = deps.clock.now().getTime() + GONE_WAIT_MS;
  for (;;) {
    const [tasks, containers] = await Promise.all([deps.swarm.listTasksByLabel(labels), deps.swarm.listContainers(labels)]);
    if (!tasks.length && !containers.length) return true;
    if (deps.clock.now().getTime() > deadline) {
      deps.log.debug(`${tasks.length} task(s) and ${containers.length} container(s) labelled ${labels.join(',')} still there; gc removes them`);
      return false;
    }
    await deps.clock.sleep(GONE_POLL_MS);
  }
}
