import { readFile } from 'node:fs/promises';
import { invokeBulk, type BulkAnswer, type BulkRun } from '../../../core/invocations/bulk-invoke.js';
import { parseBulkInputs, parseConcurrency } from '../../../core/invocations/bulk-io.js';
import { UsageError, AlreadyReported } from '../../../base/errors.js';
import type { Context } from '../../context.js';
import { jsonForTerminal, terminalSafe } from '../../terminal-text.js';
import { textOf } from '../../text-input.js';
import { functionDeps, withInterrupt } from '../../deps.js';
import { requireActor } from '../../session.js';
import type { InvokeOptions } from './options.js';
import { announceRequest } from './invoke.js';
import { anySignal } from '../../../base/signals.js';

const BAR_WIDTH = 24;
const PROGRESS_EVERY_MS = 100;

/** `fn invoke NAME --bulk FILE`: NDJSON answers on stdout in input order, a summary on stderr. */
export async function runBulkInvoke(ctx: Context, name: string, opts: InvokeOptions): Promise<void> {
  if (opts.data !== undefined || opts.dataFile !== undefined) throw new UsageError('--bulk takes its inputs from the file; leave out --data and --data-file');
  const source = opts.bulk!;
  if (opts.async) return queueInputs(ctx, name, parseBulkInputs(await readInputs(ctx, source), source === '-' ? 'stdin' : source), opts.idempotencyKey);
  if (opts.idempotencyKey !== undefined) throw new UsageError('--idempotency-key with --bulk needs --async (each line is then a request of its own, keyed KEY:LINE)');
  const concurrency = parseConcurrency(opts.concurrency);
  const inputs = parseBulkInputs(await readInputs(ctx, source), source === '-' ? 'stdin' : source);
  await invokeInputs(ctx, name, inputs, { concurrency, cold: Boolean(opts.cold) });
}

/** The bulk run itself, for --bulk and for the menu's "execute N times". */
/** `table`: the answers as a table once all are in (the menu), instead of NDJSON as they come. */
export async function invokeInputs(ctx: Context, name: string, inputs: string[], opts: { concurrency?: number; cold: boolean; table?: boolean }): Promise<void> {
  const { concurrency } = opts;
  const { actor } = await requireActor(ctx);
  const spinner = await ctx.io.spinner(`invoking ${name} on ${inputs.length} inputs…`);
  // `… | head`: the reader of the answers went away. Stop feeding, close the row as it stands.
  const readerGone = new AbortController();
  const out = lineWriter(ctx.io.streams.stdout, () => readerGone.abort(new Error(OUTPUT_CLOSED)));
  let shownAt = 0;
  const progress = (done: number, total: number) => {
    const now = performance.now();
    if (now - shownAt < PROGRESS_EVERY_MS && done < total) return;
    shownAt = now;
    const filled = Math.round((done / total) * BAR_WIDTH);
    spinner.update(`${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${done}/${total} ${name}`);
  };
  let run: BulkRun;
  const answers: BulkAnswer[] = [];
  const onAnswer = opts.table ? (a: BulkAnswer) => void answers.push(a) : (a: BulkAnswer) => out.write(answerLine(a));
  try {
    const deps = await functionDeps(ctx, (t) => spinner.update(t));
    const onRequest = (id: string) => announceRequest(ctx, id, `faasctl request show ${id} --items`, (line) => spinner.note(line));
    run = await withInterrupt((interrupt) => {
      const signal = anySignal([interrupt, readerGone.signal]);
      return invokeBulk(deps, actor, { name, inputs, concurrency, cold: opts.cold, signal, onAnswer, onProgress: progress, onRequest });
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

/** `--bulk --async`: one queued request per line; their ids as NDJSON, in input order. */
async function queueInputs(ctx: Context, name: string, inputs: string[], key: string | undefined): Promise<void> {
  const { actor } = await requireActor(ctx);
  const { enqueueBulk } = await import('../../../core/dispatch/bulk-enqueue.js');
  const queued = await enqueueBulk(await functionDeps(ctx), actor, name, inputs, key);
  const out = lineWriter(ctx.io.streams.stdout, () => {});
  for (const q of queued) out.write(JSON.stringify(q));
  await out.end();
  const repeats = queued.filter((q) => q.repeat).length;
  if (!ctx.io.options.quiet)
    ctx.io.err(`queued ${queued.length - repeats} request(s) for ${name}${repeats ? ` (${repeats} line(s) already queued under their key)` : ''}; faasctl request wait ID follows one`);
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
  return `${r.functionName}@${versions}: ${r.total} inputs, ${outcome}${missing} in ${seconds.toFixed(2)} s (${Math.round(r.answered / Math.max(seconds, 1e-3))}/s, ${r.mode})${spread}; request ${r.requestId}`;
}

async function readInputs(ctx: Context, source: string): Promise<string> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return textOf(Buffer.concat(chunks), 'stdin', BULK_EXPECTED, BULK_HINT);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (err) {
    throw new UsageError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { code: 'bad_file' });
  }
  return textOf(bytes, source, BULK_EXPECTED, BULK_HINT);
}

const BULK_EXPECTED = '--bulk takes JSON lines, one input document a line';
const BULK_HINT = 'binary data goes inside the JSON, e.g. base64: {"data": "<base64>"}';

/**
 * Why a bulk run stops when its output pipe closes. Exit 130 (interrupted), not a signal
 * death: like Ctrl-C it was stopped from outside, cleanly, and its row records it.
 */
export const OUTPUT_CLOSED = 'the reader of its output went away (stdout closed)';

/**
 * Lines gathered per tick and written together: thousands of answers a second, few writes.
 * A closed pipe (EPIPE, or any write error) is reported once through onClosed and nothing more is written; the
 * listener stays, so no later write can end the process with an unhandled error.
 */
function lineWriter(stream: NodeJS.WritableStream, onClosed: () => void) {
  let pending: string[] = [];
  let scheduled = false;
  let closed = false;
  // EPIPE in practice; any write error means nobody reads the answers any more.
  const onError = () => {
    if (closed) return;
    closed = true;
    pending = [];
    onClosed();
  };
  stream.on('error', onError);
  const flush = () => {
    scheduled = false;
    if (closed) pending = [];
    if (!pending.length) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    stream.write(text);
  };
  return {
    write(line: string) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    end: () =>
      new Promise<void>((resolve) => {
        flush();
        // An open stdout outlives this run (the menu runs more): stop listening. A closed one keeps the listener.
        if (!closed) stream.off('error', onError);
        if (closed || stream.write('')) return resolve();
        stream.once('drain', () => resolve());
        // A reader that goes away while we wait for room never drains: the error ends the wait.
        stream.once('error', () => resolve());
      }),
  };
}
