import { readFileSync } from 'node:fs';
import type { DockerOptions } from 'dockerode';
import { UsageError } from '../base/errors.js';
import type { TlsFiles } from '../config/types.js';

export type Transport = 'unix' | 'tcp' | 'tls' | 'ssh';

/** The parts of ssh://USER@HOST[:PORT][/path/to/docker.sock]. */
export interface SshEndpoint {
  username: string;
  host: string;
  port: number;
  /** The Docker socket on the manager. @default /var/run/docker.sock */
  socketPath: string;
}

export interface ConnectPlan {
  transport: Transport;
  options: DockerOptions;
  /** Set for ssh://: the modem then gets an http agent whose sockets are channels of one SSH connection. */
  ssh?: SshEndpoint;
}

/**
 * Turns a Docker host URL into dockerode options, setting EVERY transport field:
 * docker-modem merges DOCKER_HOST/DOCKER_CERT_PATH from the environment underneath
 * whatever is left unset, so an explicit socketPath would otherwise be ignored when
 * DOCKER_HOST=tcp://… is exported.
 */
export function planConnection(host: string, tls: TlsFiles | undefined, readFile: (p: string) => Buffer = readFileSync): ConnectPlan {
  const url = parseHost(host);
  const cleared = { socketPath: undefined, host: undefined, port: undefined, ca: undefined, cert: undefined, key: undefined, sshOptions: undefined, username: undefined, pathPrefix: undefined };
  switch (url.protocol) {
    case 'unix:': {
      const socketPath = url.pathname || '/var/run/docker.sock';
      return { transport: 'unix', options: { ...cleared, socketPath, protocol: 'http' } };
    }
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const port = Number(url.port || (tls ? 2376 : 2375));
      const base = { ...cleared, host: url.hostname, port };
      if (!tls && url.protocol !== 'https:') return { transport: 'tcp', options: { ...base, protocol: 'http' } };
      const files = requireTlsFiles(tls, host);
      return {
        transport: 'tls',
        options: { ...base, protocol: 'https', ca: readTls(readFile, files.ca), cert: readTls(readFile, files.cert), key: readTls(readFile, files.key) },
      };
    }
    case 'ssh:': {
      const ssh = parseSshHost(host);
      // host/port only name the agent's connection pool: every socket is an SSH channel.
      return { transport: 'ssh', ssh, options: { ...cleared, host: 'docker', port: 80, protocol: 'http' } };
    }
    default:
      throw new UsageError(`unsupported Docker host scheme "${url.protocol}" in ${host}`, {
        hint: 'use unix:///var/run/docker.sock, tcp://HOST:2376 (with TLS) or ssh://USER@HOST',
      });
  }
}

/** ssh://USER@HOST[:PORT][/socket]; the user is required, as there is no ssh_config to supply it. */
export function parseSshHost(host: string): SshEndpoint {
  const url = parseHost(host);
  if (url.protocol !== 'ssh:') throw new UsageError(`not an ssh:// host: ${host}`);
  if (!url.username) {
    throw new UsageError(`ssh:// host ${host} has no user`, { hint: 'write ssh://USER@HOST[:PORT], e.g. ssh://root@10.0.0.5' });
  }
  if (url.password) throw new UsageError('ssh:// hosts take no password', { hint: 'use ssh-agent or --ssh-key FILE' });
  return {
    username: decodeURIComponent(url.username),
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || 22),
    socketPath: url.pathname && url.pathname !== '/' ? decodeURIComponent(url.pathname) : '/var/run/docker.sock',
  };
}

export function isSshHost(host: string): boolean {
  return /^ssh:\/\//i.test(host);
}

function readTls(readFile: (p: string) => Buffer, path: string): Buffer {
  try {
    return readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read TLS file ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check the paths given to faasctl context add --tls-ca/--tls-cert/--tls-key or DOCKER_CERT_PATH',
    });
  }
}

function parseHost(host: string): URL {
  try {
    return new URL(host.includes('://') ? host : `tcp://${host}`);
  } catch {
    throw new UsageError(`invalid Docker host "${host}"`, { hint: 'expected e.g. unix:///var/run/docker.sock or tcp://10.0.0.5:2376' });
  }
}

function requireTlsFiles(tls: TlsFiles | undefined, host: string): Required<TlsFiles> {
  if (tls?.ca && tls.cert && tls.key) return { ca: tls.ca, cert: tls.cert, key: tls.key };
  throw new UsageError(`TLS for ${host} needs a CA, a certificate and a key`, {
    hint: 'set DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem, or faasctl context add --tls-ca/--tls-cert/--tls-key',
  });
}
