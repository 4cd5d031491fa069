import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

/** The test bed's sshd (scripts/testbed.sh): loopback only, its own keys under DIR. */
export const SSH_DIR = process.env.FAASCTL_TESTBED_SSH_DIR ?? '/var/lib/faasctl-testbed/ssh';
export const SSH_PORT = Number(process.env.FAASCTL_TESTBED_SSH_PORT ?? 2222);
export const SSH_HOST = `ssh://root@127.0.0.1:${SSH_PORT}`;
export const SSH_KEY = `${SSH_DIR}/id_ed25519`;
/** A valid key that the test bed's sshd does not accept. */
export const SSH_WRONG_KEY = `${SSH_DIR}/id_wrong`;
export const SSH_KNOWN_HOSTS = `${SSH_DIR}/known_hosts`;
const SSHD_LOG = '/var/log/faasctl-testbed/sshd.log';

/** The environment that points the binary at the test bed's sshd. */
export function sshEnv(): Record<string, string> {
  return { FAASCTL_HOST: SSH_HOST, FAASCTL_SSH_KEY: SSH_KEY, FAASCTL_SSH_KNOWN_HOSTS: SSH_KNOWN_HOSTS };
}

/** SSH sessions the test bed's sshd is serving: each is a child of the listening daemon. */
export function sshSessions(): number {
  const pid = readFileSync(`${SSH_DIR}/sshd.pid`, 'utf8').trim();
  try {
    return execFileSync('pgrep', ['-P', pid], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when there is none
  }
}

/** Marks the sshd log: what sshd did after the mark (TCP targets it forwarded to, logins it accepted). */
export function sshdLog(): { targets(): string[]; logins(): number } {
  const start = statSync(SSHD_LOG).size;
  const since = () => readFileSync(SSHD_LOG).subarray(start).toString('utf8');
  return {
    targets: () => [...since().matchAll(/server_request_direct_tcpip: originator \S+ port \d+, target (\S+) port (\d+)/g)].map((m) => `${m[1]}:${m[2]}`),
    logins: () => since().match(/Accepted publickey for /g)?.length ?? 0,
  };
}
