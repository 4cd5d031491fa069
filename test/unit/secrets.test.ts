import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { validateSecretName } from '../../src/base/names.js';
import { applySecretFlags, parseSecretNames } from '../../src/core/functions/secrets.js';
import { secretObjectName } from '../../src/swarm/names.js';
import { buildReplicaServiceSpec, type ReplicaSpecInput } from '../../src/swarm/replica-spec.js';
import { buildInvocationServiceSpec, type InvocationSpecInput } from '../../src/swarm/sandbox.js';
import { PYTHON, RUNTIME, requirePython } from '../helpers/python-runtime.js';
import { createTestContext } from '../helpers/test-context.js';
import { tempDir } from '../helpers/temp.js';

const INSTALLATION = '0123456789abcdef0123456789abcdef';
const USER_ID = '7d1c3b2a-9e8f-4a6b-8c7d-6e5f4a3b2c1d';
const MOUNT = { name: 'api-key', secretId: 'sec-api', secretName: secretObjectName(INSTALLATION, USER_ID, 'api-key') };

describe('secret names', () => {
  it('accepts lower-case names of up to 24 characters and reserves faasctl…', () => {
    expect(validateSecretName('api-key_2')).toBe('api-key_2');
    for (const bad of ['', 'API', '1key', 'a'.repeat(25), 'a/b', '../x', 'faasctl-token']) expect(() => validateSecretName(bad), bad).toThrow(/invalid secret name/);
  });

  it('names the Swarm secret per installation and user, within Docker’s 63 characters', () => {
    const name = secretObjectName(INSTALLATION, USER_ID, 'a'.repeat(24));
    expect(name).toBe(`faasctl-sec-0123456789ab-7d1c3b2a9e8f-${'a'.repeat(24)}`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(secretObjectName(INSTALLATION, '8d1c3b2a-9e8f-4a6b-8c7d-6e5f4a3b2c1d', 'x')).not.toBe(secretObjectName(INSTALLATION, USER_ID, 'x'));
  });

  it('dedupes and sorts --secret flags; on update NAME adds and -NAME removes', () => {
    expect(parseSecretNames(['b', 'a', 'b'])).toEqual(['a', 'b']);
    expect(() => parseSecretNames(['-a'])).toThrow(/invalid secret name/);
    expect(applySecretFlags(undefined, ['b', 'a'])).toEqual(['a', 'b']);
    expect(applySecretFlags(['c', '-a'], ['a', 'b'])).toEqual(['b', 'c']);
  });
});

describe('secret mounts', () => {
  it('a cold invocation mounts each secret as /run/secrets/NAME, 0400, uid 10001', () => {
    const base: InvocationSpecInput = {
      requestId: '0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b',
      installation: INSTALLATION,
      image: 'img',
      nonce: 'n'.repeat(22),
      entry: 'main',
      timeoutMs: 1000,
      memoryBytes: 1,
      nanoCpus: 1,
      outputLimit: 1,
      env: {},
      code: { configId: 'c', configName: 'cn' },
      input: { configId: 'i', configName: 'in' },
      labels: { functionId: 'f', functionName: 'fn', version: 1, userId: USER_ID },
    };
    expect(buildInvocationServiceSpec(base).TaskTemplate.ContainerSpec.Secrets).toBeUndefined();
    const spec = buildInvocationServiceSpec({ ...base, secrets: [MOUNT] });
    expect(spec.TaskTemplate.ContainerSpec.Secrets).toEqual([{ SecretID: 'sec-api', SecretName: MOUNT.secretName, File: { Name: 'api-key', UID: '10001', GID: '10001', Mode: 0o400 } }]);
    expect(JSON.stringify(spec.TaskTemplate.ContainerSpec.Env)).not.toContain('api-key');
  });

  it('a replica mounts them beside its token', () => {
    const o = {
      purpose: 'warm',
      installation: INSTALLATION,
      image: 'img',
      replicas: 1,
      workers: 1,
      entry: 'main',
      timeoutMs: 1000,
      memoryBytes: 1,
      nanoCpus: 1,
      outputLimit: 1,
      env: {},
      code: { configId: 'c', configName: 'cn' },
      token: { secretId: 'tok', secretName: 'faasctl-token-x' },
      secrets: [MOUNT],
      labels: { functionId: 'f', functionName: 'fn', version: 1, userId: USER_ID },
    } satisfies ReplicaSpecInput;
    const secrets = buildReplicaServiceSpec(o).TaskTemplate.ContainerSpec.Secrets ?? [];
    expect(secrets.map((s) => [s.File.Name, s.File.Mode, s.File.UID])).toEqual([
      ['faasctl-token', 0o400, '10001'],
      ['api-key', 0o400, '10001'],
    ]);
  });
});

describe('secret create', () => {
  it('takes no value argument', async () => {
    const t = createTestContext();
    expect(await main(['node', 'faasctl', 'secret', 'create', 'api-key', 'hunter2-value'], t.ctx)).toBe(2);
    expect(t.stderr()).not.toContain('hunter2-value');
  });

  it('refuses an empty stdin without a terminal, before connecting anywhere', async () => {
    const t = createTestContext({ tty: false });
    expect(await main(['node', 'faasctl', 'secret', 'create', 'api-key'], t.ctx)).toBe(2);
    expect(t.stderr()).toMatch(/no value for secret "api-key": stdin gave nothing/);
  });

  it('refuses a bad name before reading the value', async () => {
    const t = createTestContext({ tty: false });
    expect(await main(['node', 'faasctl', 'secret', 'create', 'Bad/Name'], t.ctx)).toBe(2);
    expect(t.stderr()).toMatch(/invalid secret name/);
  });
});

const RUNTIME_DIR = dirname(RUNTIME);

describe('the runtime helper', () => {
  beforeAll(requirePython);

  it('faasctl.secret(NAME) reads /run/secrets/NAME; a missing one names only the secret', () => {
    const dir = tempDir('faasctl-secrets-');
    try {
      writeFileSync(join(dir, 'api-key'), 's3cr3t-value');
      const script = [
        'import sys, json',
        `sys.path.insert(0, ${JSON.stringify(RUNTIME_DIR)})`,
        'from faasctl_runtime import helpers as r',
        `r.SECRETS_DIR = ${JSON.stringify(dir)}`,
        'r.install_helper_module()',
        'import faasctl',
        'out = {"value": faasctl.secret("api-key")}',
        'for bad in ("missing", "../api-key", "faasctl-token"):',
        '    try: faasctl.secret(bad)',
        '    except (KeyError, ValueError) as e: out[bad] = type(e).__name__ + ": " + str(e)',
        'print(json.dumps(out))',
      ].join('\n');
      const run = spawnSync(PYTHON, ['-B', '-c', script], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const out = JSON.parse(run.stdout) as Record<string, string>;
      expect(out.value).toBe('s3cr3t-value');
      expect(out.missing).toMatch(/KeyError: .*not mounted: deploy with --secret missing/);
      expect(out['../api-key']).toMatch(/ValueError/);
      expect(out['faasctl-token']).toMatch(/ValueError/);
      expect(JSON.stringify(out).match(/s3cr3t-value/g)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
