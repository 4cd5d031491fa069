import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FunctionDeps } from '../core/functions/lookup.js';
import type { InvokeDeps } from '../core/invocations/invoke.js';
import type { WarmDeps } from '../core/functions/warm-deps.js';
import { isSshHost } from '../swarm/connect.js';
import { HttpReplicaTransport, type Dialer } from '../swarm/replica-http.js';
import { HttpStandbyChannel } from '../swarm/standby-http.js';
import type { StandbyChannel } from '../base/ports.js';
import { TunnelSocket } from '../swarm/tunnel-socket.js';
import { runtimeImageRef } from '../runtime/python.js';
import { pinnedImage } from '../core/platform/images.js';
import type { Context } from './context.js';
import { nodeLocalFiles } from './commands/fn/source.js';
import { failpointFromEnv } from './failpoints.js';
import { replicaHost } from '../swarm/replica-address.js';

/** The real adapters behind the function use cases, built once per command. */
export async function functionDeps(ctx: Context, progress: (text: string) => void = () => {}): Promise<FunctionDeps & InvokeDeps & WarmDeps & { standby: () => StandbyChannel }> {
  const cfg = await ctx.config();
  const [store, swarm] = await Promise.all([ctx.store(), ctx.swarm()]);
  // Over ssh://, replicas are dialled from the manager through the same SSH connection.
  const tunnel = isSshHost(cfg.host.value) ? await ctx.sshTunnel() : undefined;
  const dialer: Dialer | undefined = tunnel && ((host, port) => new TunnelSocket(() => tunnel.forwardOut(host, port)).connect());
  return {
    store,
    swarm,
    clock: ctx.clock,
    log: ctx.log,
    newId: randomUUID,
    // 128 bits: the function would have to guess it to forge its result line.
    newNonce: () => randomBytes(16).toString('base64url'),
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
    runtimeImage: once(async () => pinnedImage(swarm, await runtimeImageRef(cfg.registry.value), cfg.registry.value)),
    sleep: (ms) => sleep(ms),
    progress,
    files: nodeLocalFiles,
    registry: cfg.registry.value,
    newToken: () => randomBytes(32).toString('base64url'),
    replicaHost: (address) => replicaHost(cfg.host.value, address),
    replicaTransport: (maxSockets) => new HttpReplicaTransport(maxSockets, dialer),
    standby: () => new HttpStandbyChannel(dialer),
    monotonic: () => performance.now(),
    failpoint: failpointFromEnv(ctx.env, ctx.io),
    interruptible: withInterrupt,
  };
}

/** The first call's promise, shared by every later call (a rejected one is retried). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= fn().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** Ctrl-C / SIGTERM as an AbortSignal for the duration of `fn`, so clean-up runs before exit. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
