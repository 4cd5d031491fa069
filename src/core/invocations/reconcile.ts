import type { RequestRow } from '../../db/requests-repo.js';
import type { ServiceInfo } from '../../swarm/client.js';
import type { LogStream } from '../../swarm/log-demux.js';
import { LABELS } from '../../swarm/labels.js';
import { EXIT, TimeoutError } from '../../base/errors.js';
import { InvocationOutput } from './invocation-output.js';
import { finishInvocation, nonceOf, outcomeOf, ROW_OUTPUT_LIMIT, watchInvocation, type InvocationDeps, type Outcome, type Watched } from './invocation.js';
import { lostNode, MAX_ATTEMPTS } from './node-health.js';
import { rerunService, watchWithReruns } from './reruns.js';
import { latest, TERMINAL } from '../../swarm/task-states.js';
import { recoverPoolRun } from '../pool/pool-recover.js';

/**
 * Brings an open invocation's row up to date from the cluster. A CLI killed mid-invoke
 * (or an --async one) leaves the service running and the row open; whoever looks next
 * reads the service's logs, records the result and removes the service.
 */

/** A row whose service cannot be found after this long was lost (its start never finished). */
export const LOST_AFTER_MS = 60_000;
const SERVICE_POLL_MS = 500;

export const isOpen = (row: RequestRow): boolean => row.status === 'pending' || row.status === 'running';

export interface ReconcileOptions {
  /** Follow a running invocation to its end; otherwise only record one that has ended. */
  wait: boolean;
  /** For wait: stop waiting (the invocation keeps running) at this time, ms since the epoch. */
  deadline?: number;
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
}

/** Answers the outcome when this call finished the invocation, undefined when it is still open or was closed before. */
export async function reconcileInvocation(deps: InvocationDeps, row: RequestRow, o: ReconcileOptions): Promise<Outcome | undefined> {
  // A queued row is the dispatcher's: it may try it again, so no reader may record its end.
  if (!isOpen(row) || row.type !== 'fn.invoke' || row.queued) return undefined;
  // A warm or pool invocation has no service to read: no service is not "lost" for it (a pool
  // job of over a minute was closed mid-run by a `request show`). Its writer ends the row, or,
  // past its deadline, the closer (expired-requests.ts); a pool job that answered into its
  // container's log after its CLI went away is recorded from there.
  if (row.mode === 'warm') return undefined;
  if (row.mode === 'pool') return recoverPoolRun(deps, row);
  const service = await findService(deps, row, o);
  if (!service) {
    if (deps.clock.now().getTime() - row.createdAt.getTime() < LOST_AFTER_MS) return undefined;
    const outcome = lost(deps.clock.now());
    await finishInvocation(deps, row.id, undefined, outcome);
    return outcome;
  }
  const nonce = nonceOf(service.env);
  if (!nonce) return undefined; // not an invocation faasctl made: leave it alone
  const version = row.functionVersion ?? 0;
  const timeoutMs = await timeoutOf(deps, row, version);
  const watched = o.wait
    ? await watchWithReruns(deps, { requestId: row.id, attempt: row.attempt, serviceId: service.id, nonce, deadline: o.deadline, signal: o.signal, onOutput: o.onOutput })
    : await peek(deps, row, service.id, nonce);
  if (!watched) return undefined;
  if (watched.reason === 'deadline') throw new TimeoutError(`request ${row.id} is still running`, { hint: `wait longer: faasctl request wait ${row.id} --timeout 10m` });
  if (watched.reason === 'cancelled') return undefined; // Ctrl-C on a wait stops waiting, not the function
  const outcome = outcomeOf(watched, row.startedAt ?? row.createdAt, deps.clock.now(), { timeoutMs }, o.wait);
  await finishInvocation(deps, row.id, watched.serviceId, outcome);
  return outcome;
}

async function findService(deps: InvocationDeps, row: RequestRow, o: ReconcileOptions): Promise<ServiceInfo | undefined> {
  for (;;) {
    const [service] = await deps.swarm.listServices([`${LABELS.request}=${row.id}`]);
    if (service || !o.wait || o.signal?.aborted) return service;
    const now = deps.clock.now().getTime();
    // A start still in progress (another CLI between insert and create): give it time.
    if (now - row.createdAt.getTime() >= LOST_AFTER_MS || (o.deadline !== undefined && now >= o.deadline)) return undefined;
    await deps.sleep(SERVICE_POLL_MS);
  }
}

/**
 * Without waiting: an ended task's logs, read once. A task whose node is lost is started
 * again elsewhere (an --async invocation has no CLI watching it; gc or a `request show`
 * does this for it), or, after its last attempt, ended as lost. A task that waits in
 * `assigned` is not judged here: one look cannot time it (the task's timestamp is the
 * manager's clock); `request wait` and the dispatcher do, by their own clock.
 */
async function peek(deps: InvocationDeps, row: RequestRow, serviceId: string, nonce: string): Promise<(Watched & { serviceId: string }) | undefined> {
  const tasks = await deps.swarm.listTasks(serviceId);
  const ended = tasks.length > 0 && tasks.every((t) => TERMINAL.has(t.state));
  if (ended) return { ...(await watchInvocation(deps, { serviceId, nonce, deadline: deps.clock.now().getTime() + 5_000 })), serviceId };
  const lostOn = await lostNode(deps, tasks);
  if (!lostOn) return undefined;
  if (row.attempt < MAX_ATTEMPTS) {
    if (await rerunService(deps, row.id, serviceId, row.attempt + 1, latest(tasks)?.nodeId)) deps.log.debug(`request ${row.id}: node ${lostOn} lost; running it again (attempt ${row.attempt + 1})`);
    return undefined;
  }
  return { reason: 'node_lost', out: new InvocationOutput(nonce, ROW_OUTPUT_LIMIT), node: lostOn, serviceId };
}

async function timeoutOf(deps: InvocationDeps, row: RequestRow, version: number): Promise<number> {
  if (!row.functionId) return 0;
  return (await deps.store.functions.version(row.functionId, version))?.timeoutMs ?? 0;
}

function lost(now: Date): Outcome {
  const message = 'the invocation was lost: its service no longer exists and no result was recorded (removed outside faasctl, or its start was interrupted)';
  return {
    completion: { status: 'system_error', result: null, error: message, output: '', outputTruncated: false, durationMs: null, cpuMs: null, maxRssKb: null, node: null, finishedAt: now },
    exitCode: EXIT.platform,
    message,
  };
}
