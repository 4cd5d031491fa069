/**
 * The Engine API multiplexes a non-TTY log stream into frames: one header byte for the
 * stream (1 stdout, 2 stderr), three zero bytes, a big-endian uint32 length, then the
 * payload. Frames may be split across reads, so the demuxer keeps what it has not used.
 */
export type LogStream = 'stdout' | 'stderr';

export interface LogChunk {
  stream: LogStream;
  data: Buffer;
}

const HEADER = 8;

export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds raw bytes; returns the complete frames they finish. */
  push(bytes: Buffer): LogChunk[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    const chunks: LogChunk[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER) {
      const size = this.pending.readUInt32BE(at + 4);
      if (this.pending.length - at < HEADER + size) break;
      const kind = this.pending[at];
      const data = this.pending.subarray(at + HEADER, at + HEADER + size);
      // 0 is stdin echoed back; only a TTY-less stdout/stderr is expected here.
      if (kind === 1 || kind === 2) chunks.push({ stream: kind === 1 ? 'stdout' : 'stderr', data });
      at += HEADER + size;
    }
    this.pending = this.pending.subarray(at);
    return chunks;
  }

  /** Bytes of an unfinished frame still held. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** A whole multiplexed log buffer (a non-follow logs answer) as chunks. */
export function demuxAll(bytes: Buffer): LogChunk[] {
  return new LogDemuxer().push(bytes);
}
