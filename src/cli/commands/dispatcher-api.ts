import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { UsageError } from '../../base/errors.js';
import { wholeNumber } from '../../base/numbers.js';
import type { Context } from '../context.js';
import type { functionDeps } from '../deps.js';

/**
 * The HTTP API inside `faasctl dispatcher` (issue 25): on --api-port (or FAASCTL_API_PORT, how
 * the service passes it), with TLS when a certificate and key are given (files; the service's
 * are Swarm secrets), else plain HTTP on loopback only. Every replica serves when it holds the
 * port: all state is in PostgreSQL, so any of them answers alike.
 */
export interface DispatcherApiOptions {
  apiPort?: string;
  apiTlsCert?: string;
  apiTlsKey?: string;
  apiRate?: string;
}

/** 1 MiB: an input above it belongs in storage the function reads, not in a call. */
export const API_MAX_BODY_BYTES = 1024 * 1024;

export async function startDispatcherApi(
  ctx: Context,
  deps: Awaited<ReturnType<typeof functionDeps>>,
  opts: DispatcherApiOptions,
  signal: AbortSignal,
  onEvent: (line: string) => void,
): Promise<Server | undefined> {
  const portText = opts.apiPort ?? ctx.env.FAASCTL_API_PORT;
  if (!portText) return undefined;
  const port = wholeNumber(portText, '--api-port', 1, 65535);
  const certFile = opts.apiTlsCert ?? ctx.env.FAASCTL_API_TLS_CERT_FILE;
  const keyFile = opts.apiTlsKey ?? ctx.env.FAASCTL_API_TLS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) throw new UsageError('TLS needs both --api-tls-cert and --api-tls-key');
  const tls = certFile && keyFile ? { cert: readText(certFile), key: readText(keyFile) } : undefined;
  const keyPath = ctx.env.FAASCTL_WEBHOOK_KEY_FILE;
  const webhookKey = keyPath ? readText(keyPath) : undefined;
  const perSecond = wholeNumber(opts.apiRate ?? ctx.env.FAASCTL_API_RATE ?? '10', '--api-rate', 1, 100_000);
  const { RateLimiter } = await import('../../core/api/rate-limit.js');
  const { handleApiCall } = await import('../../core/api/routes.js');
  const { startApiServer, listenWhenFree } = await import('../../http/server.js');
  const limiter = new RateLimiter({ perSecond, burst: 2 * perSecond, now: () => performance.now() });
  const apiDeps = { ...deps, limiter, webhookKey, access: onEvent };
  const o = { port, host: tls ? '0.0.0.0' : '127.0.0.1', tls, maxBodyBytes: API_MAX_BODY_BYTES };
  const server = startApiServer(o, (call) => handleApiCall(apiDeps, call), ctx.log);
  // Listening must not hold up the queue: a replica waiting for the port still dispatches.
  void listenWhenFree(server, o, signal, onEvent)
    .then((ok) => ok && onEvent(`api: serving ${tls ? 'https' : 'http'}://${o.host}:${port} (${tls ? 'TLS' : 'plain HTTP, loopback only'})${webhookKey ? ', webhooks on' : ''}`))
    .catch((err: Error) => onEvent(`api: cannot listen on ${o.host}:${port}: ${err.message}`));
  return server;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'bad_file' });
  }
}
