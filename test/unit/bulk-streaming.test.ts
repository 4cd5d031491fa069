import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { rawLines } from '../../src/cli/bulk-input.js';
import { progressText } from '../../src/cli/commands/fn/bulk-progress.js';
import { lineWriter } from '../../src/cli/line-writer.js';
import { jsonbWouldReorder } from '../../src/core/invocations/bulk-stream.js';
import { UsageError } from '../../src/base/errors.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* chunks(...parts: Array<string | Buffer>) {
  for (const p of parts) yield Buffer.from(p);
}

describe('rawLines (a --bulk file read in chunks, issue 26)', () => {
  it('splits lines across chunk boundaries, multi-byte characters included, with or without a final newline', async () => {
    const euro = Buffer.from('€');
    expect(await collect(rawLines(chunks('{"a":1}\n{"b":', Buffer.concat([Buffer.from('"'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('"}\n\n3')])), 'f'))).toEqual([
      '{"a":1}',
      '{"b":"€"}',
      '',
      '3',
    ]);
  });

  it('refuses bytes that are not UTF-8 text, with their offset in the whole input', async () => {
    const err = await collect(rawLines(chunks('1\n2\n', Buffer.from([0x33, 0x00, 0x0a])), 'in.jsonl')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/^in\.jsonl is not a UTF-8 text file \(byte 0x00 at offset 5\)/);
  });
});

describe('progressText', () => {
  it('shows done/total, the rate of what ran, errors and the time left', () => {
    expect(progressText({ done: 500, total: 1000, errors: 2, resumed: 0 }, 5)).toBe('██████████░░░░░░░░░░ 500/1000 · 100/s · 2 errors · ETA 5s');
    // Lines a resume found answered count as done, not in the rate.
    expect(progressText({ done: 600, total: 1000, errors: 1, resumed: 400 }, 2)).toContain('600/1000 · 100/s · 1 error · ETA 4s');
    expect(progressText({ done: 7, errors: 0, resumed: 0 }, 1)).toBe('7/? · 7/s · 0 errors');
  });
});

describe('jsonbWouldReorder (when a result is kept as text beside its jsonb)', () => {
  it('is true only for objects whose keys jsonb would print in another order', () => {
    expect(jsonbWouldReorder({ i: 1, twice: 2 })).toBe(false);
    expect(jsonbWouldReorder({ twice: 2, i: 1 })).toBe(true);
    expect(jsonbWouldReorder([1, 'x', null, { b: 1, a: 2 }])).toBe(true);
    expect(jsonbWouldReorder({ a: { b: 1, c: [1] } })).toBe(false);
    expect(jsonbWouldReorder(42)).toBe(false);
  });
});

describe('lineWriter back-pressure', () => {
  it('answers a promise once the stream is full, resolved when it drains', async () => {
    const written: string[] = [];
    let held: Array<() => void> = [];
    let open = false;
    const stream = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        written.push(chunk.toString());
        if (open) done();
        else held.push(done);
      },
    });
    const out = lineWriter(stream, () => {});
    expect(out.write('a'.repeat(40))).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    // The first write filled the buffer: the next line waits for 'drain'.
    const full = out.write('b');
    expect(full).toBeInstanceOf(Promise);
    let drained = false;
    void full!.then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    open = true;
    for (const done of held) done();
    held = [];
    await full;
    expect(drained).toBe(true);
    await out.end();
    expect(written.join('')).toBe(`${'a'.repeat(40)}\nb\n`);
  });
});
