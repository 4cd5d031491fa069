import { describe, expect, it } from 'vitest';
import { sparkline, type FunctionStats, type StatsReport } from '../../src/core/monitoring/stats.js';
import { cpuPercent } from '../../src/core/monitoring/top.js';
import { renderReport } from '../../src/cli/report/html.js';

const since = new Date('2026-11-24T00:00:00Z');
const until = new Date('2026-11-25T00:00:00Z');

function fn(name: string, over: Partial<FunctionStats> = {}): FunctionStats {
  return {
    name,
    invocations: 10,
    succeeded: 8,
    applicationErrors: 1,
    developerErrors: 1,
    systemErrors: 0,
    p50Ms: 1.5,
    p95Ms: 40,
    p99Ms: 900,
    meanCpuMs: 2,
    peakRssKb: 20_000,
    cold: 2,
    warm: 8,
    errorRate: 0.2,
    timeline: Array.from({ length: 4 }, (_, i) => ({ start: new Date(since.getTime() + i * 6 * 3600_000), invocations: i, errors: i ? 1 : 0, p50Ms: 1 })),
    ...over,
  };
}

const report = (functions: FunctionStats[]): StatsReport => ({ since, until, bucketMs: 6 * 3600_000, user: 'alice', functions });

describe('sparkline', () => {
  it('maps zero to blank, the maximum to a full bar and keeps one character per value', () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe(' ▁▂▄█');
    expect(sparkline([0, 0])).toBe('  ');
    expect(sparkline([])).toBe('');
  });
});

describe('cpuPercent', () => {
  it("uses Docker's formula between two samples (percent of one CPU)", () => {
    const before = { atMs: 0, cpuNs: 1e9, systemCpuNs: 100e9, onlineCpus: 2 };
    expect(cpuPercent(before, { cpuNs: 1.5e9, systemCpuNs: 102e9, onlineCpus: 2 }, undefined, 1000)).toBeCloseTo(50, 6);
  });
  it("falls back to the runtime's cgroup CPU time over wall time, and has no rate without a previous sample", () => {
    expect(cpuPercent({ atMs: 0, cpuUsec: 1000 }, undefined, { cpuUsec: 501_000 }, 1000)).toBeCloseTo(50, 6);
    expect(cpuPercent(undefined, { cpuNs: 1, systemCpuNs: 1, onlineCpus: 1 }, undefined, 1)).toBeNull();
  });
});

describe('renderReport', () => {
  it('is self-contained: a CSP that forbids fetches, no script, no external reference', () => {
    const html = renderReport(report([fn('sum'), fn('csv_stats', { p50Ms: null, p95Ms: null, p99Ms: null, meanCpuMs: null, peakRssKb: null })]), until);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html.match(/(?:src|href)=/g)).toBeNull();
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('20'); // 20 invocations in the KPIs
  });
  it('escapes every text it did not write itself', () => {
    const html = renderReport({ ...report([fn('x<script>alert(1)</script>')]), user: 'a"b&c' }, until);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('x&lt;script&gt;');
    expect(html).toContain('a&quot;b&amp;c');
  });
  it('says so when there is nothing to chart', () => {
    expect(renderReport(report([]), until)).toContain('No invocations between');
  });
});
