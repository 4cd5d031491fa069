import { describe, expect, it } from 'vitest';
import { BulkWindow, windowSize } from '../../src/core/invocations/bulk-window.js';

/** Answers that arrive in any order, a sink that records them in batches: the window's bounds. */
describe('BulkWindow (issue 26: a bounded window and reorder buffer)', () => {
  it('releases in input order whatever order the answers arrive in', async () => {
    const out: number[] = [];
    const w = new BulkWindow<number>(8, (v) => void out.push(v));
    for (const i of [2, 0, 1, 5, 3, 4]) {
      expect(await w.room()).toBe(true);
      await w.put(i, i * 10);
    }
    expect(out).toEqual([0, 10, 20, 30, 40, 50]);
    expect(w.released).toBe(6);
  });

  it('holds at most `size` unsettled inputs, however slow the first answer is', async () => {
    const size = 16;
    const out: number[] = [];
    const w = new BulkWindow<number>(size, (v) => void out.push(v));
    let taken = 0;
    // A taker that runs ahead of a first answer that never comes.
    const taker = (async () => {
      while (await w.room()) {
        const i = taken++;
        if (i > 0) await w.put(i, i);
      }
    })();
    await new Promise((r) => setImmediate(r));
    expect(taken).toBe(size);
    expect(w.peakBuffered).toBe(size - 1);
    expect(out).toEqual([]);
    // The first answer releases everything; settling frees the slots again.
    await w.put(0, 0);
    expect(out).toHaveLength(size);
    w.settle(size);
    await new Promise((r) => setImmediate(r));
    expect(taken).toBe(2 * size);
    w.stop();
    await taker;
    expect(w.peakBuffered).toBeLessThanOrEqual(size);
  });

  it('a release that waits (stdout full) holds new inputs back at the window', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const w = new BulkWindow<number>(4, () => gate);
    let taken = 0;
    const taker = (async () => {
      while (await w.room()) {
        const i = taken++;
        void w.put(i, i);
      }
    })();
    await new Promise((r) => setImmediate(r));
    expect(taken).toBe(4);
    open();
    w.settle(4);
    await new Promise((r) => setImmediate(r));
    expect(taken).toBe(8);
    w.stop();
    await taker;
  });

  it('a failed release stops the window and the takers', async () => {
    const w = new BulkWindow<number>(4, () => {
      throw new Error('stdout gone');
    });
    await w.room();
    await expect(w.put(0, 0)).rejects.toThrow('stdout gone');
    await expect(w.room()).rejects.toThrow('stdout gone');
  });

  it('sizes the window for batched recording and every input in flight', () => {
    expect(windowSize(4, 500)).toBe(1000);
    expect(windowSize(1024, 500)).toBe(4096);
  });
});
