import Docker from 'dockerode';
import type { Logger } from '../core/ports.js';
import type { TlsFiles } from '../config/types.js';
import type { EngineInfo, NamedObject, SwarmClient, SwarmNode, SwarmState, SwarmTask } from './client.js';
import { planConnection } from './connect.js';
import { statusCode, toNamedObject, toSwarmNode, toSwarmTask } from './documents.js';
import { mapDockerError } from './errors.js';
import { createModem } from './modem.js';
import type { ServiceSpec } from './spec.js';
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

  /** `onNotFound` turns the engine's 404 into a value, for lookups and idempotent removals. */
  private async call<T>(what: string, fn: () => Promise<T>, onNotFound?: () => T): Promise<T> {
    const started = performance.now();
    this.log.debug(`docker: ${what}`);
    try {
      const result = await fn();
      this.log.debug(`docker: ${what} ok (${(performance.now() - started).toFixed(1)} ms)`);
      return result;
    } catch (err) {
      if (onNotFound && statusCode(err) === 404) {
        this.log.debug(`docker: ${what}: not found`);
        return onNotFound();
      }
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
      await this.docker.getImage(ref).inspect();
      return true;
    }, absent(false));
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

  findSecret(name: string): Promise<NamedObject | undefined> {
    return this.call(`secret ls name=${name}`, async () => {
      const secrets = await this.docker.listSecrets({ filters: { name: [name] } });
      return (secrets as unknown as Array<Record<string, unknown>>).map(toNamedObject).find((s) => s.name === name);
    });
  }

  createSecret(name: string, data: string, labels: Record<string, string>): Promise<string> {
    return this.call(`secret create ${name}`, async () => {
      // Only the name goes to the debug log: the data is a password.
      const created: Docker.Secret = await this.docker.createSecret({ Name: name, Labels: labels, Data: Buffer.from(data).toString('base64') });
      return created.id;
    });
  }

  removeSecret(id: string): Promise<void> {
    return this.call(`secret rm ${id}`, () => this.docker.getSecret(id).remove() as Promise<void>, absent(undefined));
  }

  createService(spec: ServiceSpec): Promise<string> {
    // No QueryRegistry (API ≥ 1.30 does not resolve digests unless asked): a local image stays local.
    return this.call(`service create ${spec.Name}`, async () => (await this.docker.createService(spec as Docker.CreateServiceOptions)).id);
  }

  inspectService(nameOrId: string): Promise<NamedObject | undefined> {
    return this.call(`service inspect ${nameOrId}`, async () => toNamedObject(await this.docker.getService(nameOrId).inspect()), absent(undefined));
  }

  removeService(id: string): Promise<void> {
    return this.call(`service rm ${id}`, () => this.docker.getService(id).remove() as Promise<void>, absent(undefined));
  }

  listTasks(serviceId: string): Promise<SwarmTask[]> {
    return this.call(`service ps ${serviceId}`, async () => (await this.docker.listTasks({ filters: { service: [serviceId] } })).map(toSwarmTask));
  }

  volumeExists(name: string): Promise<boolean> {
    return this.call(`volume inspect ${name}`, async () => {
      await this.docker.getVolume(name).inspect();
      return true;
    }, absent(false));
  }

  createVolume(name: string, labels: Record<string, string>): Promise<void> {
    return this.call(`volume create ${name}`, async () => {
      await this.docker.createVolume({ Name: name, Driver: 'local', Labels: labels });
    });
  }

  removeVolume(name: string): Promise<void> {
    return this.call(`volume rm ${name}`, () => this.docker.getVolume(name).remove() as Promise<void>, absent(undefined));
  }

  async close(): Promise<void> {
    // unix and tcp transports keep no connection open between calls.
  }
}

function absent<T>(value: T): () => T {
  return () => value;
}
