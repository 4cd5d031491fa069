import { execFileSync } from 'node:child_process';

/**
 * The cluster project's second global setup: the 3-node Swarm of scripts/cluster.sh
 * (idempotent; ~0.1 s when it is already up, as after scripts/test-cluster.sh). It stays up
 * afterwards: `bash scripts/cluster.sh down` (and .ci/run) removes it.
 */
export function setup(): void {
  execFileSync('bash', ['scripts/cluster.sh', 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
}
