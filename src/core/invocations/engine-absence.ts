import { ConnectionError } from '../../base/errors.js';

/**
 * An engine that goes away mid-invocation (dockerd restarted, the manager rebooting) is the
 * platform's fault, not the function's: a watcher rides it out for a bounded time, then closes
 * the row as system_error naming the engine (issue 17). Pure bookkeeping; the watcher sleeps.
 */

/** How long a watcher waits for an engine that stopped answering. */
export const ENGINE_GRACE_MS = 60_000;

export interface EngineAbsence {
  /** ms since the epoch when the engine first failed to answer; undefined while it answers. */
  since?: number;
  /** The last error that said it is away (a refused socket, "not a swarm manager" while Swarm restarts). */
  cause?: Error;
}

/**
 * Errors that mean "the engine is not answering as a manager right now": unreachable (the
 * socket refused or vanished) or Swarm not (yet) active after a restart. Both are mapped to
 * ConnectionError at the adapter boundary (src/swarm/errors.ts).
 */
export function isEngineAway(err: unknown): err is ConnectionError {
  return err instanceof ConnectionError;
}

/** Records one failed call; true while the grace has not run out. */
export function noteAway(a: EngineAbsence, err: Error, now: number, graceMs = ENGINE_GRACE_MS): boolean {
  a.since ??= now;
  a.cause = err;
  return now - a.since < graceMs;
}

/** The engine answered again: how long it was away (ms), or undefined when it never went. */
export function noteBack(a: EngineAbsence, now: number): number | undefined {
  if (a.since === undefined) return undefined;
  const ms = now - a.since;
  a.since = undefined;
  a.cause = undefined;
  return ms;
}

/** The row's reason and the CLI's line when the engine did not come back in time. */
export function engineLostMessage(endpoint: string, cause: Error | undefined, graceMs = ENGINE_GRACE_MS): string {
  const why = cause ? `: ${cause.message}` : '';
  return `the Docker engine at ${endpoint} went away mid-invocation and did not answer again within ${Math.round(graceMs / 1000)} s${why}`;
}

/**
 * A hint naming the real cause. "--swarm-init" only when the engine itself answered that it
 * is not a Swarm manager (and even then, after a restart, Swarm may just be slow to come back).
 */
export function engineLostHint(endpoint: string, cause: Error | undefined, requestId?: string): string {
  const later = requestId ? `; once it is back, faasctl gc removes request ${requestId}'s service` : '; once it is back, faasctl gc removes the service';
  if (cause && /not a swarm manager|not part of a swarm/i.test(cause.message)) {
    return `the engine answers but is not a Swarm manager: check docker info on ${endpoint} (faasctl up --swarm-init if this node left the swarm)${later}`;
  }
  if (cause && /not ready|leader|quorum/i.test(cause.message)) {
    return `the engine answers but its Swarm has no leader: check docker node ls on a manager of ${endpoint}${later}`;
  }
  return `the engine is unreachable: check that dockerd is running at ${endpoint} (systemctl status docker, or its log)${later}`;
}
