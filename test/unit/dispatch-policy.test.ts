import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/base/errors.js';
import { backoffMs, curable, DEFAULT_ASYNC_RETRIES, DEFAULT_MAX_EVENT_AGE_MS, effectivePolicy, nextStep } from '../../src/core/functions/dispatch-policy.js';
import { buildDispatcherServiceSpec } from '../../src/swarm/dispatcher-spec.js';

const end = (status: string, exitCode: number) => ({ completion: { status }, exitCode });
const policy = effectivePolicy({ retries: null, retryOnError: false, maxEventAgeMs: null, maxConcurrency: null });

describe('the dispatcher policy', () => {
  it("defaults to Lambda's asynchronous invocation: 2 retries, 6 hours, no limit", () => {
    expect(policy).toEqual({ retries: DEFAULT_ASYNC_RETRIES, retryOnError: false, maxEventAgeMs: DEFAULT_MAX_EVENT_AGE_MS });
    expect(effectivePolicy({ retries: 0, retryOnError: true, maxEventAgeMs: 60_000, maxConcurrency: 3 })).toEqual({ retries: 0, retryOnError: true, maxEventAgeMs: 60_000, maxConcurrency: 3 });
  });

  it('retries what another attempt could cure: platform faults and timeouts; a raise only when asked; never bad code or a memory limit', () => {
    expect(curable(end('system_error', EXIT.platform), policy)).toBe(true);
    expect(curable(end('developer_error', EXIT.timeout), policy)).toBe(true);
    expect(curable(end('application_error', EXIT.functionFailed), policy)).toBe(false);
    expect(curable(end('application_error', EXIT.functionFailed), { retryOnError: true })).toBe(true);
    expect(curable(end('developer_error', EXIT.functionFailed), { retryOnError: true })).toBe(false);
    expect(curable(end('success', EXIT.ok), { retryOnError: true })).toBe(false);
  });

  it('ends a success; makes a failure a dead letter after the last retry or when the next would pass the maximum age', () => {
    const fault = end('system_error', EXIT.platform);
    const half = () => 0.5;
    expect(nextStep(end('success', EXIT.ok), 1, 0, policy)).toEqual({ kind: 'end', dead: false });
    expect(nextStep(fault, 1, 0, policy, half)).toEqual({ kind: 'retry', delayMs: 750 });
    expect(nextStep(fault, 2, 0, policy, half)).toEqual({ kind: 'retry', delayMs: 1500 });
    expect(nextStep(fault, 3, 0, policy, half)).toMatchObject({ kind: 'end', dead: true, why: 'failed after 3 attempts' });
    expect(nextStep(fault, 1, DEFAULT_MAX_EVENT_AGE_MS - 100, policy, half)).toMatchObject({ kind: 'end', dead: true });
    expect(nextStep(end('developer_error', EXIT.functionFailed), 1, 0, policy)).toEqual({ kind: 'end', dead: true });
  });

  it('backs off exponentially with equal jitter, capped at five minutes', () => {
    expect([1, 2, 3].map((a) => backoffMs(a, () => 0))).toEqual([500, 1000, 2000]);
    expect([1, 2, 3].map((a) => backoffMs(a, () => 1))).toEqual([1000, 2000, 4000]);
    expect(backoffMs(30, () => 1)).toBe(300_000);
    expect(backoffMs(30, () => 0)).toBe(150_000);
  });
});

describe('the dispatcher service spec', () => {
  const spec = buildDispatcherServiceSpec({ name: 'faasctl-dispatcher-abc', image: 'faasctl/faasctl:123', installation: 'abc', secretId: 's1', secretName: 'db-url', replicas: 2 });

  it('runs on a manager with the engine socket and the node network, restarting always, the database URL only as a secret file', () => {
    const c = spec.TaskTemplate.ContainerSpec;
    expect(spec.TaskTemplate.Placement?.Constraints).toEqual(['node.role==manager']);
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'host' }]);
    expect(spec.TaskTemplate.RestartPolicy?.Condition).toBe('any');
    expect(c.Mounts).toContainEqual({ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' });
    expect(c.Env).toContain('FAASCTL_DATABASE_URL_FILE=/run/secrets/db-url');
    expect(c.Env?.some((e) => e.startsWith('FAASCTL_DATABASE_URL='))).toBe(false);
    expect(c.Secrets?.[0]?.File.Mode).toBe(0o400);
    expect(spec.Mode.Replicated.Replicas).toBe(2);
    expect(spec.Labels).toMatchObject({ 'io.faasctl.component': 'dispatcher', 'io.faasctl.installation': 'abc' });
  });
});

describe('the dispatcher service spec with the HTTP API (issue 25)', () => {
  const spec = buildDispatcherServiceSpec({
    name: 'faasctl-dispatcher-abc',
    image: 'faasctl/faasctl:123',
    installation: 'abc',
    secretId: 's1',
    secretName: 'db-url',
    replicas: 1,
    files: [
      { secretId: 's2', secretName: 'tls-cert', env: 'FAASCTL_API_TLS_CERT_FILE' },
      { secretId: 's3', secretName: 'hookkey', env: 'FAASCTL_WEBHOOK_KEY_FILE' },
    ],
    env: ['FAASCTL_API_PORT=8443'],
  });

  it('mounts the TLS material and the webhook key as 0400 secret files named by environment variables, never their content', () => {
    const c = spec.TaskTemplate.ContainerSpec;
    expect(c.Env).toEqual(expect.arrayContaining(['FAASCTL_API_PORT=8443', 'FAASCTL_API_TLS_CERT_FILE=/run/secrets/tls-cert', 'FAASCTL_WEBHOOK_KEY_FILE=/run/secrets/hookkey']));
    expect(c.Secrets?.map((x) => [x.SecretName, x.File.Mode])).toEqual([
      ['db-url', 0o400],
      ['tls-cert', 0o400],
      ['hookkey', 0o400],
    ]);
  });
});
