import http from 'node:http';
import { ReplicaUnreachable, type ReplicaEndpoint, type StandbyChannel } from '../base/ports.js';
import type { Dialer } from './replica-http.js';

/**
 * HTTP to pool containers: one fresh connection per job (a container takes one job, so there is
 * nothing to keep alive). A 200 answer's body is the job's multiplexed output, handed on as it
 * comes; any other answer's body is read whole (a one-line JSON error).
 */
export class HttpStandbyChannel implements StandbyChannel {
  constructor(private readonly dialer?: Dialer) {}

  post(endpoint: ReplicaEndpoint, path: string, token: string, body: string, options: { signal?: AbortSignal; onBytes?: (bytes: Buffer) => void }): Promise<{ status: number; body: string }> {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const dialled = this.dialer?.(endpoint.host, endpoint.port);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: endpoint.host,
          port: endpoint.port,
          path,
          method: 'POST',
          agent: false,
          signal: options.signal,
          headers,
          ...(dialled ? { createConnection: () => dialled } : {}),
        } as http.RequestOptions,
        (res) => {
          const status = res.statusCode ?? 0;
          const kept: Buffer[] = [];
          res.on('data', (c: Buffer) => (status === 200 && options.onBytes ? options.onBytes(c) : kept.push(c)));
          res.on('end', () => resolve({ status, body: Buffer.concat(kept).toString('utf8') }));
          // The container went away mid-answer: what came is what there is.
          res.on('error', () => resolve({ status, body: Buffer.concat(kept).toString('utf8') }));
          res.on('aborted', () => resolve({ status, body: Buffer.concat(kept).toString('utf8') }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => reject(err.name === 'AbortError' ? err : new ReplicaUnreachable(endpoint, err.code ?? err.message)));
      req.end(body);
    });
  }
}
