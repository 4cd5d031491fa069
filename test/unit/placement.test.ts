import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { describePlacement, parsePlacement, samePlacement, swarmPlacement } from '../../src/core/functions/placement.js';
import { NO_PLACEMENT } from '../../src/base/placement.js';
import { buildReplicaServiceSpec } from '../../src/swarm/replica-spec.js';
import { buildInvocationServiceSpec } from '../../src/swarm/sandbox.js';

describe('parsePlacement', () => {
  it('normalises constraints and spread preferences as Swarm spells them', () => {
    expect(parsePlacement({ constraint: ['node.role == worker', 'node.labels.gpu!=no', 'node.role==worker'], placementPref: ['spread=node.labels.zone'] })).toEqual({
      constraints: ['node.role==worker', 'node.labels.gpu!=no'],
      spread: ['node.labels.zone'],
    });
  });

  it('answers undefined without flags (an update keeps the current rules) and none with --no-placement', () => {
    expect(parsePlacement({})).toBeUndefined();
    expect(parsePlacement({ noPlacement: true })).toEqual(NO_PLACEMENT);
  });

  it.each([
    [{ constraint: ['role==worker'] }, /invalid --constraint "role==worker"/],
    [{ constraint: ['node.role=worker'] }, /invalid --constraint/],
    [{ constraint: ['node.role==worker; rm -rf /'] }, /invalid --constraint/],
    [{ constraint: ['node.labels.==x'] }, /invalid --constraint/],
    [{ placementPref: ['node.labels.zone'] }, /invalid --placement-pref/],
    [{ placementPref: ['spread=zone'] }, /invalid --placement-pref/],
    [{ constraint: ['node.role==worker'], noPlacement: true }, /--no-placement cannot be combined/],
  ])('rejects %j with one line', (flags, message) => {
    expect(() => parsePlacement(flags)).toThrow(UsageError);
    expect(() => parsePlacement(flags)).toThrow(message);
  });
});

describe('placement in service specs', () => {
  const placement = swarmPlacement({ constraints: ['node.role==worker'], spread: ['node.labels.zone'] });

  it('is the Swarm object, or nothing without rules', () => {
    expect(placement).toEqual({ Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] });
    expect(swarmPlacement(NO_PLACEMENT)).toBeUndefined();
    expect(describePlacement(NO_PLACEMENT)).toBe('any node');
    expect(describePlacement({ constraints: ['node.role==worker'], spread: ['node.labels.zone'] })).toBe('node.role==worker, spread=node.labels.zone');
  });

  it('goes into jobs and replicas alike', () => {
    const version = { image: 'img', entry: 'main', timeoutMs: 1000, memoryBytes: 2 ** 27, nanoCpus: 1e9, outputLimit: 1024, env: {}, placement };
    const labels = { functionId: 'f', functionName: 'fn', version: 1, userId: 'u' };
    const job = buildInvocationServiceSpec({ ...version, requestId: 'r', installation: 'i', nonce: 'n', code: { configId: 'c', configName: 'c' }, input: { configId: 'i', configName: 'i' }, labels });
    const replica = buildReplicaServiceSpec({
      ...version,
      purpose: 'warm',
      installation: 'i',
      replicas: 2,
      workers: 2,
      code: { configId: 'c', configName: 'c' },
      token: { secretId: 's', secretName: 's' },
      labels,
    });
    expect(job.TaskTemplate.Placement).toEqual(placement);
    expect(replica.TaskTemplate.Placement).toEqual(placement);
    expect(
      buildInvocationServiceSpec({
        ...version,
        placement: undefined,
        requestId: 'r',
        installation: 'i',
        nonce: 'n',
        code: { configId: 'c', configName: 'c' },
        input: { configId: 'i', configName: 'i' },
        labels,
      }).TaskTemplate.Placement,
    ).toBeUndefined();
  });

  it('compares constraints as a set', () => {
    expect(samePlacement({ constraints: ['a==1', 'b==2'], spread: [] }, { constraints: ['b==2', 'a==1'], spread: [] })).toBe(true);
    expect(samePlacement(NO_PLACEMENT, undefined)).toBe(true);
    expect(samePlacement({ constraints: ['a==1'], spread: [] }, NO_PLACEMENT)).toBe(false);
  });
});
