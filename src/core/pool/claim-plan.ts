import { createHmac } from 'node:crypto';
import type { SwarmTask } from '../../swarm/client.js';
import type { LogChunk } from '../../swarm/log-demux.js';

/**
 * Pure parts of claiming a pool container: which tasks may be tried, and the one-time token a
 * container printed when it started listening.
 */

/** How many containers one invocation tries before it falls back to a service. */
export const MAX_CLAIM_TRIES = 4;

/** What a pool container prints once it listens: `FAASCTL-STANDBY:<port>:<token>`. */
const TOKEN_LINE = /^FAASCTL-STANDBY:(\d+):([0-9a-f]{64})$/m;

/**
 * Tasks that run, are meant to run, publish their port and are not claimed already, in a
 * random order so concurrent claimers rarely collide on the same one (a collision costs one
 * failed insert; the unique key decides).
 */
export function claimCandidates(tasks: SwarmTask[], claimed: ReadonlySet<string>, lostNodes: ReadonlySet<string>, random: () => number): SwarmTask[] {
  const ready = tasks.filter((t) => t.state === 'running' && t.desiredState === 'running' && t.ports.length > 0 && !claimed.has(t.id) && !lostNodes.has(t.nodeId ?? ''));
  for (let i = ready.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ready[i], ready[j]] = [ready[j] as SwarmTask, ready[i] as SwarmTask];
  }
  return ready;
}

/** The token a container printed on stdout; undefined while it has not started listening. */
export function standbyToken(chunks: LogChunk[]): string | undefined {
  const text = Buffer.concat(chunks.filter((c) => c.stream === 'stdout').map((c) => c.data)).toString('utf8');
  return TOKEN_LINE.exec(text)?.[2];
}

/** Idle (unclaimed, running) tasks of a pool: what `pool show` and doctor count as ready. */
export function idleTasks(tasks: SwarmTask[], claimed: ReadonlySet<string>): SwarmTask[] {
  return tasks.filter((t) => t.state === 'running' && t.desiredState === 'running' && !claimed.has(t.id));
}

/**
 * A pool job's result nonce, made from the container's one-time token and the request: the CLI
 * and the container's log hold what makes it, so whoever can read that log through the engine
 * (as for a cold service's) can check a result the CLI did not live to read, and no row has to
 * keep it. The function cannot: the token never reaches its process.
 */
export function poolNonce(token: string, requestId: string): string {
  return createHmac('sha256', token).update(`faasctl-pool-nonce:${requestId}`).digest('hex');
}

/** A pool container's log without its token line: what its job printed, and the result frame. */
export function jobLog(chunks: LogChunk[]): LogChunk[] {
  let dropped = false;
  return chunks.flatMap((c) => {
    if (dropped || c.stream !== 'stdout') return [c];
    const text = c.data.toString('utf8');
    if (!text.startsWith('FAASCTL-STANDBY:')) return [c];
    dropped = true;
    const newline = c.data.indexOf(10);
    const rest = newline < 0 ? Buffer.alloc(0) : c.data.subarray(newline + 1);
    return rest.length ? [{ ...c, data: rest }] : [];
  });
}
