import { networkInterfaces } from 'node:os';
import { isSshHost } from './connect.js';

/**
 * Replicas publish their port on their node's address. A node that advertises no usable
 * address is the engine we talk to: its host for tcp://, this machine for a local socket.
 * On this machine, loopback is the slow way in: Docker relays it through docker-proxy, a
 * userland copy, while any other local address is DNATed by the kernel (measured: half the
 * round-trip time, twice the requests per second).
 */
export function replicaHost(dockerHost: string, nodeAddress: string | undefined, localAddresses: () => string[] = localIPv4): string {
  const local = !/^(tcp|https?|ssh):\/\//.test(dockerHost);
  const usable = nodeAddress && nodeAddress !== '0.0.0.0' && nodeAddress !== '::';
  // ssh:// dials from the manager, so its own loopback is the way to a node without an address.
  if (isSshHost(dockerHost)) return usable ? nodeAddress : '127.0.0.1';
  if (usable && !(local && isLoopback(nodeAddress))) return nodeAddress;
  // URL keeps an IPv6 host in brackets; a socket host must not have them.
  if (!local) return usable ? nodeAddress : new URL(dockerHost.replace(/^tcp:/, 'http:')).hostname.replace(/^\[(.*)\]$/, '$1');
  return localAddresses()[0] ?? '127.0.0.1';
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}

function localIPv4(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
}
