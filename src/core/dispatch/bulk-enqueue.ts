import { createHash } from 'node:crypto';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { effectivePolicy } from '../functions/dispatch-policy.js';
import { requireFunction } from '../functions/lookup.js';
import { MAX_WARM_INPUT_BYTES, validateInput, type InvokeDeps } from '../invocations/invoke.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import type { Actor } from '../users/accounts.js';
import { dispatcherInstalled, QUEUE_CHANNEL } from './queue-state.js';
import { IDEMPOTENCY_WINDOW_MS } from './submit.js';
import type { BulkLine } from '../invocations/bulk-io.js';
import { changedLine } from '../invocations/bulk-resume.js';

/** Lines queued per statement: one round trip for many, without one huge parameter list. */
const BATCH = 500;

export interface QueuedLine {
  index: number;
  requestId: string;
  /** The line's key found an earlier request: nothing new was queued for it. */
  repeat: boolean;
}

export interface BulkQueueRequest {
  name: string;
  /** A fresh pass over the inputs (a resume reads them twice: to check, then to queue). */
  lines: () => AsyncIterable<BulkLine>;
  label: string;
  /** Line i is keyed `KEY:i`: the run's id (--idempotency-key, --resume, or a new one). */
  key: string;
  /** The key names a run queued before: it must exist, and its lines must be the file's. */
  resume: boolean;
  /** Each batch's lines in input order; a promise holds the queueing back (stdout full). */
  onQueued: (lines: QueuedLine[]) => void | Promise<void>;
}

/**
 * `fn invoke --bulk FILE --async`: every line a queued request of its own, in input order
 * (the dispatcher claims them in that order), each with the function's retries. Every line i
 * is keyed `KEY:i`, so the same run again (`--resume KEY`, or `--idempotency-key KEY`) queues
 * only the lines it had not. Read and queued in batches: memory does not grow with the file.
 */
export async function enqueueBulk(deps: InvokeDeps, actor: Actor, req: BulkQueueRequest): Promise<{ queued: number; repeats: number }> {
  if (!(await dispatcherInstalled(deps.store)))
    throw new UsageError('--bulk --async queues the lines for the dispatcher, and this installation has none', { hint: 'run faasctl up --dispatcher, or leave out --async' });
  const fn = await requireFunction(deps.store, actor, req.name);
  if (req.resume) await checkQueuedRun(deps, actor, req);
  const policy = effectivePolicy(await deps.store.functions.dispatchPolicy(fn.id));
  const deadlineMs = policy.maxEventAgeMs + deadlineBudgetMs({ kind: 'cold', timeoutMs: fn.current.timeoutMs });
  let queued = 0;
  let repeats = 0;
  const queue = async (batch: BulkLine[]) => {
    const lines = batch.map((l) => ({ index: l.index, input: validateInput(l.text, MAX_WARM_INPUT_BYTES) }));
    const keys = lines.map((l) => `${req.key}:${l.index}`);
    await deps.store.queue.releaseStaleKeys(actor.id, keys, IDEMPOTENCY_WINDOW_MS);
    const rows = lines.map((l, i) => ({
      id: deps.newId(),
      userId: actor.id,
      functionId: fn.id,
      functionName: fn.name,
      functionVersion: fn.current.version,
      params: { name: fn.name, version: fn.current.version, inputBytes: Buffer.byteLength(l.input), bulkIndex: l.index },
      input: l.input,
      deadlineMs,
      idempotencyKey: keys[i]!,
      inputSha256: sha256(l.input),
    }));
    await deps.store.queue.enqueueMany(rows);
    const holders = await deps.store.queue.idsByKeys(actor.id, keys);
    const out = rows.map((r) => {
      const id = holders.get(r.idempotencyKey) ?? r.id;
      return { index: r.params.bulkIndex, requestId: id, repeat: id !== r.id };
    });
    await deps.store.queue.notify(QUEUE_CHANNEL);
    for (const o of out) o.repeat ? repeats++ : queued++;
    await req.onQueued(out);
  };
  await inBatches(req.lines(), queue);
  return { queued, repeats };
}

/** `--async --resume RUN`: the run exists (its first line is keyed RUN:0) and no queued line changed. */
async function checkQueuedRun(deps: InvokeDeps, actor: Actor, req: BulkQueueRequest): Promise<void> {
  const first = await deps.store.bulkRuns.keyHashes(actor.id, [`${req.key}:0`]);
  // Another user's run is as unknown as a missing one.
  if (!first.size) throw new NotFoundError(`bulk run ${req.key} not found`, { code: 'run_not_found', hint: 'the run id --bulk --async printed, or its --idempotency-key' });
  await inBatches(req.lines(), async (batch) => {
    const held = await deps.store.bulkRuns.keyHashes(
      actor.id,
      batch.map((l) => `${req.key}:${l.index}`),
    );
    for (const l of batch) {
      const sha = held.get(`${req.key}:${l.index}`);
      if (sha && sha !== sha256(l.text)) throw changedLine(req.label, l.lineNo, req.key);
    }
  });
}

async function inBatches(lines: AsyncIterable<BulkLine>, each: (batch: BulkLine[]) => Promise<void>): Promise<void> {
  let batch: BulkLine[] = [];
  for await (const line of lines) {
    batch.push(line);
    if (batch.length >= BATCH) {
      await each(batch);
      batch = [];
    }
  }
  if (batch.length) await each(batch);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
