import { createHash } from 'node:crypto';
import type { Store } from '../../db/store.js';
import { ConflictError, UsageError } from '../../base/errors.js';
import { requireFunction } from '../functions/lookup.js';
import { effectivePolicy } from '../functions/dispatch-policy.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import type { Actor } from '../users/accounts.js';
import { invokeFunction, invokeRow, MAX_WARM_INPUT_BYTES, validateInput, type Invocation, type InvokeDeps, type InvokeRequest } from '../invocations/invoke.js';
import { isOpen } from '../invocations/reconcile.js';
import { recordedOutcome } from './recorded-outcome.js';
import { dispatcherInstalled, QUEUE_CHANNEL } from './queue-state.js';

/**
 * `fn invoke` through the dispatcher's rules: an idempotency key answers a repeat with the
 * first request; with a dispatcher installed, --async enqueues and returns at once; the rest
 * runs as before (invocations/invoke.ts), inside the function's concurrency limit.
 */

/** How long a key names its first request (as Lambda Powertools' default: a day). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
const KEY = /^[\x21-\x7e]{1,200}$/;

export interface SubmitRequest extends InvokeRequest {
  idempotencyKey?: string;
}

export interface Submitted extends Invocation {
  /** True when an idempotency key found an earlier request: nothing new ran. */
  repeat?: boolean;
  /** The request was queued for the dispatcher. */
  queued?: boolean;
}

export async function submitInvocation(deps: InvokeDeps, actor: Actor, req: SubmitRequest, wait: (requestId: string) => Promise<Invocation>): Promise<Submitted> {
  const input = validateInput(req.input, MAX_WARM_INPUT_BYTES);
  const key = req.idempotencyKey;
  const idempotency = key === undefined ? undefined : { key: checkKey(key), inputSha256: sha256(input) };
  if (idempotency) {
    const first = await deps.store.queue.byIdempotencyKey(actor.id, idempotency.key, IDEMPOTENCY_WINDOW_MS);
    if (first) return repeatOf(first, idempotency, req, wait);
  }
  const fn = await requireFunction(deps.store, actor, req.name);
  try {
    if (req.async && (await dispatcherInstalled(deps.store))) return await enqueue(deps, actor, fn, input, idempotency);
    return await invokeFunction(deps, actor, { ...req, idempotency }, fn);
  } catch (err) {
    // Two callers with one key at once: the unique index lets one in; the other answers as a repeat.
    if (idempotency && err instanceof ConflictError && /idempotency/.test(err.message)) {
      const first = await deps.store.queue.byIdempotencyKey(actor.id, idempotency.key, IDEMPOTENCY_WINDOW_MS);
      if (first) return repeatOf(first, idempotency, req, wait);
    }
    throw err;
  }
}

async function repeatOf(
  first: NonNullable<Awaited<ReturnType<Store['queue']['byIdempotencyKey']>>>,
  idempotency: { key: string; inputSha256: string },
  req: SubmitRequest,
  wait: (requestId: string) => Promise<Invocation>,
): Promise<Submitted> {
  if (first.inputSha256 && first.inputSha256 !== idempotency.inputSha256)
    throw new UsageError(`idempotency key "${idempotency.key}" was used by request ${first.id} with a different input`, {
      code: 'idempotency_conflict',
      hint: 'use a new key for a new input, or send the same input again to get the first answer',
    });
  const about = { requestId: first.id, functionName: first.functionName ?? req.name, version: first.functionVersion ?? 0, mode: first.mode ?? ('cold' as const), repeat: true };
  if (req.async) return about;
  if (isOpen(first)) return { ...(await wait(first.id)), repeat: true };
  return { ...about, attempt: first.attempt, outcome: recordedOutcome(first) };
}

/**
 * A queued request: its row holds the input until it ends, its deadline is the function's
 * maximum event age plus one run, after which whoever looks closes it.
 */
async function enqueue(deps: InvokeDeps, actor: Actor, fn: Awaited<ReturnType<typeof requireFunction>>, input: string, idempotency?: { key: string; inputSha256: string }): Promise<Submitted> {
  const policy = effectivePolicy(await deps.store.functions.dispatchPolicy(fn.id));
  const requestId = deps.newId();
  await deps.store.requests.insert({
    ...invokeRow(actor, fn, input, idempotency),
    id: requestId,
    status: 'pending',
    queuedInput: input,
    deadlineMs: policy.maxEventAgeMs + deadlineBudgetMs({ kind: 'cold', timeoutMs: fn.current.timeoutMs }),
  });
  await deps.store.queue.notify(QUEUE_CHANNEL);
  return { requestId, functionName: fn.name, version: fn.current.version, mode: 'cold', queued: true };
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new UsageError(`idempotency key "${key.slice(0, 40)}" is not 1-200 printable ASCII characters without spaces`, { code: 'invalid_key' });
  return key;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
