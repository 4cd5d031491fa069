import { existsSync, readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { AuthHandlerMiddleware, ClientChannel, ConnectConfig } from 'ssh2';
import { ConnectionError, UsageError } from '../base/errors.js';
import type { Logger } from '../base/ports.js';
import { checkHostKey, fingerprint, keyTypeOf, knownHostsName, knownKeyTypes, type HostKeyVerdict } from './known-hosts.js';
import { importExternal } from '../base/external.js';

/** Where and how to log in; paths are resolved by the caller (config), nothing is read from env here. */
export interface SshTunnelOptions {
  host: string;
  port: number;
  username: string;
  /** An identity file the user named: it must be readable and is the only key tried besides the agent. */
  identityFile?: string;
  /** Tried in order when no identity file is named and they exist (~/.ssh/id_ed25519 …). */
  defaultIdentityFiles: string[];
  /** SSH_AUTH_SOCK of an ssh-agent. */
  agentSocket?: string;
  knownHostsFiles: string[];
  /** Accept any host key: the explicit opt-out, never a default. */
  insecureIgnoreHostKey: boolean;
  /** @default 10000 */
  readyTimeoutMs?: number;
}

/** One SSH connection; every Docker call, the database and warm replicas get channels over it. */
export interface SshTunnel {
  readonly where: string;
  /** A channel to a unix socket on the server (OpenSSH streamlocal), e.g. /var/run/docker.sock. */
  streamLocal(socketPath: string): Promise<Duplex>;
  /** A channel to host:port as dialled from the server (direct-tcpip). */
  forwardOut(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}

/** Algorithms ssh2 offers for each key type a known_hosts line can name. */
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

export async function openSshTunnel(options: SshTunnelOptions, log: Logger): Promise<SshTunnel> {
  const where = `ssh://${options.username}@${options.host}${options.port === 22 ? '' : `:${options.port}`}`;
  const { Client: SshClient, utils } = (await importExternal<{ default: typeof import('ssh2') }>('ssh2')).default;
  const keys = loadIdentities(options, utils, log);
  const knownText = options.knownHostsFiles
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const client = new SshClient();
  let verdict: (HostKeyVerdict & { key: Buffer }) | undefined;
  const started = performance.now();

  const config: ConnectConfig = {
    host: options.host,
    port: options.port,
    username: options.username,
    readyTimeout: options.readyTimeoutMs ?? 10_000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    authHandler: authMethods(options, keys),
    hostVerifier: (key: Buffer) => {
      verdict = { ...checkHostKey(knownText, options.host, options.port, key), key };
      log.debug(`ssh: host key ${keyTypeOf(key)} ${fingerprint(key)}: ${verdict.status}${options.insecureIgnoreHostKey ? ' (ignored: --ssh-insecure-ignore-host-key)' : ''}`);
      return options.insecureIgnoreHostKey || verdict.status === 'match';
    },
  };
  const preferred = knownKeyTypes(knownText, options.host, options.port).flatMap((t) => HOST_KEY_ALGORITHMS[t] ?? []);
  if (preferred.length > 0) config.algorithms = { serverHostKey: { prepend: preferred } as never };

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error & { level?: string; code?: string }) => {
      client.end();
      reject(
        sshError(
          err,
          where,
          options,
          verdict,
          keys.map((k) => k.path),
        ),
      );
    };
    client.once('ready', () => {
      client.off('error', onError);
      resolve();
    });
    client.once('error', onError);
    client.connect(config);
  });
  log.debug(`ssh: connected to ${where} (${(performance.now() - started).toFixed(1)} ms)`);

  let closed = false;
  client.on('error', (err) => log.debug(`ssh: ${where}: ${err.message}`));
  client.on('close', () => {
    closed = true;
  });

  const channel = (what: string, open: (cb: (err: Error | undefined, ch: ClientChannel) => void) => void): Promise<Duplex> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new ConnectionError(`the SSH connection to ${where} is closed`, { hint: 'run the command again' }));
      open((err, ch) => {
        if (err) {
          log.debug(`ssh: channel to ${what} refused: ${err.message}`);
          return reject(new ConnectionError(`${where} refused a channel to ${what}: ${err.message}`, { cause: err, hint: channelHint(what) }));
        }
        resolve(ch);
      });
    });

  return {
    where,
    streamLocal: (socketPath) => channel(socketPath, (cb) => client.openssh_forwardOutStreamLocal(socketPath, cb)),
    forwardOut: (host, port) => channel(`${host}:${port}`, (cb) => client.forwardOut('127.0.0.1', 0, host, port, cb)),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        client.once('close', () => resolve());
        client.end();
      }),
  };
}

interface Identity {
  path: string;
  key: unknown;
}

type SshUtils = { parseKey(data: Buffer): unknown };

function loadIdentities(options: SshTunnelOptions, utils: SshUtils, log: Logger): Identity[] {
  if (options.identityFile) {
    let data: Buffer;
    try {
      data = readFileSync(options.identityFile);
    } catch (err) {
      throw new UsageError(`cannot read the SSH identity file ${options.identityFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
        hint: 'check --ssh-key / FAASCTL_SSH_KEY / the context',
      });
    }
    const key = utils.parseKey(data);
    if (key instanceof Error) {
      throw new UsageError(`cannot use the SSH identity file ${options.identityFile}: ${key.message}`, {
        hint: 'faasctl reads unencrypted keys; load an encrypted one into ssh-agent (ssh-add) instead',
      });
    }
    return [{ path: options.identityFile, key }];
  }
  const found: Identity[] = [];
  for (const path of options.defaultIdentityFiles) {
    if (!existsSync(path)) continue;
    const key = utils.parseKey(readFileSync(path));
    if (key instanceof Error) log.debug(`ssh: skipping ${path}: ${key.message}`);
    else found.push({ path, key });
  }
  return found;
}

/** ssh-agent first (as OpenSSH does), then each identity file. */
function authMethods(options: SshTunnelOptions, keys: Identity[]): AuthHandlerMiddleware {
  const queue: Array<Record<string, unknown>> = [];
  if (options.agentSocket) queue.push({ type: 'agent', username: options.username, agent: options.agentSocket });
  for (const k of keys) queue.push({ type: 'publickey', username: options.username, key: k.key });
  return ((_methodsLeft: unknown, _partial: unknown, next: (m: unknown) => void) => next(queue.shift() ?? false)) as unknown as AuthHandlerMiddleware;
}

function sshError(err: Error & { level?: string; code?: string }, where: string, options: SshTunnelOptions, verdict: (HostKeyVerdict & { key: Buffer }) | undefined, tried: string[]): Error {
  const name = knownHostsName(options.host, options.port);
  if (verdict && verdict.status !== 'match' && !options.insecureIgnoreHostKey) {
    const key = `${keyTypeOf(verdict.key)} ${fingerprint(verdict.key)}`;
    const files = options.knownHostsFiles.join(', ');
    const ignore = 'or pass --ssh-insecure-ignore-host-key to skip the check (insecure)';
    if (verdict.status === 'unknown') {
      return new ConnectionError(`host key of ${name} is unknown: ${key} is not in ${files}`, {
        code: 'ssh_host_key_unknown',
        cause: err,
        hint: `check the fingerprint with the host's owner, then: ssh-keyscan ${options.port === 22 ? '' : `-p ${options.port} `}${options.host} >> ${options.knownHostsFiles[0]}; ${ignore}`,
      });
    }
    const line = `${options.knownHostsFiles.length === 1 ? options.knownHostsFiles[0] : 'known_hosts'}:${verdict.line}`;
    return new ConnectionError(`host key of ${name} ${verdict.status === 'revoked' ? 'is REVOKED' : 'has CHANGED'}: the server sent ${key}, ${line} says otherwise`, {
      code: verdict.status === 'revoked' ? 'ssh_host_key_revoked' : 'ssh_host_key_changed',
      cause: err,
      hint: `someone may be intercepting the connection; if the server was reinstalled, remove the old key: ssh-keygen -R '${name}'`,
    });
  }
  if (err.level === 'client-authentication') {
    const what = [options.agentSocket ? 'ssh-agent' : undefined, ...tried].filter(Boolean).join(', ') || 'no key (no ssh-agent, no ~/.ssh/id_* file)';
    return new ConnectionError(`${where} refused the login: tried ${what}`, {
      code: 'ssh_auth_failed',
      cause: err,
      hint: 'pass --ssh-key FILE (or FAASCTL_SSH_KEY), or add the key to ssh-agent (ssh-add)',
    });
  }
  if (err.level === 'client-timeout') {
    return new ConnectionError(`no SSH handshake with ${where} within ${(options.readyTimeoutMs ?? 10_000) / 1000} s`, {
      code: 'ssh_timeout',
      cause: err,
      hint: 'check the host and port, and that sshd answers there',
    });
  }
  const code = err.code ?? err.message;
  return new ConnectionError(`cannot reach ${where} (${code})`, { cause: err, hint: 'check the host and port of ssh://USER@HOST[:PORT], and that sshd runs there' });
}

function channelHint(what: string): string {
  return what.startsWith('/')
    ? 'the SSH server must allow stream-local forwarding (AllowStreamLocalForwarding) and the user must be able to open the Docker socket'
    : 'the SSH server must allow TCP forwarding (AllowTcpForwarding), and the address must be reachable from it';
}
