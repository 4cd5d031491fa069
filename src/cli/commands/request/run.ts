import { parseSince } from '../../../core/durations.js';
import { listRequests, showRequest } from '../../../core/requests.js';
import type { RequestRow } from '../../../db/requests-repo.js';
import type { Context } from '../../context.js';
import { requireActor } from '../../session.js';
import type { RequestListOptions } from './index.js';

export async function runList(ctx: Context, opts: RequestListOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const since = opts.since ? parseSince(opts.since, ctx.clock.now()) : undefined;
  const rows = await listRequests(await ctx.store(), actor, { type: opts.type, status: opts.status, since, limit: Number(opts.limit) });
  if (ctx.io.options.json) return ctx.io.json(rows.map(toJson));
  if (ctx.io.options.quiet) return rows.forEach((r) => ctx.io.out(r.id));
  await ctx.io.table(
    ['id', 'type', 'status', 'target', 'duration', 'created'],
    rows.map((r) => [r.id, r.type, colourStatus(ctx, r.status), target(r), r.durationMs == null ? '-' : `${Math.round(r.durationMs)} ms`, r.createdAt.toISOString()]),
  );
}

export async function runShow(ctx: Context, id: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  const row = await showRequest(await ctx.store(), actor, id);
  if (ctx.io.options.json) return ctx.io.json(toJson(row));
  const fields: Array<[string, string | number | undefined]> = [
    ['id', row.id],
    ['type', row.type],
    ['status', colourStatus(ctx, row.status)],
    ['params', JSON.stringify(row.params)],
    ['result', row.result === null ? '-' : JSON.stringify(row.result)],
    ['error', row.error ?? '-'],
    ['created', row.createdAt.toISOString()],
    ['duration', row.durationMs == null ? '-' : `${row.durationMs.toFixed(1)} ms`],
  ];
  await ctx.io.table(['field', 'value'], fields);
  if (row.output) ctx.io.err(`--- output${row.outputTruncated ? ' (truncated)' : ''} ---\n${row.output}`);
}

function toJson(r: RequestRow) {
  return { ...r, createdAt: r.createdAt.toISOString(), startedAt: r.startedAt?.toISOString() ?? null, finishedAt: r.finishedAt?.toISOString() ?? null };
}

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
