import { UsageError } from '../../base/errors.js';
import { effectivePolicy, MAX_RETRIES, type DispatchPolicy } from '../functions/dispatch-policy.js';
import { requireFunction } from '../functions/lookup.js';
import type { StoredDispatchPolicy } from '../../db/functions-repo.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import type { Actor } from '../users/accounts.js';

export interface PolicyChange {
  retries?: number;
  retryOnError?: boolean;
  maxEventAgeMs?: number;
  /** 0 removes the limit. */
  maxConcurrency?: number;
}

/** `fn policy NAME …`: the function's dispatch policy, changed where asked; answers the policy in force. */
export async function setPolicy(deps: Pick<InvokeDeps, 'store'>, actor: Actor, name: string, change: PolicyChange): Promise<DispatchPolicy> {
  const fn = await requireFunction(deps.store, actor, name);
  if (change.retries !== undefined && (change.retries < 0 || change.retries > MAX_RETRIES))
    throw new UsageError(`invalid --retries ${change.retries}`, { hint: `a whole number from 0 to ${MAX_RETRIES}` });
  await deps.store.functions.setDispatchPolicy(fn.id, {
    ...(change.retries !== undefined ? { retries: change.retries } : {}),
    ...(change.retryOnError !== undefined ? { retryOnError: change.retryOnError } : {}),
    ...(change.maxEventAgeMs !== undefined ? { maxEventAgeMs: change.maxEventAgeMs } : {}),
    ...(change.maxConcurrency !== undefined ? { maxConcurrency: change.maxConcurrency === 0 ? null : change.maxConcurrency } : {}),
  });
  return effectivePolicy(await deps.store.functions.dispatchPolicy(fn.id));
}

/** `apply`: the function's stored policy made exactly `stored` (null fields back to the default). */
export async function replacePolicy(deps: Pick<InvokeDeps, 'store'>, actor: Actor, name: string, stored: StoredDispatchPolicy): Promise<void> {
  const fn = await requireFunction(deps.store, actor, name);
  if (stored.retries !== null && (stored.retries < 0 || stored.retries > MAX_RETRIES))
    throw new UsageError(`invalid retries ${stored.retries} for ${name}`, { hint: `a whole number from 0 to ${MAX_RETRIES}` });
  await deps.store.functions.setDispatchPolicy(fn.id, stored);
}
