/**
 * Why a bulk run stops when its output pipe closes. Exit 130 (interrupted), not a signal
 * death: like Ctrl-C it was stopped from outside, cleanly, and its row records it.
 */
export const OUTPUT_CLOSED = 'the reader of its output went away (stdout closed)';

/**
 * NDJSON lines to stdout: lines gathered per tick and written together (thousands of answers a
 * second, few writes), honouring back-pressure (issue 26): once the stream's buffer is full,
 * write() answers a promise that resolves on 'drain', and the bulk run waits on it instead of
 * piling answers up in memory. A closed pipe (EPIPE, or any write error) is reported once
 * through onClosed and nothing more is written; the listener stays, so no later write can end
 * the process with an unhandled error.
 */
export function lineWriter(stream: NodeJS.WritableStream, onClosed: () => void) {
  let pending: string[] = [];
  let scheduled = false;
  let closed = false;
  let full: Promise<void> | undefined;
  let unblock: (() => void) | undefined;
  // EPIPE in practice; any write error means nobody reads the answers any more.
  const onError = () => {
    if (closed) return;
    closed = true;
    pending = [];
    unblock?.();
    onClosed();
  };
  stream.on('error', onError);
  const flush = () => {
    scheduled = false;
    if (closed) pending = [];
    if (!pending.length) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    if (stream.write(text) || full) return;
    full = new Promise<void>((resolve) => {
      unblock = () => {
        full = undefined;
        unblock = undefined;
        resolve();
      };
      stream.once('drain', () => unblock?.());
    });
  };
  return {
    /** Queues a line; a promise when the reader is behind (wait for it before the next). */
    write(line: string): Promise<void> | undefined {
      if (closed) return undefined;
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return full;
    },
    end: () =>
      new Promise<void>((resolve) => {
        flush();
        // An open stdout outlives this run (the menu runs more): stop listening. A closed one keeps the listener.
        if (!closed) stream.off('error', onError);
        if (closed || stream.write('')) return resolve();
        stream.once('drain', () => resolve());
        // A reader that goes away while we wait for room never drains: the error ends the wait.
        stream.once('error', () => resolve());
      }),
  };
}
