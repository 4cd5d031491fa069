import { waitForSlotsUpTo } from '../functions/concurrency.js';
import { limitsOf } from './invoke.js';
import type { CurrentFunction } from '../../db/functions-repo.js';
import type { Completion } from '../../db/requests-repo.js';
import { ConflictError, EXIT, type ExitCode } from '../../base/errors.js';
import { requireFunction } from '../functions/lookup.js';
import { deadlineBudgetMs, stoppedBulkMessage } from '../requests/deadlines.js';
import { holdLease } from '../requests/lease.js';
import { anySignal } from '../../base/signals.js';
import { closeExpiredOf } from './expired-requests.js';
import type { ReplicaTransport } from '../../base/ports.js';
import type { ReplicaRouter } from './replica-router.js';
import type { Actor } from '../users/accounts.js';
import { DEFAULT_WORKERS, ensureTokenSecret, removeSecrets, replicaSpec, warmService } from '../functions/warm-replicas.js';
import { waitConverged } from '../functions/replica-readiness.js';
import type { WarmDeps } from '../functions/warm-deps.js';
import { openRouter, type RouteDeps } from './warm-invoke.js';
import { ITEM_BATCH, type BulkLine } from './bulk-io.js';
import { windowSize } from './bulk-window.js';
import { streamBulk, type BulkAnswer } from './bulk-stream.js';

export type { BulkAnswer };
import { prepareResume, type ResumeOptions, type RunOwner } from './bulk-resume.js';
import { NO_RUN_FIGURES } from '../../db/requests-repo.js';

const MAX_BULK_REPLICAS = 8;

export interface BulkDeps extends Omit<WarmDeps, 'replicaTransport'>, RouteDeps {}

/** Where a run's inputs come from: read lazily, line by line, as the run needs them. */
export interface BulkSource {
  /** A fresh pass over the inputs (a resume reads the file twice: once to check it, once to run). */
  lines: () => AsyncIterable<BulkLine>;
  /** The number of inputs, when known beforehand (a file), for progress and the row. */
  total?: number;
  /** The file's absolute path (stored, so `--resume` without an id finds the run); none for stdin. */
  path?: string;
  /** How errors name it: the path as given, or stdin. */
  label: string;
}

export interface BulkProgress {
  done: number;
  total?: number;
  errors: number;
  /** Lines a resume found answered already (counted in done). */
  resumed: number;
}

export interface BulkRequest {
  name: string;
  source: BulkSource;
  /** In-flight inputs at once; default: every worker of every replica busy. */
  concurrency?: number;
  cold: boolean;
  signal?: AbortSignal;
  /** Each answer in input order; a promise holds the run back until it resolves (stdout full). */
  onAnswer: (answer: BulkAnswer) => void | Promise<void>;
  onProgress?: (p: BulkProgress) => void;
  /** The row exists: the id to look at should this process die. */
  onRequest?: (requestId: string, resumed?: { from: string; done: number }) => void;
  /** This process, recorded in the row, so a resume on the same host can tell it is gone. */
  owner?: RunOwner;
  resume?: ResumeOptions;
}

export interface BulkRun {
  requestId: string;
  functionName: string;
  version: number;
  mode: 'warm' | 'cold';
  total: number;
  answered: number;
  counts: Partial<Record<Completion['status'], number>>;
  /** Answers per node (hostname): where Swarm spread the work. */
  nodes: Record<string, number>;
  /** The versions that answered, in order: more than one when a roll happened during the run. */
  answeredVersions: number[];
  durationMs: number;
  exitCode: ExitCode;
  /** Why the run stopped before every input was answered (Ctrl-C, the output reader went away). */
  stopReason?: string;
  /** Lines whose answers earlier rows of the run had recorded (a resume); counted in answered. */
  resumed: number;
  /** The row this one resumed. */
  resumedFrom?: string;
  /** Inputs at most run and not yet recorded at any moment: what a killed run may run again when resumed. */
  window: number;
}

interface Route {
  mode: 'warm' | 'cold';
  router: ReplicaRouter;
  transport: ReplicaTransport;
  concurrency: number;
  cleanUp: () => Promise<void>;
}

export async function invokeBulk(deps: BulkDeps, actor: Actor, req: BulkRequest): Promise<BulkRun> {
  const fn = await requireFunction(deps.store, actor, req.name);
  await closeExpiredOf(deps, fn.id);
  // A concurrency limit holds here too: the run feeds as many inputs at once as it got slots.
  const slots = await waitForSlotsUpTo(deps.store, await limitsOf(deps.store, actor, fn), fn.name, req.concurrency ?? 1024, { signal: req.signal, sleep: deps.sleep });
  try {
    return await runBulk(deps, actor, slots ? { ...req, concurrency: slots.count } : req, fn);
  } finally {
    slots?.release();
  }
}

async function runBulk(deps: BulkDeps, actor: Actor, req: BulkRequest, fn: CurrentFunction): Promise<BulkRun> {
  const { source } = req;
  // Before the row: a refused resume (a changed file, a run still running) changes nothing.
  const resume = req.resume && source.path ? await prepareResume(deps, actor, fn, { path: source.path, label: source.label, lines: source.lines }, req.resume) : undefined;
  const requestId = deps.newId();
  const startedAt = deps.clock.now();
  const started = deps.monotonic();
  const total = source.total;
  const row = { id: requestId, userId: actor.id, type: 'fn.invoke.bulk', functionId: fn.id, functionName: fn.name, functionVersion: fn.current.version, startedAt };
  const params = {
    name: fn.name,
    version: fn.current.version,
    inputs: total ?? null,
    concurrency: req.concurrency ?? null,
    source: source.path ?? null,
    owner: req.owner ?? null,
    resumedFrom: resume?.from ?? null,
    alreadyAnswered: resume?.done ?? 0,
  };
  await deps.store.requests.insert({ ...row, status: 'pending', params, deadlineMs: deadlineBudgetMs({ kind: 'bulk' }) });
  if (resume && !(await deps.store.bulkRuns.markResumed(requestId, resume.from))) {
    const why = `run ${resume.from} was resumed by another process first`;
    await deps.store.requests.complete(requestId, { status: 'system_error', result: null, error: why, ...NO_RUN_FIGURES, durationMs: 0, finishedAt: deps.clock.now() });
    throw new ConflictError(why, { code: 'run_active', hint: 'faasctl request list --type fn shows the newer run; resume that one' });
  }
  req.onRequest?.(requestId, resume && { from: resume.from, done: resume.done });
  const lease = holdLease(deps, requestId);
  // Ctrl-C, a reader that went away, or a row another process closed: all stop the feeding.
  const signal = anySignal([req.signal, lease.lost]);
  let route: Route | undefined;
  const tally = newTally();
  let window = 0;
  try {
    route = (!req.cold && (await warmRoute(deps, fn, req.concurrency))) || (await coldRoute(deps, fn, requestId, total, req.concurrency));
    window = windowSize(route.concurrency, ITEM_BATCH);
    await deps.store.requests.markMode(requestId, route.mode);
    const plan = { lines: source.lines(), concurrency: route.concurrency, window, signal, chain: resume?.chain, source: source.label };
    await streamBulk(deps, fn, route.router, requestId, plan, async ({ answer, item }) => {
      count(tally, answer, item === null);
      await req.onAnswer(answer);
      req.onProgress?.({ done: tally.answered, total, errors: tally.answered - (tally.counts.success ?? 0), resumed: tally.resumed });
    });
  } catch (err) {
    await close(deps, requestId, started, { status: 'system_error', error: (err as Error).message, total: total ?? tally.answered, tally });
    throw err;
  } finally {
    lease.stop();
    route?.transport.close();
    await route?.cleanUp().catch((err: Error) => deps.log.debug(`bulk clean-up: ${err.message}; gc removes the rest`));
  }
  const all = total ?? tally.answered;
  const stopReason = signal.aborted ? stopReasonOf(signal) : undefined;
  // A row closed by another process: PostgreSQL was unreachable for longer than the lease.
  const exitCode = signal.aborted ? (lease.lost.aborted ? EXIT.connection : EXIT.interrupted) : tally.worst;
  const status = signal.aborted || exitCode === EXIT.platform ? 'system_error' : exitCode === EXIT.ok ? 'success' : 'application_error';
  // Ctrl-C keeps its message ("cancelled after 3 of 10 inputs"); other reasons say what happened.
  const error = !signal.aborted ? null : stopReason ? stoppedBulkMessage(stopReason, all, tally.answered) : `cancelled after ${tally.answered} of ${all} inputs`;
  const durationMs = await close(deps, requestId, started, { status, error, total: all, tally });
  return {
    requestId,
    functionName: fn.name,
    version: fn.current.version,
    mode: route!.mode,
    total: all,
    answered: tally.answered,
    counts: tally.counts,
    nodes: tally.nodes,
    answeredVersions: [...tally.versions].sort((a, b) => a - b),
    durationMs,
    exitCode,
    stopReason,
    resumed: tally.resumed,
    resumedFrom: resume?.from,
    window,
  };
}

/** The run's summary, kept as answers are released: never recounted. */
interface Tally {
  answered: number;
  resumed: number;
  counts: BulkRun['counts'];
  nodes: BulkRun['nodes'];
  versions: Set<number>;
  worst: ExitCode;
}

function newTally(): Tally {
  return { answered: 0, resumed: 0, counts: {}, nodes: {}, versions: new Set(), worst: EXIT.ok };
}

function count(t: Tally, a: BulkAnswer, recorded: boolean): void {
  t.answered++;
  if (recorded) t.resumed++;
  t.counts[a.status] = (t.counts[a.status] ?? 0) + 1;
  if (a.node) t.nodes[a.node] = (t.nodes[a.node] ?? 0) + 1;
  if (a.version !== null) t.versions.add(a.version);
  if (a.exitCode !== EXIT.ok && (t.worst === EXIT.ok || a.exitCode === EXIT.platform)) t.worst = a.exitCode;
}

/** A reason given to abort() (an Error with a message), or undefined for a plain Ctrl-C. */
function stopReasonOf(signal: AbortSignal): string | undefined {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? reason.message : undefined;
}

async function close(deps: BulkDeps, requestId: string, started: number, s: { status: Completion['status']; error: string | null; total: number; tally: Tally }): Promise<number> {
  const durationMs = deps.monotonic() - started;
  const t = s.tally;
  // answered: by the whole run (a resume counts the lines earlier rows answered, as `resumed`).
  await deps.store.requests.complete(requestId, {
    status: s.status,
    result: { total: s.total, answered: t.answered, ...(t.resumed ? { resumed: t.resumed } : {}), ...t.counts, nodes: t.nodes },
    error: s.error,
    ...NO_RUN_FIGURES,
    durationMs,
    finishedAt: deps.clock.now(),
  });
  return durationMs;
}

async function warmRoute(deps: BulkDeps, fn: CurrentFunction, concurrency: number | undefined): Promise<Route | undefined> {
  if (fn.warmReplicas === 0) return undefined;
  const [serviceId, token] = await Promise.all([warmService(deps, fn), deps.store.functions.warmToken(fn.id)]);
  if (!serviceId || !token) return undefined;
  const slots = concurrency ?? fn.warmReplicas * fn.warmWorkers;
  const { router, transport } = await openRouter(deps, serviceId, token, slots);
  if (router.size === 0) {
    transport.close();
    return undefined;
  }
  return { mode: 'warm', router, transport, concurrency: slots, cleanUp: async () => {} };
}

/** A replica service for this run only: a few replicas, removed with its token at the end. */
async function coldRoute(deps: BulkDeps, fn: CurrentFunction, requestId: string, total: number | undefined, concurrency: number | undefined): Promise<Route> {
  const cpus = (await deps.swarm.listNodes()).filter((n) => n.state === 'ready' && n.availability === 'active').reduce((sum, n) => sum + n.cpus, 0);
  const workers = DEFAULT_WORKERS;
  const slots = Math.min(total ?? Number.POSITIVE_INFINITY, concurrency ?? Math.max(2, Math.round(cpus * 2)));
  const replicas = Math.max(1, Math.min(MAX_BULK_REPLICAS, Math.ceil(slots / workers)));
  const installation = await deps.store.meta.installationId();
  const token = deps.newToken();
  deps.progress(`starting ${replicas} replica${replicas === 1 ? '' : 's'} for ${total ?? 'the'} inputs…`);
  const secret = await ensureTokenSecret(deps, installation, { functionId: fn.id, userId: fn.userId, requestId }, token);
  let serviceId: string | undefined;
  const cleanUp = async () => {
    if (serviceId) await deps.swarm.removeService(serviceId);
    await removeSecrets(deps, [secret.id]);
  };
  try {
    serviceId = await deps.swarm.createService(await replicaSpec(deps, fn, { purpose: 'bulk', installation, replicas, workers, secret, requestId }));
    await deps.store.requests.markRunning(requestId, serviceId);
    await waitConverged({ ...deps, progress: () => {} }, serviceId, 1);
    const { router, transport } = await openRouter(deps, serviceId, token, slots);
    return { mode: 'cold', router, transport, concurrency: slots, cleanUp };
  } catch (err) {
    await cleanUp().catch(() => {});
    throw err;
  }
}
