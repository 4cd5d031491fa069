import { describe, expect, it } from 'vitest';
import { waitConverged, waitDrained } from '../../src/core/functions/replica-readiness.js';
import type { SwarmTask } from '../../src/swarm/client.js';
import { LABELS } from '../../src/swarm/labels.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const task = (id: string, spec: string, state: string, desiredState = 'running'): SwarmTask => ({ id, state, desiredState, message: '', ports: [], labels: { [LABELS.spec]: spec } });

/** A fake clock that sleep() moves on, and a swarm answering one task list per poll. */
function rig(polls: SwarmTask[][]) {
  let now = 0;
  let calls = 0;
  const debug: string[] = [];
  const swarm = new FakeSwarm();
  swarm.listTasks = async () => polls[Math.min(calls++, polls.length - 1)]!;
  const clock = { now: () => new Date(now), sleep: async (ms: number) => void (now += ms) };
  const deps = { swarm, clock, sleep: clock.sleep, log: { debug: (m: string) => debug.push(m) } as never };
  return { deps, calls: () => calls, debug, elapsed: () => now };
}

describe('waitDrained (after a roll)', () => {
  it('waits until the replaced replicas have stopped, not only until Swarm marked them for shutdown', async () => {
    const r = rig([
      [task('new', 'v2', 'running'), task('old', 'v1', 'running', 'shutdown')],
      [task('new', 'v2', 'running'), task('old', 'v1', 'running', 'shutdown')],
      [task('new', 'v2', 'running'), task('old', 'v1', 'shutdown', 'shutdown')],
    ]);
    await waitDrained(r.deps, 'svc', 'v2');
    expect(r.calls()).toBe(3);
    expect(r.debug).toEqual([]);
  });

  it('gives up after a bound (a task on a lost node reports running for ever) and says so in debug', async () => {
    const r = rig([[task('new', 'v2', 'running'), task('lost', 'v1', 'running', 'shutdown')]]);
    await waitDrained(r.deps, 'svc', 'v2');
    expect(r.elapsed()).toBeGreaterThanOrEqual(15_000);
    expect(r.debug).toEqual(['1 replaced replica(s) still running after 15 s']);
  });
});

describe('waitConverged (replicas starting)', () => {
  const failed = (id: string): SwarmTask => ({ ...task(id, 'v1', 'failed', 'shutdown'), error: 'starting container failed: unable to remount dir as readonly: device or resource busy' });
  const up = (id: string): SwarmTask => ({ ...task(id, 'v1', 'running'), ports: [{ target: 8080, published: 30001 }] });
  const converge = (r: ReturnType<typeof rig>) => waitConverged({ ...r.deps, progress: () => {} }, 'svc', 1);

  it("rides out one failed start (the engine's own race) while Swarm starts the next task", async () => {
    const r = rig([[failed('a')], [failed('a'), task('b', 'v1', 'starting')], [failed('a'), up('b')]]);
    await converge(r);
    expect(r.calls()).toBe(3);
  });

  it('says the replicas do not start once starts fail again and again, naming the engine reason', async () => {
    const r = rig([[failed('a'), failed('b'), failed('c')]]);
    await expect(converge(r)).rejects.toMatchObject({ code: 'replicas_failed', message: expect.stringContaining('device or resource busy') });
  });
});
