import { readFile } from 'node:fs/promises';
import { ConnectionError, EXIT, FunctionFailedError, PlatformError, TimeoutError, CancelledError, UsageError, type ExitCode, AlreadyReported } from '../../../base/errors.js';
import type { Outcome } from '../../../core/invocations/invocation.js';
import { submitInvocation } from '../../../core/dispatch/submit.js';
import { outcomeDocument, queuedDocument } from '../../../core/api/documents.js';
import type { Context } from '../../context.js';
import { jsonForTerminal } from '../../terminal-text.js';
import { textOf } from '../../text-input.js';
import { functionDeps, withInterrupt } from '../../deps.js';
import { requireActor } from '../../session.js';
import { waitLine } from '../../wait-line.js';
import type { InvokeOptions } from './options.js';

export async function runInvoke(ctx: Context, name: string, opts: InvokeOptions): Promise<void> {
  if (opts.resume !== undefined) throw new UsageError('--resume continues a bulk run: give it with --bulk FILE', { code: 'resume_needs_bulk' });
  const input = await readInput(ctx, opts);
  const api = await import('../../api-client.js');
  if (await api.overApi(ctx)) {
    if (opts.idempotencyKey || opts.cold || opts.queue === false) throw new UsageError('--idempotency-key, --cold and --no-queue are not taken over the API');
    return api.invokeOverApi(ctx, name, input, Boolean(opts.async));
  }
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx);
  const relay = (_stream: 'stdout' | 'stderr', text: string) => {
    // The function's own output goes to stderr: stdout is for the result alone.
    ctx.io.relay(text);
  };
  const onRerun = (attempt: number, node: string, why: 'lost' | 'stalled') => {
    if (ctx.io.options.quiet) return;
    const warning = ctx.io.c.yellow('warning:');
    if (why === 'stalled') ctx.io.err(`${warning} node ${node} never started ${name} (listed Ready, takes no work); running it on another node (attempt ${attempt})`);
    else ctx.io.err(`${warning} node ${node} was lost while running ${name}; running it again on a live node (attempt ${attempt}; the lost run may also have executed)`);
  };
  // --async prints its id on stdout once the service exists; a watched job names it at once.
  const onRequest = opts.async ? undefined : (id: string) => announceRequest(ctx, id, `faasctl request wait ${id}`);
  const engineAway = waitLine(ctx);
  const onQueued = (why: string | undefined) => engineAway(why && `waiting in line: ${why}`);
  // The invocation as this CLI saw it, from looking the function up to the answer (not the process start).
  const began = performance.now();
  const invocation = await withInterrupt((signal) => {
    // A repeat of a request still running: follow it as `request wait` would.
    const wait = async (id: string) => {
      const { waitForRequest } = await import('../request/follow.js');
      return waitForRequest(ctx, id, signal);
    };
    return submitInvocation(
      deps,
      actor,
      {
        name,
        input,
        async: Boolean(opts.async),
        cold: Boolean(opts.cold),
        ...(opts.isolation ? { isolation: parseIsolation(opts.isolation, ['pool', 'service'] as const) } : {}),
        signal,
        onOutput: relay,
        onRerun,
        onRequest,
        onEngineAway: engineAway,
        onQueued,
        noQueue: opts.queue === false,
        idempotencyKey: opts.idempotencyKey,
      },
      wait,
    );
  });
  if (invocation.repeat && !ctx.io.options.quiet) ctx.io.err(`request ${invocation.requestId}: a repeat of idempotency key "${opts.idempotencyKey}"; nothing new ran`);
  if (!invocation.outcome) {
    if (ctx.io.options.json) return ctx.io.json(queuedDocument(invocation));
    ctx.io.out(invocation.requestId);
    return;
  }
  printOutcome(ctx, invocation.requestId, invocation.outcome, `${invocation.functionName}@v${invocation.version}`, {
    mode: invocation.mode,
    ...(invocation.poolTask ? { container: invocation.poolTask.split('/')[1] || null, task: invocation.poolTask.split('/')[0] } : {}),
    version: invocation.version,
    node: invocation.outcome.completion.node,
    attempt: invocation.attempt ?? 1,
    latencyMs: Math.round((performance.now() - began) * 10) / 10,
  });
}

/**
 * The request id on stderr as soon as its row exists, so a CLI killed mid-run still leaves the
 * user something to wait on. On a non-terminal stderr too: that is where a killed job's log
 * is kept. Never on stdout (it carries the result, or the one --json document); -q silences it.
 */
export function announceRequest(ctx: Context, requestId: string, then: string, write: (line: string) => void = (l) => ctx.io.err(l)): void {
  if (!ctx.io.options.quiet) write(`request ${requestId}: ${ctx.hintFor(then)}`);
}

/** The result to stdout; a failure as an error (exit code by kind) naming the request (none for fn run). */
export function printOutcome(
  ctx: Context,
  requestId: string | null,
  o: Outcome,
  what: string,
  about: { mode?: string | null; container?: string | null; task?: string; version?: number | null; node?: string | null; attempt?: number; latencyMs?: number } = {},
  hint: (o: Outcome) => string | undefined = (x) => hintFor(x, requestId ?? ''),
): void {
  const c = o.completion;
  if (ctx.io.options.json) {
    ctx.io.json(outcomeDocument(requestId, o, about));
    if (o.exitCode !== EXIT.ok) throw new AlreadyReported(o.exitCode);
    return;
  }
  if (o.exitCode === EXIT.ok) {
    ctx.io.out(jsonForTerminal(JSON.stringify(c.result ?? null)));
    return;
  }
  throw failure(o, requestId, what, o.hint ?? hint(o));
}

function failure(o: Outcome, requestId: string | null, what: string, hint: string | undefined) {
  const traceback = o.frame?.error?.traceback ?? undefined;
  const options = { detail: traceback ? traceback.trimEnd() : undefined, hint };
  const message = `${what}: ${o.message ?? 'failed'}${requestId ? ` (request ${requestId})` : ''}`;
  const byCode: Partial<Record<ExitCode, () => Error>> = {
    [EXIT.timeout]: () => new TimeoutError(message, options),
    [EXIT.platform]: () => new PlatformError(message, options),
    [EXIT.connection]: () => new ConnectionError(message, options),
    [EXIT.interrupted]: () => new CancelledError(message, options),
  };
  return byCode[o.exitCode]?.() ?? new FunctionFailedError(message, options);
}

function hintFor(o: Outcome, requestId: string): string {
  if (o.frame?.status === 'oom') return 'raise the limit: faasctl fn update NAME --memory 512m';
  if (o.frame?.status === 'timeout') return 'raise the limit: faasctl fn update NAME --timeout 2m';
  if (o.exitCode === EXIT.platform) return `run faasctl doctor; faasctl request show ${requestId}`;
  return `faasctl request show ${requestId} has the output and error`;
}

/** --isolation's value, one of `allowed`. */
export function parseIsolation<T extends string>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--isolation must be ${allowed.join(' or ')}, not "${value}"`, { code: 'bad_isolation' });
}

export async function readInput(ctx: Context, opts: Pick<InvokeOptions, 'data' | 'dataFile'>): Promise<string | undefined> {
  if (opts.data !== undefined && opts.dataFile !== undefined) throw new UsageError('give --data or --data-file, not both');
  if (opts.data !== undefined) return opts.data;
  if (opts.dataFile === '-' || (opts.dataFile === undefined && !ctx.io.stdinIsTTY)) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return textOf(Buffer.concat(chunks), 'stdin', INPUT_EXPECTED, INPUT_HINT);
  }
  if (opts.dataFile === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(opts.dataFile);
  } catch (err) {
    throw new UsageError(`cannot read ${opts.dataFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { code: 'bad_file' });
  }
  return textOf(bytes, opts.dataFile, INPUT_EXPECTED, INPUT_HINT);
}

const INPUT_EXPECTED = 'the input is one JSON document';
const INPUT_HINT = 'binary data goes inside the JSON, e.g. base64: {"data": "<base64>"}';
