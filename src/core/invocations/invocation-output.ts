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
  error: { type: string; message: string; traceback?: string | null } | null;
  /** A warm replica also sends the captured text (a cold run's output is in its log). */
  output: { bytes: number; truncated: boolean; text?: string };
  metrics: { durationMs: number; cpuMs: number | null; maxRssKb: number | null };
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

  /** The end of the stream: a held-back partial line is output after all. */
  end(): void {
    this.emit('stderr', this.decoders.stderr.end());
    this.partial += this.decoders.stdout.end();
    if (this.partial && !this.partial.startsWith(this.marker)) this.emit('stdout', this.partial);
    else if (this.partial) this.takeFrame(this.partial.slice(this.marker.length));
    this.partial = '';
  }

  /**
   * The frame arrived and so did every byte of output it counts. stdout and stderr are separate
   * pipes: a line written to stderr before the result can reach the log stream after the frame.
   */
  get complete(): boolean {
    if (!this.frame) return false;
    const expected = this.frame.output;
    return !expected || expected.truncated || this.receivedBytes >= expected.bytes;
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
    this.relay(stream, text);
    this.receivedBytes += Buffer.byteLength(text);
    if (this.overflow) return;
    const room = this.keepLimit - this.keptBytes;
    const bytes = Buffer.byteLength(text);
    if (bytes <= room) {
      this.kept.push(text);
      this.keptBytes += bytes;
    } else {
      this.kept.push(
        Buffer.from(text)
          .subarray(0, Math.max(0, room))
          .toString('utf8')
          .replace(/\uFFFD$/, ''),
      );
      this.keptBytes = this.keepLimit;
      this.overflow = true;
    }
  }
}
