import type { Store } from '../../db/store.js';
import type { RetentionSettings } from '../../db/prune-repo.js';
import { UsageError } from '../../base/errors.js';
import { parseDuration } from '../../base/durations.js';

/**
 * Keeping the request log bounded (issue 24): the history of deleted users (left in place by
 * `user delete`, so the delete costs the same whatever the history) and, when a retention is
 * set (`up --retention`), rows, output text and rollups past their age. `pruneRequestLog` does
 * one batch of each, each in its own short statement: `gc` repeats it until nothing is left,
 * and a long-running process (the dispatcher) can call it between other work.
 */
export interface PruneCounts {
  requestsPruned: number;
  outputsCleared: number;
  rollupsPruned: number;
}

export const NO_PRUNE: PruneCounts = { requestsPruned: 0, outputsCleared: 0, rollupsPruned: 0 };

/** One batch of each kind (at most `batchSize` rows each); `more` when some batch was full. */
export async function pruneRequestLog(store: Store, batchSize: number): Promise<PruneCounts & { more: boolean }> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`prune batch size must be a positive whole number, not ${batchSize}`);
  const s = await store.prune.retention();
  const gone = await store.prune.deletedUsersBatch(batchSize);
  const old = s.requestsMs === null ? 0 : await store.prune.oldRequestsBatch(s.requestsMs, batchSize);
  const outputs = s.outputMs === null ? 0 : await store.prune.oldOutputBatch(s.outputMs, s.requestsMs, batchSize);
  const rollups = s.rollupsMs === null ? 0 : await store.prune.oldRollupsBatch(s.rollupsMs, batchSize);
  const more = [gone.requests, gone.rollups, old, outputs, rollups].some((n) => n >= batchSize);
  return { requestsPruned: gone.requests + old, outputsCleared: outputs, rollupsPruned: gone.rollups + rollups, more };
}

/** Batch after batch until nothing is left (gc). */
export async function pruneAll(store: Store, batchSize = 5000): Promise<PruneCounts> {
  const total = { ...NO_PRUNE };
  for (;;) {
    const r = await pruneRequestLog(store, batchSize);
    total.requestsPruned += r.requestsPruned;
    total.outputsCleared += r.outputsCleared;
    total.rollupsPruned += r.rollupsPruned;
    if (!r.more) return total;
  }
}

/** What pruneAll would remove now (gc --dry-run). */
export async function prunePending(store: Store): Promise<PruneCounts> {
  const p = await store.prune.pending(await store.prune.retention());
  return { requestsPruned: p.requests, outputsCleared: p.outputs, rollupsPruned: p.rollups };
}

/** Rollups outlive the rows by default: a year's `stats` after the rows are gone. */
export const DEFAULT_ROLLUP_RETENTION_MS = 400 * 24 * 3_600_000;

export interface RetentionFlags {
  retention?: string;
  outputRetention?: string;
  rollupRetention?: string;
}

/**
 * The new settings from `up`'s flags over the stored ones: a duration (30d) or `forever`.
 * Output text may go sooner than its row, never later; rollups never sooner than the rows (stats
 * over the kept history must find them); unset, they stay DEFAULT_ROLLUP_RETENTION_MS or the
 * rows' retention, whichever is longer.
 */
export function retentionFromFlags(flags: RetentionFlags, current: RetentionSettings): RetentionSettings {
  const read = (text: string | undefined, flag: string, was: number | null) => (text === undefined ? was : text === 'forever' ? null : parseDuration(text, flag));
  const requestsMs = read(flags.retention, '--retention', current.requestsMs);
  let outputMs = read(flags.outputRetention, '--output-retention', current.outputMs);
  if (outputMs !== null && requestsMs !== null && outputMs > requestsMs) {
    if (flags.outputRetention !== undefined)
      throw new UsageError('--output-retention is longer than --retention', { hint: 'output text goes with its row at the latest: give a shorter one, or none' });
    outputMs = null;
  }
  const explicitRollups = flags.rollupRetention === undefined ? undefined : read(flags.rollupRetention, '--rollup-retention', null);
  const rollupsMs = explicitRollups !== undefined ? explicitRollups : requestsMs === null ? null : Math.max(current.rollupsMs ?? DEFAULT_ROLLUP_RETENTION_MS, requestsMs);
  if (rollupsMs !== null && (requestsMs === null || rollupsMs < requestsMs)) {
    throw new UsageError('--rollup-retention is shorter than the rows are kept (--retention)', { hint: 'rollups must outlive the rows: give a longer one, or forever' });
  }
  return { requestsMs, outputMs, rollupsMs };
}
