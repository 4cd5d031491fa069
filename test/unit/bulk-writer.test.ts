import { describe, expect, it } from 'vitest';
import { batchWriter } from '../../src/core/invocations/bulk-io.js';
import type { RequestItem } from '../../src/db/requests-repo.js';

const item = (index: number) => ({ index, version: 1, status: 'success', result: index, error: null, output: '', attempts: 1, durationMs: 1, cpuMs: null, maxRssKb: null }) as RequestItem;

describe('batchWriter', () => {
  it('writes items in batches of 500, in order', async () => {
    const batches: number[][] = [];
    const writer = batchWriter({ store: { requests: { insertItems: async (_id: string, b: RequestItem[]) => void batches.push(b.map((i) => i.index)) } } } as never, 'r');
    for (let i = 0; i < 1200; i++) writer.add(item(i));
    await writer.flush();
    expect(batches.map((b) => [b[0], b.length])).toEqual([
      [0, 500],
      [500, 500],
      [1000, 200],
    ]);
  });

  it('reports a failed write at flush, never as an unhandled rejection between batches', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const writer = batchWriter({ store: { requests: { insertItems: async () => Promise.reject(new Error('column "version" does not exist')) } } } as never, 'r');
      for (let i = 0; i < 600; i++) writer.add(item(i));
      await new Promise((r) => setTimeout(r, 20)); // deliberate: time for the first batch's write to fail unhandled, if it could
      expect(unhandled).toEqual([]);
      await expect(writer.flush()).rejects.toThrow('column "version" does not exist');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
