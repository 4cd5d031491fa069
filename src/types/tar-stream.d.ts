// tar-stream 2.x ships no types; only what faasctl uses.
declare module 'tar-stream' {
  import type { Readable } from 'node:stream';
  interface Pack extends Readable {
    entry(header: { name: string; mode?: number; size?: number; type?: 'file' | 'directory' }, content: Buffer | string, callback?: (err?: Error) => void): void;
    finalize(): void;
  }
  export function pack(): Pack;
}
