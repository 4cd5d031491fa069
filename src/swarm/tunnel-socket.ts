import { Duplex } from 'node:stream';

/**
 * A socket-shaped stream over a channel that opens asynchronously (an SSH channel), so
 * node's http client and pg can use it where they expect a net.Socket: it answers
 * connect(), emits 'connect', buffers writes until the channel is open, and implements the
 * idle timer of setTimeout(), which the replica transport relies on for its deadlines.
 */
export class TunnelSocket extends Duplex {
  connecting = false;
  timeout = 0;
  private channel?: Duplex;
  private waiting?: () => void;
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly open: () => Promise<Duplex>) {
    super({ allowHalfOpen: false });
  }

  /** Opens the channel; pg calls it as connect(port, host), the dialers call it without arguments. */
  connect(..._ignored: unknown[]): this {
    if (this.connecting || this.channel) return this;
    this.connecting = true;
    this.open().then(
      (channel) => this.attach(channel),
      (err: Error) => this.destroy(err),
    );
    return this;
  }

  private attach(channel: Duplex): void {
    this.connecting = false;
    if (this.destroyed) {
      channel.destroy();
      return;
    }
    this.channel = channel;
    channel.on('data', (chunk: Buffer) => {
      this.touch();
      if (!this.push(chunk)) channel.pause();
    });
    channel.on('end', () => this.push(null));
    channel.on('error', (err: Error) => this.destroy(err));
    // Destroy only with nothing left unread: pushed data must still reach the reader, after
    // which (allowHalfOpen false) the socket ends its side and closes itself.
    channel.on('close', () => {
      this.push(null);
      if (this.readableLength === 0) this.destroy();
    });
    this.emit('connect');
    this.emit('ready');
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  override _read(): void {
    this.channel?.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.touch();
    if (!this.channel) {
      this.waiting = () => this._write(chunk, encoding, callback);
      return;
    }
    this.channel.write(chunk, encoding, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (!this.channel) {
      this.waiting = () => this._final(callback);
      return;
    }
    this.channel.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    this.channel?.destroy();
    this.waiting = undefined;
    callback(err);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.timeout = ms;
    if (onTimeout) {
      if (ms === 0) this.off('timeout', onTimeout);
      else this.once('timeout', onTimeout);
    }
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = this.timeout > 0 ? setTimeout(() => this.emit('timeout'), this.timeout).unref() : undefined;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
