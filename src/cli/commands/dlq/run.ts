import { UsageError } from '../../../base/errors.js';
import { wholeNumber } from '../../../base/numbers.js';
import { listDeadLetters, purgeDeadLetters, redrive } from '../../../core/dispatch/dead-letters.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';
import type { DlqListOptions, DlqPurgeOptions } from './options.js';

export async function runDlqList(ctx: Context, opts: DlqListOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const limit = opts.limit === undefined ? 50 : wholeNumber(opts.limit, '--limit', 1, 10_000);
  const rows = await listDeadLetters({ store: await ctx.store() }, actor, opts.fn, limit);
  if (ctx.io.options.json)
    return ctx.io.json(
      rows.map((r) => ({ id: r.id, function: r.functionName, version: r.functionVersion, status: r.status, attempts: r.attempt, error: r.error, createdAt: r.createdAt, deadAt: r.deadAt })),
    );
  if (!rows.length) return ctx.io.info('no dead letters');
  await ctx.io.table(
    ['id', 'function', 'status', 'attempts', 'dead since', 'error'],
    rows.map((r) => [r.id, `${r.functionName}@v${r.functionVersion}`, r.status, String(r.attempt), r.deadAt?.toISOString() ?? '', (r.error ?? '').split('\n').filter(Boolean).pop() ?? '']),
  );
}

export async function runDlqRedrive(ctx: Context, ids: string[]): Promise<void> {
  const { actor } = await requireActor(ctx);
  const done = await redrive(await functionDeps(ctx), actor, ids);
  if (ctx.io.options.json) return ctx.io.json(done);
  for (const d of done) ctx.io.out(d.requestId);
  ctx.io.info(`queued ${done.length} request(s) again; faasctl request wait ID follows one`);
}

export async function runDlqPurge(ctx: Context, ids: string[], opts: DlqPurgeOptions): Promise<void> {
  if (opts.all === Boolean(ids.length)) throw new UsageError('give dead-letter ids, or --all', { hint: 'faasctl dlq ls shows them' });
  if (opts.fn && !opts.all) throw new UsageError('--fn goes with --all');
  const { actor } = await requireActor(ctx);
  const purged = await purgeDeadLetters({ store: await ctx.store() }, actor, opts.all ? 'all' : ids, opts.fn);
  if (ctx.io.options.json) return ctx.io.json({ purged });
  ctx.io.info(`purged ${purged} dead letter(s)`);
}
