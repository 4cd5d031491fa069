import { MAX_WARM_INPUT_BYTES } from './invoke.js';
import type { RequestItem } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { UsageError } from '../../base/errors.js';
/** A bulk run's input file read into inputs, and its answers written to the database in batches. */
/**
 * `fn invoke NAME --bulk FILE`: many inputs, one request. Warm functions spread the inputs
 * over their replicas; otherwise a short-lived replica service (a few tasks of the same
 * `serve` mode, with a token of its own) works through them and is removed at the end:
 * one service per bulk run instead of one per input. Answers come back in input order.
 */
export const MAX_BULK_INPUTS = 1_000_000;

/** Answers are written to the database in batches this big (one statement each). */
const ITEM_BATCH = 500;

/** Lines of a JSONL file as inputs; blank lines are skipped, a bad line is named by number. */
export function parseBulkInputs(text: string, source: string): string[] {
  const inputs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${source}:${i + 1}: not valid JSON: ${(err as Error).message}`, { code: 'invalid_input', hint: 'one JSON document per line (JSON Lines)' });
    }
    if (Buffer.byteLength(line) > MAX_WARM_INPUT_BYTES) throw new UsageError(`${source}:${i + 1}: the input is larger than 16 MiB`, { code: 'input_too_large' });
    inputs.push(line);
  }
  if (!inputs.length) throw new UsageError(`${source} has no inputs`, { code: 'invalid_input', hint: 'one JSON document per line (JSON Lines)' });
  if (inputs.length > MAX_BULK_INPUTS) throw new UsageError(`${source} has ${inputs.length} inputs; the limit is ${MAX_BULK_INPUTS}`, { code: 'too_many_inputs' });
  return inputs;
}

export function parseConcurrency(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError(`invalid --concurrency ${raw}`, { code: 'invalid_concurrency', hint: 'a whole number from 1 to 1024' });
  return n;
}

/** Answers reach the database in batches, written behind the run, in order. */
export function batchWriter(deps: { store: Store }, requestId: string) {
  let pending: RequestItem[] = [];
  let writes: Promise<void> = Promise.resolve();
  const write = () => {
    const batch = pending;
    pending = [];
    if (!batch.length) return;
    writes = writes.then(() => deps.store.requests.insertItems(requestId, batch));
    // Handled here, reported by flush(): a failed write between batches must not be an
    // unhandled rejection, which would end the process with a stack trace.
    writes.catch(() => {});
  };
  return {
    add(item: RequestItem) {
      pending.push(item);
      if (pending.length >= ITEM_BATCH) write();
    },
    async flush() {
      write();
      await writes;
    },
  };
}
