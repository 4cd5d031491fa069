import { EXIT, type ExitCode, FaasctlError } from './errors.js';

/** Outcome of one item of a bulk operation. */
export interface BulkItem<T> {
  index: number;
  name: string;
  ok: boolean;
  value?: T;
  error?: { code: string; message: string; exitCode: ExitCode };
}

/**
 * Runs fn over items with bounded concurrency, never stopping at a failure: a bulk
 * operation reports every item. Results come back in input order.
 */
export async function runBulk<I, T>(
  items: I[],
  name: (item: I) => string,
  fn: (item: I) => Promise<T>,
  options: { concurrency: number; onProgress?: (done: number, total: number) => void },
): Promise<Array<BulkItem<T>>> {
  const results: Array<BulkItem<T>> = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      try {
        results[index] = { index, name: name(item), ok: true, value: await fn(item) };
      } catch (err) {
        const e = err instanceof FaasctlError ? err : undefined;
        const error = { code: e?.code ?? 'internal', message: (err as Error)?.message ?? String(err), exitCode: e?.exitCode ?? EXIT.bug };
        results[index] = { index, name: name(item), ok: false, error };
      }
      options.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
  return results;
}

export function bulkNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** A bulk run exits with the code of its first failure, or 0. */
export function bulkExitCode(items: Array<BulkItem<unknown>>): ExitCode {
  return items.find((i) => !i.ok)?.error?.exitCode ?? EXIT.ok;
}
