import { describe, expect, it } from 'vitest';
import { demuxAll, LogDemuxer, type LogChunk } from '../../src/swarm/log-demux.js';

/** One Engine API log frame: stream byte, three zero bytes, big-endian length, payload. */
function frame(kind: number, payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

const text = (chunks: LogChunk[]) => chunks.map((c) => [c.stream, c.data.toString()]);

const STREAM = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n'), frame(1, 'é€😀 bye\n')]);
const EXPECTED = [
  ['stdout', 'hello\n'],
  ['stderr', 'oops\n'],
  ['stdout', 'é€😀 bye\n'],
];

describe('LogDemuxer', () => {
  it('splits a whole buffer into stdout and stderr chunks in order', () => {
    expect(text(demuxAll(STREAM))).toEqual(EXPECTED);
  });

  it('gives the same chunks whatever byte offset the stream is split at', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      const d = new LogDemuxer();
      const chunks = [...d.push(STREAM.subarray(0, at)), ...d.push(STREAM.subarray(at))];
      expect(text(chunks), `split at ${at}`).toEqual(EXPECTED);
      expect(d.buffered).toBe(0);
    }
  });

  it('gives the same chunks when fed one byte at a time, holding only the unfinished frame', () => {
    const d = new LogDemuxer();
    const chunks: LogChunk[] = [];
    const first = frame(1, 'hello\n').length;
    for (let i = 0; i < STREAM.length; i++) {
      chunks.push(...d.push(STREAM.subarray(i, i + 1)));
      if (i === first - 2) expect(d.buffered).toBe(first - 1);
      if (i === first - 1) expect(d.buffered).toBe(0);
    }
    expect(text(chunks)).toEqual(EXPECTED);
  });

  it('keeps a partial header and a partial payload until the frame completes', () => {
    const d = new LogDemuxer();
    const f = frame(2, 'abcdef');
    expect(d.push(f.subarray(0, 5))).toEqual([]);
    expect(d.buffered).toBe(5);
    expect(d.push(f.subarray(5, 10))).toEqual([]);
    expect(d.buffered).toBe(10);
    expect(text(d.push(f.subarray(10)))).toEqual([['stderr', 'abcdef']]);
    expect(d.buffered).toBe(0);
  });

  it('drops stdin (0) and unknown stream frames without losing the frames after them', () => {
    const bytes = Buffer.concat([frame(0, 'typed'), frame(3, 'weird'), frame(1, 'out')]);
    expect(text(demuxAll(bytes))).toEqual([['stdout', 'out']]);
  });

  it('passes zero-length frames through as empty chunks and goes on', () => {
    const bytes = Buffer.concat([frame(1, ''), frame(2, ''), frame(1, 'x')]);
    const chunks = demuxAll(bytes);
    expect(text(chunks)).toEqual([
      ['stdout', ''],
      ['stderr', ''],
      ['stdout', 'x'],
    ]);
    const d = new LogDemuxer();
    expect(text(d.push(frame(2, '')))).toEqual([['stderr', '']]);
    expect(d.buffered).toBe(0);
  });

  it('reads the length as an unsigned 32-bit big-endian number, not the low byte', () => {
    const big = 'y'.repeat(70_000); // length 0x00011170: the high bytes matter
    const d = new LogDemuxer();
    const f = frame(1, big);
    expect(d.push(f.subarray(0, 60_000))).toEqual([]);
    const [chunk] = d.push(f.subarray(60_000));
    expect(chunk?.data.length).toBe(70_000);
  });

  it('answers nothing for an empty buffer', () => {
    expect(demuxAll(Buffer.alloc(0))).toEqual([]);
  });
});
