import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import { MAX_WARM_INPUT_BYTES } from '../core/invocations/invoke.js';
import { bulkLines, type BulkLine } from '../core/invocations/bulk-io.js';
import type { BulkSource } from '../core/invocations/bulk-invoke.js';
import { firstNonTextByte } from './text-input.js';

/**
 * `--bulk FILE` read lazily (issue 26): the file in 64 KiB chunks, split at newlines, each
 * whole-line stretch checked as UTF-8 text (issue 17's refusal, with the offset in the file),
 * so memory does not grow with the file. A file is read once beforehand to check every line
 * and count the inputs (a bad line refuses the run before anything is created; progress
 * knows the total); stdin is read once, as the run goes.
 */
const EXPECTED = '--bulk takes JSON lines, one input document a line';
const HINT = 'binary data goes inside the JSON, e.g. base64: {"data": "<base64>"}';
/** A line may hold one input of 16 MiB (plus spaces): a longer stretch without a newline is refused. */
const MAX_LINE_BYTES = MAX_WARM_INPUT_BYTES + 1024 * 1024;

export async function* rawLines(stream: AsyncIterable<Buffer | string>, label: string): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  const text = (bytes: Buffer): string => {
    const bad = firstNonTextByte(bytes);
    if (bad) {
      const byte = `0x${bad.byte.toString(16).padStart(2, '0')}`;
      throw new UsageError(`${label} is not a UTF-8 text file (byte ${byte} at offset ${offset + bad.offset}); ${EXPECTED}`, { code: 'not_text', hint: HINT });
    }
    offset += bytes.length;
    return bytes.toString('utf8');
  };
  for await (const chunk of stream) {
    const buf = carry.length ? Buffer.concat([carry, Buffer.from(chunk)]) : Buffer.from(chunk);
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      if (buf.length > MAX_LINE_BYTES) throw new UsageError(`${label}: a line at offset ${offset} is larger than 16 MiB`, { code: 'input_too_large' });
      carry = buf;
      continue;
    }
    carry = buf.subarray(last + 1);
    const lines = text(buf.subarray(0, last + 1)).split('\n');
    lines.pop();
    yield* lines;
  }
  if (carry.length) yield text(carry);
}

function fileLines(path: string, label: string): AsyncIterable<BulkLine> {
  return bulkLines(rawLines(createReadStream(path, { highWaterMark: 64 * 1024 }), label), label);
}

/** The inputs of `--bulk SOURCE` ("-": stdin). */
export async function bulkSource(source: string, stdin: NodeJS.ReadableStream): Promise<BulkSource> {
  if (source === '-') {
    let used = false;
    return {
      label: 'stdin',
      lines: () => {
        if (used) throw new Error('stdin is read once');
        used = true;
        return bulkLines(rawLines(stdin as AsyncIterable<Buffer>, 'stdin'), 'stdin');
      },
    };
  }
  try {
    await (await open(source, 'r')).close();
  } catch (err) {
    throw new UsageError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { code: 'bad_file' });
  }
  let total = 0;
  try {
    for await (const _ of fileLines(source, source)) total++;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && !(err instanceof UsageError)) throw new UsageError(`cannot read ${source}: ${(err as Error).message}`, { code: 'bad_file' });
    throw err;
  }
  return { label: source, path: resolve(source), total, lines: () => fileLines(source, source) };
}

/** Inputs already in memory (the menu's "execute N times"). */
export function arraySource(inputs: string[], label = 'inputs'): BulkSource {
  return {
    label,
    total: inputs.length,
    lines: () => bulkLines(inputs, label),
  };
}
