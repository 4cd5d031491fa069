import { once } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TunnelSocket } from '../../src/swarm/tunnel-socket.js';

/** Two ends of an in-memory channel: what the socket writes, the far end reads, and back. */
function channelPair(): { near: Duplex; far: { input: PassThrough; output: PassThrough } } {
  const input = new PassThrough();
  const output = new PassThrough();
  const near = Duplex.from({ readable: output, writable: input });
  return { near, far: { input, output } };
}

describe('TunnelSocket', () => {
  it('buffers writes until the channel opens, then relays both ways and emits connect once', async () => {
    const { near, far } = channelPair();
    let open!: (d: Duplex) => void;
    const socket = new TunnelSocket(() => new Promise((r) => (open = r)));
    let connects = 0;
    socket.on('connect', () => connects++);
    socket.connect(5432, 'db');
    socket.write('hello ');
    socket.connect();
    open(near);
    const got = new Promise<string>((r) => far.input.once('data', (c: Buffer) => r(c.toString())));
    expect(await got).toBe('hello ');
    far.output.write('pong');
    expect(await new Promise<string>((r) => socket.once('data', (c: Buffer) => r(c.toString())))).toBe('pong');
    expect(connects).toBe(1);
    socket.destroy();
  });

  it('still delivers data that arrived before the channel closed', async () => {
    const channel = new PassThrough();
    const socket = new TunnelSocket(async () => channel).connect();
    await new Promise((r) => socket.once('connect', r));
    channel.write('last words');
    channel.end();
    channel.destroy();
    await once(channel, 'close'); // the socket has seen the close (its listener runs first) before reading
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('last words');
  });

  it('fails with the error of a channel that cannot open', async () => {
    const socket = new TunnelSocket(() => Promise.reject(new Error('administratively prohibited')));
    const err = await new Promise<Error>((r) => socket.once('error', r).connect());
    expect(err.message).toBe('administratively prohibited');
  });

  it('emits timeout after the idle time set by setTimeout, and not after setTimeout(0)', async () => {
    const { near } = channelPair();
    const socket = new TunnelSocket(async () => near).connect();
    const fired = await new Promise<boolean>((r) => {
      socket.setTimeout(20, () => r(true));
      setTimeout(() => r(false), 500);
    });
    expect(fired).toBe(true);
    let again = false;
    socket.setTimeout(10, () => (again = true));
    socket.setTimeout(0);
    await new Promise((r) => setTimeout(r, 50)); // deliberate: five times the cancelled idle time, to see it not fire
    expect(again).toBe(false);
    socket.destroy();
  });
});
