import { StringDecoder } from 'node:string_decoder';
import type { LogChunk, LogStream } from '../../swarm/log-demux.js';

/**
 * Reads an invocation's log stream: relays the function's own output, keeps a capped copy
 * for the request row, and finds the runtime's result frame,
 * `FAASCTL-RESULT:<nonce>:<json>`, which only the runtime can write (the function never
 * sees the nonce). The frame always starts a line; a line that merely looks like one
 * without the nonce is the function's output like any other.
 */
export const FRAME_PREFIX = 'FAASCTL-RESULT:';

export interface Frame {
  v: number;
  /** A warm replica says which function version answered. */
  version?: number;
  status: 'success' | 'error' | 'timeout' | 'oom' | 'killed' | 'stopped';
  result: unknown;
  /** `lambda`: a Lambda handler's error in AWS Lambda's own shape, besides ours. */
  error: { type: string; message: string; traceback?: string | null; lambda?: { errorMessage: string; errorType: string; stackTrace: string[]; requestId: string } } | null;
  /**
   * A warm replica also sends the captured text (a cold run's output is in its log).
   * A cold run's output that stopped mid-line (issue 19): `tails`, the last partial lines,
   * come in the frame instead of the log (the engine would hold them until the container
   * ends); `lineEnds`, the streams the runtime ended with a newline the function did not
   * write (a partial line already in the log), a newline that is dropped here.
   */
  output: { bytes: number; truncated: boolean; text?: string; tails?: OutputTail[]; lineEnds?: LogStream[] };
  metrics: { durationMs: number; cpuMs: number | null; maxRssKb: number | null };
}

/** A partial line the function wrote last, carried by the frame; `bytes` as written. */
export interface OutputTail {
  stream: LogStream;
  text: string;
  bytes: number;
}

export class InvocationOutput {
  private readonly marker: string;
  private partial = '';
  private atLineStart = true;
  private kept: string[] = [];
  private keptBytes = 0;
  /** The function's output received so far (both streams), kept or not. */
  private receivedBytes = 0;
  private overflow = false;
  /**
   * The last newline received, not yet relayed: it may be one the runtime added (lineEnds).
   * Any later text relays it first, so the function's lines still appear as they come.
   */
  private held?: LogStream;
  /** Where a stream's newline went into `kept` when the other stream's text relayed it. */
  private releasedAt: Partial<Record<LogStream, number>> = {};
  private finished = false;
  // Docker cuts long lines every 16 KiB, through multibyte characters: decode per stream.
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  frame?: Frame;
  /** Set when a line carried the nonce but not a readable frame: a runtime bug, not user output. */
  badFrame?: string;

  constructor(
    nonce: string,
    private readonly keepLimit: number,
    private readonly relay: (stream: LogStream, text: string) => void = () => {},
  ) {
    this.marker = `${FRAME_PREFIX}${nonce}:`;
  }

  push(chunk: LogChunk): void {
    const text = this.decoders[chunk.stream].write(chunk.data);
    if (chunk.stream === 'stderr') {
      this.emit('stderr', text);
      return;
    }
    let rest = this.partial + text;
    this.partial = '';
    while (rest.length) {
      const nl = rest.indexOf('\n');
      if (nl < 0) {
        // Hold back a line start that could become the frame; relay anything else live.
        if (this.atLineStart && (this.marker.startsWith(rest) || rest.startsWith(this.marker))) this.partial = rest;
        else {
          this.emit('stdout', rest);
          this.atLineStart = false;
        }
        return;
      }
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (this.atLineStart && line.startsWith(this.marker)) this.takeFrame(line.slice(this.marker.length));
      else this.emit('stdout', `${line}\n`);
      this.atLineStart = true;
    }
  }

  /**
   * The end of the stream: a held-back partial line is output after all. `finish` false
   * leaves finish() to the caller, who may still find the frame elsewhere (a re-read log).
   */
  end(finish = true): void {
    this.emit('stderr', this.decoders.stderr.end());
    this.partial += this.decoders.stdout.end();
    if (this.partial && !this.partial.startsWith(this.marker)) this.emit('stdout', this.partial);
    else if (this.partial) this.takeFrame(this.partial.slice(this.marker.length));
    this.partial = '';
    if (finish) this.finish();
  }

  /**
   * No more output will be read: relay the newline still held, unless the frame says the
   * runtime added it; and take out of the kept text one the other stream's text relayed.
   */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const added = new Set(this.frame?.output?.lineEnds ?? []);
    const held = this.held;
    this.held = undefined;
    if (held && !added.has(held)) this.deliver(held, '\n');
    for (const tail of this.frame?.output?.tails ?? []) this.deliver(tail.stream, tail.text);
    for (const stream of added) {
      const at = this.releasedAt[stream];
      if (at !== undefined && this.kept[at] === '\n') {
        this.kept[at] = '';
        this.keptBytes -= 1;
      }
    }
  }

  /**
   * The frame arrived and so did every byte of output it counts. stdout and stderr are separate
   * pipes: a line written to stderr before the result can reach the log stream after the frame.
   */
  get complete(): boolean {
    if (!this.frame) return false;
    const expected = this.frame.output;
    if (!expected || expected.truncated) return true;
    const inFrame = (expected.tails ?? []).reduce((sum, t) => sum + t.bytes, 0);
    return this.receivedBytes >= expected.bytes - inFrame + (expected.lineEnds?.length ?? 0);
  }

  /** What the function printed, capped for the request row. */
  get output(): { text: string; truncated: boolean } {
    return { text: this.kept.join(''), truncated: this.overflow || Boolean(this.frame?.output.truncated) };
  }

  private takeFrame(json: string): void {
    try {
      const frame = JSON.parse(json) as Frame;
      if (frame && typeof frame === 'object' && typeof frame.status === 'string') {
        this.frame = frame;
        return;
      }
    } catch {
      /* fall through */
    }
    this.badFrame = json.slice(0, 200);
  }

  private emit(stream: LogStream, text: string): void {
    if (!text) return;
    this.receivedBytes += Buffer.byteLength(text);
    if (this.finished) {
      this.deliver(stream, text);
      return;
    }
    const held = this.held;
    if (held) {
      this.held = undefined;
      const at = this.deliver(held, '\n');
      if (held !== stream && at !== undefined) this.releasedAt[held] = at;
    }
    delete this.releasedAt[stream]; // that stream goes on: its newline was not its last byte
    if (text.endsWith('\n')) {
      this.held = stream;
      this.deliver(stream, text.slice(0, -1));
    } else this.deliver(stream, text);
  }

  /** Relays and keeps text; answers its index in `kept` when it was kept whole. */
  private deliver(stream: LogStream, text: string): number | undefined {
    if (!text) return undefined;
    this.relay(stream, text);
    if (this.overflow) return undefined;
    const room = this.keepLimit - this.keptBytes;
    const bytes = Buffer.byteLength(text);
    if (bytes <= room) {
      this.kept.push(text);
      this.keptBytes += bytes;
      return this.kept.length - 1;
    }
    this.kept.push(
      Buffer.from(text)
        .subarray(0, Math.max(0, room))
        .toString('utf8')
        .replace(/\uFFFD$/, ''),
    );
    this.keptBytes = this.keepLimit;
    this.overflow = true;
    return undefined;
  }
}
