import Docker from 'dockerode';
import type { Logger } from '../base/ports.js';
import type { TlsFiles } from '../config/types.js';
import type { ContainerInfo, ContainerRun, ContainerStats, EngineInfo, NamedObject, ServiceInfo, SwarmClient, SwarmNode, SwarmState, SwarmTask } from './client.js';
import { planConnection } from './connect.js';
import { labelFilter, statusCode, toContainerInfo, toContainerStats, toNamedObject, toServiceInfo, toSwarmNode, toSwarmTask } from './documents.js';
import { mapDockerError } from './errors.js';
import { demuxAll, LogDemuxer, type LogChunk } from './log-demux.js';
import { createModem } from './modem.js';
import type { ContainerRunSpec } from './sandbox.js';
import type { ServiceSpec } from './spec.js';
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import http from 'node:http';
import type { SshTunnel } from './ssh-tunnel.js';
import { TunnelSocket } from './tunnel-socket.js';
import type { Readable } from 'node:stream';
import { importExternal } from '../base/external.js';

/** For ssh:// hosts, `tunnel` is the process's one SSH connection (the caller owns and closes it). */
export function connectSwarm(host: string, tls: TlsFiles | undefined, log: Logger, tunnel?: SshTunnel): SwarmClient {
  const plan = planConnection(host, tls);
  log.debug(`docker: ${plan.transport} transport to ${host}`);
  let agent: http.Agent | undefined;
  if (plan.ssh) {
    if (!tunnel) throw new Error('an ssh:// Docker host needs the SSH tunnel');
    const socketPath = plan.ssh.socketPath;
    // keep-alive: consecutive calls reuse an open channel instead of opening one each.
    agent = new http.Agent({ keepAlive: true });
    agent.createConnection = (() => new TunnelSocket(() => tunnel.streamLocal(socketPath)).connect()) as unknown as typeof agent.createConnection;
  }
  const modem = createModem({ ...plan.options, agent } as Docker.DockerOptions);
  return new DockerSwarmClient(new Docker({ modem } as Docker.DockerOptions), host, log, () => agent?.destroy());
}

/**
 * Every call logs before and after (with --debug) and maps errors at this boundary.
 * Over 300 lines on purpose: one short method per Engine API call of the SwarmClient port, and
 * splitting the class would only spread the one boundary (logging, error mapping) over files.
 */
export class DockerSwarmClient implements SwarmClient {
  constructor(
    private readonly docker: Docker,
    readonly endpoint: string,
    private readonly log: Logger,
    private readonly release: () => void = () => {},
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
    return this.call(
      `image inspect ${ref}`,
      async () => {
        await this.docker.getImage(ref).inspect();
        return true;
      },
      absent(false),
    );
  }

  buildImage(contextDir: string, tag: string, buildArgs: Record<string, string>, onLine?: (line: string) => void, labels: Record<string, string> = {}): Promise<void> {
    return this.call(`build ${tag}`, async () => {
      const stream = await this.docker.buildImage({ context: contextDir, src: readdirSync(contextDir) }, { t: tag, buildargs: buildArgs, labels, rm: true, forcerm: true, version: '1' });
      await this.followBuild(stream, onLine);
    });
  }

  tagImage(source: string, target: string): Promise<void> {
    return this.call(`tag ${source} ${target}`, async () => {
      const { repository, tag } = splitTag(target);
      await this.docker.getImage(source).tag({ repo: repository, tag });
    });
  }

  listImages(label: string): Promise<Array<{ id: string; tags: string[]; digests: string[] }>> {
    return this.call(`image ls label=${label}`, async () => {
      const images = await this.docker.listImages({ filters: JSON.stringify({ label: [label] }) } as object);
      return images.map((i) => ({ id: i.Id, tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), digests: (i.RepoDigests ?? []).filter((d) => !d.startsWith('<none>')) }));
    });
  }

  removeImage(ref: string): Promise<void> {
    return this.call(
      `image rm ${ref}`,
      async () => {
        await this.docker.getImage(ref).remove();
      },
      absent(undefined),
    );
  }

  imageLabels(ref: string): Promise<Record<string, string> | undefined> {
    return this.call(`image inspect ${ref}`, async () => (await this.docker.getImage(ref).inspect()).Config?.Labels ?? {}, absent(undefined));
  }

  imageId(ref: string): Promise<string | undefined> {
    return this.call(`image inspect ${ref}`, async () => (await this.docker.getImage(ref).inspect()).Id, absent(undefined));
  }

  buildImageFromFiles(files: Map<string, Buffer>, tag: string, onLine?: (line: string) => void): Promise<void> {
    return this.call(`build ${tag}`, async () => {
      const { pack: createPack } = await importExternal<typeof import('tar-stream')>('tar-stream');
      const pack = createPack();
      for (const [name, content] of files) pack.entry({ name, mode: 0o644 }, content);
      pack.finalize();
      const stream = await this.docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true, version: '1' });
      await this.followBuild(stream, onLine);
    });
  }

  /** Relays a build's output lines; rejects with the builder's error. */
  private followBuild(stream: NodeJS.ReadableStream, onLine?: (line: string) => void): Promise<void> {
    // The builder sends a step's output in chunks that may end mid-line: whole lines only, so
    // an installer's error line is read as one (a split "E: Unable to locate pack|age" was not).
    let partial = '';
    const emit = (line: string) => {
      if (line.trim()) onLine?.(line);
    };
    return new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, events: Array<{ error?: string }>) => {
          emit(partial);
          partial = '';
          const failed = events.find((e) => e.error);
          if (err) reject(err);
          else if (failed) reject(new Error(`image build failed: ${failed.error}`));
          else resolve();
        },
        (event: { stream?: string }) => {
          const lines = (partial + (event.stream ?? '')).split('\n');
          partial = lines.pop() ?? '';
          lines.forEach(emit);
        },
      );
    });
  }

  pushImage(ref: string, onLine?: (line: string) => void): Promise<string> {
    return this.call(`push ${ref}`, async () => {
      const { repository, tag } = splitTag(ref);
      // An empty auth header: the registries faasctl pushes to are the cluster's own.
      const stream = (await this.docker.getImage(repository).push({ tag, authconfig: {} })) as unknown as NodeJS.ReadableStream;
      const digest = await new Promise<string | undefined>((resolve, reject) => {
        let found: string | undefined;
        this.docker.modem.followProgress(
          stream,
          (err: Error | null, events: Array<{ error?: string; aux?: { Digest?: string } }>) => {
            const failed = events.find((e) => e.error);
            if (err) reject(err);
            else if (failed) reject(new Error(`push of ${ref} failed: ${failed.error}`));
            else resolve(found);
          },
          (event: { status?: string; id?: string; aux?: { Digest?: string } }) => {
            if (event.aux?.Digest) found = event.aux.Digest;
            if (event.status) onLine?.(event.id ? `${event.id}: ${event.status}` : event.status);
          },
        );
      });
      if (!digest) throw new Error(`the registry did not return a digest for ${ref}`);
      return `${repository}@${digest}`;
    });
  }

  pushedDigest(ref: string): Promise<string | undefined> {
    return this.call(
      `image inspect ${ref}`,
      async () => {
        const { repository } = splitTag(ref);
        const info = await this.docker.getImage(ref).inspect();
        return (info.RepoDigests ?? []).find((d) => d.startsWith(`${repository}@`));
      },
      absent(undefined),
    );
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

  listSecrets(labels: string[]): Promise<NamedObject[]> {
    return this.call(`secret ls ${labels.join(',')}`, async () =>
      ((await this.docker.listSecrets({ filters: labelFilter(labels) } as object)) as unknown as Array<Record<string, unknown>>).map(toNamedObject),
    );
  }

  createService(spec: ServiceSpec): Promise<string> {
    // No QueryRegistry (API ≥ 1.30 does not resolve digests unless asked): a local image stays local.
    return this.call(`service create ${spec.Name}`, async () => (await this.docker.createService(spec as Docker.CreateServiceOptions)).id);
  }

  inspectService(nameOrId: string): Promise<ServiceInfo | undefined> {
    return this.call(`service inspect ${nameOrId}`, async () => toServiceInfo(await this.docker.getService(nameOrId).inspect()), absent(undefined));
  }

  listServices(labels: string[]): Promise<ServiceInfo[]> {
    return this.call(`service ls ${labels.join(',')}`, async () => (await this.docker.listServices({ filters: labelFilter(labels) } as object)).map(toServiceInfo));
  }

  updateService(id: string, spec: ServiceSpec): Promise<void> {
    return this.call(`service update ${spec.Name}`, async () => {
      for (let attempt = 0; ; attempt++) {
        const service = this.docker.getService(id);
        const current = (await service.inspect()) as { Version?: { Index?: number } };
        try {
          // The version goes in the query, the spec alone in the body.
          await service.update({ _query: { version: current.Version?.Index ?? 0 }, _body: spec } as object);
          return;
        } catch (err) {
          // "update out of sequence": someone else updated it since our inspect.
          if (attempt >= 2 || !/out of sequence/i.test((err as Error).message)) throw err;
        }
      }
    });
  }

  removeService(id: string): Promise<void> {
    return this.call(`service rm ${id}`, () => this.docker.getService(id).remove() as Promise<void>, absent(undefined));
  }

  listTasks(serviceId: string): Promise<SwarmTask[]> {
    return this.call(`service ps ${serviceId}`, async () => (await this.docker.listTasks({ filters: { service: [serviceId] } })).map(toSwarmTask));
  }

  listTasksByLabel(labels: string[]): Promise<SwarmTask[]> {
    // Tasks carry the service's container labels, so one call covers every invocation.
    return this.call(`task ls ${labels.join(',')}`, async () => (await this.docker.listTasks({ filters: labelFilter(labels) } as object)).map(toSwarmTask));
  }

  async taskLogs(taskId: string, options: { stderr?: boolean } = {}): Promise<LogChunk[]> {
    const what = `task logs ${taskId.slice(0, 12)}`;
    const raw = await this.call(
      what,
      () =>
        // dockerode has Task#logs (GET /tasks/{id}/logs) but its types omit it.
        (this.docker.getTask(taskId) as unknown as { logs(o: object): Promise<Buffer | Readable> }).logs({ stdout: true, stderr: Boolean(options.stderr), follow: false }),
      absent(Buffer.alloc(0)),
    );
    if (Buffer.isBuffer(raw)) return demuxAll(raw);
    const demux = new LogDemuxer();
    const chunks: LogChunk[] = [];
    for await (const bytes of raw as Readable) chunks.push(...demux.push(bytes as Buffer));
    return chunks;
  }

  async *serviceLogs(id: string, options: { follow: boolean; signal?: AbortSignal }): AsyncIterable<LogChunk> {
    const what = `service logs ${id}`;
    const raw = await this.call(what, () => this.docker.getService(id).logs({ stdout: true, stderr: true, follow: options.follow } as object) as unknown as Promise<Buffer | Readable>);
    if (Buffer.isBuffer(raw)) {
      yield* demuxAll(raw);
      return;
    }
    const stream = raw as Readable;
    const abort = () => stream.destroy();
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    const demux = new LogDemuxer();
    try {
      for await (const bytes of stream) yield* demux.push(bytes as Buffer);
    } catch (err) {
      // A destroyed stream (our abort, or the service removed) simply ends the output.
      if (!options.signal?.aborted && !stream.destroyed) throw mapDockerError(err, this.endpoint, what);
    } finally {
      options.signal?.removeEventListener('abort', abort);
      stream.destroy();
    }
  }

  findConfig(name: string): Promise<NamedObject | undefined> {
    return this.call(`config inspect ${name}`, async () => toNamedObject(await this.docker.getConfig(name).inspect()), absent(undefined));
  }

  createConfig(name: string, data: string | Buffer, labels: Record<string, string>): Promise<string> {
    return this.call(`config create ${name}`, async () => {
      const created = (await this.docker.createConfig({ Name: name, Labels: labels, Data: Buffer.from(data).toString('base64') })) as { id: string };
      return created.id;
    });
  }

  listConfigs(labels: string[]): Promise<NamedObject[]> {
    return this.call(`config ls ${labels.join(',')}`, async () =>
      ((await this.docker.listConfigs({ filters: labelFilter(labels) } as object)) as unknown as Array<Record<string, unknown>>).map(toNamedObject),
    );
  }

  removeConfig(id: string): Promise<boolean> {
    // Two deletes racing for one shared config: only the one that removed it counts it.
    return this.call(
      `config rm ${id}`,
      async () => {
        await this.docker.getConfig(id).remove();
        return true;
      },
      absent(false),
    );
  }

  runContainer(spec: ContainerRunSpec): Promise<ContainerRun> {
    return this.call(`run ${spec.image} ${spec.cmd[0]}`, async () => {
      const container = await this.docker.createContainer(containerOptions(spec));
      try {
        // A read-only root takes a copy only into a volume, and only when the copy targets it.
        const at = spec.filesVolume ?? '/';
        await container.putArchive(await tarOf(spec.files, at), { path: at });
        // Attached before start, so not a byte of the live output is missed.
        const live = spec.onOutput ? relay((await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable, spec.onOutput) : undefined;
        await container.start();
        let timer: NodeJS.Timeout | undefined;
        let onAbort = () => {};
        const ended = await Promise.race([
          container.wait().then(() => 'exited' as const),
          new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), spec.timeoutMs))),
          new Promise<'cancelled'>((resolve) => {
            onAbort = () => resolve('cancelled');
            if (spec.signal?.aborted) onAbort();
            else spec.signal?.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', onAbort);
        if (ended !== 'exited') await container.kill().catch(() => {});
        await live;
        const state = (await container.inspect()).State;
        const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
        const chunks = demuxAll(logs);
        const text = (stream: string) => Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString('utf8');
        return { exitCode: state.ExitCode ?? -1, stdout: text('stdout'), stderr: text('stderr'), timedOut: ended === 'timeout', cancelled: ended === 'cancelled' };
      } finally {
        // v: the anonymous files volume goes with the container.
        await container.remove({ force: true, v: true }).catch((err: unknown) => this.log.debug(`docker: container rm ${container.id}: ${(err as Error).message}`));
      }
    });
  }

  listContainers(labels: string[]): Promise<ContainerInfo[]> {
    return this.call(`container ls ${labels.join(',')}`, async () =>
      (await this.docker.listContainers({ all: true, filters: labelFilter(labels) })).map((c) => toContainerInfo(c as unknown as Record<string, unknown>)),
    );
  }

  containerStats(id: string): Promise<ContainerStats | undefined> {
    // one-shot: answer now with one sample, instead of waiting a second for a second one.
    return this.call(
      `container stats ${id.slice(0, 12)}`,
      async () => toContainerStats((await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true } as object)) as unknown as Record<string, unknown>),
      absent(undefined),
    );
  }

  removeContainer(id: string): Promise<void> {
    return this.call(
      `container rm ${id}`,
      async () => {
        try {
          await this.docker.getContainer(id).remove({ force: true });
        } catch (err) {
          // The engine is removing it already (its service just went): as good as gone.
          if (statusCode(err) === 409 && /already in progress/.test((err as Error).message)) return;
          throw err;
        }
      },
      absent(undefined),
    );
  }

  volumeExists(name: string): Promise<boolean> {
    return this.call(
      `volume inspect ${name}`,
      async () => {
        await this.docker.getVolume(name).inspect();
        return true;
      },
      absent(false),
    );
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
    // unix and tcp keep nothing open between calls; over ssh, idle channels are closed here.
    this.release();
  }
}

/** The one-shot container: no network, no capabilities; the rest as the spec asks (see ContainerRunSpec). */
function containerOptions(spec: ContainerRunSpec): Docker.ContainerCreateOptions {
  const mounts = [
    ...Object.entries(spec.tmpfs ?? {}).map(([target, size]) => ({ Type: 'tmpfs' as const, Source: '', Target: target, TmpfsOptions: { SizeBytes: size, Mode: 0o1777 } })),
    ...(spec.filesVolume ? [{ Type: 'volume' as const, Source: '', Target: spec.filesVolume }] : []),
  ];
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    Labels: spec.labels,
    Env: spec.env,
    User: spec.user,
    NetworkDisabled: true,
    HostConfig: {
      Memory: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit ?? 64,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
      ReadonlyRootfs: spec.readOnlyRoot ?? false,
      Init: false,
      ...(mounts.length ? { Mounts: mounts } : {}),
    },
  };
}

/** Demultiplexes an attach stream to `onOutput`; resolves when the stream ends. */
function relay(stream: Readable, onOutput: (chunk: LogChunk) => void): Promise<void> {
  const demuxer = new LogDemuxer();
  return new Promise((resolve) => {
    stream.on('data', (bytes: Buffer) => demuxer.push(bytes).forEach(onOutput));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
}

/** A path under `root`, as a tar entry name; a file outside it is a bug in the spec. */
function relative(root: string, path: string): string {
  const rel = posix.relative(root, path);
  if (!rel || rel.startsWith('..')) throw new Error(`${path} is not under ${root}`);
  return rel;
}

/** A tar archive of the files (absolute paths), for putArchive at `root`. */
async function tarOf(files: Record<string, string | Buffer>, root = '/'): Promise<Buffer> {
  const { pack: createPack } = await importExternal<typeof import('tar-stream')>('tar-stream');
  const pack = createPack();
  for (const [path, content] of Object.entries(files)) pack.entry({ name: relative(root, path), mode: 0o644 }, content);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const part of pack) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function absent<T>(value: T): () => T {
  return () => value;
}

/** `host:port/repo:tag` → repository and tag (the port's colon is not a tag separator). */
export function splitTag(ref: string): { repository: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repository: ref, tag: 'latest' };
}
