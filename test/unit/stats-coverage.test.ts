import { describe, expect, it } from 'vitest';
import { bucketMiddleMs, histogramPercentile } from '../../src/core/monitoring/latency-histogram.js';
import { rawOnly, statsCoverage } from '../../src/core/monitoring/stats-coverage.js';

const t = (iso: string) => new Date(iso);
const iso = (ranges: ReadonlyArray<readonly [Date, Date]>) => ranges.map(([a, b]) => [a.toISOString(), b.toISOString()]);

describe('statsCoverage', () => {
  it('reads whole days from day rollups, the whole hours around them from hour rollups, the partial hours from raw rows', () => {
    const c = statsCoverage(t('2026-11-01T10:30:00Z'), t('2026-11-04T05:15:00Z'));
    expect(iso(c.raw)).toEqual([
      ['2026-11-01T10:30:00.000Z', '2026-11-01T11:00:00.000Z'],
      ['2026-11-04T05:00:00.000Z', '2026-11-04T05:15:00.000Z'],
    ]);
    expect(iso(c.hour)).toEqual([
      ['2026-11-01T11:00:00.000Z', '2026-11-02T00:00:00.000Z'],
      ['2026-11-04T00:00:00.000Z', '2026-11-04T05:00:00.000Z'],
    ]);
    expect(iso(c.day)).toEqual([['2026-11-02T00:00:00.000Z', '2026-11-04T00:00:00.000Z']]);
  });
  it('uses hours only when no whole day fits, and nothing but raw rows when no whole hour does', () => {
    const hours = statsCoverage(t('2026-11-01T10:30:00Z'), t('2026-11-02T09:00:00Z'));
    expect(iso(hours.hour)).toEqual([['2026-11-01T11:00:00.000Z', '2026-11-02T09:00:00.000Z']]);
    expect(iso(hours.raw)).toEqual([['2026-11-01T10:30:00.000Z', '2026-11-01T11:00:00.000Z']]);
    expect(hours.day).toEqual([]);
    const short = statsCoverage(t('2026-11-01T10:30:00Z'), t('2026-11-01T11:29:00Z'));
    expect(rawOnly(short)).toBe(true);
    expect(iso(short.raw)).toEqual([['2026-11-01T10:30:00.000Z', '2026-11-01T11:29:00.000Z']]);
  });
  it('covers the window exactly once, without gaps, for any pair of instants', () => {
    for (const [since, until] of [
      ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
      ['2026-03-05T23:59:59.999Z', '2026-03-07T00:00:00.001Z'],
      ['2026-03-05T12:00:00Z', '2026-03-05T13:00:00Z'],
    ]) {
      const c = statsCoverage(t(since!), t(until!));
      const all = [...c.raw, ...c.hour, ...c.day].map(([a, b]) => [a.getTime(), b.getTime()]).sort((x, y) => x[0]! - y[0]!);
      expect(all[0]![0]).toBe(t(since!).getTime());
      expect(all.at(-1)![1]).toBe(t(until!).getTime());
      for (let i = 1; i < all.length; i++) expect(all[i]![0]).toBe(all[i - 1]![1]);
    }
  });
});

describe('latency histogram', () => {
  // faasctl_latency_bucket (migration 0008): index i holds (0.01 * 1.02^(i-1), 0.01 * 1.02^i] ms.
  const bucketOf = (ms: number) => (ms <= 0.01 ? 0 : Math.ceil(Math.log(ms / 0.01) / Math.log(1.02)));
  it('answers every duration within 1% by its bucket’s middle', () => {
    for (let ms = 0.02; ms < 3_600_000; ms *= 1.0137) expect(Math.abs(bucketMiddleMs(bucketOf(ms)) - ms) / ms).toBeLessThanOrEqual(0.01);
  });
  it('takes the nearest rank, and has no percentile when empty', () => {
    const h = { [bucketOf(10)]: 50, [bucketOf(100)]: 45, [bucketOf(1000)]: 5 };
    expect(histogramPercentile(h, 0.5)).toBeCloseTo(bucketMiddleMs(bucketOf(10)), 9);
    expect(histogramPercentile(h, 0.95)).toBeCloseTo(bucketMiddleMs(bucketOf(100)), 9);
    expect(histogramPercentile(h, 0.99)).toBeCloseTo(bucketMiddleMs(bucketOf(1000)), 9);
    expect(histogramPercentile({}, 0.5)).toBeNull();
  });
});
