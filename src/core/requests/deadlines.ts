/**
 * Every open (pending/running) request row has a deadline: when it passes, whoever finds the
 * row (gc, `request wait|list|show`, the next invocation of the function) may close it as
 * system_error. A job's deadline is fixed when its row is written; a bulk run's is a lease
 * that the process feeding it renews, so a CLI that dies simply stops renewing. Budgets are
 * milliseconds counted from PostgreSQL's own clock (the row stores now() + budget), so the
 * clocks of the machines that write and close rows never have to agree.
 */

/** Scheduling, container start and interpreter start-up, on top of a cold job's own timeout. */
export const START_ALLOWANCE_MS = 30_000;
/** On top of a warm call's timeout: queueing at a busy replica, or a roll in progress. */
export const WARM_ALLOWANCE_MS = 30_000;
/**
 * After the CLI itself would have given up: time to read the last log lines, write the
 * result and remove the service. Past it nobody is going to write the row but a closer.
 */
export const ROW_GRACE_MS = 60_000;
/** A bulk run's lease, and how often its owner renews it (three renewals may fail in a row). */
export const BULK_LEASE_MS = 30_000;
export const BULK_RENEW_MS = 10_000;
/** Rows written before deadlines existed (schema v5) count as expired this long after creation. */
export const LEGACY_OPEN_MS = 6 * 3600_000;

export type OpenRowKind = { kind: 'cold'; timeoutMs: number } | { kind: 'warm'; timeoutMs: number } | { kind: 'bulk' };

/** How long from now an open row of this kind may stay open before anyone may close it. */
export function deadlineBudgetMs(row: OpenRowKind): number {
  switch (row.kind) {
    case 'cold':
      return row.timeoutMs + START_ALLOWANCE_MS + ROW_GRACE_MS;
    case 'warm':
      return row.timeoutMs + WARM_ALLOWANCE_MS + ROW_GRACE_MS;
    case 'bulk':
      return BULK_LEASE_MS;
  }
}

/** 12:03:04 UTC: a time of day is enough to match a message with a log; the row has the date. */
export function clockTime(at: Date): string {
  return `${at.toISOString().slice(11, 19)} UTC`;
}

/** What an abandoned bulk run lost, for its row's error. */
export function abandonedBulkMessage(o: { lastRenewal: Date | null; total: number; answered: number }): string {
  const when = o.lastRenewal ? ` at ${clockTime(o.lastRenewal)}` : '';
  const missing = Math.max(0, o.total - o.answered);
  return `abandoned: the invoking CLI stopped renewing its lease${when}; ${o.answered} of ${o.total} inputs answered, ${missing} not`;
}

/** A warm call's CLI went away between the call and writing its answer. */
export function abandonedWarmMessage(deadline: Date): string {
  return `abandoned: the invoking CLI went away before recording the warm replica's answer (deadline ${clockTime(deadline)}); the function may have run`;
}

/** A cold job still without a result when its deadline passed (its service is removed). */
export function expiredColdMessage(o: { deadline: Date; timeoutMs: number | null; serviceFound: boolean; pool?: boolean }): string {
  const budget = o.timeoutMs === null ? '' : ` (its timeout ${o.timeoutMs / 1000} s + ${START_ALLOWANCE_MS / 1000} s to start + ${ROW_GRACE_MS / 1000} s grace)`;
  const what = o.pool ? 'its pool container left no result in its log' : o.serviceFound ? 'its service had no result and was removed' : 'its service no longer exists';
  return `no answer by its deadline ${clockTime(o.deadline)}${budget}: ${what}; the function may have run`;
}

/** Any other open row (a type that records its end itself) whose writer went away. */
export function abandonedMessage(type: string, deadline: Date): string {
  return `abandoned: the ${type} that wrote this row went away without recording its end (deadline ${clockTime(deadline)})`;
}

/** Why a bulk run stopped early, for its row and its summary. */
export function stoppedBulkMessage(reason: string, total: number, answered: number): string {
  return `stopped: ${reason}: ${answered} of ${total} inputs answered, ${Math.max(0, total - answered)} not`;
}
