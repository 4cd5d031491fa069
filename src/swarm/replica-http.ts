import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ReplicaUnreachable, type ReplicaEndpoint, type ReplicaResponse, type ReplicaTransport } from '../base/ports.js';

/** Opens the byte stream to host:port; direct TCP unless a tunnel (ssh) provides one. */
export type Dialer = (host: string, port: number) => Duplex | undefined;

/**
 * Node's own http client with one keep-alive agent: a warm call costs one request on an
 * open connection. Sockets per endpoint are capped at the caller's concurrency, so the
 * replicas see a steady set of connections instead of one per request.
 */
export class HttpReplicaTransport implements ReplicaTransport {
  private readonly agent: http.Agent;

  constructor(maxSocketsPerEndpoint: number, dialer?: Dialer) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: maxSocketsPerEndpoint, maxFreeSockets: maxSocketsPerEndpoint, scheduling: 'lifo' });
    if (dialer) {
      const original = this.agent.createConnection.bind(this.agent);
      this.agent.createConnection = ((options: { host: string; port: number }, cb: unknown) =>
        dialer(options.host, options.port) ?? original(options as never, cb as never)) as typeof this.agent.createConnection;
    }
  }

  post(endpoint: ReplicaEndpoint, path: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ReplicaResponse> {
    return this.send('POST', endpoint, path, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body, options);
  }

  get(endpoint: ReplicaEndpoint, path: string, headers: Record<string, string>, options: { timeoutMs: number }): Promise<ReplicaResponse> {
    return this.send('GET', endpoint, path, headers, undefined, options);
  }

  private send(
    method: string,
    endpoint: ReplicaEndpoint,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<ReplicaResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: endpoint.host, port: endpoint.port, path, method, agent: this.agent, signal: options.signal, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(new ReplicaUnreachable(endpoint, err.message)));
      });
      // A socket timer, not an AbortSignal per request: cheap at thousands of calls a second.
      req.setTimeout(Math.max(1, Math.ceil(options.timeoutMs)), () => {
        const err = new Error(`no answer from ${endpoint.host}:${endpoint.port} within ${Math.ceil(options.timeoutMs)} ms`);
        err.name = 'TimeoutError';
        req.destroy(err);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(err.name === 'AbortError' || err.name === 'TimeoutError' ? err : new ReplicaUnreachable(endpoint, err.code ?? err.message)));
      req.end(body);
    });
  }

  forget(endpoint: ReplicaEndpoint): void {
    const key = `${endpoint.host}:${endpoint.port}:`;
    for (const [name, sockets] of Object.entries(this.agent.freeSockets)) {
      if (name.startsWith(key)) for (const s of sockets ?? []) s.destroy();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
