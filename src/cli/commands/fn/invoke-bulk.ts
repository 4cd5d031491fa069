import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { invokeBulk, type BulkAnswer, type BulkProgress, type BulkRun, type BulkSource } from '../../../core/invocations/bulk-invoke.js';
import { parseConcurrency } from '../../../core/invocations/bulk-io.js';
import { UsageError, AlreadyReported } from '../../../base/errors.js';
import type { Context } from '../../context.js';
import { jsonForTerminal, terminalSafe } from '../../terminal-text.js';
import { functionDeps, withInterrupt } from '../../deps.js';
import { requireActor } from '../../session.js';
import type { InvokeOptions } from './options.js';
import { announceRequest } from './invoke.js';
import { anySignal } from '../../../base/signals.js';
import { arraySource, bulkSource } from '../../bulk-input.js';
import { lineWriter, OUTPUT_CLOSED } from '../../line-writer.js';
import { progressText } from './bulk-progress.js';

/** Progress is redrawn at most this often (a few times a second). */
const PROGRESS_EVERY_MS = 250;
/** With --debug, the process's memory this often: where a long run's memory goes (issue 26). */
const MEMORY_EVERY_MS = 10_000;

function memoryLine(done: number): string {
  const m = process.memoryUsage();
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return `memory after ${done} inputs: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})`;
}

/** `fn invoke NAME --bulk FILE`: NDJSON answers on stdout in input order, a summary on stderr. */
export async function runBulkInvoke(ctx: Context, name: string, opts: InvokeOptions): Promise<void> {
  if (opts.data !== undefined || opts.dataFile !== undefined) throw new UsageError('--bulk takes its inputs from the file; leave out --data and --data-file');
  // Before the first pass over the file: at a million lines that pass alone grew the young
  // generation to its maximum, the run's peak (97 MB against ~75 MB for the rest of the run).
  keepHeapSmall();
  const source = opts.bulk!;
  if (opts.resume !== undefined && source === '-')
    throw new UsageError('--resume needs the inputs as a file: stdin cannot be read again to check the lines already answered', { code: 'resume_needs_file' });
  if (opts.async) {
    const { queueInputs } = await import('./invoke-bulk-async.js');
    return queueInputs(ctx, name, await bulkSource(source, ctx.io.streams.stdin), opts);
  }
  if (opts.idempotencyKey !== undefined) throw new UsageError('--idempotency-key with --bulk needs --async (each line is then a request of its own, keyed KEY:LINE)');
  const concurrency = parseConcurrency(opts.concurrency);
  const inputs = await bulkSource(source, ctx.io.streams.stdin);
  const resume = opts.resume === undefined ? undefined : { runId: opts.resume === true ? undefined : opts.resume, ownerGone };
  await invokeInputs(ctx, name, inputs, { concurrency, cold: Boolean(opts.cold), resume });
}

/**
 * A bulk run keeps a window of answers alive across many scavenges, so V8 grew its young
 * generation to the maximum (3 x 16 MiB on Node 20) and let old space fill with promoted
 * garbage up to a limit that rises with the run: the CLI's peak RSS crept up with the length of
 * the run (issue 26: 121 MB at 10k inputs, 154 MB at 100k) while the live heap stayed ~15 MB.
 * New space kept at its initial size and V8's memory-saving heap growth hold it flat (~88 MB
 * at 30k against 118 MB). Both flags are read when V8 next sizes the heap, so setting them now
 * takes effect (measured); they cost a few percent of CPU in GC.
 */
function keepHeapSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
}

/** A run's CLI on this host that no longer exists (signal 0 tests for the process; EPERM: it exists). */
function ownerGone(owner: { host: string; pid: number }): boolean {
  if (owner.host !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The bulk run itself, for --bulk and for the menu's "execute N times". */
/** `table`: the answers as a table once all are in (the menu), instead of NDJSON as they come. */
export async function invokeInputs(
  ctx: Context,
  name: string,
  inputs: BulkSource | string[],
  opts: { concurrency?: number; cold: boolean; table?: boolean; resume?: { runId?: string; ownerGone: typeof ownerGone } },
): Promise<void> {
  const source = Array.isArray(inputs) ? arraySource(inputs) : inputs;
  keepHeapSmall();
  const { actor } = await requireActor(ctx);
  const spinner = await ctx.io.spinner(`invoking ${name} on ${source.total ?? 'the'} inputs…`, PROGRESS_EVERY_MS);
  // `… | head`: the reader of the answers went away. Stop feeding, close the row as it stands.
  const readerGone = new AbortController();
  const out = lineWriter(ctx.io.streams.stdout, () => readerGone.abort(new Error(OUTPUT_CLOSED)));
  const started = performance.now();
  let shownAt = 0;
  let memoryAt = 0;
  const progress = (p: BulkProgress) => {
    const now = performance.now();
    if (now - memoryAt >= MEMORY_EVERY_MS) {
      memoryAt = now;
      ctx.log.debug(memoryLine(p.done));
    }
    if (now - shownAt < PROGRESS_EVERY_MS && p.done !== p.total) return;
    shownAt = now;
    spinner.update(`${progressText(p, (now - started) / 1000)} ${name}`);
  };
  let run: BulkRun;
  // The menu's table: a few answers (it asks for N runs), kept until all are in.
  const answers: BulkAnswer[] = [];
  try {
    const deps = await functionDeps(ctx, (t) => spinner.update(t));
    const onRequest = (id: string, resumed?: { from: string; done: number }) => {
      if (resumed && !ctx.io.options.quiet) spinner.note(`resuming run ${resumed.from}: ${resumed.done} line(s) already answered are printed, not run again`);
      announceRequest(ctx, id, `faasctl request show ${id} --items`, (line) => spinner.note(line));
    };
    run = await withInterrupt((interrupt) => {
      const signal = anySignal([interrupt, readerGone.signal]);
      return invokeBulk(deps, actor, {
        name,
        source,
        concurrency: opts.concurrency,
        cold: opts.cold,
        signal,
        // A reader that stopped reading must not keep Ctrl-C from ending the run.
        onAnswer: (a) => (opts.table ? void answers.push(a) : untilAborted(out.write(answerLine(a)), signal)),
        onProgress: progress,
        onRequest,
        owner: { host: hostname(), pid: process.pid },
        resume: opts.resume,
      });
    });
  } finally {
    spinner.stop();
    await out.end();
  }
  if (opts.table) await answerTable(ctx, answers);
  if (!ctx.io.options.quiet) ctx.io.err(summary(run));
  if (run.exitCode) throw new AlreadyReported(run.exitCode);
}

/** One row per input: its result, or the error's last line (a traceback's is its message). */
async function answerTable(ctx: Context, answers: BulkAnswer[]): Promise<void> {
  const width = ((ctx.io.streams.stdout as { columns?: number }).columns || 80) - 40;
  const cell = (text: string) => {
    const line = terminalSafe(text).replace(/\s+/g, ' ').trim();
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  };
  const rows = [...answers]
    .sort((a, b) => a.index - b.index)
    .map((a) => {
      const err = a.error as { type?: string; message?: string } | null | undefined;
      const text = a.status === 'success' ? JSON.stringify(a.result) : `${err?.type ?? a.status}: ${(err?.message ?? '').split('\n').filter(Boolean).at(-1) ?? ''}`;
      return [a.index, a.status, a.version === null ? '' : `v${a.version}`, `${Math.round(a.latencyMs)} ms`, cell(text)];
    });
  await ctx.io.table(['#', 'status', 'version', 'took', 'result or error'], rows);
}

function untilAborted(wait: Promise<void> | undefined, signal: AbortSignal): Promise<void> | undefined {
  if (!wait || signal.aborted) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void wait.then(done);
  });
}

function answerLine(a: BulkAnswer): string {
  return jsonForTerminal(
    JSON.stringify({
      index: a.index,
      version: a.version,
      status: a.status,
      result: a.result,
      error: a.error,
      durationMs: a.durationMs,
      latencyMs: Math.round(a.latencyMs * 1000) / 1000,
      attempts: a.attempts,
      node: a.node,
    }),
  );
}

function summary(r: BulkRun): string {
  const seconds = r.durationMs / 1000;
  const failed = Object.entries(r.counts).filter(([status]) => status !== 'success');
  const outcome = failed.length ? `${r.counts.success ?? 0} succeeded, ${failed.map(([s, n]) => `${n} ${s}`).join(', ')}` : `all ${r.answered} succeeded`;
  const missing = r.total - r.answered ? `, ${r.total - r.answered} not run (${r.stopReason ? `stopped: ${r.stopReason}` : 'cancelled'})` : '';
  const spread =
    Object.keys(r.nodes).length > 1
      ? `; by node: ${Object.entries(r.nodes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([n, c]) => `${n} ${c}`)
          .join(', ')}`
      : '';
  // The versions that answered (two during a roll), else the one asked for.
  const versions = r.answeredVersions.length ? r.answeredVersions.map((v) => `v${v}`).join('+') : `v${r.version}`;
  // The rate counts the inputs this row ran: recorded answers of a resume cost no run.
  const ran = r.answered - r.resumed;
  const resumed = r.resumedFrom ? `; resumed ${r.resumedFrom}: ${r.resumed} answered before, ${ran} run now (window ${r.window})` : '';
  return `${r.functionName}@${versions}: ${r.total} inputs, ${outcome}${missing} in ${seconds.toFixed(2)} s (${Math.round(ran / Math.max(seconds, 1e-3))}/s, ${r.mode})${spread}${resumed}; request ${r.requestId}`;
}
