import { describe, expect, it } from 'vitest';
import { claimCandidates, idleTasks, standbyToken } from '../../src/core/pool/claim-plan.js';
import { DEFAULT_POOL_CLASS, parsePoolClassName, poolClassName, poolFit } from '../../src/core/pool/classes.js';
import { buildPoolServiceSpec } from '../../src/swarm/pool-spec.js';
import type { SwarmTask } from '../../src/swarm/client.js';
import { refreshPools, type PoolAdminDeps } from '../../src/core/pool/pool-admin.js';

const MIB = 1024 * 1024;
const version = { image: null, secrets: [] as string[], placement: { constraints: [] as string[], spread: [] as string[] }, memoryBytes: 256 * MIB, nanoCpus: 1e9 };
const task = (id: string, over: Partial<SwarmTask> = {}): SwarmTask => ({
  id,
  state: 'running',
  desiredState: 'running',
  message: '',
  ports: [{ target: 8080, published: 30000 }],
  labels: {},
  nodeId: 'n1',
  ...over,
});

describe('pool classes', () => {
  it('names a class by MiB and milli-CPUs, and reads the name back', () => {
    expect(poolClassName(DEFAULT_POOL_CLASS)).toBe('m256-c1000');
    expect(poolClassName({ memoryBytes: 512 * MIB, nanoCpus: 5e8 })).toBe('m512-c500');
    expect(parsePoolClassName('m512-c500')).toEqual({ memoryBytes: 512 * MIB, nanoCpus: 5e8 });
    expect(parsePoolClassName('warm')).toBeUndefined();
  });

  it('fits a plain version to the pool of its exact limits', () => {
    expect(poolFit(version, 'auto')).toEqual({ pool: 'm256-c1000' });
    expect(poolFit({ ...version, memoryBytes: 128 * MIB }, 'pool')).toEqual({ pool: 'm128-c1000' });
  });

  it('falls back to a service for isolation service, a dependency image, secrets or placement', () => {
    expect(poolFit(version, 'service')).toEqual({ fallback: 'isolation service' });
    expect(poolFit({ ...version, image: 'faasctl/deps:abc' }, 'auto')).toEqual({ fallback: 'it has its own dependency image' });
    expect(poolFit({ ...version, secrets: ['db'] }, 'auto')).toEqual({ fallback: 'it mounts secrets' });
    expect(poolFit({ ...version, placement: { constraints: ['node.role==worker'], spread: [] } }, 'auto')).toEqual({ fallback: 'it has placement constraints' });
  });
});

describe('claim planning', () => {
  it('offers running, published, unclaimed tasks on live nodes only', () => {
    const tasks = [task('a'), task('b', { state: 'starting' }), task('c', { desiredState: 'shutdown' }), task('d', { ports: [] }), task('e'), task('f', { nodeId: 'down' }), task('g')];
    const ids = claimCandidates(tasks, new Set(['e']), new Set(['down']), () => 0.5).map((t) => t.id);
    expect(ids.sort()).toEqual(['a', 'g']);
  });

  it('shuffles, so racing claimers start on different containers', () => {
    const tasks = ['a', 'b', 'c', 'd'].map((id) => task(id));
    const first = claimCandidates(tasks, new Set(), new Set(), () => 0)[0]?.id;
    const other = claimCandidates(tasks, new Set(), new Set(), () => 0.99)[0]?.id;
    expect(first).not.toBe(other);
  });

  it('counts idle tasks as running and unclaimed', () => {
    expect(idleTasks([task('a'), task('b'), task('c', { state: 'complete' })], new Set(['b'])).map((t) => t.id)).toEqual(['a']);
  });

  it("reads a container's token from its stdout only, in the exact line format", () => {
    const token = 'ab'.repeat(32);
    const out = (text: string, stream: 'stdout' | 'stderr' = 'stdout') => ({ stream, data: Buffer.from(text) });
    expect(standbyToken([out(`FAASCTL-STANDBY:8080:${token}\n`)])).toBe(token);
    expect(standbyToken([out('FAASCTL-STANDBY:8080:'), out(`${token}\n`)])).toBe(token);
    expect(standbyToken([out(`FAASCTL-STANDBY:8080:${token}\n`, 'stderr')])).toBeUndefined();
    expect(standbyToken([out('FAASCTL-STANDBY:8080:short\n')])).toBeUndefined();
    expect(standbyToken([])).toBeUndefined();
  });
});

describe('pool service spec', () => {
  it('runs the standby mode in the sandbox, with the class limits, restarting every finished container', () => {
    const spec = buildPoolServiceSpec({ installation: 'inst123456789abc', className: 'm256-c1000', image: 'img', replicas: 3, ...DEFAULT_POOL_CLASS });
    const t = spec.TaskTemplate;
    expect(spec.Name).toBe('faasctl-pool-inst12345678-m256-c1000');
    expect(t.ContainerSpec).toMatchObject({ Args: ['standby'], User: '10001:10001', ReadOnly: true, CapabilityDrop: ['ALL'], Init: false });
    expect(t.ContainerSpec.Env).not.toContain(expect.stringMatching(/NONCE|TOKEN/));
    expect(t.Resources?.Limits).toMatchObject({ MemoryBytes: 256 * MIB, NanoCPUs: 1e9 });
    expect(t.RestartPolicy).toEqual({ Condition: 'any', Delay: 0 });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(spec.Labels).toMatchObject({ 'io.faasctl.component': 'pool', 'io.faasctl.pool-class': 'm256-c1000', 'io.faasctl.installation': 'inst123456789abc' });
  });
});

describe('pools after an upgrade', () => {
  // With a registry the runtime image is pinned as repository@digest (images.ts pinnedImage).
  const pinned = 'registry.test:5000/faasctl/runtime-python@sha256:' + 'a'.repeat(64);
  const poolOn = (image: string) => {
    const spec = buildPoolServiceSpec({ installation: 'inst', className: 'm256-c1000', image, replicas: 2, ...DEFAULT_POOL_CLASS });
    return { id: 'svc1', name: spec.Name, labels: spec.Labels ?? {}, createdAt: new Date(), env: [], replicas: 2, spec };
  };
  const depsWith = (service: ReturnType<typeof poolOn>) => {
    const touched: string[] = [];
    const deps = {
      swarm: {
        listServices: async () => [service],
        createService: async () => touched.push('create'),
        removeService: async () => touched.push('remove'),
        updateService: async () => touched.push('update'),
      },
      store: { meta: { installationId: async () => 'inst' } },
      runtimeImage: async () => pinned,
    } as unknown as PoolAdminDeps;
    return { deps, touched };
  };

  it('leaves a pool alone whose image is the current one, a pinned digest included', async () => {
    const { deps, touched } = depsWith(poolOn(pinned));
    expect(await refreshPools(deps)).toEqual([]);
    expect(touched).toEqual([]);
  });
});
