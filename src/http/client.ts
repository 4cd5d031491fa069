import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../base/ports.js';
import { ConnectionError, UsageError } from '../base/errors.js';

/**
 * The CLI as a client of the dispatcher's HTTP API (a token-only context). One JSON document
 * per answer; the exit code the server decided travels in X-Faasctl-Exit-Code. `--debug`
 * shows the method, path and status, never the token.
 */
export interface ApiTarget {
  url: string;
  token: string;
  ca?: string;
}

export interface ApiReply {
  status: number;
  exitCode: number | undefined;
  body: unknown;
}

export async function callApi(t: ApiTarget, method: string, path: string, log: Logger, body?: string, signal?: AbortSignal): Promise<ApiReply> {
  const url = new URL(path, t.url.endsWith('/') ? t.url : `${t.url}/`);
  const https = url.protocol === 'https:';
  const request = https ? httpsRequest : httpRequest;
  const ca = t.ca ? readCa(t.ca) : undefined;
  const started = performance.now();
  log.debug(`api: ${method} ${url.origin}${url.pathname}`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { authorization: `Bearer ${t.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        ...(ca ? { ca } : {}),
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          log.debug(`api: ${method} ${url.pathname} → ${res.statusCode} (${Math.round(performance.now() - started)} ms)`);
          const header = res.headers['x-faasctl-exit-code'];
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = { error: { code: 'bad_answer', message: `${url.origin} answered ${res.statusCode} with no JSON: is it the faasctl API?` } };
          }
          resolve({ status: res.statusCode ?? 0, exitCode: header === undefined ? undefined : Number(header), body: parsed });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') return reject(err);
      reject(new ConnectionError(`cannot reach the faasctl API at ${url.origin}: ${err.code ?? err.message}`, { hint: "check the context's --api URL (faasctl context show) and, for TLS, its --ca" }));
    });
    req.end(body);
  });
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the API's CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'bad_file' });
  }
}
