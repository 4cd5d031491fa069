import type { Completion, RequestRow } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { COMPONENT_LABEL, LABELS } from '../../swarm/labels.js';
import { abandonedBulkMessage, abandonedMessage, abandonedWarmMessage, BULK_LEASE_MS, expiredColdMessage, LEGACY_OPEN_MS } from '../requests/deadlines.js';
import { InvocationOutput } from './invocation-output.js';
import { nonceOf, outcomeOf, removeInvocation, ROW_OUTPUT_LIMIT, type InvocationDeps } from './invocation.js';
import type { Clock, Logger } from '../../base/ports.js';
import { reconcileInvocation } from './reconcile.js';
import { latest } from '../../swarm/task-states.js';
import { removeSecrets } from '../functions/warm-replicas.js';

/**
 * Closes open rows whose deadline has passed (see deadlines.ts), saying what was lost. Called
 * by gc, `request wait|list|show` and the next invocation of the same function, so a row
 * whose writer died (a killed CLI, a CLI that exited while PostgreSQL was away, a reader of a
 * bulk run that went away) ends at the latest when someone next looks. A cold job whose
 * service still exists is read first: its result may be in its logs.
 */

export interface ExpiryDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /**
   * The engine, for cold jobs whose service may hold a result and for bulk services; asked
   * only when an expired row needs it. Without it (or when it fails) cold rows stay open for
   * a closer that can look: closing one unread could lose a result that exists.
   */
  engine?: () => Promise<InvocationDeps>;
}

export interface ExpiryScope {
  userId?: string;
  functionId?: string;
  requestId?: string;
}

export interface ExpiryReport {
  /** Closed as system_error with what was lost. */
  closed: number;
  /** Cold jobs whose result was still in their service's logs. */
  recovered: number;
  /** Expired but left open this time (the engine was needed and not reachable). */
  skipped: number;
}

export async function closeExpiredRequests(deps: ExpiryDeps, scope: ExpiryScope, limit = 100): Promise<ExpiryReport> {
  const report: ExpiryReport = { closed: 0, recovered: 0, skipped: 0 };
  for (const row of await deps.store.requests.expired(scope, LEGACY_OPEN_MS, limit)) {
    try {
      const ended = await closeExpiredRow(deps, row);
      if (ended) report[ended]++;
    } catch (err) {
      deps.log.debug(`request ${row.id} expired but was not closed: ${(err as Error).message}`);
      report.skipped++;
    }
  }
  return report;
}

/** For the next invocation of a function: cheap, bounded, and never in the invocation's way. */
export async function closeExpiredOf(deps: InvocationDeps, functionId: string): Promise<void> {
  await closeExpiredRequests({ ...deps, engine: async () => deps }, { functionId }, 5).catch((err: Error) => deps.log.debug(`expired requests of ${functionId}: ${err.message}`));
}

/** One expired row; without `deps.engine` a bulk run's objects stay for gc's own plan to remove. */
export async function closeExpiredRow(deps: ExpiryDeps, row: RequestRow): Promise<'closed' | 'recovered' | 'skipped' | undefined> {
  const deadline = row.deadlineAt ?? row.createdAt;
  if (row.type === 'fn.invoke' && row.mode === 'warm') return (await close(deps, row, abandonedWarmMessage(deadline))) ? 'closed' : undefined;
  if (row.type === 'fn.invoke.bulk') return closeBulk(deps, row);
  if (row.type === 'fn.invoke') {
    if (!deps.engine) return 'skipped';
    return closeCold(await deps.engine(), row);
  }
  return (await close(deps, row, abandonedMessage(row.type, deadline))) ? 'closed' : undefined;
}

function closing(now: Date, error: string, extra: Partial<Completion> = {}): Completion {
  return { status: 'system_error', result: null, error, output: '', outputTruncated: false, durationMs: null, cpuMs: null, maxRssKb: null, node: null, finishedAt: now, ...extra };
}

async function close(deps: Pick<ExpiryDeps, 'store' | 'clock'>, row: RequestRow, error: string, extra: Partial<Completion> = {}): Promise<boolean> {
  return deps.store.requests.complete(row.id, closing(deps.clock.now(), error, extra));
}

/** Keeps the answers that were written, counts the ones that were not, removes the run's replicas. */
async function closeBulk(deps: ExpiryDeps, row: RequestRow): Promise<'closed' | undefined> {
  const counts = await deps.store.requests.itemCounts(row.id);
  // A resumed run's row counts the lines its earlier rows answered too (issue 26).
  const before = Number((row.params as { alreadyAnswered?: unknown }).alreadyAnswered ?? 0);
  const answered = before + Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
  const total = Number((row.params as { inputs?: unknown }).inputs ?? answered);
  const lastRenewal = row.deadlineAt ? new Date(row.deadlineAt.getTime() - BULK_LEASE_MS) : null;
  const error = abandonedBulkMessage({ lastRenewal, total, answered });
  const closed = await close(deps, row, error, { result: { total, answered, ...(before ? { resumed: before } : {}), ...counts, nodes: {} } });
  if (deps.engine) await removeBulkObjects(await deps.engine(), row.id).catch((err: Error) => deps.log.debug(`bulk service of ${row.id} not removed (${err.message}); gc removes it`));
  return closed ? 'closed' : undefined;
}

export async function removeBulkObjects(deps: InvocationDeps, requestId: string): Promise<void> {
  const byRequest = `${LABELS.request}=${requestId}`;
  for (const service of await deps.swarm.listServices([`${COMPONENT_LABEL}=bulk`, byRequest])) await deps.swarm.removeService(service.id);
  const secrets = await deps.swarm.listSecrets([`${COMPONENT_LABEL}=token`, byRequest]);
  await removeSecrets(
    deps,
    secrets.map((s) => s.id),
  );
}

/**
 * Reconcile first (an ended job's result is recorded as `request wait` would); a job still
 * without an answer past its deadline has its logs read once more (a frame may be there even
 * if the task hangs), then it is closed and its service removed.
 */
async function closeCold(deps: InvocationDeps, row: RequestRow): Promise<'closed' | 'recovered' | undefined> {
  if (await reconcileInvocation(deps, row, { wait: false })) return 'recovered';
  const now = await deps.store.requests.byIdAnyUser(row.id);
  if (!now || (now.status !== 'pending' && now.status !== 'running')) return undefined;
  const [service] = await deps.swarm.listServices([`${LABELS.request}=${row.id}`]);
  const nonce = service ? nonceOf(service.env) : undefined;
  if (service && !nonce) return undefined; // not an invocation faasctl made: leave it alone
  if (service && nonce) {
    const out = new InvocationOutput(nonce, ROW_OUTPUT_LIMIT);
    for await (const chunk of deps.swarm.serviceLogs(service.id, { follow: false })) out.push(chunk);
    out.end();
    const task = latest(await deps.swarm.listTasks(service.id));
    if (out.frame) {
      const timeoutMs = (row.functionId && (await deps.store.functions.version(row.functionId, row.functionVersion ?? 0))?.timeoutMs) || 0;
      const outcome = outcomeOf({ reason: 'frame', out, task }, row.startedAt ?? row.createdAt, deps.clock.now(), { timeoutMs }, false);
      const recorded = await deps.store.requests.complete(row.id, outcome.completion);
      await removeInvocation(deps, row.id, service.id);
      return recorded ? 'recovered' : undefined;
    }
  }
  const timeoutMs = row.functionId ? ((await deps.store.functions.version(row.functionId, row.functionVersion ?? 0))?.timeoutMs ?? null) : null;
  const closed = await close(deps, row, expiredColdMessage({ deadline: row.deadlineAt ?? row.createdAt, timeoutMs, serviceFound: Boolean(service), pool: row.mode === 'pool' }));
  await removeInvocation(deps, row.id, service?.id);
  return closed ? 'closed' : undefined;
}
