import { NonInteractiveError, UsageError } from '../../base/errors.js';
import { formatBytes } from '../../core/functions/limits.js';
import { sampleTop, type TopSnapshot } from '../../core/monitoring/top.js';
import type { Context } from '../context.js';
import { functionDeps } from '../deps.js';

/** The first snapshot has no rates: --once samples twice, this far apart. */
const ONCE_GAP_MS = 1_000;

export async function runTop(ctx: Context, opts: { once?: boolean; interval: string }): Promise<void> {
  const interval = Number(opts.interval);
  if (!Number.isFinite(interval) || interval < 0.5 || interval > 3600) throw new UsageError(`invalid --interval ${opts.interval}`, { hint: 'seconds, from 0.5 to 3600' });
  // A live screen is no data: --json is one snapshot, as with --once.
  const live = !opts.once && !ctx.io.options.json;
  if (live && (!ctx.io.stdoutIsTTY || !ctx.io.stdinIsTTY)) {
    throw new NonInteractiveError('faasctl top needs a terminal', { hint: 'faasctl top --once [--json] prints one snapshot' });
  }
  const deps = await functionDeps(ctx);
  const now = () => ctx.clock.now();
  if (!live) {
    const first = await sampleTop(deps, now);
    await ctx.clock.sleep(ONCE_GAP_MS);
    const snap = await sampleTop(deps, now, first);
    if (ctx.io.options.json) return ctx.io.json(toJson(snap));
    return render(ctx, snap);
  }
  await watch(ctx, async (previous) => sampleTop(deps, now, previous), interval * 1000);
}

/** Redraws every `ms` until q or Ctrl-C; the terminal is restored on every path. */
async function watch(ctx: Context, sample: (previous?: TopSnapshot) => Promise<TopSnapshot>, ms: number): Promise<void> {
  const stdin = ctx.io.streams.stdin as NodeJS.ReadStream;
  const out = ctx.io.streams.stdout;
  let quit!: () => void;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003') quit();
  };
  stdin.setRawMode?.(true);
  stdin.resume();
  stdin.on('data', onKey);
  out.write('\x1b[?25l'); // hide the cursor while redrawing
  try {
    let snap: TopSnapshot | undefined;
    for (;;) {
      snap = await sample(snap);
      out.write('\x1b[H\x1b[2J');
      await render(ctx, snap);
      out.write(ctx.io.c.dim(`\n${snap.at.toISOString()}  refreshing every ${ms / 1000} s; q quits\n`));
      const next = await Promise.race([quitting.then(() => 'quit'), ctx.clock.sleep(ms).then(() => 'tick')]);
      if (next === 'quit') return;
    }
  } finally {
    stdin.off('data', onKey);
    stdin.setRawMode?.(false);
    stdin.pause();
    out.write('\x1b[?25h');
  }
}

async function render(ctx: Context, s: TopSnapshot): Promise<void> {
  await ctx.io.table(
    ['node', 'role', 'state', 'availability', 'CPUs', 'memory', 'address'],
    s.nodes.map((n) => [n.hostname, n.leader ? 'leader' : n.role, n.state, n.availability, n.cpus, formatBytes(n.memoryBytes), n.address ?? '-']),
  );
  ctx.io.out('');
  if (!s.tasks.length) {
    ctx.io.out('no faasctl job or warm replica is running');
    return;
  }
  const bytes = (v: number | null) => (v == null ? '-' : formatBytes(v));
  await ctx.io.table(
    ['kind', 'function', 'node', 'up', 'CPU %', 'memory', 'net in/out', 'served', 'in flight'],
    s.tasks.map((t) => [
      t.kind,
      `${t.functionName}${t.version ? `@v${t.version}` : ''}`,
      t.node,
      t.since ? age(s.at.getTime() - t.since.getTime()) : '-',
      t.cpuPercent == null ? '-' : t.cpuPercent.toFixed(1),
      t.memoryLimitBytes ? `${bytes(t.memoryBytes)} / ${bytes(t.memoryLimitBytes)}` : bytes(t.memoryBytes),
      t.rxBytes == null ? '-' : `${bytes(t.rxBytes)} / ${bytes(t.txBytes)}`,
      t.runtime ? t.runtime.served : '-',
      t.runtime ? `${t.runtime.inFlight} of ${t.runtime.workers}` : '-',
    ]),
  );
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function toJson(s: TopSnapshot) {
  return {
    at: s.at.toISOString(),
    nodes: s.nodes,
    tasks: s.tasks.map(({ raw: _raw, ...t }) => ({ ...t, since: t.since?.toISOString() ?? null })),
  };
}
