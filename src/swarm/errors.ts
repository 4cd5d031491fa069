import { ConflictError, ConnectionError, FaasctlError, NotFoundError } from '../base/errors.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

interface DockerodeError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
}

/** Maps dockerode/transport errors to faasctl errors at the boundary. */
export function mapDockerError(err: unknown, endpoint: string, what: string): Error {
  if (err instanceof FaasctlError) return err;
  const e = err as DockerodeError;
  const message = e.json?.message ?? e.message ?? String(err);
  if (e.code && UNREACHABLE.has(e.code)) {
    return new ConnectionError(`cannot reach the Docker engine at ${endpoint} (${e.code})`, {
      cause: err,
      hint: 'start the Docker engine (systemctl start docker, or dockerd &), or point --host / DOCKER_HOST at a running engine',
    });
  }
  if (isTlsError(e)) {
    return new ConnectionError(`TLS handshake with ${endpoint} failed: ${e.message}`, {
      cause: err,
      hint: 'check the CA, certificate and key of this context (faasctl context show)',
    });
  }
  if (e.statusCode === 400 && /HTTP request to an HTTPS server/i.test(message)) {
    return new ConnectionError(`${endpoint} speaks TLS, and this context has no TLS certificates`, {
      cause: err,
      hint: 'give it the CA, certificate and key: faasctl context add NAME --host … --tls-ca ca.pem --tls-cert cert.pem --tls-key key.pem, or DOCKER_CERT_PATH',
    });
  }
  if (e.statusCode === 404) return new NotFoundError(`${what}: ${message}`, { cause: err });
  // A config or secret still mounted by a service: the engine says 400 InvalidArgument, but to
  // callers it is a conflict that passes once the service is gone (it was an "internal error").
  if (e.statusCode === 400 && /is in use by/i.test(message)) return new ConflictError(`${what}: ${message}`, { cause: err });
  if (e.statusCode === 409) return new ConflictError(`${what}: ${message}`, { cause: err });
  if (e.statusCode === 503 && /not a swarm manager|not part of a swarm/i.test(message)) {
    return new ConnectionError(`${what}: ${message}`, { cause: err, hint: 'this engine is not a Swarm manager: run faasctl up --swarm-init, or point --host at a manager' });
  }
  // A manager restarting (dockerd restarted, the machine rebooted) answers for a few seconds
  // before its Swarm has a leader again, and one shutting down cancels the calls in flight
  // ("grpc: the client connection is closing"): the engine is there, the fix is to wait (issue 17).
  if ((e.statusCode === 503 && /swarm|leader|raft/i.test(message)) || (e.statusCode === 500 && /rpc error: code = (Unavailable|DeadlineExceeded|Canceled)/.test(message))) {
    return new ConnectionError(`${what}: the Swarm manager at ${endpoint} is not ready (${message})`, {
      cause: err,
      hint: 'the manager is starting or has lost its quorum: wait a few seconds and run it again; docker node ls on a manager shows its state',
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** OpenSSL's verification codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, …) and Node's ERR_TLS_ and ERR_SSL_ codes. */
const TLS_CODES = /^(ERR_TLS|ERR_SSL|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)|CERT/;

function isTlsError(e: DockerodeError): boolean {
  return typeof e.code === 'string' && TLS_CODES.test(e.code);
}
