import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/core/platform/doctor.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { UsageError, PlatformError } from '../../src/base/errors.js';
import { pinnedImage, validateRegistry } from '../../src/core/platform/images.js';
import { splitTag } from '../../src/swarm/docker-swarm-client.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

describe('validateRegistry', () => {
  it.each(['10.0.0.5:5000', 'registry.lan', 'registry.lan:443', 'localhost:5000', '[fd00::5]:5000', 'reg:5000/'])('accepts %s', (raw) => {
    expect(validateRegistry(raw)).toBe(raw.replace(/\/$/, ''));
  });

  it.each(['http://10.0.0.5:5000', '10.0.0.5:5000/path', '', 'a b', '-bad:5000', 'host:port', 'host:123456'])('rejects %j naming the form to use', (raw) => {
    expect(() => validateRegistry(raw)).toThrow(UsageError);
    expect(() => validateRegistry(raw)).toThrow(/invalid registry/);
  });
});

describe('splitTag', () => {
  it('tells a port from a tag', () => {
    expect(splitTag('10.0.0.5:5000/faasctl/runtime-python:abc123')).toEqual({ repository: '10.0.0.5:5000/faasctl/runtime-python', tag: 'abc123' });
    expect(splitTag('10.0.0.5:5000/faasctl/runtime-python')).toEqual({ repository: '10.0.0.5:5000/faasctl/runtime-python', tag: 'latest' });
    expect(splitTag('faasctl/runtime-python:abc')).toEqual({ repository: 'faasctl/runtime-python', tag: 'abc' });
  });
});

describe('pinnedImage', () => {
  const DIGEST = `10.0.0.5:5000/faasctl/runtime-python@sha256:${'a'.repeat(64)}`;

  it('keeps the tag on a one-node Swarm (no registry)', async () => {
    expect(await pinnedImage(new FakeSwarm(), 'faasctl/runtime-python:abc', undefined)).toBe('faasctl/runtime-python:abc');
  });

  it('names the pushed digest with a registry', async () => {
    const swarm = new FakeSwarm({ pushedDigest: async () => DIGEST });
    expect(await pinnedImage(swarm, '10.0.0.5:5000/faasctl/runtime-python:abc', '10.0.0.5:5000')).toBe(DIGEST);
  });

  it('fails naming faasctl up --registry when the image was never pushed', async () => {
    const swarm = new FakeSwarm({ pushedDigest: async () => undefined });
    const err = await pinnedImage(swarm, '10.0.0.5:5000/faasctl/runtime-python:abc', '10.0.0.5:5000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).hint).toBe("run faasctl up --registry 10.0.0.5:5000; it builds and pushes faasctl's images");
  });
});

describe('resolveConfig: registry', () => {
  const file = { currentContext: 'lab', contexts: { lab: { host: 'tcp://10.0.0.5:2376', registry: '10.0.0.5:5000' } } };

  it('comes from the context, and FAASCTL_REGISTRY beats it', () => {
    expect(resolveConfig({ flags: {}, env: {}, file }).registry).toEqual({ value: '10.0.0.5:5000', source: 'context:lab' });
    expect(resolveConfig({ flags: {}, env: { FAASCTL_REGISTRY: '10.0.0.9:5000' }, file }).registry).toEqual({ value: '10.0.0.9:5000', source: 'env:FAASCTL_REGISTRY' });
    expect(resolveConfig({ flags: {}, env: {}, file: { contexts: {} } }).registry).toEqual({ value: undefined, source: 'default' });
  });
});

describe('doctor on a multi-node Swarm', () => {
  const node = (id: string) => ({ id, hostname: id, role: 'worker' as const, state: 'ready', availability: 'active', leader: false, cpus: 2, memoryBytes: 2 ** 33 });
  const run = (swarm: FakeSwarm, registry?: string) =>
    runDoctor({
      swarm: async () => swarm,
      db: () => Promise.reject(new Error('no db')),
      hasDatabase: false,
      runtimeImage: `${registry ?? 'x'}/faasctl/runtime-python:abc`,
      registry,
      expectedSchema: 5,
      schemaVersion: async () => 5,
    });
  const registryCheck = async (swarm: FakeSwarm, registry?: string) => (await run(swarm, registry)).find((c) => c.name === 'registry');

  it('warns when several nodes have no registry to pull from, and says nothing on one node', async () => {
    expect(await registryCheck(new FakeSwarm({ listNodes: async () => [node('a'), node('b')] }))).toMatchObject({ status: 'warn', fix: expect.stringContaining('faasctl up --registry') });
    expect(await registryCheck(new FakeSwarm())).toBeUndefined();
  });

  it('checks the runtime image is in the registry', async () => {
    const pushed = new FakeSwarm({ pushedDigest: async () => `10.0.0.5:5000/faasctl/runtime-python@sha256:${'b'.repeat(64)}` });
    expect(await registryCheck(pushed, '10.0.0.5:5000')).toMatchObject({ status: 'ok' });
    const missing = new FakeSwarm({ pushedDigest: async () => undefined });
    expect(await registryCheck(missing, '10.0.0.5:5000')).toMatchObject({ status: 'fail', exitCode: 3, fix: 'run faasctl up --registry 10.0.0.5:5000' });
  });
});
