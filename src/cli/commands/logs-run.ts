import { parseSince } from '../../base/durations.js';
import { AlreadyReported, EXIT } from '../../base/errors.js';
import { followLogs, functionLogs, type LogEvent, type LogsQuery } from '../../core/invocations/function-logs.js';
import type { RequestRow } from '../../db/requests-repo.js';
import type { Context } from '../context.js';
import { functionDeps, withInterrupt } from '../deps.js';
import { requireActor } from '../session.js';
import { jsonForTerminal, terminalSafe } from '../terminal-text.js';
import { shortId } from '../short-ids.js';
import type { LogsOptions } from './logs-options.js';

export async function runLogs(ctx: Context, name: string, opts: LogsOptions): Promise<void> {
  const api = await import('../api-client.js');
  if (await api.overApi(ctx)) {
    const printer = new LogPrinter(ctx);
    return api.logsOverApi(ctx, name, { tail: opts.tail === undefined ? undefined : String(opts.tail), since: opts.since, status: opts.status, follow: opts.follow }, (row) =>
      printer.print({ kind: 'request', row, streamed: false }),
    );
  }
  const { actor } = await requireActor(ctx);
  const query: LogsQuery = { functionName: name, status: opts.status, since: opts.since ? parseSince(opts.since, ctx.clock.now()) : undefined, tail: Number(opts.tail) };
  const printer = new LogPrinter(ctx);
  if (!opts.follow) {
    const rows = await functionLogs(await ctx.store(), actor, query);
    if (ctx.io.options.json) return ctx.io.json(rows.map(rowJson));
    for (const row of rows) printer.print({ kind: 'request', row, streamed: false });
    return;
  }
  const deps = await functionDeps(ctx);
  await withInterrupt((signal) => followLogs(deps, actor, query, { signal, onEvent: (e) => printer.print(e) }));
  // Only Ctrl-C (or SIGTERM) ends a follow: exit as interrupted, having printed everything.
  throw new AlreadyReported(EXIT.interrupted);
}

/** One request, or one --follow event: a header line and the stored (or live) output, made safe for a terminal. */
class LogPrinter {
  /** Whether stdout's last character was a newline (live output may stop mid-line). */
  private atLineStart = true;

  constructor(private readonly ctx: Context) {}

  print(e: LogEvent): void {
    const { io } = this.ctx;
    if (io.options.json) this.json(e);
    else if (io.options.quiet) {
      if (e.kind === 'request') io.out(e.row.id);
    } else if (e.kind === 'output') this.write(terminalSafe(e.text));
    else if (e.kind === 'start') this.line(this.header(e.row, 'running (live)'));
    else this.request(e.row, e.streamed);
  }

  private request(r: RequestRow, streamed: boolean): void {
    const status = `${this.colour(r.status)}  ${r.durationMs == null ? '-' : formatMs(r.durationMs)}`;
    this.line(this.header(r, status));
    if (!streamed && r.output) this.write(terminalSafe(r.output));
    if (r.outputTruncated && !streamed) this.line(this.ctx.io.c.dim('[output truncated: the request log keeps the first 64 KiB]'));
    if (r.error && r.status !== 'success') this.line(terminalSafe(r.error));
  }

  private header(r: RequestRow, what: string): string {
    const { c } = this.ctx.io;
    const id = this.ctx.io.stdoutIsTTY ? shortId(r.id) : r.id;
    const at = (r.startedAt ?? r.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const about = [r.functionVersion ? `v${r.functionVersion}` : '', r.mode ?? '', r.node ?? ''].filter(Boolean).join(' ');
    return `${c.dim('──')} ${c.bold(id)}  ${at}  ${what}${about ? c.dim(`  ${about}`) : ''}`;
  }

  private colour(status: string): string {
    const { c } = this.ctx.io;
    return status === 'success' ? c.green(status) : status === 'pending' || status === 'running' ? c.yellow(status) : c.red(status);
  }

  private line(text: string): void {
    this.write(`${this.atLineStart ? '' : '\n'}${text}\n`);
  }

  private write(text: string): void {
    if (!text) return;
    this.ctx.io.streams.stdout.write(text);
    this.atLineStart = text.endsWith('\n');
  }

  /** NDJSON, one event a line (never pretty-printed: a reader splits on newlines). */
  private json(e: LogEvent): void {
    const doc =
      e.kind === 'request'
        ? { event: 'request', ...rowJson(e.row), streamed: e.streamed }
        : e.kind === 'start'
          ? { event: 'start', id: e.row.id, functionName: e.row.functionName, functionVersion: e.row.functionVersion, mode: e.row.mode, createdAt: e.row.createdAt.toISOString() }
          : { event: 'output', id: e.requestId, stream: e.stream, text: e.text };
    this.ctx.io.streams.stdout.write(`${jsonForTerminal(JSON.stringify(doc))}\n`);
  }
}

/** The `request show --json` shape. */
function rowJson(r: RequestRow) {
  return {
    ...r,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    deadlineAt: r.deadlineAt?.toISOString() ?? null,
  };
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
