import type { CurrentFunction } from '../../db/functions-repo.js';
import { CancelledError, EXIT, FaasctlError, PlatformError, TimeoutError, type ExitCode } from '../../base/errors.js';
import { failedOutcome, outcomeOfFrame, type Outcome } from './invocation.js';
import type { Frame } from './invocation-output.js';
import type { ReplicaTransport } from '../../base/ports.js';
import { ReplicaRouter, type Routed } from './replica-router.js';
import { endpointSource } from '../functions/replica-readiness.js';
import type { WarmDeps } from '../functions/warm-deps.js';
import { WARM_ALLOWANCE_MS } from '../requests/deadlines.js';

export { WARM_ALLOWANCE_MS } from '../requests/deadlines.js';

export interface RouteDeps extends Pick<WarmDeps, 'swarm' | 'replicaHost' | 'log' | 'sleep' | 'store'> {
  /** A keep-alive HTTP client allowing this many connections per replica. */
  replicaTransport: (maxSocketsPerReplica: number) => ReplicaTransport;
  /** Monotonic milliseconds. */
  monotonic: () => number;
}

/** A router over a replica service, or undefined when none of its replicas runs. */
export async function openRouter(deps: RouteDeps, serviceId: string, token: string, concurrency: number): Promise<{ router: ReplicaRouter; transport: ReplicaTransport }> {
  const transport = deps.replicaTransport(concurrency);
  const router = new ReplicaRouter({ transport, ...endpointSource(deps, serviceId), log: deps.log, sleep: deps.sleep, now: deps.monotonic }, { authorization: `Bearer ${token}` });
  try {
    await router.refresh(true);
  } catch (err) {
    transport.close();
    throw err;
  }
  return { router, transport };
}

/** A replica's response body as the runtime's frame; anything else is a platform fault. */
export function parseAnswer(body: string): Frame {
  let frame: Frame;
  try {
    frame = JSON.parse(body) as Frame;
  } catch {
    throw new PlatformError(`a warm replica answered something that is not JSON: ${body.slice(0, 120)}`, { code: 'bad_answer' });
  }
  if (!frame || typeof frame !== 'object' || typeof frame.status !== 'string') throw new PlatformError('a warm replica answered without a status', { code: 'bad_answer' });
  return frame;
}

/** One input through the router, as a request-row outcome (never throws but for a bug). */
export async function callWarm(
  deps: Pick<RouteDeps, 'monotonic'> & { now: () => Date },
  router: ReplicaRouter,
  v: Pick<CurrentFunction['current'], 'timeoutMs'>,
  input: string,
  signal?: AbortSignal,
  /** Sent to the replica: what a Lambda handler reads as context.aws_request_id. */
  requestId?: string,
): Promise<{ outcome: Outcome; attempts: number; latencyMs: number }> {
  const started = deps.monotonic();
  const base = (output = '', truncated = false, node: string | null = null) => ({ output, outputTruncated: truncated, node, finishedAt: deps.now(), durationMs: deps.monotonic() - started });
  const failed = (message: string, exitCode: ExitCode, attempts = 1) => ({ outcome: failedOutcome(base(), message, exitCode), attempts, latencyMs: deps.monotonic() - started });
  let routed: Routed;
  try {
    routed = await router.call(input, started + v.timeoutMs + WARM_ALLOWANCE_MS, signal, requestId);
  } catch (err) {
    if (signal?.aborted || err instanceof CancelledError) return failed('cancelled before the function answered', EXIT.interrupted);
    if (err instanceof TimeoutError) return failed(err.message, EXIT.timeout);
    if (err instanceof FaasctlError) return failed(err.message, EXIT.platform);
    throw err;
  }
  const latencyMs = deps.monotonic() - started;
  try {
    const frame = parseAnswer(routed.body);
    const b = base(frame.output?.text ?? '', Boolean(frame.output?.truncated), routed.endpoint.node ?? routed.endpoint.nodeId ?? null);
    // The replica's own measure of the function; the round trip is latencyMs.
    const outcome = outcomeOfFrame(frame, { ...b, durationMs: frame.metrics?.durationMs ?? b.durationMs }, v);
    if (typeof frame.version === 'number' && frame.version > 0) outcome.completion.functionVersion = frame.version;
    return { outcome, attempts: routed.attempts, latencyMs };
  } catch (err) {
    return failed((err as Error).message, EXIT.platform, routed.attempts);
  }
}

/**
 * A warm replica sends back only the first 64 KiB of what the function printed (the answer is
 * one HTTP body); a cold run's runtime prints its own notice into the log. This is the warm
 * counterpart, in the same words, so a person sees that output was dropped and how much.
 */
export function warmTruncationNotice(frame: Pick<Frame, 'output'> | undefined, relayed: string): string | undefined {
  if (!frame?.output?.truncated) return undefined;
  const kept = Buffer.byteLength(relayed);
  const lead = relayed && !relayed.endsWith('\n') ? '\n' : '';
  return `${lead}[faasctl] output truncated: ${kept} of ${frame.output.bytes} bytes relayed (a warm answer carries at most 64 KiB; the rest was dropped)\n`;
}
