import { recordedOutcome } from '../../../core/dispatch/recorded-outcome.js';
import { requestDocument } from '../../../core/api/documents.js';
import { parseDuration, parseSince } from '../../../base/durations.js';
import { EXIT, UsageError, AlreadyReported } from '../../../base/errors.js';
import { isOpen, reconcileInvocation } from '../../../core/invocations/reconcile.js';
import { listRequests, showRequest, UUID } from '../../../core/requests/requests.js';
import { closeExpiredRequests } from '../../../core/invocations/expired-requests.js';
import { isOpenColdJob, LIST_RECONCILE_MAX, reconcileListed } from '../../../core/invocations/listed-requests.js';
import { waitForRow } from '../../../core/invocations/request-wait.js';
import type { RequestRow } from '../../../db/requests-repo.js';
import type { Context } from '../../context.js';
import { functionDeps, withInterrupt } from '../../deps.js';
import { requireActor } from '../../session.js';
import { printOutcome } from '../fn/invoke.js';
import { jsonForTerminal, terminalSafe } from '../../terminal-text.js';
import { idCell } from '../../short-ids.js';
import { timeCell } from '../../relative-time.js';
import type { RequestListOptions } from './options.js';

const ITEM_PAGE = 5000;

/**
 * Expired rows are closed first, then the open cold jobs about to be shown are looked at (at
 * most LIST_RECONCILE_MAX); any left unlooked-at is marked (`*` in the table, `"checked": false`
 * in JSON), so a listing never passes off the log's last word as the cluster's.
 */
export async function runList(ctx: Context, opts: RequestListOptions): Promise<void> {
  const api = await import('../../api-client.js');
  if (await api.overApi(ctx))
    return api.listOverApi(ctx, {
      function: opts.function,
      status: opts.status,
      since: opts.since,
      limit: opts.limit === undefined ? undefined : String(opts.limit),
      type: opts.type,
      before: opts.before,
    });
  const { actor } = await requireActor(ctx);
  const since = opts.since ? parseSince(opts.since, ctx.clock.now()) : undefined;
  const store = await ctx.store();
  const engine = once(() => functionDeps(ctx));
  await closeExpiredRequests({ store, clock: ctx.clock, log: ctx.log, engine }, { userId: actor.id });
  const before = opts.before === undefined ? undefined : UUID.test(opts.before) ? { id: opts.before } : { time: parseSince(opts.before, ctx.clock.now(), '--before') };
  const query = { type: opts.type, status: opts.status, since, function: opts.function, deletedUsers: opts.deletedUsers, before, limit: Number(opts.limit) };
  let rows = await listRequests(store, actor, query);
  let checked = new Set<string>();
  if (rows.some(isOpenColdJob)) {
    const looked = await engine()
      .then((deps) => reconcileListed(deps, rows))
      .catch((err: Error) => ctx.log.debug(`request list: the engine was not asked: ${err.message}`));
    if (looked) checked = looked.checked;
    if (looked?.changed) rows = await listRequests(store, actor, query);
  }
  const unchecked = (r: RequestRow) => isOpenColdJob(r) && !checked.has(r.id);
  if (ctx.io.options.json) return ctx.io.json(rows.map((r) => ({ ...toJson(r), ...(isOpen(r) ? { checked: !unchecked(r) } : {}) })));
  if (ctx.io.options.quiet) {
    for (const r of rows) ctx.io.out(r.id);
    return;
  }
  await ctx.io.table(
    ['id', 'type', 'status', 'target', 'duration', 'created'],
    rows.map((r) => [
      idCell(ctx.io, r.id),
      r.type,
      colourStatus(ctx, r.status) + (unchecked(r) ? '*' : ''),
      target(r),
      r.durationMs == null ? '-' : `${Math.round(r.durationMs)} ms`,
      timeCell(ctx.io, r.createdAt, ctx.clock.now()),
    ]),
    { dropFirst: ['duration', 'type'] },
  );
  const notLooked = rows.filter(unchecked).length;
  if (notLooked)
    ctx.io.info(
      `* ${notLooked} open invocation(s) not checked against the cluster in this listing (at most ${LIST_RECONCILE_MAX} are, and only while the engine answers): faasctl request show ID checks one`,
    );
}

/** The first call's promise, shared by later calls (the engine is connected only if needed). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export async function runShow(ctx: Context, id: string, opts: { items?: boolean } = {}): Promise<void> {
  const api = await import('../../api-client.js');
  if (await api.overApi(ctx)) return api.showOverApi(ctx, id);
  const { actor } = await requireActor(ctx);
  const store = await ctx.store();
  let row = await showRequest(store, actor, id);
  if (isOpen(row) && !opts.items) {
    await closeExpiredRequests({ store, clock: ctx.clock, log: ctx.log, engine: () => functionDeps(ctx) }, { userId: actor.id, requestId: row.id });
    row = await showRequest(store, actor, id);
  }
  if (opts.items) return printItems(ctx, row);
  if (isOpen(row) && row.type === 'fn.invoke') {
    // Best effort: an unreachable engine must not hide what the log already knows.
    const finished = await reconcileInvocation(await functionDeps(ctx), row, { wait: false }).catch((err: Error) => ctx.log.debug(`reconcile: ${err.message}`));
    if (finished) row = await showRequest(await ctx.store(), actor, id);
  }
  const attempts = row.queued && row.attempt > 1 ? await store.queue.attempts(row.id) : [];
  if (ctx.io.options.json) return ctx.io.json({ ...toJson(row), ...(row.queued ? { attempts: attempts.map((a) => ({ ...a, error: a.error })) } : {}) });
  const fields: Array<[string, string | number | undefined]> = [
    ['id', row.id],
    ['type', row.type],
    ['status', colourStatus(ctx, row.status)],
    ['target', `${target(row)}${row.mode ? ` (${row.mode})` : ''}`],
    ['params', jsonForTerminal(JSON.stringify(row.params))],
    ['result', row.result === null ? '-' : jsonForTerminal(JSON.stringify(row.result))],
    ['error', row.error === null ? '-' : terminalSafe(row.error)],
    ['created', row.createdAt.toISOString()],
    ...(row.via ? ([['via', row.tokenName ? `token ${row.tokenName}` : row.via]] as Array<[string, string]>) : []),
    ['duration', row.durationMs == null ? '-' : `${row.durationMs.toFixed(1)} ms`],
    ...(row.type.startsWith('fn.invoke')
      ? ([
          ['cpu', row.cpuMs == null ? '-' : `${row.cpuMs.toFixed(1)} ms`],
          ['peak memory', row.maxRssKb == null ? '-' : `${(row.maxRssKb / 1024).toFixed(1)} MiB`],
          ['node', row.node ?? '-'],
          ...(row.attempt > 1 && !row.queued ? [['attempt', `${row.attempt} (its node was lost; the earlier run may also have executed)`]] : []),
          ...attempts.map((a) => [`attempt ${a.attempt}`, `${a.status}: ${terminalSafe((a.error ?? '').split('\n').filter(Boolean).pop() ?? '')}`]),
          ...(row.queued && row.attempt > 1 && !attempts.some((a) => a.attempt === row.attempt) ? [[`attempt ${row.attempt}`, row.status]] : []),
          ...(row.deadAt ? [['dead letter', `since ${row.deadAt.toISOString()}${row.redrivenAs ? `; redriven as ${row.redrivenAs}` : ' (faasctl dlq redrive ID runs it again)'}`]] : []),
          ...(row.redriveOf ? [['redrive of', row.redriveOf]] : []),
        ] as Array<[string, string]>)
      : []),
  ];
  if (row.sanitized) fields.push(['note', 'some text held characters PostgreSQL cannot store (NUL, invalid UTF-8, lone surrogates): stored as U+FFFD']);
  await ctx.io.table(['field', 'value'], fields);
  if (row.output) ctx.io.err(`--- output${row.outputTruncated ? ' (truncated)' : ''} ---\n${terminalSafe(row.output)}`);
}

export async function runWait(ctx: Context, id: string, opts: { timeout: string }): Promise<void> {
  const api = await import('../../api-client.js');
  if (await api.overApi(ctx)) return api.waitOverApi(ctx, id, opts.timeout);
  const deadline = ctx.clock.now().getTime() + parseDuration(opts.timeout, '--timeout');
  const { actor } = await requireActor(ctx);
  const store = await ctx.store();
  const deps = await functionDeps(ctx);
  const expiry = { ...deps, engine: async () => deps };
  // A row past its deadline is closed at once (saying what was lost) rather than waited on.
  const asked = await showRequest(store, actor, id);
  if (isOpen(asked)) await closeExpiredRequests(expiry, { userId: actor.id, requestId: asked.id });
  const row = await showRequest(store, actor, id);
  const relay = (_stream: 'stdout' | 'stderr', text: string) => ctx.io.relay(text);
  // A cold job is followed on the cluster; any other open row (a bulk run, a warm call) is written
  // by the process that owns it: wait for that process, or for its deadline.
  const outcome = await withInterrupt((signal) =>
    isOpenColdJob(row) ? reconcileInvocation(deps, row, { wait: true, deadline, signal, onOutput: relay }) : waitForRow(expiry, row, { userId: actor.id, deadline, signal }).then(() => undefined),
  );
  const final = await showRequest(store, actor, id);
  if (isOpen(final)) {
    ctx.io.info(`request ${id} is still ${final.status}`);
    if (ctx.io.options.json) ctx.io.json(toJson(final));
    throw new AlreadyReported(EXIT.timeout);
  }
  const about = { mode: final.mode, version: final.functionVersion, node: final.node, attempt: final.attempt };
  printOutcome(ctx, id, outcome ?? recordedOutcome(final), final.functionName ? `${final.functionName}@v${final.functionVersion}` : final.type, about);
}

/** A bulk run's answers, read from the database in pages so any size fits in memory. */
async function printItems(ctx: Context, row: RequestRow): Promise<void> {
  if (row.type !== 'fn.invoke.bulk') throw new UsageError(`request ${row.id} is a ${row.type}, not a bulk invocation`, { hint: 'only fn invoke --bulk requests have items' });
  const store = await ctx.store();
  for (let from = 0; ; ) {
    const page = await store.requests.items(row.id, { from, limit: ITEM_PAGE });
    if (!page.length) return;
    ctx.io.out(
      jsonForTerminal(
        page
          .map((i) =>
            JSON.stringify({ index: i.index, version: i.version, status: i.status, result: i.result, error: i.error, latencyMs: i.durationMs, attempts: i.attempts, sanitized: Boolean(i.sanitized) }),
          )
          .join('\n'),
      ),
    );
    from = page[page.length - 1]!.index + 1;
  }
}

const toJson = requestDocument;

function target(r: RequestRow): string {
  if (r.functionName) return `${r.functionName}${r.functionVersion ? `@v${r.functionVersion}` : ''}`;
  const name = (r.params as { name?: unknown }).name;
  return typeof name === 'string' ? name : '-';
}

function colourStatus(ctx: Context, status: string): string {
  const { c } = ctx.io;
  if (status === 'success') return c.green(status);
  if (status === 'pending' || status === 'running') return c.yellow(status);
  return c.red(status);
}
