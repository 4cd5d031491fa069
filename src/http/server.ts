import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from '../base/ports.js';

/**
 * The HTTP(S) server of the dispatcher's API: sockets, TLS, the body limit and JSON answers. What
 * a call means is decided by the handler it is given (core/api/routes.ts).
 */
export interface ServedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  bearer?: string;
  signature?: string;
  prefer?: string;
  body: Buffer;
  signal: AbortSignal;
}

export interface ServedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ApiServerOptions {
  port: number;
  /** 127.0.0.1 for plain HTTP (a trusted host only), every interface with TLS. */
  host: string;
  tls?: { cert: string; key: string };
  /** A body above this is refused with 413 before it is read whole. */
  maxBodyBytes: number;
}

export function startApiServer(o: ApiServerOptions, handle: (call: ServedCall) => Promise<ServedAnswer>, log: Logger): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    serve(o, req, res, handle).catch((err: Error) => {
      log.debug(`api: ${err.message}`);
      if (!res.headersSent) send(res, { status: 500, body: { error: { code: 'internal', message: 'internal error', exitCode: 1 } } });
    });
  };
  if (o.tls) return createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest);
  return createHttpServer(onRequest);
}

/**
 * Listens once the port is free: with several dispatcher replicas on one manager (host network),
 * one holds the port and the others try again every second, so whichever lives serves.
 */
export async function listenWhenFree(server: Server, o: ApiServerOptions, signal: AbortSignal, onWaiting: (why: string) => void): Promise<boolean> {
  let told = false;
  while (!signal.aborted) {
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const onError = (e: NodeJS.ErrnoException) => resolve(e);
      server.once('error', onError);
      server.listen(o.port, o.host, () => {
        server.off('error', onError);
        resolve(undefined);
      });
    });
    if (!err) return true;
    if (err.code !== 'EADDRINUSE') throw err;
    if (!told) onWaiting(`port ${o.port} is in use (another replica serves it?): trying every second`);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

async function serve(o: ApiServerOptions, req: IncomingMessage, res: ServerResponse, handle: (call: ServedCall) => Promise<ServedAnswer>): Promise<void> {
  const body = await readBody(req, o.maxBodyBytes);
  if (body === 'too large') {
    const message = `the body is larger than ${o.maxBodyBytes} bytes`;
    // Connection: close, so the rest of an oversized body is never read.
    send(res, {
      status: 413,
      body: { error: { code: 'body_too_large', message, hint: 'send a smaller input (or pass a reference to the data)', exitCode: 2 } },
      headers: { 'x-faasctl-exit-code': '2', connection: 'close' },
    });
    return;
  }
  const url = new URL(req.url ?? '/', 'http://api');
  const controller = new AbortController();
  // The caller went away: a sync invocation is stopped as Ctrl-C stops the CLI's.
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  const auth = req.headers.authorization;
  const answer = await handle({
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    bearer: auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined,
    signature: header(req, 'x-faasctl-signature'),
    prefer: header(req, 'prefer'),
    body,
    signal: controller.signal,
  });
  send(res, answer);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve('too large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, a: ServedAnswer): void {
  const text = `${JSON.stringify(a.body)}\n`;
  res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...(a.headers ?? {}) });
  res.end(text);
}
