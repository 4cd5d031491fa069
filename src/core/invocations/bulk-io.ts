import { createHash } from 'node:crypto';
import { MAX_WARM_INPUT_BYTES } from './invoke.js';
import type { RequestItem } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { UsageError } from '../../base/errors.js';
/**
 * `fn invoke NAME --bulk FILE`: many inputs, one request. Warm functions spread the inputs
 * over their replicas; otherwise a short-lived replica service (a few tasks of the same
 * `serve` mode, with a token of its own) works through them and is removed at the end:
 * one service per bulk run instead of one per input. Answers come back in input order.
 * This file: the lines of the input checked one by one, and the answers written in batches.
 */
export const MAX_BULK_INPUTS = 1_000_000;

/** Answers are written to the database in batches this big (one statement each). */
export const ITEM_BATCH = 500;
/** A batch not yet full is written after this long anyway: a slow run records as it goes. */
const ITEM_FLUSH_MS = 1000;

/** One input of a bulk run: its index among the inputs and its line in the file (blank lines are skipped). */
export interface BulkLine {
  index: number;
  lineNo: number;
  text: string;
}

const JSONL_HINT = 'one JSON document per line (JSON Lines)';

/** One line of a JSONL input as an input, or undefined for a blank line; a bad line is named by number. */
export function bulkLine(raw: string, lineNo: number, index: number, source: string): BulkLine | undefined {
  const text = raw.trim();
  if (!text) return undefined;
  try {
    JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}:${lineNo}: not valid JSON: ${(err as Error).message}`, { code: 'invalid_input', hint: JSONL_HINT });
  }
  if (Buffer.byteLength(text) > MAX_WARM_INPUT_BYTES) throw new UsageError(`${source}:${lineNo}: the input is larger than 16 MiB`, { code: 'input_too_large' });
  if (index >= MAX_BULK_INPUTS)
    throw new UsageError(`${source}:${lineNo}: input ${index + 1} is beyond the limit of ${MAX_BULK_INPUTS} inputs a run`, { code: 'too_many_inputs', hint: 'split the file' });
  return { index, lineNo, text };
}

/** The inputs of raw lines, lazily: `lines` may be a file read line by line. */
export async function* bulkLines(lines: AsyncIterable<string> | Iterable<string>, source: string): AsyncGenerator<BulkLine> {
  let lineNo = 0;
  let index = 0;
  for await (const raw of lines) {
    const line = bulkLine(raw, ++lineNo, index, source);
    if (!line) continue;
    index++;
    yield line;
  }
  if (!index) throw new UsageError(`${source} has no inputs`, { code: 'invalid_input', hint: JSONL_HINT });
}

/** Lines of a JSONL text as inputs (the menu's inputs, tests): the same checks as a file's. */
export function parseBulkInputs(text: string, source: string): string[] {
  const inputs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = bulkLine(lines[i]!, i + 1, inputs.length, source);
    if (line) inputs.push(line.text);
  }
  if (!inputs.length) throw new UsageError(`${source} has no inputs`, { code: 'invalid_input', hint: JSONL_HINT });
  return inputs;
}

/** What keys a line in a resumable run: the sha256 of the input as run (hex). */
export function lineHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function parseConcurrency(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError(`invalid --concurrency ${raw}`, { code: 'invalid_concurrency', hint: 'a whole number from 1 to 1024' });
  return n;
}

/**
 * Answers reach the database in batches, written behind the run, in order. `add(null)` counts a
 * line whose answer is already recorded (a resume). `settle(n)` is told once n more lines, in
 * order, are recorded: the run's window (bulk-window.ts) lets new inputs in only then.
 */
export function batchWriter(deps: { store: Store }, requestId: string, settle: (count: number) => void = () => {}) {
  let pending: RequestItem[] = [];
  let counted = 0;
  let writes: Promise<void> = Promise.resolve();
  let failed: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    const count = counted;
    pending = [];
    counted = 0;
    if (!count) return;
    writes = writes.then(async () => {
      if (batch.length) await deps.store.requests.insertItems(requestId, batch);
      settle(count);
    });
    // Handled here, reported by flush() and the next add(): a failed write between batches must
    // not be an unhandled rejection, which would end the process with a stack trace.
    writes.catch((err: unknown) => {
      failed ??= err;
    });
  };
  return {
    add(item: RequestItem | null) {
      if (failed !== undefined) throw failed;
      if (item) pending.push(item);
      counted++;
      // Lines already recorded need no statement: they settle as soon as nothing is ahead of them.
      if (counted >= ITEM_BATCH || (!pending.length && counted >= 1 && !timer)) write();
      else timer ??= setTimeout(write, ITEM_FLUSH_MS);
    },
    async flush() {
      write();
      await writes;
    },
  };
}
