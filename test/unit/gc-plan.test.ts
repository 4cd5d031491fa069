import { describe, expect, it } from 'vitest';
import { countPlan, NO_COUNTS, planGc, type GcFacts, type RowFact, type ServiceFact } from '../../src/core/platform/gc-plan.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ALICE = '11111111-1111-1111-1111-111111111111';
const GONE = '22222222-2222-2222-2222-222222222222';

function facts(o: Partial<GcFacts> = {}): GcFacts {
  return {
    now: NOW,
    invocationServices: [],
    rows: new Map(),
    deletedUsers: new Set(),
    warmFunctions: new Set(),
    replicaServices: [],
    tokenSecrets: [],
    inputConfigs: [],
    invocationContainers: [],
    unusedCodeConfigs: [],
    staleContainers: [],
    orphanedUserSecrets: [],
    unusedImages: [],
    ...o,
  };
}

const row = (id: string, o: Partial<RowFact> = {}): [string, RowFact] => [
  id,
  { id, userId: ALICE, type: 'fn.invoke', mode: 'cold', open: true, attempt: 1, createdAt: NOW - 5_000, expired: false, ...o },
];
const service = (requestId: string, o: Partial<ServiceFact> = {}): ServiceFact => ({ id: `svc-${requestId}`, requestId, userId: ALICE, ended: false, onLostNode: false, ...o });
const input = (requestId: string) => ({ id: `cfg-${requestId}`, name: `faasctl-in-${requestId}`, requestId });

describe('gc plan', () => {
  it('records an ended invocation and removes its service; leaves a running one and its input config alone', () => {
    const plan = planGc(facts({ invocationServices: [service('a', { ended: true }), service('b')], rows: new Map([row('a'), row('b')]), inputConfigs: [input('a'), input('b')] }));
    expect(plan).toEqual([
      { kind: 'recover', requestId: 'a', serviceId: 'svc-a' },
      { kind: 'remove-config', configId: 'cfg-a', name: 'faasctl-in-a' },
    ]);
    expect(countPlan(plan)).toEqual({ ...NO_COUNTS, requestsRecovered: 1, servicesRemoved: 1, configsRemoved: 1 });
  });

  it('closes a running invocation past its deadline, with its service', () => {
    const plan = planGc(facts({ invocationServices: [service('a')], rows: new Map([row('a', { expired: true })]) }));
    expect(plan).toEqual([{ kind: 'close-expired', requestId: 'a', serviceId: 'svc-a' }]);
    expect(countPlan(plan)).toEqual({ ...NO_COUNTS, requestsLost: 1, servicesRemoved: 1 });
  });

  it('runs a job on a lost node again while it has attempts left, then ends it as lost', () => {
    const rerun = planGc(facts({ invocationServices: [service('a', { onLostNode: true })], rows: new Map([row('a', { attempt: 2 })]) }));
    expect(rerun).toEqual([{ kind: 'rerun', requestId: 'a', serviceId: 'svc-a' }]);
    expect(countPlan(rerun)).toEqual({ ...NO_COUNTS, requestsRerun: 1 });
    const last = planGc(facts({ invocationServices: [service('a', { onLostNode: true })], rows: new Map([row('a', { attempt: 3 })]) }));
    expect(last).toEqual([{ kind: 'close-lost', requestId: 'a', serviceId: 'svc-a' }]);
  });

  it('removes the service of a closed row, and a running one whose user was deleted, but not one of an existing user without a row', () => {
    const plan = planGc(
      facts({
        invocationServices: [service('closed'), service('orphan', { userId: GONE }), service('unknown')],
        rows: new Map([row('closed', { open: false })]),
        deletedUsers: new Set([GONE]),
      }),
    );
    expect(plan).toEqual([
      { kind: 'remove-service', serviceId: 'svc-closed' },
      { kind: 'remove-service', serviceId: 'svc-orphan' },
    ]);
  });

  it('closes a cold row whose service never appeared after a minute; a younger one keeps its input config', () => {
    const plan = planGc(facts({ rows: new Map([row('old', { createdAt: NOW - 61_000 }), row('young')]), inputConfigs: [input('old'), input('young')] }));
    expect(plan).toEqual([
      { kind: 'close-lost', requestId: 'old' },
      { kind: 'remove-config', configId: 'cfg-old', name: 'faasctl-in-old' },
    ]);
  });

  it('leaves a long warm call to its deadline (it has no service of its own)', () => {
    expect(planGc(facts({ rows: new Map([row('w', { mode: 'warm', createdAt: NOW - 600_000 })]) }))).toEqual([]);
    expect(planGc(facts({ rows: new Map([row('w', { mode: 'warm', expired: true })]) }))).toEqual([{ kind: 'close-expired', requestId: 'w' }]);
  });

  it('keeps a live bulk run and its token; closes an idle one and removes its replicas and token', () => {
    const bulk = (id: string, idle: boolean) => ({ id: `svc-${id}`, component: 'bulk' as const, functionId: 'f', requestId: id, idle });
    const token = (id: string) => ({ id: `tok-${id}`, functionId: 'f', requestId: id });
    const plan = planGc(
      facts({
        rows: new Map([row('live', { type: 'fn.invoke.bulk', mode: null }), row('idle', { type: 'fn.invoke.bulk', mode: null })]),
        replicaServices: [bulk('live', false), bulk('idle', true)],
        tokenSecrets: [token('live'), token('idle')],
      }),
    );
    expect(plan).toEqual([
      { kind: 'close-abandoned-bulk', requestId: 'idle' },
      { kind: 'remove-service', serviceId: 'svc-idle' },
      { kind: 'remove-secret', secretId: 'tok-idle' },
    ]);
  });

  it('keeps the warm replicas and tokens of warm functions only', () => {
    const warm = (fn: string) => ({ id: `warm-${fn}`, component: 'warm' as const, functionId: fn, idle: false });
    const plan = planGc(
      facts({
        warmFunctions: new Set(['hot']),
        replicaServices: [warm('hot'), warm('cold')],
        tokenSecrets: [
          { id: 'tok-hot', functionId: 'hot' },
          { id: 'tok-cold', functionId: 'cold' },
        ],
      }),
    );
    expect(plan).toEqual([
      { kind: 'remove-service', serviceId: 'warm-cold' },
      { kind: 'remove-secret', secretId: 'tok-cold' },
    ]);
  });

  it('removes an exited invocation container only once its service is gone, and counts the installation-wide waste', () => {
    const plan = planGc(
      facts({
        invocationServices: [service('a')],
        rows: new Map([row('a')]),
        invocationContainers: [
          { id: 'c-kept', serviceId: 'svc-a' },
          { id: 'c-left', serviceId: 'svc-gone' },
        ],
        unusedCodeConfigs: [{ id: 'code1', name: 'faasctl-code-1' }],
        staleContainers: ['check1'],
        orphanedUserSecrets: ['sec1'],
        unusedImages: ['faasctl/deps:abc'],
      }),
    );
    expect(countPlan(plan)).toEqual({ ...NO_COUNTS, containersRemoved: 2, configsRemoved: 1, secretsRemoved: 1, imagesRemoved: 1 });
    expect(plan).toContainEqual({ kind: 'remove-container', containerId: 'c-left' });
    expect(plan).not.toContainEqual({ kind: 'remove-container', containerId: 'c-kept' });
  });

  it('orders row actions before removals, so the services are gone before their configs and secrets', () => {
    const plan = planGc(facts({ invocationServices: [service('a', { ended: true })], rows: new Map([row('a')]), inputConfigs: [input('a')], orphanedUserSecrets: ['s'] }));
    expect(plan.map((a) => a.kind)).toEqual(['recover', 'remove-secret', 'remove-config']);
  });
});
