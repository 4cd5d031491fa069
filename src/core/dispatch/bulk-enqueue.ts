import { createHash } from 'node:crypto';
import { UsageError } from '../../base/errors.js';
import { effectivePolicy } from '../functions/dispatch-policy.js';
import { requireFunction } from '../functions/lookup.js';
import { MAX_WARM_INPUT_BYTES, validateInput, type InvokeDeps } from '../invocations/invoke.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import type { Actor } from '../users/accounts.js';
import { dispatcherInstalled, QUEUE_CHANNEL } from './queue-state.js';
import { IDEMPOTENCY_WINDOW_MS } from './submit.js';

/** Lines queued per statement: one round trip for many, without one huge parameter list. */
const BATCH = 500;

export interface QueuedLine {
  index: number;
  requestId: string;
  /** The line's key found an earlier request: nothing new was queued for it. */
  repeat: boolean;
}

/**
 * `fn invoke --bulk FILE --async`: every line a queued request of its own, in input order
 * (the dispatcher claims them in that order), each with the function's retries. With a key K,
 * line i is keyed `K:i`, so the same command run again queues only the lines it had not.
 */
export async function enqueueBulk(deps: InvokeDeps, actor: Actor, name: string, inputs: string[], key: string | undefined): Promise<QueuedLine[]> {
  if (!(await dispatcherInstalled(deps.store)))
    throw new UsageError('--bulk --async queues the lines for the dispatcher, and this installation has none', { hint: 'run faasctl up --dispatcher, or leave out --async' });
  const fn = await requireFunction(deps.store, actor, name);
  const policy = effectivePolicy(await deps.store.functions.dispatchPolicy(fn.id));
  const deadlineMs = policy.maxEventAgeMs + deadlineBudgetMs({ kind: 'cold', timeoutMs: fn.current.timeoutMs });
  const out: QueuedLine[] = [];
  for (let from = 0; from < inputs.length; from += BATCH) {
    const lines = inputs.slice(from, from + BATCH).map((raw, i) => ({ index: from + i, input: validateInput(raw, MAX_WARM_INPUT_BYTES) }));
    if (key !== undefined)
      await deps.store.queue.releaseStaleKeys(
        actor.id,
        lines.map((l) => `${key}:${l.index}`),
        IDEMPOTENCY_WINDOW_MS,
      );
    const rows = lines.map((l) => ({
      id: deps.newId(),
      userId: actor.id,
      functionId: fn.id,
      functionName: fn.name,
      functionVersion: fn.current.version,
      params: { name: fn.name, version: fn.current.version, inputBytes: Buffer.byteLength(l.input), bulkIndex: l.index },
      input: l.input,
      deadlineMs,
      ...(key === undefined ? {} : { idempotencyKey: `${key}:${l.index}`, inputSha256: createHash('sha256').update(l.input).digest('hex') }),
    }));
    await deps.store.queue.enqueueMany(rows);
    const holders =
      key === undefined
        ? undefined
        : await deps.store.queue.idsByKeys(
            actor.id,
            rows.map((r) => r.idempotencyKey as string),
          );
    for (const r of rows) {
      const id = holders?.get(r.idempotencyKey as string) ?? r.id;
      out.push({ index: r.params.bulkIndex, requestId: id, repeat: id !== r.id });
    }
    await deps.store.queue.notify(QUEUE_CHANNEL);
  }
  return out;
}
