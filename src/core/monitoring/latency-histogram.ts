import { LATENCY_BUCKETS } from '../../db/rollups-sql.js';

/**
 * A rollup's latency histogram ({"bucket index": count}, see migration 0008) read back. Bucket
 * i > 0 holds (first * growth^(i-1), first * growth^i]; its geometric middle stands for all its
 * durations, so a percentile is within sqrt(growth) - 1 (1%) of the exact value.
 */
export type LatencyHistogram = Record<string, number>;

export function mergeHistograms(into: LatencyHistogram, from: LatencyHistogram): LatencyHistogram {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + Number(n);
  return into;
}

export function bucketMiddleMs(index: number): number {
  const { firstMs, growth } = LATENCY_BUCKETS;
  return index <= 0 ? firstMs : firstMs * growth ** (index - 0.5);
}

/** The nearest-rank percentile (p in 0..1), or null for an empty histogram. */
export function histogramPercentile(h: LatencyHistogram, p: number): number | null {
  const buckets = Object.entries(h)
    .map(([k, n]) => [Number(k), Number(n)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (!total) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [index, n] of buckets) {
    seen += n;
    if (seen >= rank) return bucketMiddleMs(index);
  }
  return bucketMiddleMs(buckets.at(-1)![0]);
}
