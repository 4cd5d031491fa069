import type { SwarmClient } from '../../swarm/client.js';
import { checkArchiveSize, type CodeArchive } from '../functions/code-archive.js';
import type { LogStream } from '../../swarm/log-demux.js';
import { localRunSpec } from '../../swarm/local-run-spec.js';
import { checkCode } from '../functions/code-check.js';
import { parseFlavor } from '../functions/flavors.js';
import { type DependencyInput, type LocalFiles, prepareDependencies } from '../functions/dependencies.js';
import { EXIT } from '../../base/errors.js';
import { engineRefusal } from '../../swarm/engine-refusals.js';
import { failedOutcome, outcomeOfFrame, ROW_OUTPUT_LIMIT, type Outcome } from './invocation.js';
import { InvocationOutput } from './invocation-output.js';
import { RUNTIME_OUTPUT_LIMIT, START_ALLOWANCE_MS, validateInput } from './invoke.js';
import { type LimitFlags, parseEnv, resolveLimits } from '../functions/limits.js';
import type { Clock, Logger } from '../../base/ports.js';

/**
 * `fn run`: a file run once on the local engine, as a cold invocation would run it, with no
 * database, no login and no request row. The same syntax check, sandbox, runtime mode and
 * result frame as `fn invoke`, so the same outcome and exit code.
 */
export interface LocalRunDeps {
  swarm: SwarmClient;
  clock: Clock;
  log: Logger;
  newId: () => string;
  newNonce: () => string;
  runtimeImage: () => Promise<string>;
  /** For requirements: reads their local packages; progress of a build. */
  files?: LocalFiles;
  progress?: (text: string) => void;
}

export interface LocalRunRequest {
  code: string;
  /** Code shipped as a directory or a zip: run from its unpacked directory, as a deployed version. */
  archive?: CodeArchive;
  /** Shown in syntax errors: file:line:col. */
  filename: string;
  /** JSON text; undefined or blank means None. */
  input: string | undefined;
  entry?: string;
  /** `--flavor`; detected from the entry's signature when not given. */
  flavor?: string;
  /** As on fn deploy: --memory, --cpus, --timeout (defaults when unset) and --env KEY=VALUE. */
  limits: LimitFlags;
  env?: string[];
  /** Built (or reused) into the same image `fn deploy` makes; never pushed. */
  dependencies?: DependencyInput;
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
}

export interface LocalRun {
  /** Names the container (label io.faasctl.request); nothing is stored under it. */
  runId: string;
  entry: string;
  outcome: Outcome;
}

export async function runLocally(deps: LocalRunDeps, req: LocalRunRequest): Promise<LocalRun> {
  const limits = resolveLimits(req.limits);
  const env = parseEnv(req.env);
  const input = validateInput(req.input);
  if (req.archive) checkArchiveSize(req.archive, req.filename);
  const image = req.dependencies ? (await prepareDependencies({ ...deps, files: deps.files!, progress: deps.progress ?? (() => {}) }, req.dependencies)).image! : await deps.runtimeImage();
  const startedAt = deps.clock.now();
  const refused = (err: unknown): LocalRun => {
    const refusal = engineRefusal((err as Error).message ?? String(err));
    if (!refusal) throw err;
    const now = deps.clock.now();
    const base = { output: '', outputTruncated: false, node: null, finishedAt: now, durationMs: now.getTime() - startedAt.getTime() };
    return { runId: '', entry: req.entry ?? 'main', outcome: { ...failedOutcome(base, refusal.message, refusal.exitCode), hint: refusal.hint } };
  };
  let checked: Awaited<ReturnType<typeof checkCode>>;
  try {
    checked = await checkCode(deps.swarm, image, req.code, req.entry, req.filename, { userId: 'local', installation: 'local' }, parseFlavor(req.flavor));
  } catch (err) {
    return refused(err);
  }
  const runId = deps.newId();
  const nonce = deps.newNonce();
  const out = new InvocationOutput(nonce, ROW_OUTPUT_LIMIT, req.onOutput);
  const functionName = req.filename.replace(/^.*\//, '').replace(/\.py$/, '');
  const spec = localRunSpec({
    runId,
    image,
    nonce,
    entry: checked.entry,
    flavor: checked.format,
    functionName,
    ...limits,
    outputLimit: RUNTIME_OUTPUT_LIMIT,
    killAfterMs: limits.timeoutMs + START_ALLOWANCE_MS,
    env,
    code: req.archive?.bytes ?? req.code,
    codeModule: req.archive?.module ?? null,
    input,
  });
  deps.log.debug(`fn run ${req.filename}: container for run ${runId}`);
  const runStartedAt = deps.clock.now();
  let run: Awaited<ReturnType<SwarmClient['runContainer']>>;
  try {
    run = await deps.swarm.runContainer({ ...spec, signal: req.signal, onOutput: (chunk) => out.push(chunk) });
  } catch (err) {
    // The engine refused the container (limits beyond the node, image missing): worded as
    // fn invoke words the same refusal of a Swarm task, with the same exit code.
    return refused(err);
  }
  out.end(false);
  if (!out.frame && !out.badFrame) recoverFrame(out, nonce, run.stdout);
  out.finish(); // after the frame is known: it says which last newlines were the runtime's
  const now = deps.clock.now();
  const base = { output: out.output.text, outputTruncated: out.output.truncated, node: null, finishedAt: now, durationMs: now.getTime() - runStartedAt.getTime() };
  const outcome = out.frame ? outcomeOfFrame(out.frame, base, limits) : noFrame(base, run, out.badFrame, limits.timeoutMs);
  return { runId, entry: checked.entry, outcome };
}

/** The attach stream can end early; the container's log, read after it exited, cannot. */
function recoverFrame(out: InvocationOutput, nonce: string, stdout: string): void {
  const replay = new InvocationOutput(nonce, ROW_OUTPUT_LIMIT);
  replay.push({ stream: 'stdout', data: Buffer.from(stdout) });
  replay.end();
  if (replay.frame) out.frame = replay.frame;
}

type Base = Parameters<typeof failedOutcome>[0];

/** Why the runtime did not answer, worded as `outcomeOf` words it for a service. */
export function noFrame(base: Base, run: { exitCode: number; timedOut: boolean; cancelled?: boolean }, badFrame: string | undefined, timeoutMs: number): Outcome {
  if (run.cancelled) return failedOutcome(base, 'cancelled before the function answered', EXIT.interrupted);
  if (run.timedOut) return failedOutcome(base, `no answer within ${Math.round((base.durationMs ?? 0) / 1000)} s (the function's timeout is ${timeoutMs / 1000} s)`, EXIT.timeout);
  if (badFrame) return failedOutcome(base, `the runtime's result line could not be read: ${badFrame}`, EXIT.platform);
  return failedOutcome(base, `the container ended (exit code ${run.exitCode}) without a result`, EXIT.platform);
}
