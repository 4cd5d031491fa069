import Modem from 'docker-modem';
import type { DockerOptions } from 'dockerode';

/**
 * docker-modem's constructor merges DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
 * from the environment underneath explicit options, and even reads the certificate files
 * DOCKER_CERT_PATH names (throwing if they are missing). faasctl resolves its connection
 * itself, so the modem is built here from the resolved options alone.
 */
export function createModem(options: DockerOptions): Modem {
  const modem = Object.create(Modem.prototype) as Modem & Record<string, unknown>;
  Object.assign(modem, {
    socketPath: options.host ? undefined : options.socketPath,
    host: options.host,
    port: options.port,
    protocol: options.protocol ?? 'http',
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    version: options.version,
    timeout: options.timeout,
    agent: (options as { agent?: unknown }).agent,
    pathPrefix: undefined,
    username: undefined,
    password: undefined,
    connectionTimeout: undefined,
    checkServerIdentity: undefined,
    headers: {},
    sshOptions: {},
    Promise: globalThis.Promise,
  });
  return modem;
}
