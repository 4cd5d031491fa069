import { afterEach, describe, expect, it, vi } from 'vitest';
import { Wakeup } from '../../src/core/dispatch/wakeup.js';
import { settle } from '../../src/core/dispatch/settle.js';
import type { AttemptResult } from '../../src/core/dispatch/attempt.js';
import { effectivePolicy } from '../../src/core/functions/dispatch-policy.js';
import type { InvokeDeps } from '../../src/core/invocations/invoke.js';
import type { QueuedRow } from '../../src/db/queue-repo.js';
import { PoolViews, VIEW_TTL_MS } from '../../src/core/pool/pool-view.js';
import type { SwarmClient } from '../../src/swarm/client.js';

/**
 * What a burst of short queued attempts (50 pool jobs at once) depends on in the dispatcher: a
 * freed place is used at once, a pool or warm attempt costs no engine call after its end, and
 * the claims of a burst share their reads of the pool.
 */

afterEach(() => {
  vi.useRealTimers();
});

describe("the leader's wakeup", () => {
  it('keeps a poke that came while nobody slept: the next sleep ends at once', async () => {
    vi.useFakeTimers();
    const w = new Wakeup();
    w.poke();
    let woke = false;
    void w.sleep(1000).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(true);
  });

  it('sleeps until the poll without a poke, and a poke ends a sleep early', async () => {
    vi.useFakeTimers();
    const w = new Wakeup();
    let woke = false;
    void w.sleep(1000).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(woke).toBe(true);
    woke = false;
    void w.sleep(1000).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(10);
    w.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(true);
  });

  it('forgets pokes the caller has looked at (clear), and one poke wakes one sleep', async () => {
    vi.useFakeTimers();
    const w = new Wakeup();
    w.poke();
    w.clear();
    let woke = 0;
    void w.sleep(1000).then(() => woke++);
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(0);
    w.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(1);
    // The timer of the woken sleep does not wake a later one.
    void w.sleep(5000).then(() => woke++);
    await vi.advanceTimersByTimeAsync(1000);
    expect(woke).toBe(1);
  });
});

describe("settling an attempt's end", () => {
  const swarm = () => ({ findConfig: vi.fn(async () => undefined), removeService: vi.fn(async () => undefined), removeConfig: vi.fn(async () => undefined) });
  const depsWith = (s: ReturnType<typeof swarm>) =>
    ({
      swarm: s,
      store: { requests: { complete: vi.fn(async () => true) } },
      clock: { now: () => new Date('2026-12-04T12:00:10Z') },
      log: { debug: () => {} },
      sleep: async () => {},
    }) as unknown as InvokeDeps;
  const row = { id: '00000000-0000-4000-8000-000000000001', attempt: 1, createdAt: new Date('2026-12-04T12:00:00Z') } as QueuedRow;
  const ended = (mode: AttemptResult['mode'], serviceId?: string): AttemptResult => ({
    outcome: {
      completion: { status: 'success', result: 1, error: null, output: '', outputTruncated: false, durationMs: 5, cpuMs: null, maxRssKb: null, node: null, finishedAt: new Date() },
      exitCode: 0,
    },
    attempt: 1,
    startedAt: new Date('2026-12-04T12:00:01Z'),
    mode,
    ...(serviceId ? { serviceId } : {}),
  });
  const policy = effectivePolicy({ retries: null, retryOnError: false, maxEventAgeMs: null, maxConcurrency: null });

  it('asks the engine nothing after a pool or warm attempt (it made no service and no input config)', async () => {
    for (const mode of ['pool', 'warm'] as const) {
      const s = swarm();
      expect(await settle(depsWith(s), row, ended(mode), policy, 1000)).toBe('ended');
      expect(s.findConfig).not.toHaveBeenCalled();
      expect(s.removeService).not.toHaveBeenCalled();
    }
  });

  it("removes a cold attempt's service and looks for its input config", async () => {
    const s = swarm();
    expect(await settle(depsWith(s), row, ended('cold', 'svc1'), policy, 1000)).toBe('ended');
    expect(s.removeService).toHaveBeenCalledWith('svc1');
    expect(s.findConfig).toHaveBeenCalledTimes(1);
  });
});

describe("the dispatcher's shared reads of a pool", () => {
  const fakeSwarm = () => {
    let reads = 0;
    const swarm = {
      listServices: vi.fn(async () => {
        reads++;
        return [];
      }),
      listTasksByLabel: vi.fn(async () => []),
      listNodes: vi.fn(async () => []),
    };
    return { swarm: swarm as unknown as SwarmClient, reads: () => reads };
  };

  it('shares one read among the claims of its lifetime, reads again after it or when asked to', async () => {
    let now = 0;
    const views = new PoolViews(() => now);
    const { swarm, reads } = fakeSwarm();
    const first = views.read(swarm, ['a=1']);
    expect(first.cached).toBe(false);
    await first.view;
    now = VIEW_TTL_MS - 1;
    expect(views.read(swarm, ['a=1']).cached).toBe(true);
    expect(views.read(swarm, ['b=2']).cached).toBe(false);
    expect(views.read(swarm, ['a=1'], true).cached).toBe(false);
    now += VIEW_TTL_MS;
    expect(views.read(swarm, ['a=1']).cached).toBe(false);
    await Promise.resolve();
    expect(reads()).toBe(4);
  });

  it('keeps no failed read', async () => {
    const views = new PoolViews(() => 0);
    const swarm = { listServices: async () => Promise.reject(new Error('engine away')), listTasksByLabel: async () => [], listNodes: async () => [] } as unknown as SwarmClient;
    await expect(views.read(swarm, ['a=1']).view).rejects.toThrow('engine away');
    expect(views.read(swarm, ['a=1']).cached).toBe(false);
    await views.read(swarm, ['a=1']).view.catch(() => undefined);
  });
});
