import { parseSince } from '../../base/durations.js';
import { formatBytes } from '../../core/functions/limits.js';
import { invocationStats, sparkline } from '../../core/monitoring/stats.js';
import type { Context } from '../context.js';
import { requireActor } from '../session.js';

export async function runStats(ctx: Context, name: string | undefined, opts: { since: string; user?: string }): Promise<void> {
  const until = ctx.clock.now();
  const since = parseSince(opts.since, until);
  const { actor } = await requireActor(ctx);
  const report = await invocationStats(await ctx.store(), actor, { name, since, until, user: opts.user });
  if (ctx.io.options.json) {
    return ctx.io.json({
      ...report,
      since: report.since.toISOString(),
      until: report.until.toISOString(),
      functions: report.functions.map((f) => ({ ...f, timeline: f.timeline.map((p) => ({ ...p, start: p.start.toISOString() })) })),
    });
  }
  if (!report.functions.length) {
    ctx.io.info(`no invocations since ${since.toISOString()}${name ? ` for ${name}` : ''}`);
    return;
  }
  if (ctx.io.options.quiet) {
    for (const f of report.functions) ctx.io.out(f.name);
    return;
  }
  const ms = (v: number | null) => (v == null ? '-' : v < 10 ? `${v.toFixed(2)} ms` : v < 10_000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
  await ctx.io.table(
    ['function', 'calls', 'errors', 'p50', 'p95', 'p99', 'mean cpu', 'peak mem', 'cold/warm', `activity (${opts.since})`],
    report.functions.map((f) => [
      f.name,
      f.invocations,
      `${(f.errorRate * 100).toFixed(1)}%`,
      ms(f.p50Ms),
      ms(f.p95Ms),
      ms(f.p99Ms),
      ms(f.meanCpuMs),
      f.peakRssKb == null ? '-' : formatBytes(f.peakRssKb * 1024),
      `${f.cold}/${f.warm}`,
      sparkline(f.timeline.map((p) => p.invocations)),
    ]),
    { dropFirst: ['p95', 'mean cpu', 'cold/warm', 'peak mem', `activity (${opts.since})`, 'p99'] },
  );
}
