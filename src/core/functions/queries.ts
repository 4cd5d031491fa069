import { effectivePolicy, type DispatchPolicy } from './dispatch-policy.js';
import type { Actor } from '../users/accounts.js';
import type { CurrentFunction, FunctionSummary, VersionRow } from '../../db/functions-repo.js';
import type { RequestRow } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { requireFunction } from './lookup.js';
/** Reading a user's functions: the list, one function with its recent invocations, its versions. */
export async function listFunctions(store: Store, actor: Actor): Promise<FunctionSummary[]> {
  return store.functions.list(actor.id);
}

export async function functionVersions(store: Store, actor: Actor, name: string): Promise<{ fn: CurrentFunction; versions: VersionRow[] }> {
  const fn = await requireFunction(store, actor, name);
  return { fn, versions: await store.functions.versions(fn.id) };
}

export interface FunctionDetail {
  fn: CurrentFunction;
  versions: number;
  recent: RequestRow[];
  /** How the dispatcher runs it: retries, maximum event age, concurrency limit. */
  policy: DispatchPolicy;
}

export async function showFunction(store: Store, actor: Actor, name: string, recent = 5): Promise<FunctionDetail> {
  const fn = await requireFunction(store, actor, name);
  const [versions, policy, list] = await Promise.all([
    store.functions.maxVersion(fn.id),
    store.functions.dispatchPolicy(fn.id),
    store.requests.list({ userId: actor.id, type: 'fn.invoke', functionId: fn.id, limit: recent }),
  ]);
  return { fn, versions, recent: list, policy: effectivePolicy(policy) };
}
