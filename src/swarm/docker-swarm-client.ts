import Docker from 'dockerode';
import type { Logger } from '../core/ports.js';
import type { TlsFiles } from '../config/types.js';
import type { EngineInfo, SwarmClient, SwarmNode, SwarmState } from './client.js';
import { planConnection } from './connect.js';
import { mapDockerError } from './errors.js';
import { createModem } from './modem.js';
import { readdirSync } from 'node:fs';

export function connectSwarm(host: string, tls: TlsFiles | undefined, log: Logger): SwarmClient {
  const plan = planConnection(host, tls);
  log.debug(`docker: ${plan.transport} transport to ${host}`);
  return new DockerSwarmClient(new Docker({ modem: createModem(plan.options) } as Docker.DockerOptions), host, log);
}

/** Every call logs before and after (with --debug) and maps errors at this boundary. */
export class DockerSwarmClient implements SwarmClient {
  constructor(
    private readonly docker: Docker,
    readonly endpoint: string,
    private readonly log: Logger,
  ) {}

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.log.debug(`docker: ${what}`);
    try {
      const result = await fn();
      this.log.debug(`docker: ${what} ok (${(performance.now() - started).toFixed(1)} ms)`);
      return result;
    } catch (err) {
      this.log.debug(`docker: ${what} failed: ${(err as Error).message}`);
      throw mapDockerError(err, this.endpoint, what);
    }
  }

  engineInfo(): Promise<EngineInfo> {
    return this.call('version', async () => {
      const v = await this.docker.version();
      return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
    });
  }

  swarmState(): Promise<SwarmState> {
    return this.call('info', async () => {
      const info = await this.docker.info();
      const swarm = info.Swarm ?? {};
      return {
        localNodeState: swarm.LocalNodeState ?? 'inactive',
        nodeId: swarm.NodeID || undefined,
        isManager: Boolean(swarm.ControlAvailable),
        nodeAddr: swarm.NodeAddr || undefined,
      };
    });
  }

  initSwarm(advertiseAddr: string): Promise<void> {
    return this.call('swarm init', async () => {
      await this.docker.swarmInit({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: advertiseAddr });
    });
  }

  listNodes(): Promise<SwarmNode[]> {
    return this.call('node ls', async () => {
      const nodes = await this.docker.listNodes();
      return nodes.map(toSwarmNode);
    });
  }

  imageExists(ref: string): Promise<boolean> {
    return this.call(`image inspect ${ref}`, async () => {
      try {
        await this.docker.getImage(ref).inspect();
        return true;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return false;
        throw err;
      }
    });
  }

  buildImage(contextDir: string, tag: string, buildArgs: Record<string, string>, onLine?: (line: string) => void): Promise<void> {
    return this.call(`build ${tag}`, async () => {
      const stream = await this.docker.buildImage({ context: contextDir, src: readdirSync(contextDir) }, { t: tag, buildargs: buildArgs, rm: true, forcerm: true, version: '1' });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null, events: Array<{ error?: string }>) => {
            const failed = events.find((e) => e.error);
            if (err) reject(err);
            else if (failed) reject(new Error(`image build failed: ${failed.error}`));
            else resolve();
          },
          (event: { stream?: string }) => {
            for (const line of event.stream?.split('\n') ?? []) if (line.trim()) onLine?.(line);
          },
        );
      });
    });
  }

  async close(): Promise<void> {
    // unix and tcp transports keep no connection open between calls.
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Engine API's node document
function toSwarmNode(n: Record<string, any>): SwarmNode {
  return {
    id: n.ID ?? '',
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    state: n.Status?.State ?? 'unknown',
    availability: n.Spec?.Availability ?? 'unknown',
    leader: Boolean(n.ManagerStatus?.Leader),
    address: n.Status?.Addr,
    cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
    memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
  };
}
