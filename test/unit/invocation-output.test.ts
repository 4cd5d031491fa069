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

/**
 * An InvocationOutput that records what it relays, a stream's consecutive pieces as one (a
 * line's newline is relayed apart, with the next text or at the end: it may be the runtime's).
 */
function reader(keepLimit = 64 * 1024) {
  const relayed: Array<[LogStream, string]> = [];
  const out = new InvocationOutput(NONCE, keepLimit, (stream, text) => {
    const last = relayed[relayed.length - 1];
    if (last && last[0] === stream) last[1] += text;
    else relayed.push([stream, text]);
  });
  return { out, relayed, live: () => relayed.map(([, t]) => t).join('') };
}

describe('InvocationOutput frame detection', () => {
  it('takes the frame with the right nonce and relays and keeps only the output around it', () => {
    const r = reader();
    r.out.push(stdout(`hello\n${frameLine()}`));
    expect(r.out.frame).toEqual(FRAME);
    expect(r.out.badFrame).toBeUndefined();
    expect(r.relayed).toEqual([['stdout', 'hello']]);
    r.out.finish();
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
    r.out.end();
    expect(r.out.frame).toBeUndefined();
    expect(r.live()).toBe(`no newline${frameLine()}`);
  });

  it('takes the frame after a line the runtime closed with a newline', () => {
    const r = reader();
    r.out.push(stdout('no newline'));
    r.out.push(stdout(`\n${frameLine()}`));
    r.out.finish();
    expect(r.out.frame).toEqual(FRAME);
    expect(r.live()).toBe('no newline\n');
  });

  it('never takes a frame from stderr', () => {
    const r = reader();
    r.out.push(stderr(frameLine()));
    r.out.end();
    expect(r.out.frame).toBeUndefined();
    expect(r.relayed).toEqual([['stderr', frameLine()]]);
  });

  it('finds the frame split across two chunks at every offset, relaying none of it', () => {
    const stream = `out\n${frameLine()}`;
    for (let at = 0; at <= stream.length; at++) {
      const r = reader();
      r.out.push(stdout(stream.slice(0, at)));
      r.out.push(stdout(stream.slice(at)));
      r.out.finish();
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
    r.out.end();
    expect(r.relayed).toEqual([
      ['stderr', 'warning: x'],
      ['stdout', 'FAAS\n'],
    ]);
    expect(r.out.output.text).toBe('warning: xFAAS\n');
  });

  it('relays and keeps empty lines', () => {
    const r = reader();
    r.out.push(stdout('\n\na\n'));
    expect(r.live()).toBe('\n\na');
    r.out.end();
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
    r.out.end();
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
    r.out.end();
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
      r.out.end();
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

describe('InvocationOutput line ends (issue 19)', () => {
  const ending = (lineEnds: LogStream[], bytes = 0) => frameLine(NONCE, { ...FRAME, output: { bytes, truncated: false, lineEnds } });

  it('drops the newline the runtime added after stdout that stopped mid-line, live and in the row', () => {
    const r = reader();
    r.out.push(stderr('progress 1\n'));
    r.out.push(stdout('result follows'));
    r.out.push(stdout(`\n${ending(['stdout'], 25)}`));
    expect(r.out.complete).toBe(true);
    r.out.finish();
    expect(r.out.output.text).toBe('progress 1\nresult follows');
    expect(r.live()).toBe('progress 1\nresult follows');
  });

  it('drops the one added after stderr, which may come after the frame', () => {
    const r = reader();
    r.out.push(stderr('almost'));
    r.out.push(stdout(ending(['stderr'], 6)));
    expect(r.out.complete).toBe(false);
    r.out.push(stderr('\n'));
    expect(r.out.complete).toBe(true);
    r.out.finish();
    expect(r.out.output.text).toBe('almost');
    expect(r.live()).toBe('almost');
  });

  it('keeps a newline the function wrote itself', () => {
    const r = reader();
    r.out.push(stdout('line\n'));
    r.out.push(stderr('warn\n'));
    r.out.push(stdout(ending([], 10)));
    r.out.finish();
    expect(r.out.output.text).toBe('line\nwarn\n');
    expect(r.live()).toBe('line\nwarn\n');
  });

  it('takes out of the row an added newline the other stream relayed first (live, it showed)', () => {
    const r = reader();
    r.out.push(stdout('out'));
    r.out.push(stdout('\n'));
    r.out.push(stderr('err\n'));
    r.out.push(stdout(ending(['stdout', 'stderr'], 6)));
    r.out.finish();
    expect(r.out.output.text).toBe('outerr');
    expect(r.live()).toBe('out\nerr');
  });

  it('relays the partial lines the frame carries last, in their order', () => {
    const r = reader();
    r.out.push(stdout('first\n'));
    const tails = [
      { stream: 'stdout', text: 'out, no newline', bytes: 15 },
      { stream: 'stderr', text: 'err, é', bytes: 8 },
    ];
    r.out.push(stdout(frameLine(NONCE, { ...FRAME, output: { bytes: 29, truncated: false, tails } })));
    expect(r.out.complete).toBe(true);
    r.out.finish();
    expect(r.relayed).toEqual([
      ['stdout', 'first\nout, no newline'],
      ['stderr', 'err, é'],
    ]);
    expect(r.out.output.text).toBe('first\nout, no newlineerr, é');
  });

  it("waits for the log's part of the output when the frame carries tails", () => {
    const out = new InvocationOutput(NONCE, 1024);
    out.push(stdout(frameLine(NONCE, { ...FRAME, output: { bytes: 9, truncated: false, tails: [{ stream: 'stdout', text: 'tail', bytes: 4 }] } })));
    expect(out.complete).toBe(false);
    out.push(stderr('warn\n'));
    expect(out.complete).toBe(true);
  });

  it('leaves finishing to the caller who may find the frame elsewhere (end(false))', () => {
    const r = reader();
    r.out.push(stdout('50%\n'));
    r.out.end(false);
    expect(r.live()).toBe('50%');
    r.out.frame = JSON.parse(ending(['stdout'], 3).slice(`${FRAME_PREFIX}${NONCE}:`.length));
    r.out.finish();
    expect(r.live()).toBe('50%');
    expect(r.out.output.text).toBe('50%');
  });

  it('relays everything as it came when no frame arrived', () => {
    const r = reader();
    r.out.push(stdout('a\n'));
    r.out.push(stderr('b\n'));
    r.out.end();
    expect(r.live()).toBe('a\nb\n');
    expect(r.out.output.text).toBe('a\nb\n');
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
    out.finish();
    expect(out.output.text).toBe('out\nerr\n');
  });

  it('counts the newlines the runtime added to output that stopped mid-line', () => {
    const out = new InvocationOutput(NONCE, 1024);
    out.push(stdout('partial\n'));
    out.push(stdout(frameLine(NONCE, { ...FRAME, output: { bytes: 9, truncated: false, lineEnds: ['stdout', 'stderr'] } })));
    expect(out.complete).toBe(false);
    out.push(stderr('e1\n'));
    expect(out.complete).toBe(true);
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
