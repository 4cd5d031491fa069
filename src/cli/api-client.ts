import { type ExitCode, AlreadyReported, FaasctlError, UsageError } from '../base/errors.js';
import { exitFromStatus } from '../core/api/http-status.js';
import { requestFromDocument } from '../core/api/documents.js';
import type { RequestRow } from '../db/requests-repo.js';
import { callApi } from '../http/client.js';
import type { Context } from './context.js';
import { jsonForTerminal, terminalSafe } from './terminal-text.js';

/**
 * The commands a token-only context runs over the dispatcher's HTTP API (issue 25): `fn invoke`,
 * `request show|wait|list` and `logs`. The server answers in the CLI's own JSON shapes and says
 * the exit code, so --json prints its document as it came and the exit code is the same one.
 */
export async function overApi(ctx: Context): Promise<boolean> {
  return Boolean(await ctx.api());
}

async function call(ctx: Context, method: string, path: string, body?: string): Promise<{ doc: unknown; exitCode: ExitCode }> {
  const api = await ctx.api();
  if (!api) throw new Error('overApi() was not asked first');
  const reply = await callApi(api, method, path, ctx.log, body);
  const exitCode = (reply.exitCode ?? exitFromStatus(reply.status)) as ExitCode;
  const error = (reply.body as { error?: { code?: string; message?: string; hint?: string } } | null)?.error;
  if (error && typeof error.message === 'string' && !('requestId' in (reply.body as object))) {
    if (ctx.io.options.json) {
      ctx.io.json(reply.body);
      throw new AlreadyReported(exitCode);
    }
    throw new FaasctlError(error.message, { code: error.code, hint: error.hint, exitCode });
  }
  return { doc: reply.body, exitCode };
}

const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  return s ? `?${s}` : '';
};

export async function invokeOverApi(ctx: Context, name: string, input: string | undefined, async: boolean): Promise<void> {
  const { doc, exitCode } = await call(ctx, 'POST', `v1/functions/${encodeURIComponent(name)}/invoke${async ? '?async=1' : ''}`, input ?? '');
  printInvocation(ctx, name, doc as InvocationDoc, exitCode);
}

export async function waitOverApi(ctx: Context, id: string, timeout: string): Promise<void> {
  const { doc, exitCode } = await call(ctx, 'GET', `v1/requests/${encodeURIComponent(id)}/wait${q({ timeout })}`);
  printInvocation(ctx, id, doc as InvocationDoc, exitCode);
}

interface InvocationDoc {
  requestId: string;
  status: string;
  result?: unknown;
  error?: { message?: string; traceback?: string | null } | null;
}

function printInvocation(ctx: Context, what: string, doc: InvocationDoc, exitCode: ExitCode): void {
  if (ctx.io.options.json) {
    ctx.io.json(doc);
    if (exitCode) throw new AlreadyReported(exitCode);
    return;
  }
  if (!('result' in doc)) {
    ctx.io.out(doc.requestId);
    return;
  }
  if (!exitCode) {
    ctx.io.out(jsonForTerminal(JSON.stringify(doc.result ?? null)));
    return;
  }
  throw new FaasctlError(`${what}: ${terminalSafe(doc.error?.message ?? doc.status)} (request ${doc.requestId})`, {
    code: doc.status,
    exitCode,
    detail: doc.error?.traceback ? terminalSafe(doc.error.traceback.trimEnd()) : undefined,
    hint: `faasctl request show ${doc.requestId} has the output and error`,
  });
}

export async function showOverApi(ctx: Context, id: string): Promise<void> {
  const { doc } = await call(ctx, 'GET', `v1/requests/${encodeURIComponent(id)}`);
  if (ctx.io.options.json) return ctx.io.json(doc);
  const r = requestFromDocument(doc as Record<string, unknown>);
  await ctx.io.table(
    ['field', 'value'],
    [
      ['id', r.id],
      ['status', r.status],
      ['target', `${r.functionName}@v${r.functionVersion}${r.mode ? ` (${r.mode})` : ''}`],
      ['result', r.result === null ? '-' : jsonForTerminal(JSON.stringify(r.result))],
      ['error', r.error === null ? '-' : terminalSafe(r.error)],
      ['created', r.createdAt.toISOString()],
      ['duration', r.durationMs == null ? '-' : `${r.durationMs.toFixed(1)} ms`],
      ['via', r.tokenName ? `token ${r.tokenName}` : (r.via ?? 'cli')],
    ],
  );
  if (r.output) ctx.io.err(`--- output${r.outputTruncated ? ' (truncated)' : ''} ---\n${terminalSafe(r.output)}`);
}

export async function listOverApi(ctx: Context, o: { function?: string; status?: string; since?: string; limit?: string; type?: string; before?: string }): Promise<void> {
  if (o.before || (o.type && o.type !== 'fn.invoke' && o.type !== 'fn'))
    throw new UsageError('over the API, request list shows invocations only, newest first, without --before', { hint: 'use --function, --status, --since and --limit' });
  const { doc } = await call(ctx, 'GET', `v1/requests${q({ function: o.function, status: o.status, since: o.since, limit: o.limit })}`);
  if (ctx.io.options.json) return ctx.io.json(doc);
  const rows = (doc as Array<Record<string, unknown>>).map(requestFromDocument);
  if (ctx.io.options.quiet) {
    for (const r of rows) ctx.io.out(r.id);
    return;
  }
  await ctx.io.table(
    ['id', 'status', 'target', 'duration', 'created'],
    rows.map((r) => [r.id, r.status, `${r.functionName}@v${r.functionVersion}`, r.durationMs == null ? '-' : `${Math.round(r.durationMs)} ms`, r.createdAt.toISOString()]),
  );
}

export async function logsOverApi(ctx: Context, name: string, o: { tail?: string; since?: string; status?: string; follow?: boolean }, print: (row: RequestRow) => void): Promise<void> {
  if (o.follow) throw new UsageError('logs --follow is not served over the API', { hint: 'run faasctl logs FN again, or request wait ID' });
  const { doc } = await call(ctx, 'GET', `v1/functions/${encodeURIComponent(name)}/logs${q({ tail: o.tail, since: o.since, status: o.status })}`);
  if (ctx.io.options.json) return ctx.io.json(doc);
  for (const r of (doc as Array<Record<string, unknown>>).map(requestFromDocument)) print(r);
}
