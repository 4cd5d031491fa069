import type { SwarmClient } from '../../swarm/client.js';
import { PlatformError, UsageError } from '../../base/errors.js';

/**
 * Images on a multi-node Swarm: every node pulls faasctl's images from one registry, and
 * services name them by digest, so a node can never run a different build under the same
 * tag, and a node that already has the image starts the task without asking the registry.
 */

/** `host[:port]`: a registry address, never a URL (Docker speaks HTTPS, or HTTP to an insecure registry). */
export function validateRegistry(raw: string): string {
  const value = raw.trim().replace(/\/+$/, '');
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/.test(value)) {
    throw new UsageError(`invalid registry "${raw}"`, { code: 'invalid_registry', hint: 'give HOST:PORT, as in --registry 10.0.0.5:5000 (no scheme, no path)' });
  }
  return value;
}

/** What a service names: the tag itself without a registry, else the digest the registry holds. */
export async function pinnedImage(swarm: SwarmClient, ref: string, registry: string | undefined): Promise<string> {
  if (!registry) return ref;
  const pinned = await swarm.pushedDigest(ref);
  if (pinned) return pinned;
  throw new PlatformError(`${ref} is not in the registry ${registry}`, {
    code: 'image_not_pushed',
    hint: `run faasctl up --registry ${registry}; it builds and pushes faasctl's images`,
  });
}
