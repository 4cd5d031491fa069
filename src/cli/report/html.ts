import type { FunctionStats, StatsReport } from '../../core/monitoring/stats.js';

/**
 * `faasctl report`: one self-contained HTML file — inline SVG, inline CSS, no script, and a
 * Content-Security-Policy that forbids every fetch — so it opens anywhere, offline, and can be
 * mailed or archived as is. Pure: statistics in, text out.
 */
const W = 880;
const COLORS = { ok: '#2f855a', error: '#c53030', p50: '#2b6cb0', p95: '#805ad5', p99: '#d69e2e', cpu: '#319795', mem: '#dd6b20', grid: '#e2e8f0', text: '#2d3748', muted: '#718096' };

export function renderReport(r: StatsReport, generatedAt: Date): string {
  const fns = r.functions;
  const total = fns.reduce((n, f) => n + f.invocations, 0);
  const failed = fns.reduce((n, f) => n + f.invocations - f.succeeded, 0);
  const body = fns.length
    ? [
        section('Invocations over time', `all functions, ${r.functions[0]!.timeline.length} slices of ${duration(r.bucketMs)}; errors in red`, timelineChart(sumTimelines(fns), r)),
        section('Latency percentiles', 'p50, p95 and p99 of the caller-observed duration, log scale', latencyChart(fns)),
        section(
          'Error rate',
          'share of invocations that did not succeed',
          barChart(
            fns.map((f) => ({ label: f.name, value: f.errorRate * 100, text: `${(f.errorRate * 100).toFixed(1)}% (${f.invocations - f.succeeded} of ${f.invocations})`, color: COLORS.error })),
            100,
          ),
        ),
        section('Resource use', 'mean CPU time per invocation and peak memory, measured inside the runtime', resourceCharts(fns)),
        section('Per function', 'invocations over time, one row per function', fns.map((f) => smallMultiple(f, r)).join('')),
        section('Numbers', '', table(fns)),
      ].join('\n')
    : `<p class="empty">No invocations between ${esc(r.since.toISOString())} and ${esc(r.until.toISOString())}.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faasctl report: ${esc(r.user)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:${COLORS.text};margin:24px auto;max-width:${W + 40}px;padding:0 20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 2px}.sub{color:${COLORS.muted};margin:0 0 8px;font-size:12px}
.kpis{display:flex;gap:24px;margin:12px 0}.kpi b{display:block;font-size:22px}.kpi span{color:${COLORS.muted};font-size:12px}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{padding:4px 6px;border-bottom:1px solid ${COLORS.grid};text-align:right}th:first-child,td:first-child{text-align:left}
svg text{font:11px system-ui,sans-serif;fill:${COLORS.text}}.empty{color:${COLORS.muted}}
</style>
</head>
<body>
<h1>faasctl report</h1>
<p class="sub">user ${esc(r.user)} · ${esc(r.since.toISOString())} to ${esc(r.until.toISOString())} · generated ${esc(generatedAt.toISOString())}</p>
<div class="kpis">
<div class="kpi"><b>${total}</b><span>invocations</span></div>
<div class="kpi"><b>${fns.length}</b><span>functions</span></div>
<div class="kpi"><b>${total ? ((failed / total) * 100).toFixed(1) : '0.0'}%</b><span>failed</span></div>
</div>
${body}
</body>
</html>
`;
}

function section(title: string, sub: string, content: string): string {
  return `<section><h2>${esc(title)}</h2>${sub ? `<p class="sub">${esc(sub)}</p>` : ''}${content}</section>`;
}

function sumTimelines(fns: FunctionStats[]): Array<{ invocations: number; errors: number; start: Date }> {
  return fns[0]!.timeline.map((p, i) => ({ start: p.start, invocations: fns.reduce((n, f) => n + f.timeline[i]!.invocations, 0), errors: fns.reduce((n, f) => n + f.timeline[i]!.errors, 0) }));
}

function timelineChart(points: Array<{ invocations: number; errors: number; start: Date }>, r: StatsReport, height = 180): string {
  const left = 48;
  const bottom = 22;
  const top = 10;
  const max = Math.max(1, ...points.map((p) => p.invocations));
  const slot = (W - left) / points.length;
  const y = (v: number) => top + (height - bottom - top) * (1 - v / max);
  const bars = points
    .map((p, i) => {
      const x = left + i * slot + 1;
      const okH = (height - bottom - top) * ((p.invocations - p.errors) / max);
      const errH = (height - bottom - top) * (p.errors / max);
      return (
        `<rect x="${x.toFixed(1)}" y="${(height - bottom - okH).toFixed(1)}" width="${(slot - 2).toFixed(1)}" height="${okH.toFixed(1)}" fill="${COLORS.ok}"><title>${esc(p.start.toISOString())}: ${p.invocations} invocations, ${p.errors} failed</title></rect>` +
        (errH > 0 ? `<rect x="${x.toFixed(1)}" y="${(height - bottom - okH - errH).toFixed(1)}" width="${(slot - 2).toFixed(1)}" height="${errH.toFixed(1)}" fill="${COLORS.error}"/>` : '')
      );
    })
    .join('');
  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="${left}" x2="${W}" y1="${y(max * f).toFixed(1)}" y2="${y(max * f).toFixed(1)}" stroke="${COLORS.grid}"/><text x="${left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end">${Math.round(max * f)}</text>`,
    )
    .join('');
  const labels = `<text x="${left}" y="${height - 6}">${esc(shortTime(r.since))}</text><text x="${W}" y="${height - 6}" text-anchor="end">${esc(shortTime(r.until))}</text>`;
  return svg(height, grid + bars + labels, 'invocations over time');
}

function latencyChart(fns: FunctionStats[]): string {
  const rowH = 34;
  const left = 150;
  const height = fns.length * rowH + 30;
  const values = fns.flatMap((f) => [f.p50Ms, f.p95Ms, f.p99Ms]).filter((v): v is number => v != null && v > 0);
  const lo = Math.log10(Math.max(1e-3, Math.min(...values, 1)));
  const hi = Math.log10(Math.max(...values, 10));
  const x = (v: number) => left + ((Math.log10(Math.max(v, 1e-3)) - lo) / Math.max(1e-9, hi - lo)) * (W - left - 120);
  const rows = fns
    .map((f, i) => {
      const top = 8 + i * rowH;
      const bar = (v: number | null, k: number, color: string, name: string) =>
        v == null
          ? ''
          : `<rect x="${left}" y="${top + k * 9}" width="${Math.max(1, x(v) - left).toFixed(1)}" height="8" fill="${color}"><title>${name} ${ms(v)}</title></rect><text x="${(x(v) + 4).toFixed(1)}" y="${top + k * 9 + 8}">${name} ${esc(ms(v))}</text>`;
      return `<text x="${left - 8}" y="${top + 17}" text-anchor="end">${esc(f.name)}</text>${bar(f.p50Ms, 0, COLORS.p50, 'p50')}${bar(f.p95Ms, 1, COLORS.p95, 'p95')}${bar(f.p99Ms, 2, COLORS.p99, 'p99')}`;
    })
    .join('');
  const ticks = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++)
    ticks.push(
      `<line x1="${x(10 ** e).toFixed(1)}" x2="${x(10 ** e).toFixed(1)}" y1="0" y2="${height - 18}" stroke="${COLORS.grid}"/><text x="${x(10 ** e).toFixed(1)}" y="${height - 4}" text-anchor="middle">${esc(ms(10 ** e))}</text>`,
    );
  return svg(height, ticks.join('') + rows, 'latency percentiles');
}

interface Bar {
  label: string;
  value: number;
  text: string;
  color: string;
}

function barChart(bars: Bar[], max?: number): string {
  const rowH = 22;
  const left = 150;
  const height = bars.length * rowH + 8;
  const top = Math.max(max ?? 0, ...bars.map((b) => b.value), 1e-9);
  const rows = bars
    .map((b, i) => {
      const w = ((W - left - 160) * b.value) / top;
      return `<text x="${left - 8}" y="${i * rowH + 15}" text-anchor="end">${esc(b.label)}</text><rect x="${left}" y="${i * rowH + 4}" width="${Math.max(b.value > 0 ? 2 : 0, w).toFixed(1)}" height="14" fill="${b.color}"/><text x="${(left + Math.max(w, 0) + 6).toFixed(1)}" y="${i * rowH + 15}">${esc(b.text)}</text>`;
    })
    .join('');
  return svg(height, rows, 'bars');
}

function resourceCharts(fns: FunctionStats[]): string {
  const cpu = barChart(fns.map((f) => ({ label: f.name, value: f.meanCpuMs ?? 0, text: f.meanCpuMs == null ? 'not measured' : `${ms(f.meanCpuMs)} CPU`, color: COLORS.cpu })));
  const mem = barChart(fns.map((f) => ({ label: f.name, value: f.peakRssKb ?? 0, text: f.peakRssKb == null ? 'not measured' : `${(f.peakRssKb / 1024).toFixed(1)} MiB peak`, color: COLORS.mem })));
  return cpu + mem;
}

function smallMultiple(f: FunctionStats, r: StatsReport): string {
  return `<p class="sub">${esc(f.name)}: ${f.invocations} invocations, ${f.cold} cold / ${f.warm} warm</p>${timelineChart(f.timeline, r, 70)}`;
}

function table(fns: FunctionStats[]): string {
  const head = ['function', 'invocations', 'succeeded', 'app errors', 'dev errors', 'system errors', 'p50', 'p95', 'p99', 'mean CPU', 'peak memory', 'cold', 'warm'];
  const rows = fns.map((f) => [
    f.name,
    f.invocations,
    f.succeeded,
    f.applicationErrors,
    f.developerErrors,
    f.systemErrors,
    ms(f.p50Ms),
    ms(f.p95Ms),
    ms(f.p99Ms),
    ms(f.meanCpuMs),
    f.peakRssKb == null ? '-' : `${(f.peakRssKb / 1024).toFixed(1)} MiB`,
    f.cold,
    f.warm,
  ]);
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function svg(height: number, content: string, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(label)}">${content}</svg>`;
}

function ms(v: number | null): string {
  if (v == null) return '-';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 10_000) return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  return `${(v / 1000).toFixed(1)} s`;
}

function duration(msValue: number): string {
  const s = msValue / 1000;
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function shortTime(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 16);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
