import { requireFunction } from '../functions/lookup.js';
import type { Store } from '../../db/store.js';
import type { Actor } from '../users/accounts.js';
import type { Isolation } from './classes.js';

/** `fn deploy|update --isolation`: how the function's invocations run unless fn invoke says otherwise. */
export async function setIsolation(deps: { store: Store }, actor: Actor, name: string, isolation: Isolation): Promise<void> {
  const fn = await requireFunction(deps.store, actor, name);
  await deps.store.functions.setIsolation(fn.id, isolation);
}
