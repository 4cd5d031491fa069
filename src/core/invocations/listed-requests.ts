import type { RequestRow } from '../../db/requests-repo.js';
import type { InvocationDeps } from './invocation.js';
import { isOpen, reconcileInvocation } from './reconcile.js';

/**
 * `request list` shows what the cluster knows, not only what the log last heard: the open cold
 * jobs it is about to show are looked at first (newest first, a bounded number, each a cheap
 * peek: the service's tasks, and its logs once it ended), so a finished --async job is listed
 * as finished with its own figures. Those it did not look at are reported, for the listing to
 * mark them.
 */
export const LIST_RECONCILE_MAX = 20;

/** Queued rows are the dispatcher's to run and record: readers wait on their row. */
export const isOpenColdJob = (r: RequestRow): boolean => isOpen(r) && r.type === 'fn.invoke' && r.mode !== 'warm' && r.mode !== 'pool' && !r.queued;

export interface ListedCheck {
  /** Ids of the open cold jobs that were looked at. */
  checked: Set<string>;
  /** Some row was recorded as ended: list again. */
  changed: boolean;
}

export async function reconcileListed(deps: InvocationDeps, rows: RequestRow[], max = LIST_RECONCILE_MAX): Promise<ListedCheck> {
  const result: ListedCheck = { checked: new Set(), changed: false };
  for (const row of rows.filter(isOpenColdJob).slice(0, max)) {
    try {
      if (await reconcileInvocation(deps, row, { wait: false })) result.changed = true;
      result.checked.add(row.id);
    } catch (err) {
      // The engine is unreachable (or slow to answer): the rest would fail the same way.
      deps.log.debug(`request list: ${row.id} not checked: ${(err as Error).message}`);
      break;
    }
  }
  return result;
}
