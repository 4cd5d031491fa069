import type { RequestRow } from '../../db/requests-repo.js';
import { closeExpiredRequests, type ExpiryDeps } from './expired-requests.js';
import { isOpen } from './reconcile.js';

/** How often a wait looks at a row another process is writing (a bulk run, a warm call). */
const ROW_POLL_MS = 500;

/**
 * `request wait` on a row whose end another process writes (a bulk run, a warm call): wait
 * until it is closed, or its deadline passes (then close it, saying what was lost), or the
 * wait's own deadline. Never longer: a row whose owner died ends at its deadline.
 */
export async function waitForRow(deps: ExpiryDeps & { sleep: (ms: number) => Promise<void> }, row: RequestRow, o: { userId: string; deadline: number; signal?: AbortSignal }): Promise<RequestRow> {
  let current = row;
  for (;;) {
    await closeExpiredRequests(deps, { userId: o.userId, requestId: row.id }, 1);
    current = (await deps.store.requests.byId(row.id, o.userId)) ?? current;
    if (!isOpen(current) || o.signal?.aborted || deps.clock.now().getTime() >= o.deadline) return current;
    await deps.sleep(Math.min(ROW_POLL_MS, Math.max(0, o.deadline - deps.clock.now().getTime())));
  }
}
