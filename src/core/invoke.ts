import type { CurrentFunction } from '../db/functions-repo.js';
import type { LogStream } from '../swarm/log-demux.js';
import { buildInvocationServiceSpec, codeConfigName, inputConfigName, installationLabel, LABELS } from '../swarm/sandbox.js';
import { componentLabels } from '../swarm/spec.js';
import { NotFoundError, UsageError } from './errors.js';
import { ensureCodeConfig, MAX_CODE_BYTES, requireFunction } from './functions.js';
import { finishInvocation, outcomeOf, removeInvocation, watchInvocation, type InvocationDeps, type Outcome } from './invocation.js';
import type { Actor } from './users.js';

/** Input travels as a Swarm config, whose size limit it shares with code. */
export const MAX_INPUT_BYTES = MAX_CODE_BYTES;
/** What the runtime relays of the function's output (stdout and stderr together). */
export const RUNTIME_OUTPUT_LIMIT = 1024 * 1024;
/** Scheduling, container start and interpreter start-up, on top of the function's own timeout. */
export const START_ALLOWANCE_MS = 30_000;
/** Inputs up to this size are kept in the request row's params, as the old system kept its parameters. */
const PARAMS_INPUT_LIMIT = 4096;

export interface InvokeDeps extends InvocationDeps {
  newId: () => string;
  newNonce: () => string;
  runtimeImage: () => Promise<string>;
}

export interface InvokeRequest {
  name: string;
  /** The input document as JSON text; undefined means no input (the function gets None). */
  input: string | undefined;
  async: boolean;
  signal?: AbortSignal;
  onOutput?: (stream: LogStream, text: string) => void;
}

export interface Invocation {
  requestId: string;
  functionName: string;
  version: number;
  /** Absent for --async: the invocation is still running. */
  outcome?: Outcome;
}

export function validateInput(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return 'null';
  const bytes = Buffer.byteLength(raw);
  if (bytes > MAX_INPUT_BYTES) {
    throw new UsageError(`input is ${bytes} bytes; the limit is ${MAX_INPUT_BYTES} (500 KiB)`, { code: 'input_too_large', hint: 'pass a reference (a URL or a path the function can reach) instead of the data' });
  }
  try {
    JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`input is not valid JSON: ${(err as Error).message}`, { code: 'invalid_input', hint: `check it with: node -e 'JSON.parse(require("fs").readFileSync(0))' < FILE` });
  }
  return raw;
}

/** A cold invocation: one Swarm service, watched to its answer (or left running with --async). */
export async function invokeFunction(deps: InvokeDeps, actor: Actor, req: InvokeRequest): Promise<Invocation> {
  const fn = await requireFunction(deps.store, actor, req.name);
  const input = validateInput(req.input);
  const v = fn.current;
  const image = await deps.runtimeImage();
  const requestId = deps.newId();
  const nonce = deps.newNonce();
  const startedAt = deps.clock.now();
  const inputBytes = Buffer.byteLength(input);
  await deps.store.requests.insert({
    id: requestId,
    userId: actor.id,
    type: 'fn.invoke',
    status: 'pending',
    params: { name: fn.name, version: v.version, inputBytes, ...(inputBytes <= PARAMS_INPUT_LIMIT ? { input: JSON.parse(input) } : {}) },
    startedAt,
    functionId: fn.id,
    functionName: fn.name,
    functionVersion: v.version,
    mode: 'cold',
  });
  const serviceId = await startService(deps, fn, { requestId, nonce, image, input, startedAt });
  const invocation = { requestId, functionName: fn.name, version: v.version };
  if (req.async) return invocation;

  const watched = await watchInvocation(deps, { serviceId, nonce, deadline: startedAt.getTime() + v.timeoutMs + START_ALLOWANCE_MS, signal: req.signal, onOutput: req.onOutput });
  const outcome = outcomeOf(watched, startedAt, deps.clock.now(), v);
  await finishInvocation(deps, requestId, serviceId, outcome);
  return { ...invocation, outcome };
}

interface StartInput {
  requestId: string;
  nonce: string;
  image: string;
  input: string;
  startedAt: Date;
}

/** Creates the configs and the service; on any failure removes what it made and closes the row. */
async function startService(deps: InvokeDeps, fn: CurrentFunction, s: StartInput): Promise<string> {
  const v = fn.current;
  let serviceId: string | undefined;
  try {
    const installation = await deps.store.meta.installationId();
    await ensureCodeConfig(deps.swarm, installation, v.sha256, v.code);
    const code = await deps.swarm.findConfig(codeConfigName(installation, v.sha256));
    if (!code) throw new NotFoundError(`the code config of ${fn.name} v${v.version} vanished while starting`, { hint: 'run the command again' });
    const inputName = inputConfigName(s.requestId);
    const inputId = await deps.swarm.createConfig(inputName, s.input, { ...componentLabels('input'), ...installationLabel(installation), [LABELS.request]: s.requestId });
    serviceId = await deps.swarm.createService(
      buildInvocationServiceSpec({
        requestId: s.requestId,
        installation,
        image: s.image,
        nonce: s.nonce,
        entry: v.entry,
        timeoutMs: v.timeoutMs,
        memoryBytes: v.memoryBytes,
        nanoCpus: v.nanoCpus,
        outputLimit: RUNTIME_OUTPUT_LIMIT,
        env: v.env,
        code: { configId: code.id, configName: code.name },
        input: { configId: inputId, configName: inputName },
        labels: { functionId: fn.id, functionName: fn.name, version: v.version, userId: fn.userId },
      }),
    );
    await deps.store.requests.markRunning(s.requestId, serviceId);
    return serviceId;
  } catch (err) {
    const now = deps.clock.now();
    await removeInvocation(deps, s.requestId, serviceId).catch((e: Error) => deps.log.debug(`clean-up after a failed start: ${e.message}`));
    await deps.store.requests
      .complete(s.requestId, { status: 'system_error', result: null, error: `could not start: ${(err as Error).message}`, output: '', outputTruncated: false, durationMs: now.getTime() - s.startedAt.getTime(), cpuMs: null, maxRssKb: null, node: null, finishedAt: now })
      .catch((e: Error) => deps.log.debug(`could not close request ${s.requestId}: ${e.message}`));
    throw err;
  }
}

