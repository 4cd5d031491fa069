import { describe, expect, it } from 'vitest';
import { PlatformError, TimeoutError } from '../../src/base/errors.js';
import { ReplicaUnreachable, type ReplicaEndpoint, type ReplicaResponse, type ReplicaTransport } from '../../src/base/ports.js';
import { ReplicaRouter } from '../../src/core/invocations/replica-router.js';

const A: ReplicaEndpoint = { taskId: 'task-a', nodeId: 'node-1', host: '10.0.0.1', port: 30001 };
const B: ReplicaEndpoint = { taskId: 'task-b', nodeId: 'node-2', host: '10.0.0.2', port: 30002 };
const C: ReplicaEndpoint = { taskId: 'task-c', nodeId: 'node-2', host: '10.0.0.2', port: 30003 };
const HEADERS = { authorization: 'Bearer t0ken' };
const OK: ReplicaResponse = { status: 200, body: '{"status":"success"}' };

type Answer = ReplicaResponse | Error | Promise<ReplicaResponse>;
interface Post {
  endpoint: ReplicaEndpoint;
  path: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** A transport whose answers are decided per call by `answer` (default: 200 at once). */
class FakeTransport implements ReplicaTransport {
  readonly posts: Post[] = [];
  readonly forgotten: ReplicaEndpoint[] = [];
  answer: (endpoint: ReplicaEndpoint, n: number) => Answer = () => OK;

  async post(endpoint: ReplicaEndpoint, path: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ReplicaResponse> {
    this.posts.push({ endpoint, path, headers, body, timeoutMs: options.timeoutMs });
    const answer = this.answer(endpoint, this.posts.length);
    if (answer instanceof Error) throw answer;
    if (!options.signal) return answer;
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      Promise.resolve(answer).then(resolve, reject);
    });
  }

  forget(endpoint: ReplicaEndpoint): void {
    this.forgotten.push(endpoint);
  }

  close(): void {}

  hosts(): string[] {
    return this.posts.map((p) => p.endpoint.taskId);
  }
}

/** A router on a fake clock: sleep() moves time on instead of waiting. */
function setUp(list: ReplicaEndpoint[] = [A, B]) {
  const clock = { t: 1_000, sleeps: [] as number[] };
  const transport = new FakeTransport();
  const source = { list, calls: 0 };
  const debug: string[] = [];
  const router = new ReplicaRouter(
    {
      transport,
      endpoints: async () => {
        source.calls++;
        return [...source.list];
      },
      log: { debug: (m) => debug.push(m) },
      // Time moves on at once, but the sleeper yields to the event loop like a real timer.
      sleep: async (ms) => {
        clock.sleeps.push(ms);
        clock.t += ms;
        await settle();
      },
      now: () => clock.t,
    },
    HEADERS,
  );
  return { router, transport, clock, source, debug, deadline: (ms = 10_000) => clock.t + ms };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets pending promise chains (refresh, next, post) run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

const unreachable = (e: ReplicaEndpoint) => new ReplicaUnreachable(e, 'ECONNREFUSED');

describe('ReplicaRouter: choosing a replica', () => {
  it('posts the body to /invoke with the headers and the time left as timeout', async () => {
    const { router, transport, deadline } = setUp([A]);
    const routed = await router.call('{"x":1}', deadline(5_000));
    expect(routed).toEqual({ body: OK.body, endpoint: A, attempts: 1 });
    expect(transport.posts).toEqual([{ endpoint: A, path: '/invoke', headers: HEADERS, body: '{"x":1}', timeoutMs: 5_000 }]);
  });

  it('spreads concurrent calls evenly over the replicas', async () => {
    const { router, transport, deadline } = setUp([A, B, C]);
    const gate = deferred<ReplicaResponse>();
    transport.answer = () => gate.promise;
    const calls = Array.from({ length: 6 }, (_, i) => router.call(`{"i":${i}}`, deadline()));
    await settle();
    const per = transport.hosts().reduce<Record<string, number>>((m, h) => ({ ...m, [h]: (m[h] ?? 0) + 1 }), {});
    expect(per).toEqual({ 'task-a': 2, 'task-b': 2, 'task-c': 2 });
    gate.resolve(OK);
    expect((await Promise.all(calls)).map((r) => r.attempts)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(transport.posts).toHaveLength(6);
  });

  it('sends new calls to the idle replica while another is busy with a long one', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    const slow = deferred<ReplicaResponse>();
    transport.answer = (e) => (e === A ? slow.promise : OK);
    const long = router.call('long', deadline());
    await settle();
    expect(transport.hosts()).toEqual(['task-a']);
    for (let i = 0; i < 4; i++) expect((await router.call(`short ${i}`, deadline())).endpoint).toBe(B);
    slow.resolve(OK);
    expect((await long).endpoint).toBe(A);
    expect(transport.hosts()).toEqual(['task-a', 'task-b', 'task-b', 'task-b', 'task-b']);
  });
});

describe('ReplicaRouter: replicas that go away', () => {
  it('retries a call on another replica when one is unreachable, and sets that one aside', async () => {
    const { router, transport, source, clock, deadline } = setUp([A, B]);
    transport.answer = (e) => (e === A ? unreachable(A) : OK);
    const routed = await router.call('in', deadline());
    // A refused connection to a replica that never answered delivered nothing: not an attempt (issue 17).
    expect(routed).toMatchObject({ endpoint: B, attempts: 1 });
    expect(transport.hosts()).toEqual(['task-a', 'task-b']);
    expect(transport.forgotten).toEqual([A]);

    // Swarm still lists A for a while: a refresh must not bring it back at once.
    transport.answer = () => OK;
    await router.refresh(true);
    expect(source.calls).toBeGreaterThanOrEqual(2);
    expect(router.size).toBe(1);
    for (let i = 0; i < 3; i++) expect((await router.call('in', deadline())).endpoint).toBe(B);

    // After the set-aside time it is a candidate again.
    clock.t += 3_000;
    await router.refresh(true);
    expect(router.size).toBe(2);
    const hosts = new Set<string>();
    for (let i = 0; i < 4; i++) hosts.add((await router.call('in', deadline())).endpoint.taskId);
    expect(hosts).toEqual(new Set(['task-a', 'task-b']));
    expect(transport.posts).toHaveLength(2 + 3 + 4);
  });

  it('waits for the only replica to come back when it was set aside, within the deadline', async () => {
    const { router, transport, clock, deadline } = setUp([A]);
    transport.answer = (_e, n) => (n === 2 ? unreachable(A) : OK);
    await router.call('in', deadline());
    const start = clock.t;
    const routed = await router.call('in', deadline(10_000));
    expect(routed).toMatchObject({ endpoint: A, attempts: 2 });
    expect(clock.t - start).toBeGreaterThanOrEqual(3_000);
    expect(transport.posts).toHaveLength(3);
  });

  it('tries a replica that never answered again soon: Swarm lists it running before it listens', async () => {
    const { router, transport, clock, deadline, debug } = setUp([A]);
    transport.answer = (_e, n) => (n <= 2 ? unreachable(A) : OK);
    const start = clock.t;
    const routed = await router.call('in', deadline(10_000));
    expect(routed).toMatchObject({ endpoint: A, attempts: 1 });
    expect(clock.t - start).toBeLessThan(1_000);
    expect(debug.join('\n')).toMatch(/replica 10\.0\.0\.1:30001 not listening yet/);
  });

  it('counts a connection a replica dropped (it may have run the input) as an attempt, unlike a refused one', async () => {
    const { router, transport, deadline } = setUp([A]);
    transport.answer = (e, n) => (n === 1 ? new ReplicaUnreachable(e, 'ECONNRESET') : OK);
    expect(await router.call('in', deadline(10_000))).toMatchObject({ endpoint: A, attempts: 2 });
  });

  it('gives up with no_replica when every replica stays unreachable until the deadline', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = (e, n) => (n <= 2 ? OK : unreachable(e));
    await router.call('in', deadline());
    await router.call('in', deadline());
    const err = await router.call('in', deadline(2_000)).catch((e: unknown) => e);
    // Both are set aside after failing once, and the deadline comes before they may be tried again.
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'no_replica' });
    expect(transport.hosts().sort()).toEqual(['task-a', 'task-a', 'task-b', 'task-b']);
  });

  it('keeps trying replicas that stay unreachable until the deadline, then stops', async () => {
    const { router, transport, clock, deadline } = setUp([A]);
    transport.answer = (e, n) => (n === 1 ? OK : unreachable(e));
    await router.call('in', deadline());
    const start = clock.t;
    const err = await router.call('in', deadline(10_000)).catch((e: unknown) => e);
    expect(['no_replica', 'replica_timeout']).toContain((err as PlatformError).code);
    expect(clock.t - start).toBeGreaterThanOrEqual(10_000);
    // Once per set-aside period, not in a tight loop.
    expect(transport.posts.length - 1).toBeGreaterThanOrEqual(3);
    expect(transport.posts.length - 1).toBeLessThanOrEqual(4);
  });
});

describe('ReplicaRouter: what replicas answer', () => {
  it('retries a 503 busy, without setting the replica aside', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = (_e, n) => (n === 1 ? { status: 503, body: '{"error":"busy: every worker is taken and the queue is full"}' } : OK);
    const routed = await router.call('in', deadline());
    expect(routed.attempts).toBe(2);
    expect(transport.posts).toHaveLength(2);
    expect(transport.forgotten).toEqual([]);
    await router.refresh(true);
    expect(router.size).toBe(2);
  });

  it('retries a 503 draining elsewhere and sets the draining replica aside', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = (e) => (e === A ? { status: 503, body: '{"error":"draining: this replica is stopping"}' } : OK);
    const routed = await router.call('in', deadline());
    expect(routed).toMatchObject({ endpoint: B, attempts: 2 });
    expect(transport.forgotten).toEqual([A]);
    await router.refresh(true);
    expect(router.size).toBe(1);
    expect((await router.call('in', deadline())).endpoint).toBe(B);
    expect(transport.posts).toHaveLength(3);
  });

  it('times out when replicas stay busy past the deadline', async () => {
    const { router, transport, deadline } = setUp([A]);
    transport.answer = () => ({ status: 503, body: '{"error":"busy: no worker became free in time"}' });
    await expect(router.call('in', deadline(1_000))).rejects.toMatchObject({ name: 'TimeoutError', code: 'replica_timeout' });
    expect(transport.posts.length).toBeGreaterThan(1);
  });

  it('refuses on 401 with token_refused, without retrying', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = () => ({ status: 401, body: '{"error":"missing or wrong token"}' });
    const err = await router.call('in', deadline()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'token_refused', exitCode: 8 });
    expect(transport.posts).toHaveLength(1);
  });

  it('fails on any other status with a PlatformError naming it, without retrying', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = () => ({ status: 413, body: '{"error":"input is 99 bytes; the limit is 10"}\n' });
    const err = await router.call('in', deadline()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'replica_error' });
    expect((err as Error).message).toMatch(/HTTP 413: .*the limit is 10"}$/);
    expect(transport.posts).toHaveLength(1);
  });

  it('turns a transport TimeoutError into a TimeoutError, without retrying', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    const late = new Error('no answer from 10.0.0.1:30001 within 5000 ms');
    late.name = 'TimeoutError';
    transport.answer = () => late;
    const err = await router.call('in', deadline(5_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'replica_timeout', exitCode: 124 });
    expect(transport.posts).toHaveLength(1);
  });

  it('passes any other transport error through, without retrying', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = () => new TypeError('bad header');
    await expect(router.call('in', deadline())).rejects.toThrow(TypeError);
    expect(transport.posts).toHaveLength(1);
  });
});

describe('ReplicaRouter: no replica, cancellation', () => {
  it('fails with no_replica once the deadline passes without any replica listed', async () => {
    const { router, transport, source, clock, deadline } = setUp([]);
    const start = clock.t;
    const err = await router.call('in', deadline(1_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'no_replica' });
    expect(clock.t - start).toBeGreaterThanOrEqual(1_000);
    expect(source.calls).toBeGreaterThan(1); // it kept looking
    expect(transport.posts).toHaveLength(0);
  });

  it('uses a replica that shows up before the deadline', async () => {
    const { router, transport, source, deadline } = setUp([]);
    const call = router.call('in', deadline(5_000));
    await settle();
    source.list = [B];
    expect(await call).toMatchObject({ endpoint: B, attempts: 1 });
    expect(transport.posts).toHaveLength(1);
  });

  it('does not post when the signal is already aborted', async () => {
    const { router, transport, deadline } = setUp([A]);
    await expect(router.call('in', deadline(), AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect(transport.posts).toHaveLength(0);
  });

  it('stops a call in flight when the signal aborts, without retrying', async () => {
    const { router, transport, deadline } = setUp([A, B]);
    transport.answer = () => new Promise<ReplicaResponse>(() => {});
    const controller = new AbortController();
    const call = router.call('in', deadline(), controller.signal);
    await settle();
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(transport.posts).toHaveLength(1);
  });

  it('stops waiting for a replica when the signal aborts', async () => {
    const { router, transport, source, deadline } = setUp([]);
    const controller = new AbortController();
    const call = router.call('in', deadline(60_000), controller.signal);
    await settle();
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    const looked = source.calls;
    await settle();
    expect(source.calls).toBe(looked);
    expect(transport.posts).toHaveLength(0);
  });
});
