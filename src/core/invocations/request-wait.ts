import type { RequestRow } from '../../db/requests-repo.js';
import { closeExpiredRequests, type ExpiryDeps } from './expired-requests.js';
import { isOpen, reconcileInvocation } from './reconcile.js';

/** How often a wait looks at a row another process is writing (a bulk run, a warm call). */
const ROW_POLL_MS = 500;

/**
 * `request wait` on a row whose end another process writes (a bulk run, a warm or pool call): wait
 * until it is closed, or its deadline passes (then close it, saying what was lost), or the
 * wait's own deadline. Never longer: a row whose owner died ends at its deadline.
 */
export async function waitForRow(deps: ExpiryDeps & { sleep: (ms: number) => Promise<void> }, row: RequestRow, o: { userId: string; deadline: number; signal?: AbortSignal }): Promise<RequestRow> {
  let current = row;
  for (;;) {
    await closeExpiredRequests(deps, { userId: o.userId, requestId: row.id }, 1);
    // A pool job whose CLI went away answers into its container's log: take it from there.
    if (current.mode === 'pool' && isOpen(current) && deps.engine) {
      const engine = await deps.engine().catch(() => undefined);
      if (engine) await reconcileInvocation(engine, current, { wait: false }).catch((e: Error) => deps.log.debug(`request ${row.id}: ${e.message}`));
    }
    current = (await deps.store.requests.byId(row.id, o.userId)) ?? current;
    if (!isOpen(current) || o.signal?.aborted || deps.clock.now().getTime() >= o.deadline) return current;
    await deps.sleep(Math.min(ROW_POLL_MS, Math.max(0, o.deadline - deps.clock.now().getTime())));
  }
}
