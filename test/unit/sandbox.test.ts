import { describe, expect, it } from 'vitest';
import { nonceOf } from '../../src/core/invocations/invocation.js';
import { buildInvocationServiceSpec, checkContainerSpec, secretMounts, type InvocationSpecInput } from '../../src/swarm/sandbox.js';
import { codeConfigName, inputConfigName, invocationServiceName } from '../../src/swarm/names.js';

const REQUEST_ID = '0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b';
const SHA256 = 'a'.repeat(64);
const INSTALLATION = '0123456789abcdef0123456789abcdef';
const input: InvocationSpecInput = {
  requestId: REQUEST_ID,
  installation: INSTALLATION,
  image: 'faasctl-python:3.12-abc',
  nonce: 'nonce-123_ABC',
  entry: 'handler',
  flavor: 'lambda',
  timeoutMs: 30_000,
  memoryBytes: 256 * 1024 * 1024,
  nanoCpus: 500_000_000,
  outputLimit: 1024 * 1024,
  env: { MODE: 'fast', URL: 'a=b' },
  code: { configId: 'cfg-code', configName: codeConfigName(INSTALLATION, SHA256) },
  input: { configId: 'cfg-in', configName: inputConfigName(REQUEST_ID) },
  labels: { functionId: 'fn-1', functionName: 'hello', version: 3, userId: 'user-9' },
};
const spec = buildInvocationServiceSpec(input);
const container = spec.TaskTemplate.ContainerSpec;

describe('buildInvocationServiceSpec', () => {
  it('runs one replica that is never restarted', () => {
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'none' });
    expect(container.Image).toBe('faasctl-python:3.12-abc');
    expect(container.Args).toEqual(['run']);
  });

  it('locks the container down: read-only root, no capabilities, non-root, no init', () => {
    expect(container.ReadOnly).toBe(true);
    expect(container.CapabilityDrop).toEqual(['ALL']);
    expect(container.User).toBe('10001:10001');
    expect(container.Init).toBe(false);
    expect(container.StopGracePeriod).toBe(2_000_000_000);
  });

  it('gives it only a small tmpfs /tmp to write to', () => {
    expect(container.Mounts).toEqual([{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } }]);
  });

  it('limits memory, CPU and processes', () => {
    expect(spec.TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 256 * 1024 * 1024, NanoCPUs: 500_000_000, Pids: 128 } });
  });

  it('labels service and container with the request, function, version and user', () => {
    const labels = {
      'io.faasctl.managed': 'true',
      'io.faasctl.component': 'invocation',
      'io.faasctl.installation': INSTALLATION,
      'io.faasctl.request': REQUEST_ID,
      'io.faasctl.function': 'fn-1',
      'io.faasctl.function-name': 'hello',
      'io.faasctl.version': '3',
      'io.faasctl.user': 'user-9',
    };
    expect(spec.Labels).toEqual(labels);
    expect(container.Labels).toEqual(labels);
  });

  it('mounts code and input as read-only configs owned by the runtime user', () => {
    const file = (name: string) => ({ Name: name, UID: '10001', GID: '10001', Mode: 0o440 });
    expect(container.Configs).toEqual([
      { ConfigID: 'cfg-code', ConfigName: codeConfigName(INSTALLATION, SHA256), File: file('/faas/function.py') },
      { ConfigID: 'cfg-in', ConfigName: inputConfigName(REQUEST_ID), File: file('/faas/input.json') },
    ]);
  });

  it('passes the settings and the nonce as FAASCTL_* variables after the user environment', () => {
    expect(container.Env).toEqual([
      'MODE=fast',
      'URL=a=b',
      'FAASCTL_ENTRY=handler',
      'FAASCTL_FLAVOR=lambda',
      'FAASCTL_TIMEOUT_MS=30000',
      'FAASCTL_OUTPUT_LIMIT=1048576',
      'FAASCTL_MEMORY_LIMIT=268435456',
      'FAASCTL_CODE_FILE=/faas/function.py',
      // What a Lambda handler's context says: none of it secret.
      'FAASCTL_FUNCTION_NAME=hello',
      'FAASCTL_FUNCTION_VERSION=3',
      `FAASCTL_INSTALLATION=${INSTALLATION}`,
      `FAASCTL_REQUEST_ID=${REQUEST_ID}`,
      'FAASCTL_NONCE=nonce-123_ABC',
      'FAASCTL_INPUT_FILE=/faas/input.json',
    ]);
    expect(nonceOf(container.Env ?? [])).toBe('nonce-123_ABC');
  });

  it('keeps the nonce out of the labels, the name and the args', () => {
    const visible = JSON.stringify([spec.Name, spec.Labels, container.Labels, container.Args, container.Configs]);
    expect(visible).not.toContain(input.nonce);
  });
});

describe('sandbox names', () => {
  it('derive from the request id and the code hash, and fit Docker name limits', () => {
    expect(spec.Name).toBe(invocationServiceName(REQUEST_ID));
    expect(invocationServiceName(REQUEST_ID)).toBe('faasctl-run-0f8e2a4c1b3d4e5f8a9b0c1d2e3f4a5b');
    expect(inputConfigName(REQUEST_ID)).toBe('faasctl-in-0f8e2a4c1b3d4e5f8a9b0c1d2e3f4a5b');
    expect(codeConfigName(INSTALLATION, SHA256)).toBe(`faasctl-code-0123456789ab-${'a'.repeat(36)}`);
    for (const name of [invocationServiceName(REQUEST_ID), inputConfigName(REQUEST_ID), codeConfigName(INSTALLATION, SHA256)]) {
      expect(name.length, name).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    }
  });

  it('names identical code identically and different code differently', () => {
    expect(codeConfigName(INSTALLATION, SHA256)).toBe(codeConfigName(INSTALLATION, SHA256));
    expect(codeConfigName(INSTALLATION, `b${SHA256.slice(1)}`)).not.toBe(codeConfigName(INSTALLATION, SHA256));
    // Another installation on the same Swarm gets its own config: its gc cannot remove ours.
    expect(codeConfigName('fedcba9876543210', SHA256)).not.toBe(codeConfigName(INSTALLATION, SHA256));
  });
});

describe('secretMounts', () => {
  const secret = { name: 'apikey', secretId: 'sec-1', secretName: 'faasctl-sec-x-u-apikey' };
  it('mounts a secret at /run/secrets/NAME, and for an OpenFaaS handler also where OpenFaaS looks', () => {
    expect(secretMounts([secret], 'main')).toEqual([{ SecretID: 'sec-1', SecretName: 'faasctl-sec-x-u-apikey', File: { Name: 'apikey', UID: '10001', GID: '10001', Mode: 0o400 } }]);
    expect(secretMounts([secret], 'openfaas').map((m) => m.File.Name)).toEqual(['apikey', '/var/openfaas/secrets/apikey']);
    expect(new Set(secretMounts([secret], 'openfaas').map((m) => `${m.SecretID} ${m.File.Mode}`))).toEqual(new Set(['sec-1 256']));
  });
});

describe('checkContainerSpec', () => {
  it('compiles the code at /tmp/function.py with the user file name, labelled with the user, in bounded resources', () => {
    expect(checkContainerSpec('img:1', 'def main(d): pass\n', {}, 'hello.py', 'user-9', INSTALLATION)).toEqual({
      image: 'img:1',
      cmd: ['check', '--file', '/tmp/function.py', '--filename', 'hello.py'],
      labels: { 'io.faasctl.managed': 'true', 'io.faasctl.component': 'check', 'io.faasctl.user': 'user-9', 'io.faasctl.installation': INSTALLATION },
      files: { '/tmp/function.py': 'def main(d): pass\n' },
      memoryBytes: 256 * 1024 * 1024,
      nanoCpus: 1_000_000_000,
      timeoutMs: 60_000,
    });
  });

  it('passes --entry only when one is named', () => {
    expect(checkContainerSpec('img:1', '', { entry: 'handler' }, 'f.py', 'u', INSTALLATION).cmd).toEqual(['check', '--file', '/tmp/function.py', '--filename', 'f.py', '--entry', 'handler']);
    expect(checkContainerSpec('img:1', '', { entry: '' }, 'f.py', 'u', INSTALLATION).cmd).not.toContain('--entry');
    expect(checkContainerSpec('img:1', '', { entry: 'h', flavor: 'lambda' }, 'f.py', 'u', INSTALLATION).cmd.slice(-4)).toEqual(['--entry', 'h', '--flavor', 'lambda']);
  });

  it("with the import check: the version's sandbox (uid, read-only root, tmpfs, its memory, CPUs and env), the code in the files volume", () => {
    const spec = checkContainerSpec('img:1', 'x', { flavor: 'lambda' }, 'f.py', 'u', INSTALLATION, {
      timeoutMs: 10_000,
      memoryBytes: 64 * 1024 * 1024,
      nanoCpus: 500_000_000,
      env: { MODE: 'full', FAASCTL_NONCE: 'never' },
    });
    expect(spec).toMatchObject({
      cmd: ['check', '--file', '/faas/function.py', '--filename', 'f.py', '--flavor', 'lambda', '--import-timeout-ms', '10000'],
      files: { '/faas/function.py': 'x' },
      filesVolume: '/faas',
      env: ['MODE=full'],
      user: '10001:10001',
      readOnlyRoot: true,
      tmpfs: { '/tmp': 64 * 1024 * 1024 },
      memoryBytes: 64 * 1024 * 1024,
      nanoCpus: 500_000_000,
      pidsLimit: 128,
      timeoutMs: 70_000,
    });
  });
});
