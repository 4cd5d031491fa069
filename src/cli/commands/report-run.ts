import { writeFile } from 'node:fs/promises';
import { parseSince } from '../../base/durations.js';
import { UsageError } from '../../base/errors.js';
import { invocationStats } from '../../core/monitoring/stats.js';
import { renderReport } from '../report/html.js';
import type { Context } from '../context.js';
import { requireActor } from '../session.js';

export async function runReport(ctx: Context, opts: { out: string; since: string; user?: string }): Promise<void> {
  const until = ctx.clock.now();
  const since = parseSince(opts.since, until);
  const { actor } = await requireActor(ctx);
  const report = await invocationStats(await ctx.store(), actor, { since, until, user: opts.user, buckets: 48 });
  const html = renderReport(report, until);
  try {
    await writeFile(opts.out, html, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'bad_file', hint: 'give a path in a directory you can write' });
  }
  const invocations = report.functions.reduce((n, f) => n + f.invocations, 0);
  if (ctx.io.options.json) return ctx.io.json({ out: opts.out, bytes: Buffer.byteLength(html), functions: report.functions.length, invocations });
  if (ctx.io.options.quiet) return ctx.io.out(opts.out);
  ctx.io.info(`wrote ${opts.out} (${report.functions.length} functions, ${invocations} invocations, ${Math.round(Buffer.byteLength(html) / 1024)} KiB)`);
}
