import { describe, expect, it } from 'vitest';
import { FRAME_PREFIX, InvocationOutput, type Frame } from '../../src/core/invocations/invocation-output.js';
import type { LogChunk, LogStream } from '../../src/swarm/log-demux.js';

const NONCE = 'n0nce_Abc-123';
const FRAME: Frame = {
  v: 1,
  status: 'success',
  result: { answer: 42, text: 'é' },
  error: null,
  output: { bytes: 6, truncated: false },
  metrics: { durationMs: 12.5, cpuMs: 10, maxRssKb: 9000 },
};
const frameLine = (nonce = NONCE, frame: unknown = FRAME) => `${FRAME_PREFIX}${nonce}:${JSON.stringify(frame)}\n`;
const stdout = (text: string | Buffer): LogChunk => ({ stream: 'stdout', data: Buffer.from(text) });
const stderr = (text: string): LogChunk => ({ stream: 'stderr', data: Buffer.from(text) });

/** An InvocationOutput that records what it relays. */
function reader(keepLimit = 64 * 1024) {
  const relayed: Array<[LogStream, string]> = [];
  const out = new InvocationOutput(NONCE, keepLimit, (stream, text) => relayed.push([stream, text]));
  return { out, relayed, live: () => relayed.map(([, t]) => t).join('') };
}

describe('InvocationOutput frame detection', () => {
  it('takes the frame with the right nonce and relays and keeps only the output around it', () => {
    const r = reader();
    r.out.push(stdout(`hello\n${frameLine()}`));
    expect(r.out.frame).toEqual(FRAME);
    expect(r.out.badFrame).toBeUndefined();
    expect(r.relayed).toEqual([['stdout', 'hello\n']]);
    expect(r.out.output).toEqual({ text: 'hello\n', truncated: false });
  });

  it.each([
    ['a wrong nonce', frameLine('forged')],
    ['a nonce that extends the real one', frameLine(`${NONCE}x`)],
    ['a prefix of the real nonce', frameLine(NONCE.slice(0, -1))],
    ['no nonce at all', `${FRAME_PREFIX}${JSON.stringify(FRAME)}\n`],
    ['the prefix mid-line', `say ${frameLine()}`],
    ['the prefix after leading spaces', `  ${frameLine()}`],
  ])('relays a line with %s as the function output', (_, line) => {
    const r = reader();
    r.out.push(stdout(line));
    r.out.end();
    expect(r.out.frame).toBeUndefined();
    expect(r.out.badFrame).toBeUndefined();
    expect(r.relayed).toEqual([['stdout', line]]);
    expect(r.out.output.text).toBe(line);
  });

  it('does not take the right frame when it continues a line the function left open', () => {
    const r = reader();
    r.out.push(stdout('no newline'));
    r.out.push(stdout(frameLine()));
    expect(r.out.frame).toBeUndefined();
    expect(r.live()).toBe(`no newline${frameLine()}`);
  });

  it('takes the frame after a line the runtime closed with a newline', () => {
    const r = reader();
    r.out.push(stdout('no newline'));
    r.out.push(stdout(`\n${frameLine()}`));
    expect(r.out.frame).toEqual(FRAME);
    expect(r.live()).toBe('no newline\n');
  });

  it('never takes a frame from stderr', () => {
    const r = reader();
    r.out.push(stderr(frameLine()));
    expect(r.out.frame).toBeUndefined();
    expect(r.relayed).toEqual([['stderr', frameLine()]]);
  });

  it('finds the frame split across two chunks at every offset, relaying none of it', () => {
    const stream = `out\n${frameLine()}`;
    for (let at = 0; at <= stream.length; at++) {
      const r = reader();
      r.out.push(stdout(stream.slice(0, at)));
      r.out.push(stdout(stream.slice(at)));
      expect(r.out.frame, `split at ${at}`).toEqual(FRAME);
      expect(r.live(), `split at ${at}`).toBe('out\n');
    }
  });

  it('finds the frame fed one character at a time', () => {
    const r = reader();
    for (const ch of frameLine()) r.out.push(stdout(ch));
    expect(r.out.frame).toEqual(FRAME);
    expect(r.relayed).toEqual([]);
  });

  it('sets badFrame, relays nothing and takes no frame for a nonce line that is not a frame', () => {
    for (const body of ['{not json', 'null', '42', '{"v":1}', '{"status":1}']) {
      const r = reader();
      r.out.push(stdout(`${FRAME_PREFIX}${NONCE}:${body}\n`));
      expect(r.out.frame, body).toBeUndefined();
      expect(r.out.badFrame, body).toBe(body);
      expect(r.relayed, body).toEqual([]);
    }
  });

  it('keeps only the first 200 characters of a bad frame', () => {
    const r = reader();
    r.out.push(stdout(`${FRAME_PREFIX}${NONCE}:${'x'.repeat(500)}\n`));
    expect(r.out.badFrame).toBe('x'.repeat(200));
  });
});

describe('InvocationOutput live relay', () => {
  it('relays a partial line at once when it cannot start the frame', () => {
    const r = reader();
    r.out.push(stdout('progress 10%'));
    expect(r.relayed).toEqual([['stdout', 'progress 10%']]);
    r.out.push(stdout(' FAAS'));
    expect(r.live()).toBe('progress 10% FAAS');
  });

  it('holds back a line start that could become the frame, and relays it once it cannot', () => {
    const r = reader();
    r.out.push(stdout('FAASCTL-RES'));
    expect(r.relayed).toEqual([]);
    r.out.push(stdout(`ULT:${NONCE}`));
    expect(r.relayed).toEqual([]);
    r.out.push(stdout('?'));
    expect(r.relayed).toEqual([['stdout', `FAASCTL-RESULT:${NONCE}?`]]);
    expect(r.out.frame).toBeUndefined();
  });

  it('relays a wrong-nonce line start live instead of holding it', () => {
    const r = reader();
    r.out.push(stdout(`${FRAME_PREFIX}other:`));
    expect(r.live()).toBe(`${FRAME_PREFIX}other:`);
  });

  it('relays stderr at once, even while a stdout line start is held', () => {
    const r = reader();
    r.out.push(stdout('FAAS'));
    r.out.push(stderr('warning: x'));
    expect(r.relayed).toEqual([['stderr', 'warning: x']]);
    r.out.push(stdout('\n'));
    expect(r.relayed).toEqual([
      ['stderr', 'warning: x'],
      ['stdout', 'FAAS\n'],
    ]);
    expect(r.out.output.text).toBe('warning: xFAAS\n');
  });

  it('relays and keeps empty lines', () => {
    const r = reader();
    r.out.push(stdout('\n\na\n'));
    expect(r.live()).toBe('\n\na\n');
    expect(r.out.output.text).toBe('\n\na\n');
  });

  // Docker cuts log lines longer than 16 KiB into several messages at a byte count, not
  // at a character boundary, so one character can arrive in two frames.
  it('decodes a multibyte character split across two chunks', () => {
    const r = reader();
    const bytes = Buffer.from('€\n');
    r.out.push(stdout(bytes.subarray(0, 1)));
    r.out.push(stdout(bytes.subarray(1)));
    expect(r.live()).toBe('€\n');
    expect(r.out.output.text).toBe('€\n');
  });
});

describe('InvocationOutput.end', () => {
  it('relays a held line start that never became the frame', () => {
    const r = reader();
    r.out.push(stdout('FAASCTL-'));
    expect(r.relayed).toEqual([]);
    r.out.end();
    expect(r.relayed).toEqual([['stdout', 'FAASCTL-']]);
    expect(r.out.frame).toBeUndefined();
    expect(r.out.output.text).toBe('FAASCTL-');
  });

  it('takes a held frame that lacks only its newline', () => {
    const r = reader();
    r.out.push(stdout(frameLine().trimEnd()));
    expect(r.out.frame).toBeUndefined();
    r.out.end();
    expect(r.out.frame).toEqual(FRAME);
    expect(r.relayed).toEqual([]);
  });

  it('sets badFrame for a held, cut-off frame', () => {
    const r = reader();
    r.out.push(stdout(frameLine().slice(0, -10)));
    r.out.end();
    expect(r.out.frame).toBeUndefined();
    expect(r.out.badFrame).toBe(JSON.stringify(FRAME).slice(0, -9));
  });

  it('does nothing more when nothing is held', () => {
    const r = reader();
    r.out.push(stdout('done\n'));
    r.out.end();
    r.out.end();
    expect(r.relayed).toEqual([['stdout', 'done\n']]);
  });
});

describe('InvocationOutput keep limit', () => {
  it('keeps exactly the limit without calling it truncated', () => {
    const r = reader(10);
    r.out.push(stdout('0123456789'));
    expect(r.out.output).toEqual({ text: '0123456789', truncated: false });
  });

  it('cuts the row copy at the limit and marks it truncated, but relays everything', () => {
    const r = reader(10);
    r.out.push(stdout('01234567'));
    r.out.push(stderr('89abc'));
    r.out.push(stdout('more\n'));
    expect(r.out.output).toEqual({ text: '0123456789', truncated: true });
    expect(r.live()).toBe('0123456789abcmore\n');
  });

  it('marks truncated when only one more byte arrives after a full row', () => {
    const r = reader(4);
    r.out.push(stdout('abcd'));
    r.out.push(stdout('e'));
    expect(r.out.output).toEqual({ text: 'abcd', truncated: true });
  });

  it('never cuts a UTF-8 character in half, at any limit', () => {
    const text = 'a€😀é\n'; // 1 + 3 + 4 + 2 + 1 bytes
    const total = Buffer.byteLength(text);
    for (let limit = 0; limit < total; limit++) {
      const r = reader(limit);
      r.out.push(stdout(text));
      let expected = '';
      for (const ch of text) {
        if (Buffer.byteLength(expected + ch) > limit) break;
        expected += ch;
      }
      expect(r.out.output, `limit ${limit}`).toEqual({ text: expected, truncated: true });
      expect(r.live()).toBe(text);
    }
  });

  it('reports truncated when the runtime says it dropped output', () => {
    const r = reader();
    r.out.push(stdout(frameLine(NONCE, { ...FRAME, output: { bytes: 2_000_000, truncated: true } })));
    expect(r.out.output).toEqual({ text: '', truncated: true });
  });
});

describe('InvocationOutput.complete', () => {
  const counting = (bytes: number, truncated = false) => frameLine(NONCE, { ...FRAME, output: { bytes, truncated } });

  it('waits for output the frame counts that arrives after it (stderr is another pipe)', () => {
    const out = new InvocationOutput(NONCE, 1024);
    out.push(stdout('out\n'));
    out.push(stdout(counting(8)));
    expect(out.frame).toBeDefined();
    expect(out.complete).toBe(false);
    out.push(stderr('err\n'));
    expect(out.complete).toBe(true);
    expect(out.output.text).toBe('out\nerr\n');
  });

  it('is complete at once when everything came first, or the output was truncated', () => {
    const first = new InvocationOutput(NONCE, 1024);
    first.push(stderr('err\n'));
    first.push(stdout(counting(4)));
    expect(first.complete).toBe(true);
    const cut = new InvocationOutput(NONCE, 1024);
    cut.push(stdout(counting(10_000_000, true)));
    expect(cut.complete).toBe(true);
    expect(new InvocationOutput(NONCE, 1024).complete).toBe(false);
  });
});
