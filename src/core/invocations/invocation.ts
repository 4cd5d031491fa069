import type { Completion } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import type { SwarmClient, SwarmTask } from '../../swarm/client.js';
import type { LogStream } from '../../swarm/log-demux.js';
import { inputConfigName } from '../../swarm/names.js';
import { checkNode, MAX_ATTEMPTS, newNodeCheck, NODE_CHECK_MS, STALL_MS, StallWatch, canLeave, type NodeCheck } from './node-health.js';
import { latest, TERMINAL } from '../../swarm/task-states.js';
import { ConflictError, EXIT, type ExitCode } from '../../base/errors.js';
import { type EngineAbsence, engineLostHint, engineLostMessage, ENGINE_GRACE_MS, isEngineAway, noteAway, noteBack } from './engine-absence.js';
import { InvocationOutput, type Frame } from './invocation-output.js';
import { engineRefusal } from '../../swarm/engine-refusals.js';
import type { Clock, Logger } from '../../base/ports.js';

/**
 * The life of one invocation service after it exists: watch it (logs for the frame, tasks
 * for a failure the runtime could not report), record the outcome, remove the service.
 * Shared by `fn invoke`, `request wait|show` and `gc`, so a killed CLI's invocation is
 * finished by whichever of them comes next, with the same result.
 * Over 300 lines on purpose: the watch loop and the ways it ends (frame, task ended, deadline,
 * cancel, node lost, engine away) read as one state machine; split, each half explains nothing.
 */

/** What the request row keeps of the function's own output. */
export const ROW_OUTPUT_LIMIT = 64 * 1024;
const POLL_MS = 250;
/** How often an engine that went away is asked again. */
const ENGINE_POLL_MS = 1000;
/** After the task ends, how long its last log lines may take to arrive. */
const DRAIN_MS = 1000;
/**
 * After the frame, how long at most to wait for output it counts that has not arrived yet
 * (stdout and stderr are separate pipes, so they can arrive out of order).
 */
const AFTER_FRAME_MS = 250;
const DEVELOPER_ERRORS = new Set(['InputError', 'EntryError', 'ResultError', 'CodeError']);
const PLATFORM_ERRORS = new Set(['ConfigError', 'SpawnError']);

export interface InvocationDeps {
  store: Store;
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
}

export interface Watched {
  /**
   * frame: the runtime answered; ended: the task ended without a frame; deadline / cancelled:
   * we stopped; node_lost: Swarm reports the task's node Down (it may have run, or may still);
   * stalled: the task's node never took it (it did not run).
   */
  reason: 'frame' | 'ended' | 'deadline' | 'cancelled' | 'node_lost' | 'stalled' | 'unschedulable' | 'engine_lost';
  out: InvocationOutput;
  task?: SwarmTask;
  /** The hostname of the task's node, when it was looked up. */
  node?: string;
  /** engine_lost: the engine's address and the last error it gave. */
  engine?: { endpoint: string; cause?: Error };
  /** The engine went away during the watch and came back after this many ms (a restart). */
  engineAwayMs?: number;
}

export interface WatchOptions {
  serviceId: string;
  nonce: string;
  /** ms since the epoch; undefined waits as long as the task runs. */
  deadline?: number;
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
  /**
   * The engine stopped answering (a message for a spinner), or answers again (undefined).
   * The watcher waits up to `engineGraceMs` for it before closing the row as engine_lost.
   */
  onEngineAway?: (message: string | undefined) => void;
  /** @default ENGINE_GRACE_MS */
  engineGraceMs?: number;
}

export async function watchInvocation(deps: InvocationDeps, o: WatchOptions): Promise<Watched> {
  const out = new InvocationOutput(o.nonce, ROW_OUTPUT_LIMIT, o.onOutput);
  const stopLogs = new AbortController();
  let wake: () => void = () => {};
  let outputDone: () => void = () => {};
  const allOutput = new Promise<void>((resolve) => (outputDone = resolve));
  const logs = (async () => {
    for await (const chunk of deps.swarm.serviceLogs(o.serviceId, { follow: true, signal: stopLogs.signal })) {
      out.push(chunk);
      if (out.complete) {
        outputDone();
        wake();
        break;
      }
      if (out.frame) wake();
    }
  })()
    .catch((err: Error) => deps.log.debug(`logs of ${o.serviceId}: ${err.message}`))
    .finally(() => {
      outputDone();
      wake();
    });
  const onAbort = () => wake();
  o.signal?.addEventListener('abort', onAbort);
  let task: SwarmTask | undefined;
  let reason: Watched['reason'] | undefined;
  const node = newNodeCheck();
  const stalls = new StallWatch();
  const away: EngineAbsence = {};
  let awayMs: number | undefined;
  /** One engine call that may find the engine gone: undefined then (the caller polls again). */
  const survive = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      const answer = await call();
      const ms = noteBack(away, deps.clock.now().getTime());
      if (ms !== undefined) {
        awayMs = (awayMs ?? 0) + ms;
        deps.log.debug(`the engine at ${deps.swarm.endpoint} answers again after ${(ms / 1000).toFixed(1)} s`);
        o.onEngineAway?.(undefined);
      }
      return answer;
    } catch (err) {
      if (!isEngineAway(err)) throw err;
      const first = away.since === undefined;
      if (!noteAway(away, err, deps.clock.now().getTime(), o.engineGraceMs ?? ENGINE_GRACE_MS)) reason = 'engine_lost';
      if (first) {
        deps.log.debug(`the engine at ${deps.swarm.endpoint} went away while watching ${o.serviceId} (${err.message}); waiting up to ${Math.round((o.engineGraceMs ?? ENGINE_GRACE_MS) / 1000)} s`);
        o.onEngineAway?.(`the Docker engine at ${deps.swarm.endpoint} went away (${err.message}); waiting for it to come back…`);
      }
      return undefined;
    }
  };
  try {
    while (!reason) {
      if (out.frame) {
        if (!out.complete) await Promise.race([allOutput, deps.sleep(AFTER_FRAME_MS)]);
        reason = 'frame';
      } else if (o.signal?.aborted) reason = 'cancelled';
      else if (o.deadline !== undefined && deps.clock.now().getTime() >= o.deadline) reason = 'deadline';
      else {
        const tasks = await survive(() => deps.swarm.listTasks(o.serviceId));
        if (!tasks) {
          if (!reason) await deps.sleep(ENGINE_POLL_MS);
          continue;
        }
        task = latest(tasks) ?? task;
        if (task?.nodeId && !TERMINAL.has(task.state) && deps.clock.now().getTime() - node.checkedAt >= NODE_CHECK_MS) {
          await checkNode(deps, task.nodeId, node);
        }
        if (node.lost && !out.frame) {
          reason = 'node_lost';
        } else if (!out.frame && task && stalls.stalledOn(task, deps.clock.now().getTime())) {
          if (await canLeave(deps, task.nodeId!)) reason = 'stalled';
          else stalls.waive(task.id);
        } else if (task?.state === 'pending' && task.error?.startsWith('no suitable node')) {
          // Its constraints match no node that can take it: waiting would only run out the clock.
          reason = 'unschedulable';
        } else if (task && TERMINAL.has(task.state) && !out.frame) {
          await Promise.race([logs, deps.sleep(DRAIN_MS)]);
          // The follow stream died with the engine: the container's log, read now, holds the frame.
          if (!out.frame && (await survive(() => rereadLogs(deps, o, out).then(() => true))) === undefined) {
            if (!reason) await deps.sleep(ENGINE_POLL_MS);
            continue;
          }
          reason = out.frame ? 'frame' : 'ended';
        } else if (!out.frame) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            void deps.sleep(POLL_MS).then(resolve);
          });
        }
      }
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    stopLogs.abort();
  }
  const engine = reason === 'engine_lost' || awayMs !== undefined ? { endpoint: deps.swarm.endpoint, cause: away.cause } : undefined;
  await describeRun(deps, o.serviceId, node, task).then((t) => (task = t));
  out.finish();
  return { reason, out, task, node: node.name, engine, engineAwayMs: awayMs };
}

/**
 * A frame read before any task was listed leaves the row without its node and the run's
 * times: list the task once, and name its node by hostname (a Swarm node ID means nothing
 * to the person reading `request show`).
 */
async function describeRun(deps: InvocationDeps, serviceId: string, node: NodeCheck, task: SwarmTask | undefined): Promise<SwarmTask | undefined> {
  try {
    task ??= latest(await deps.swarm.listTasks(serviceId));
  } catch (err) {
    deps.log.debug(`tasks of ${serviceId}: ${(err as Error).message}`);
  }
  if (task?.nodeId && !node.name) await checkNode(deps, task.nodeId, node);
  return task;
}

/** A follow stream can miss the end (the engine closes it, a log line is late); a plain read cannot. */
async function rereadLogs(deps: InvocationDeps, o: WatchOptions, out: InvocationOutput): Promise<void> {
  const replay = new InvocationOutput(o.nonce, ROW_OUTPUT_LIMIT);
  for await (const chunk of deps.swarm.serviceLogs(o.serviceId, { follow: false })) replay.push(chunk);
  replay.end();
  if (replay.frame) out.frame = replay.frame;
}

export interface Outcome {
  completion: Completion;
  frame?: Frame;
  exitCode: ExitCode;
  /** One line for the user when it did not succeed. */
  message?: string;
  /** How to fix it, when the cause is known (the engine went away, the platform stopped it). */
  hint?: string;
}

/** An invocation that ended without an answer from the runtime. */
export function failedOutcome(base: CompletionBase, message: string, exitCode: ExitCode): Outcome {
  return { completion: { ...base, cpuMs: null, maxRssKb: null, status: 'system_error', result: null, error: message }, exitCode, message };
}

/**
 * The run's own figures, never the time someone happened to read its result: the runtime's
 * measure of the function when it answered, else the task's own timestamps once it ended,
 * else (only for a caller that watched it live) the time it watched. Unknown stays null.
 */
export function runFigures(w: Pick<Watched, 'out' | 'task'>, startedAt: Date, now: Date, live: boolean): Pick<Completion, 'durationMs' | 'finishedAt' | 'startedAt'> {
  const t = w.task;
  const ended = t !== undefined && TERMINAL.has(t.state);
  const finishedAt = (ended && t.statusAt) || now;
  const measured = w.out.frame?.metrics?.durationMs;
  if (typeof measured === 'number') return { durationMs: measured, finishedAt, startedAt: new Date(finishedAt.getTime() - measured) };
  if (ended && t.createdAt && t.statusAt) return { durationMs: t.statusAt.getTime() - t.createdAt.getTime(), finishedAt, startedAt: t.createdAt };
  return { durationMs: live ? now.getTime() - startedAt.getTime() : null, finishedAt };
}

/** How a watched invocation ended, as a request row and an exit code; `live`: watched as it ran (not read afterwards). */
export function outcomeOf(w: Watched, startedAt: Date, now: Date, limits: { timeoutMs: number; nanoCpus?: number }, live = true): Outcome {
  const base = { output: w.out.output.text, outputTruncated: w.out.output.truncated, node: w.node ?? w.task?.nodeId ?? null, ...runFigures(w, startedAt, now, live) };
  const frame = w.out.frame;
  if (frame) return outcomeOfFrame(frame, base, limits);
  const failure = (_status: 'system_error', message: string, exitCode: ExitCode): Outcome => failedOutcome(base, message, exitCode);
  if (w.reason === 'cancelled') return failure('system_error', 'cancelled before the function answered', EXIT.interrupted);
  if (w.reason === 'engine_lost') {
    const endpoint = w.engine?.endpoint ?? 'unknown';
    return { ...failure('system_error', engineLostMessage(endpoint, w.engine?.cause), EXIT.connection), hint: engineLostHint(endpoint, w.engine?.cause) };
  }
  if (w.reason === 'unschedulable') return failure('system_error', `Swarm cannot place it: ${w.task?.error} (see its --constraint in faasctl fn show, and docker node ls)`, EXIT.platform);
  if (w.reason === 'node_lost') return failure('system_error', `its node ${w.node ?? w.task?.nodeId ?? ''} was lost on each of ${MAX_ATTEMPTS} runs`, EXIT.platform);
  if (w.reason === 'stalled')
    return {
      ...failure('system_error', `node ${w.node ?? w.task?.nodeId ?? ''} never started it (${STALL_MS / 1000} s in Assigned), on the last of ${MAX_ATTEMPTS} runs`, EXIT.platform),
      hint: 'a node listed Ready that takes no work: restart the Docker engine on it (docker node ls shows the nodes)',
    };
  if (w.reason === 'deadline')
    return failure('system_error', `no answer within ${Math.round((now.getTime() - startedAt.getTime()) / 1000)} s (the function's timeout is ${limits.timeoutMs / 1000} s)`, EXIT.timeout);
  if (w.out.badFrame) return failure('system_error', `the runtime's result line could not be read: ${w.out.badFrame}`, EXIT.platform);
  const t = w.task;
  // No frame, and the engine restarted under it (its containers are stopped, and on this engine
  // version removed with their logs) or Swarm shut the task down (a drain, a node update).
  if (w.engineAwayMs !== undefined || t?.state === 'shutdown') {
    const restart = w.engineAwayMs !== undefined ? `; the engine at ${w.engine?.endpoint ?? 'its node'} did not answer for ${(w.engineAwayMs / 1000).toFixed(1)} s` : '';
    return { ...failure('system_error', `${STOPPED_MESSAGE}${restart}`, EXIT.platform), hint: STOPPED_HINT };
  }
  const why = t ? [t.error, t.message, t.exitCode !== undefined ? `exit code ${t.exitCode}` : undefined].filter(Boolean).join(', ') : 'no task';
  const refusal = engineRefusal(why);
  if (refusal) return { ...failure('system_error', refusal.message, refusal.exitCode), hint: refusal.hint };
  return failure('system_error', `the task ended (${t?.state ?? 'unknown'}: ${why}) without a result`, EXIT.platform);
}

type CompletionBase = Pick<Completion, 'output' | 'outputTruncated' | 'node' | 'finishedAt' | 'durationMs' | 'startedAt'>;

/** The runtime's answer (a cold frame or a warm replica's response) as a row and an exit code. */
export function outcomeOfFrame(frame: Frame, base: CompletionBase, limits: { timeoutMs: number }): Outcome {
  const metrics = { cpuMs: frame.metrics?.cpuMs ?? null, maxRssKb: frame.metrics?.maxRssKb ?? null };
  const { status, exitCode } = classify(frame);
  const error = frame.error ? frame.error.traceback || `${frame.error.type}: ${frame.error.message}` : null;
  const message = frame.error ? describeFailure(frame, limits) : undefined;
  const hint = frame.status === 'stopped' ? STOPPED_HINT : undefined;
  return { completion: { ...base, ...metrics, status, result: frame.result, error }, frame, exitCode, message, hint };
}

const STOPPED_MESSAGE = 'the engine stopped the container mid-run (engine restart, node drain or service removal)';
const STOPPED_HINT = 'the platform stopped it, not your code: run it again once the engine and its nodes are up (faasctl doctor)';

function classify(frame: Frame): { status: Completion['status']; exitCode: ExitCode } {
  switch (frame.status) {
    case 'success':
      return { status: 'success', exitCode: EXIT.ok };
    case 'timeout':
      return { status: 'developer_error', exitCode: EXIT.timeout };
    case 'oom':
    case 'killed':
      return { status: 'developer_error', exitCode: EXIT.functionFailed };
    case 'stopped':
      // The engine signalled the runtime itself (restart, drain, removal): not the function's doing.
      return { status: 'system_error', exitCode: EXIT.platform };
    default: {
      const type = frame.error?.type ?? '';
      if (PLATFORM_ERRORS.has(type)) return { status: 'system_error', exitCode: EXIT.platform };
      return { status: DEVELOPER_ERRORS.has(type) ? 'developer_error' : 'application_error', exitCode: EXIT.functionFailed };
    }
  }
}

function describeFailure(frame: Frame, limits: { timeoutMs: number }): string {
  const e = frame.error!;
  if (frame.status === 'timeout') return `the function timed out after ${limits.timeoutMs / 1000} s`;
  if (frame.status === 'oom') return `the function ran out of memory: ${e.message}`;
  if (frame.status === 'killed') return `the function was killed: ${e.message}`;
  if (frame.status === 'stopped') return e.message;
  if (DEVELOPER_ERRORS.has(e.type) || PLATFORM_ERRORS.has(e.type)) return `${e.type}: ${e.message}`;
  return `the function raised ${e.type}: ${e.message}`;
}

/**
 * Records the outcome (only if the row is still open: the first writer wins), then removes
 * the service and its input config. Recording first: a crash in between leaves a service
 * that gc removes, never a result that is lost.
 */
export async function finishInvocation(deps: InvocationDeps, requestId: string, serviceId: string | undefined, outcome: Outcome): Promise<boolean> {
  const recorded = await deps.store.requests.complete(requestId, outcome.completion);
  // The frame can arrive just before the engine stops (a restart): wait for it to come back to
  // remove the service, unless it already failed to come back (engine_lost: exit 5).
  const graceMs = outcome.exitCode === EXIT.connection ? 0 : ENGINE_GRACE_MS;
  const started = deps.clock.now().getTime();
  for (;;) {
    try {
      await removeInvocation(deps, requestId, serviceId);
      return recorded;
    } catch (err) {
      if (!isEngineAway(err)) throw err;
      if (deps.clock.now().getTime() - started >= graceMs) {
        // The row is what matters; an engine that stays away keeps the service until gc finds it.
        deps.log.debug(`service of ${requestId} not removed (${(err as Error).message}); faasctl gc removes it`);
        return recorded;
      }
      deps.log.debug(`service of ${requestId} not removed yet (${(err as Error).message}); waiting for the engine`);
      await deps.sleep(ENGINE_POLL_MS);
    }
  }
}

export async function removeInvocation(deps: Pick<InvocationDeps, 'swarm' | 'log' | 'sleep'>, requestId: string, serviceId: string | undefined): Promise<void> {
  if (serviceId) await deps.swarm.removeService(serviceId);
  const config = await deps.swarm.findConfig(inputConfigName(requestId));
  if (!config) return;
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.swarm.removeConfig(config.id);
      return;
    } catch (err) {
      // The manager may still count the just-removed service as a user for a moment.
      if (!(err instanceof ConflictError) || attempt >= 5) {
        deps.log.debug(`input config of ${requestId} not removed (${(err as Error).message}); gc removes it`);
        return;
      }
      await deps.sleep(100 * (attempt + 1));
    }
  }
}

/** The nonce lives only in the service's environment: it is what a later reader needs. */
export function nonceOf(env: string[]): string | undefined {
  return env.find((e) => e.startsWith('FAASCTL_NONCE='))?.slice('FAASCTL_NONCE='.length);
}
