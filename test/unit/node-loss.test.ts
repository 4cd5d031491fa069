import { afterEach, describe, expect, it, vi } from 'vitest';
import { FRAME_PREFIX } from '../../src/core/invocations/invocation-output.js';
import { outcomeOf, type InvocationDeps } from '../../src/core/invocations/invocation.js';
import { MAX_ATTEMPTS, STALL_MS, StallWatch } from '../../src/core/invocations/node-health.js';
import { watchWithReruns } from '../../src/core/invocations/reruns.js';
import { rerunServiceName } from '../../src/swarm/names.js';
import type { ReplicaEndpoint, ReplicaResponse, ReplicaTransport } from '../../src/base/ports.js';
import { ReplicaRouter } from '../../src/core/invocations/replica-router.js';
import { reconcileInvocation } from '../../src/core/invocations/reconcile.js';
import type { RequestRow } from '../../src/db/requests-repo.js';
import type { ServiceSpec } from '../../src/swarm/spec.js';
import type { SwarmNode, SwarmTask } from '../../src/swarm/client.js';
import type { LogChunk } from '../../src/swarm/log-demux.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const NONCE = 'n0nce-n0nce-n0nce';
const node = (id: string, state: string): SwarmNode => ({ id, hostname: `host-${id}`, role: 'worker', state, availability: 'active', leader: false, cpus: 2, memoryBytes: 2 ** 33 });
const task = (id: string, nodeId: string, state = 'running'): SwarmTask => ({ id, state, desiredState: 'running', message: '', nodeId, ports: [], labels: {} });

afterEach(() => {
  vi.useRealTimers();
});

describe('ReplicaRouter: a node lost under requests in flight', () => {
  const A: ReplicaEndpoint = { taskId: 'a', nodeId: 'n2', host: '10.0.0.2', port: 30001 };
  const B: ReplicaEndpoint = { taskId: 'b', nodeId: 'n3', host: '10.0.0.3', port: 30002 };

  /** A transport where A never answers (a cut cable) and B answers at once. */
  function silentA() {
    const posts: string[] = [];
    const transport: ReplicaTransport = {
      post: (endpoint, _path, _headers, _body, options) => {
        posts.push(endpoint.taskId);
        if (endpoint.taskId === 'b') return Promise.resolve({ status: 200, body: '{"status":"success"}' });
        return new Promise<ReplicaResponse>((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true }));
      },
      get: () => Promise.reject(new Error('unused')),
      forget: () => {},
      close: () => {},
    };
    return { transport, posts };
  }

  it('abandons a request whose node Swarm reports down and answers it once from another node', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { transport, posts } = silentA();
    const state = { list: [A], lost: new Set<string>() };
    const debug: string[] = [];
    const router = new ReplicaRouter({ transport, endpoints: async () => [...state.list], lostNodes: () => state.lost, log: { debug: (m) => debug.push(m) }, sleep: async () => {}, now: () => 0 }, {});
    const call = router.call('{}', 60_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(posts).toEqual(['a']); // still waiting: silence alone is not a verdict
    state.list = [B];
    state.lost = new Set(['n2']);
    await vi.advanceTimersByTimeAsync(1_000);
    const routed = await call;
    expect(routed.endpoint).toEqual(B);
    expect(routed.attempts).toBe(2);
    expect(posts).toEqual(['a', 'b']);
    expect(debug.join('\n')).toMatch(/replica 10\.0\.0\.2:30001 lost with its node n2 is down/);
  });

  it('leaves requests on live nodes alone and stops watching when none is in flight', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let release!: (r: ReplicaResponse) => void;
    const transport: ReplicaTransport = {
      post: () => new Promise<ReplicaResponse>((resolve) => (release = resolve)),
      get: () => Promise.reject(new Error('unused')),
      forget: () => {},
      close: () => {},
    };
    let refreshes = 0;
    const router = new ReplicaRouter({ transport, endpoints: async () => (refreshes++, [A]), lostNodes: () => new Set(['n9']), log: { debug: () => {} }, sleep: async () => {}, now: () => 0 }, {});
    const call = router.call('{}', 60_000);
    await vi.advanceTimersByTimeAsync(3_000);
    release({ status: 200, body: 'ok' });
    expect((await call).attempts).toBe(1);
    const after = refreshes;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(refreshes).toBe(after);
  });
});

describe('watchWithReruns', () => {
  const SPEC: ServiceSpec = {
    Name: 'faasctl-run-abc',
    Labels: { 'io.faasctl.request': 'req-1' },
    TaskTemplate: { ContainerSpec: { Image: 'img', Env: [`FAASCTL_NONCE=${NONCE}`] } },
    Mode: { Replicated: { Replicas: 1 } },
  } as ServiceSpec;

  /**
   * Service s1 runs on n2, which goes down; its copy runs on n3 and answers. `stalled`: n2
   * stays Ready but leaves s1's task in `assigned` (a node whose engine came back at once).
   */
  function cluster(options: { copyAnswers: boolean; claim?: boolean; stalled?: boolean }) {
    const nodes = { n2: 'ready', n3: 'ready' } as Record<string, string>;
    const created: ServiceSpec[] = [];
    const removed: string[] = [];
    const claims: number[] = [];
    const running: Array<[string, number]> = [];
    let t = 0;
    const line = `${FRAME_PREFIX}${NONCE}:${JSON.stringify({ v: 1, status: 'success', result: 42, error: null, output: { bytes: 0, truncated: false } })}\n`;
    const swarm = new FakeSwarm({
      listNodes: async () => Object.entries(nodes).map(([id, s]) => node(id, s)),
      listTasks: async (id) => [
        id !== 's1' ? task(`t-${id}`, 'n3', options.copyAnswers ? 'complete' : 'running') : options.stalled ? { ...task('t1', 'n2', 'assigned'), statusAt: new Date(0) } : task('t1', 'n2'),
      ],
      serviceLogs: ((id: string) =>
        (async function* (): AsyncGenerator<LogChunk> {
          if (id !== 's1' && options.copyAnswers) yield { stream: 'stdout', data: Buffer.from(line) };
        })()) as FakeSwarm['serviceLogs'],
      inspectService: async (id) => ({ id, name: SPEC.Name, createdAt: new Date(0), env: [], spec: SPEC }),
      removeService: async (id) => void removed.push(id),
      createService: async (spec) => (created.push(spec), `s${created.length + 1}`),
    });
    const store = {
      requests: {
        claimAttempt: async (_id: string, attempt: number) => (claims.push(attempt), options.claim ?? true),
        markRunning: async (id: string, serviceId: string) => void running.push([id, Number(serviceId.slice(1))]),
      },
    };
    const deps = {
      swarm,
      store,
      clock: { now: () => new Date((t += 300)) },
      log: { debug: () => {} },
      sleep: async () => {
        if (t > 2_000 && !options.stalled) nodes.n2 = 'down';
      },
    } as unknown as InvocationDeps;
    return { deps, created, removed, claims, running, nodes };
  }

  it('runs the invocation again on a live node under the same request when its node goes down', async () => {
    const c = cluster({ copyAnswers: true });
    const reruns: Array<[number, string]> = [];
    const w = await watchWithReruns(c.deps, { requestId: 'req-1', serviceId: 's1', attempt: 1, nonce: NONCE, deadline: 60_000, runMs: 60_000, onRerun: (a, n) => reruns.push([a, n]) });
    expect(w.reason).toBe('frame');
    expect(w.out.frame?.result).toBe(42);
    expect(w.attempt).toBe(2);
    expect(w.serviceId).toBe('s2');
    expect(reruns).toEqual([[2, 'host-n2']]);
    expect(c.claims).toEqual([2]);
    expect(c.removed).toEqual(['s1']);
    expect(c.created.map((s) => [s.Name, s.Labels?.['io.faasctl.attempt'], s.Labels?.['io.faasctl.request']])).toEqual([['faasctl-run-abc-a2', '2', 'req-1']]);
    expect(c.created[0]!.TaskTemplate.ContainerSpec?.Env).toEqual([`FAASCTL_NONCE=${NONCE}`]);
    expect(c.running).toEqual([['req-1', 2]]);
  });

  it(`runs it on another node when its node leaves it in Assigned for ${STALL_MS / 1000} s, and keeps the copy off that node`, async () => {
    const c = cluster({ copyAnswers: true, stalled: true });
    const reruns: Array<[number, string, string]> = [];
    const w = await watchWithReruns(c.deps, { requestId: 'req-1', serviceId: 's1', attempt: 1, nonce: NONCE, deadline: 120_000, onRerun: (a, n, why) => reruns.push([a, n, why]) });
    expect(w).toMatchObject({ reason: 'frame', attempt: 2, serviceId: 's2' });
    expect(reruns).toEqual([[2, 'host-n2', 'stalled']]);
    expect(c.removed).toEqual(['s1']);
    expect(c.created[0]!.TaskTemplate.Placement?.Constraints).toEqual(['node.id!=n2']);
  });

  it('leaves a stalled job waiting out its deadline when no other node could take it (a one-node Swarm)', async () => {
    const c = cluster({ copyAnswers: true, stalled: true });
    Object.assign(c.deps.swarm, { listNodes: async () => [node('n2', 'ready'), { ...node('n3', 'ready'), availability: 'drain' }] });
    const w = await watchWithReruns(c.deps, { requestId: 'req-1', serviceId: 's1', attempt: 1, nonce: NONCE, deadline: 60_000 });
    expect(w.reason).toBe('deadline');
    expect(c.created).toEqual([]);
    expect(c.removed).toEqual([]);
  });

  it(`counts a task as stalled after ${STALL_MS / 1000} s in Assigned by the watcher's own clock, and in no other state`, () => {
    const watch = new StallWatch();
    // The manager's timestamp says an hour ago (a skewed clock): only the watcher's own count matters.
    const assigned = { ...task('t1', 'n2', 'assigned'), statusAt: new Date(-3_600_000) };
    expect(watch.stalledOn(assigned, 1_000)).toBeUndefined();
    expect(watch.stalledOn(assigned, 1_000 + STALL_MS - 1)).toBeUndefined();
    expect(watch.stalledOn(assigned, 1_000 + STALL_MS)).toBe('n2');
    // Pulling an image (preparing) may take minutes on a live node.
    for (const state of ['pending', 'accepted', 'preparing', 'starting', 'running']) {
      const other = { ...assigned, id: `t-${state}`, state };
      watch.stalledOn(other, 0);
      expect(watch.stalledOn(other, 10 * STALL_MS)).toBeUndefined();
    }
  });

  it(`ends as stalled, naming the node and the fix, when its last run stalls`, async () => {
    const c = cluster({ copyAnswers: false, stalled: true });
    const w = await watchWithReruns(c.deps, { requestId: 'req-1', serviceId: 's1', attempt: MAX_ATTEMPTS, nonce: NONCE, deadline: 120_000 });
    expect(w.reason).toBe('stalled');
    const outcome = outcomeOf(w, new Date(0), new Date(20_000), { timeoutMs: 30_000 });
    expect(outcome.message).toBe(`node host-n2 never started it (15 s in Assigned), on the last of ${MAX_ATTEMPTS} runs`);
    expect(outcome.hint).toMatch(/restart the Docker engine on it/);
    expect(outcome.exitCode).toBe(8);
  });

  it('starts no copy when another process claimed the attempt first', async () => {
    const c = cluster({ copyAnswers: true, claim: false });
    const w = await watchWithReruns(c.deps, { requestId: 'req-1', serviceId: 's1', attempt: 1, nonce: NONCE, deadline: 60_000 });
    expect(w.reason).toBe('ended');
    expect(c.created).toEqual([]);
    expect(c.removed).toEqual([]);
  });

  it(`gives up after ${MAX_ATTEMPTS} runs`, async () => {
    const c = cluster({ copyAnswers: false });
    const w = await watchWithReruns(c.deps, { requestId: 'req-1', serviceId: 's1', attempt: MAX_ATTEMPTS, nonce: NONCE, deadline: 60_000 });
    expect(w.reason).toBe('node_lost');
    expect(w.node).toBe('host-n2');
    expect(c.created).toEqual([]);
  });

  it('names copies by attempt without growing the name', () => {
    expect(rerunServiceName('faasctl-run-abc', 2)).toBe('faasctl-run-abc-a2');
    expect(rerunServiceName('faasctl-run-abc-a2', 3)).toBe('faasctl-run-abc-a3');
  });

  describe('an --async invocation nobody watches (gc, request show)', () => {
    const row = (attempt: number) =>
      ({ id: 'req-1', type: 'fn.invoke', status: 'running', attempt, createdAt: new Date(0), startedAt: new Date(0), functionId: 'f', functionVersion: 1 }) as unknown as RequestRow;
    const withService = (c: ReturnType<typeof cluster>) => {
      c.nodes.n2 = 'down';
      Object.assign(c.deps.swarm, { listServices: async () => [{ id: 's1', name: SPEC.Name, createdAt: new Date(0), env: [`FAASCTL_NONCE=${NONCE}`], spec: SPEC }] });
      Object.assign(c.deps.store, {
        functions: { version: async () => ({ timeoutMs: 30_000 }) },
        requests: { ...(c.deps.store as unknown as { requests: object }).requests, complete: async () => true },
      });
      Object.assign(c.deps.swarm, { findConfig: async () => undefined });
      return c;
    };

    it('is started again on a live node when its node is down, and stays open', async () => {
      const c = withService(cluster({ copyAnswers: true }));
      expect(await reconcileInvocation(c.deps, row(1), { wait: false })).toBeUndefined();
      expect(c.claims).toEqual([2]);
      expect(c.removed).toEqual(['s1']);
      expect(c.created.map((s) => s.Name)).toEqual(['faasctl-run-abc-a2']);
    });

    it('leaves a warm or pool invocation open however old: it has no service to find', async () => {
      const c = cluster({ copyAnswers: true });
      Object.assign(c.deps.swarm, { listServices: async () => [] });
      Object.assign(c.deps.clock, { now: () => new Date(3_600_000) });
      for (const mode of ['pool', 'warm']) {
        expect(await reconcileInvocation(c.deps, { ...row(1), mode } as RequestRow, { wait: false })).toBeUndefined();
        expect(await reconcileInvocation(c.deps, { ...row(1), mode } as RequestRow, { wait: true, deadline: 0 })).toBeUndefined();
      }
      expect(c.claims).toEqual([]);
      expect(c.created).toEqual([]);
    });

    it('is started again off the lost node (a node back at once may take no work)', async () => {
      const c = withService(cluster({ copyAnswers: true }));
      expect(await reconcileInvocation(c.deps, row(1), { wait: false })).toBeUndefined();
      expect(c.created.map((s) => s.TaskTemplate.Placement?.Constraints)).toEqual([['node.id!=n2']]);
    });

    it('leaves a task waiting in Assigned alone: one look cannot time it', async () => {
      const c = withService(cluster({ copyAnswers: true, stalled: true }));
      c.nodes.n2 = 'ready';
      Object.assign(c.deps.clock, { now: () => new Date(3_600_000) });
      expect(await reconcileInvocation(c.deps, row(1), { wait: false })).toBeUndefined();
      expect(c.created).toEqual([]);
    });

    it(`is closed as lost after its ${MAX_ATTEMPTS}th run`, async () => {
      const c = withService(cluster({ copyAnswers: true }));
      const outcome = await reconcileInvocation(c.deps, row(MAX_ATTEMPTS), { wait: false });
      expect(outcome?.completion.status).toBe('system_error');
      expect(outcome?.message).toBe(`its node host-n2 was lost on each of ${MAX_ATTEMPTS} runs`);
      expect(c.created).toEqual([]);
      expect(c.removed).toEqual(['s1']);
    });
  });
});
