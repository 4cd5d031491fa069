import { describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { holdLease } from '../../src/core/requests/lease.js';
import { anySignal } from '../../src/base/signals.js';
import {
  abandonedBulkMessage,
  abandonedWarmMessage,
  BULK_LEASE_MS,
  BULK_RENEW_MS,
  deadlineBudgetMs,
  expiredColdMessage,
  ROW_GRACE_MS,
  START_ALLOWANCE_MS,
  stoppedBulkMessage,
  WARM_ALLOWANCE_MS,
} from '../../src/core/requests/deadlines.js';
import { FRAME_PREFIX, InvocationOutput, type Frame } from '../../src/core/invocations/invocation-output.js';
import { ROW_OUTPUT_LIMIT, runFigures } from '../../src/core/invocations/invocation.js';
import type { SwarmTask } from '../../src/swarm/client.js';

describe('deadlines of open rows', () => {
  it('gives a cold job its timeout, the start allowance and a grace; a warm call its timeout, the warm allowance and a grace', () => {
    expect(deadlineBudgetMs({ kind: 'cold', timeoutMs: 5_000 })).toBe(5_000 + START_ALLOWANCE_MS + ROW_GRACE_MS);
    expect(deadlineBudgetMs({ kind: 'warm', timeoutMs: 5_000 })).toBe(5_000 + WARM_ALLOWANCE_MS + ROW_GRACE_MS);
  });

  it('is never shorter than what the invoking CLI itself waits, so a live CLI always writes its row first', () => {
    for (const timeoutMs of [1_000, 30_000, 900_000]) {
      expect(deadlineBudgetMs({ kind: 'cold', timeoutMs })).toBeGreaterThan(timeoutMs + START_ALLOWANCE_MS);
      expect(deadlineBudgetMs({ kind: 'warm', timeoutMs })).toBeGreaterThan(timeoutMs + WARM_ALLOWANCE_MS);
    }
    // A cold row without a service is judged lost after a minute (reconcile.ts): its deadline comes later.
    expect(deadlineBudgetMs({ kind: 'cold', timeoutMs: 1_000 })).toBeGreaterThan(60_000);
  });

  it('gives a bulk run a lease that survives two failed renewals', () => {
    expect(deadlineBudgetMs({ kind: 'bulk' })).toBe(BULK_LEASE_MS);
    expect(BULK_LEASE_MS).toBeGreaterThanOrEqual(3 * BULK_RENEW_MS);
  });
});

describe('what a closed row says it lost', () => {
  it('names when an abandoned bulk run stopped renewing its lease and counts the answered and missing inputs', () => {
    const msg = abandonedBulkMessage({ lastRenewal: new Date('2026-12-04T12:03:04.900Z'), total: 1000, answered: 340 });
    expect(msg).toBe('abandoned: the invoking CLI stopped renewing its lease at 12:03:04 UTC; 340 of 1000 inputs answered, 660 not');
  });

  it('leaves out the time when the row never had a lease, and never counts below zero', () => {
    expect(abandonedBulkMessage({ lastRenewal: null, total: 3, answered: 5 })).toBe('abandoned: the invoking CLI stopped renewing its lease; 5 of 3 inputs answered, 0 not');
  });

  it('says why a bulk run stopped early, with the same counts', () => {
    expect(stoppedBulkMessage('the reader of its output went away (stdout closed)', 40, 1)).toBe('stopped: the reader of its output went away (stdout closed): 1 of 40 inputs answered, 39 not');
  });

  it('says a cold job had no answer by its deadline, its budget, and what happened to its service', () => {
    const deadline = new Date('2026-12-04T08:00:10Z');
    expect(expiredColdMessage({ deadline, timeoutMs: 5_000, serviceFound: true })).toBe(
      'no answer by its deadline 08:00:10 UTC (its timeout 5 s + 30 s to start + 60 s grace): its service had no result and was removed; the function may have run',
    );
    expect(expiredColdMessage({ deadline, timeoutMs: null, serviceFound: false })).toBe('no answer by its deadline 08:00:10 UTC: its service no longer exists; the function may have run');
    expect(abandonedWarmMessage(deadline)).toContain('deadline 08:00:10 UTC');
  });
});

describe("an invocation's figures are the run's own", () => {
  const NONCE = 'n0nce';
  const started = new Date('2026-12-04T08:00:00Z');
  const readLate = new Date('2026-12-04T08:00:33Z'); // someone polled 33 s later
  const withFrame = (durationMs: number) => {
    const out = new InvocationOutput(NONCE, ROW_OUTPUT_LIMIT);
    const frame: Frame = { v: 1, status: 'success', result: 1, error: null, output: { bytes: 0, truncated: false }, metrics: { durationMs, cpuMs: 1, maxRssKb: 1 } };
    out.push({ stream: 'stdout', data: Buffer.from(`${FRAME_PREFIX}${NONCE}:${JSON.stringify(frame)}\n`) });
    return out;
  };
  const ended: SwarmTask = {
    id: 't',
    state: 'complete',
    desiredState: 'shutdown',
    message: 'finished',
    ports: [],
    labels: {},
    createdAt: new Date('2026-12-04T08:00:00.200Z'),
    statusAt: new Date('2026-12-04T08:00:02.000Z'),
  };

  it("takes the runtime's measure and the task's end, whenever the result is read", () => {
    const f = runFigures({ out: withFrame(1012.5), task: ended }, started, readLate, false);
    expect(f).toEqual({ durationMs: 1012.5, finishedAt: ended.statusAt, startedAt: new Date(ended.statusAt!.getTime() - 1012.5) });
  });

  it("takes the task's own timestamps when the runtime never answered", () => {
    const f = runFigures({ out: new InvocationOutput(NONCE, ROW_OUTPUT_LIMIT), task: { ...ended, state: 'failed' } }, started, readLate, false);
    expect(f).toEqual({ durationMs: 1800, finishedAt: ended.statusAt, startedAt: ended.createdAt });
  });

  it('counts the time watched only for a caller that watched it live; read afterwards, an unknown duration stays unknown', () => {
    const running = { ...ended, state: 'running', statusAt: undefined };
    const none = new InvocationOutput(NONCE, ROW_OUTPUT_LIMIT);
    expect(runFigures({ out: none, task: running }, started, readLate, true).durationMs).toBe(33_000);
    expect(runFigures({ out: none, task: running }, started, readLate, false)).toEqual({ durationMs: null, finishedAt: readLate });
  });
});

describe("a bulk run's lease", () => {
  const storeWith = (renewLease: () => Promise<boolean>) => ({ requests: { renewLease } }) as unknown as Store;
  const silent = { debug: () => {} };

  it('keeps renewing through database errors, and tells its owner when another process closed the row', async () => {
    const answers: Array<() => Promise<boolean>> = [() => Promise.reject(new Error('ECONNREFUSED')), () => Promise.resolve(true), () => Promise.resolve(false)];
    let calls = 0;
    const lease = holdLease({ store: storeWith(() => answers[Math.min(calls++, answers.length - 1)]!()), log: silent }, 'r1', { renewMs: 5 });
    try {
      await vi.waitFor(() => expect(lease.lost.aborted).toBe(true));
      expect(calls).toBe(3);
      expect((lease.lost.reason as Error).message).toBe('its request row was closed by another process (its lease expired)');
    } finally {
      lease.stop();
    }
  });

  it('stops renewing once stopped', async () => {
    let calls = 0;
    const lease = holdLease({ store: storeWith(async () => (calls++, true)), log: silent }, 'r2', { renewMs: 5 });
    await vi.waitFor(() => expect(calls).toBeGreaterThan(0));
    lease.stop();
    const seen = calls;
    await new Promise((r) => setTimeout(r, 30)); // deliberate: six renewal periods, to see none happen
    expect(calls).toBe(seen);
  });

  it('anySignal aborts with the reason of the first signal that aborts', () => {
    const a = new AbortController();
    const b = new AbortController();
    const both = anySignal([a.signal, undefined, b.signal]);
    b.abort(new Error('reader gone'));
    a.abort();
    expect((both.reason as Error).message).toBe('reader gone');
    expect(anySignal([b.signal]).aborted).toBe(true);
  });
});
