import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BULK_IDLE_EXIT_MS, REPLICA_PORT, buildReplicaServiceSpec, replicaLabels, replicaSpecDigest, type ReplicaSpecInput } from '../../src/swarm/replica-spec.js';
import { bulkServiceName, tokenSecretName, warmServiceName, codeConfigName } from '../../src/swarm/names.js';

const INSTALLATION = '0123456789abcdef0123456789abcdef';
const FUNCTION_ID = '7d1c3b2a-9e8f-4a6b-8c7d-6e5f4a3b2c1d';
const REQUEST_ID = '0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b';
const MIB = 1024 * 1024;
const SECOND_NS = 1_000_000_000;

function input(over: Partial<ReplicaSpecInput> = {}): ReplicaSpecInput {
  return {
    purpose: 'warm',
    installation: INSTALLATION,
    image: 'faasctl-python:3.12-abc',
    replicas: 3,
    workers: 4,
    entry: 'main',
    timeoutMs: 30_000,
    memoryBytes: 256 * MIB,
    nanoCpus: 500_000_000,
    outputLimit: 64 * 1024,
    env: { MODE: 'fast', URL: 'a=b' },
    code: { configId: 'cfg-code', configName: codeConfigName(INSTALLATION, 'a'.repeat(64)) },
    token: { secretId: 'sec-1', secretName: 'faasctl-token-x' },
    labels: { functionId: FUNCTION_ID, functionName: 'hello', version: 7, userId: 'user-9' },
    ...over,
  };
}

const warm = buildReplicaServiceSpec(input());
const bulk = buildReplicaServiceSpec(input({ purpose: 'bulk', replicas: 2, workers: 2, labels: { ...input().labels, requestId: REQUEST_ID } }));
const container = warm.TaskTemplate.ContainerSpec;

describe('buildReplicaServiceSpec: warm and bulk', () => {
  it('names a warm service by installation and function, a bulk one by request', () => {
    expect(warm.Name).toBe(warmServiceName(INSTALLATION, FUNCTION_ID));
    expect(warm.Name).toBe('faasctl-warm-0123456789ab-7d1c3b2a9e8f4a6b8c7d6e5f4a3b2c1d');
    expect(bulk.Name).toBe(bulkServiceName(REQUEST_ID));
    expect(bulk.Name).toBe('faasctl-bulk-0f8e2a4c1b3d4e5f8a9b0c1d2e3f4a5b');
  });

  it('labels a warm service with its function but no request', () => {
    const labels = {
      'io.faasctl.managed': 'true',
      'io.faasctl.component': 'warm',
      'io.faasctl.installation': INSTALLATION,
      'io.faasctl.function': FUNCTION_ID,
      'io.faasctl.function-name': 'hello',
      'io.faasctl.version': '7',
      'io.faasctl.user': 'user-9',
    };
    expect(warm.Labels).toEqual(labels);
    expect(container.Labels).toEqual({ ...labels, 'io.faasctl.spec': expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(replicaLabels(input())).toEqual(labels);
  });

  it('marks the containers with a digest of their template, which changes with the spec', () => {
    const digest = replicaSpecDigest(warm);
    expect(digest).toBe(container.Labels?.['io.faasctl.spec']);
    expect(replicaSpecDigest(buildReplicaServiceSpec(input()))).toBe(digest);
    expect(replicaSpecDigest(buildReplicaServiceSpec({ ...input(), labels: { ...input().labels, version: 8 } }))).not.toBe(digest);
    expect(replicaSpecDigest(buildReplicaServiceSpec({ ...input(), workers: 5 }))).not.toBe(digest);
  });

  it('labels a bulk service with its request too, on the service and the containers', () => {
    expect(bulk.Labels).toMatchObject({ 'io.faasctl.component': 'bulk', 'io.faasctl.request': REQUEST_ID, 'io.faasctl.function': FUNCTION_ID });
    expect(bulk.TaskTemplate.ContainerSpec.Labels).toEqual({ ...bulk.Labels, 'io.faasctl.spec': replicaSpecDigest(bulk) });
  });

  it('runs the requested number of replicas of the serve mode', () => {
    expect(warm.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(bulk.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(container.Image).toBe('faasctl-python:3.12-abc');
    expect(container.Args).toEqual(['serve']);
  });
});

describe('buildReplicaServiceSpec: networking and lifecycle', () => {
  it('publishes the runtime port in host mode, leaving the published port to the node', () => {
    expect(warm.EndpointSpec).toEqual({ Ports: [{ Protocol: 'tcp', TargetPort: REPLICA_PORT, PublishMode: 'host' }] });
    expect(warm.EndpointSpec?.Ports[0]).not.toHaveProperty('PublishedPort');
    expect(container.Env).toContain(`FAASCTL_PORT=${REPLICA_PORT}`);
  });

  it('rolls start-first, one at a time, pausing on failure', () => {
    expect(warm.UpdateConfig).toEqual({ Parallelism: 1, Delay: 0, Order: 'start-first', FailureAction: 'pause', Monitor: SECOND_NS });
  });

  it('restarts a warm replica whatever ended it; a bulk replica only on failure, and it exits when idle', () => {
    expect(warm.TaskTemplate.RestartPolicy).toMatchObject({ Condition: 'any' });
    expect(warm.TaskTemplate.ContainerSpec.Env?.some((e) => e.startsWith('FAASCTL_IDLE_EXIT_MS='))).toBe(false);
    const bulk = buildReplicaServiceSpec(input({ purpose: 'bulk', labels: { ...input().labels, requestId: '0b7e6d4c-1a2b-4c3d-8e9f-0a1b2c3d4e5f' } }));
    expect(bulk.TaskTemplate.RestartPolicy).toMatchObject({ Condition: 'on-failure' });
    expect(bulk.TaskTemplate.ContainerSpec.Env).toContain(`FAASCTL_IDLE_EXIT_MS=${BULK_IDLE_EXIT_MS}`);
  });

  it('gives a replica time to drain: the function timeout plus a margin', () => {
    expect(container.StopGracePeriod).toBe(35 * SECOND_NS);
    expect(buildReplicaServiceSpec(input({ timeoutMs: 1_500 })).TaskTemplate.ContainerSpec.StopGracePeriod).toBe(7 * SECOND_NS);
  });
});

describe('buildReplicaServiceSpec: sandbox', () => {
  it('locks the container down like a cold invocation', () => {
    expect(container.ReadOnly).toBe(true);
    expect(container.CapabilityDrop).toEqual(['ALL']);
    expect(container.User).toBe('10001:10001');
    expect(container.Init).toBe(false);
    expect(container.Mounts).toEqual([{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * MIB, Mode: 0o1777 } }]);
  });

  it('multiplies memory, CPU and process limits by the workers', () => {
    expect(warm.TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 4 * 256 * MIB, NanoCPUs: 4 * 500_000_000, Pids: 256 + 4 * 128 } });
    expect(bulk.TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 2 * 256 * MIB, NanoCPUs: 2 * 500_000_000, Pids: 256 + 2 * 128 } });
    expect(container.Env).toContain(`FAASCTL_MEMORY_LIMIT=${4 * 256 * MIB}`);
  });

  it('mounts the token secret 0400 and the code config 0440, owned by the runtime user', () => {
    expect(container.Secrets).toEqual([{ SecretID: 'sec-1', SecretName: 'faasctl-token-x', File: { Name: 'faasctl-token', UID: '10001', GID: '10001', Mode: 0o400 } }]);
    expect(container.Configs).toEqual([
      { ConfigID: 'cfg-code', ConfigName: codeConfigName(INSTALLATION, 'a'.repeat(64)), File: { Name: '/faas/function.py', UID: '10001', GID: '10001', Mode: 0o440 } },
    ]);
    expect(container.Env).toContain('FAASCTL_TOKEN_FILE=/run/secrets/faasctl-token');
  });

  it('passes the user environment first, then the settings, dropping user FAASCTL_* variables', () => {
    const spec = buildReplicaServiceSpec(input({ env: { MODE: 'fast', FAASCTL_PORT: '1', FAASCTL_TOKEN_FILE: '/tmp/mine', URL: 'a=b' } }));
    expect(spec.TaskTemplate.ContainerSpec.Env).toEqual([
      'MODE=fast',
      'URL=a=b',
      'FAASCTL_ENTRY=main',
      'FAASCTL_TIMEOUT_MS=30000',
      'FAASCTL_OUTPUT_LIMIT=65536',
      `FAASCTL_MEMORY_LIMIT=${4 * 256 * MIB}`,
      'FAASCTL_CODE_FILE=/faas/function.py',
      'FAASCTL_FUNCTION_NAME=hello',
      'FAASCTL_FUNCTION_VERSION=7',
      `FAASCTL_INSTALLATION=${INSTALLATION}`,
      `FAASCTL_PORT=${REPLICA_PORT}`,
      'FAASCTL_WORKERS=4',
      'FAASCTL_TOKEN_FILE=/run/secrets/faasctl-token',
      'FAASCTL_VERSION=7',
    ]);
  });

  it('keeps the token secret name out of the labels', () => {
    expect(JSON.stringify([warm.Labels, container.Labels, container.Env])).not.toContain('faasctl-token-x');
  });
});

describe('replica names', () => {
  it("fit Swarm's 63-character limit and its character set for any uuid", () => {
    for (let i = 0; i < 200; i++) {
      const installation = randomUUID().replaceAll('-', '');
      const names = [warmServiceName(installation, randomUUID()), bulkServiceName(randomUUID()), tokenSecretName(installation, randomUUID(), 'abcdef012345')];
      for (const name of names) {
        expect(name.length, name).toBeLessThanOrEqual(63);
        expect(name).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
      }
    }
  });

  it('are stable for a function (a roll updates the same service) and distinct between functions and installations', () => {
    expect(warmServiceName(INSTALLATION, FUNCTION_ID)).toBe(warmServiceName(INSTALLATION, FUNCTION_ID));
    expect(warmServiceName(INSTALLATION, randomUUID())).not.toBe(warmServiceName(INSTALLATION, FUNCTION_ID));
    expect(warmServiceName('fedcba9876543210', FUNCTION_ID)).not.toBe(warmServiceName(INSTALLATION, FUNCTION_ID));
  });

  it('give each token its own secret', () => {
    expect(tokenSecretName(INSTALLATION, FUNCTION_ID, 'aaaaaaaaaaaa')).not.toBe(tokenSecretName(INSTALLATION, FUNCTION_ID, 'bbbbbbbbbbbb'));
    expect(tokenSecretName(INSTALLATION, FUNCTION_ID, 'aaaaaaaaaaaa')).toBe('faasctl-token-0123456789ab-7d1c3b2a9e8f4a6b8c7d-aaaaaaaaaaaa');
  });
});
