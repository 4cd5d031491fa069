import type { Store } from '../../db/store.js';
import type { FunctionStatsRow, SlotFigures, StatsFilter } from '../../db/stats-repo.js';
import { NotFoundError } from '../../base/errors.js';
import { validateFunctionName, validateUserName } from '../../base/names.js';
import type { Actor } from '../users/accounts.js';
import { histogramPercentile, mergeHistograms, type LatencyHistogram } from './latency-histogram.js';
import { rawOnly, statsCoverage } from './stats-coverage.js';

export const TIMELINE_BUCKETS = 24;

export interface TimelinePoint {
  start: Date;
  invocations: number;
  errors: number;
  p50Ms: number | null;
}

export interface FunctionStats extends FunctionStatsRow {
  /** Failed invocations (any status but success) over all of them. */
  errorRate: number;
  timeline: TimelinePoint[];
}

export interface StatsQuery {
  name?: string;
  since: Date;
  until: Date;
  /** Another user's functions (operator view); default: the caller's. */
  user?: string;
  buckets?: number;
}

export interface StatsReport {
  since: Date;
  until: Date;
  bucketMs: number;
  user: string;
  /** True when p50/p95/p99 are exact (a window holding no whole hour: raw rows); else within 1% (rollup histograms). */
  percentilesExact: boolean;
  functions: FunctionStats[];
}

/** Per-function invocation statistics with a timeline, all computed by PostgreSQL. */
export async function invocationStats(store: Store, actor: Actor, q: StatsQuery): Promise<StatsReport> {
  let user = { id: actor.id, name: actor.name };
  if (q.user !== undefined && q.user !== actor.name) {
    const found = await store.users.byName(validateUserName(q.user));
    if (!found) throw new NotFoundError(`user "${q.user}" not found`, { hint: 'faasctl user list shows the users' });
    user = { id: found.id, name: found.name };
  }
  const buckets = q.buckets ?? TIMELINE_BUCKETS;
  const filter = { userId: user.id, functionName: q.name === undefined ? null : validateFunctionName(q.name), since: q.since };
  const bucketMs = Math.max(1, (q.until.getTime() - q.since.getTime()) / buckets);
  const coverage = statsCoverage(q.since, q.until);
  const exact = rawOnly(coverage);
  const functions = exact ? await exactStats(store, filter, q.until, buckets) : fromSlots(await store.stats.fromRollups(filter, coverage, q.until, buckets));
  const emptyTimeline = (): TimelinePoint[] => Array.from({ length: buckets }, (_, i) => ({ start: new Date(q.since.getTime() + i * bucketMs), invocations: 0, errors: 0, p50Ms: null }));
  return {
    since: q.since,
    until: q.until,
    bucketMs,
    user: user.name,
    percentilesExact: exact,
    functions: functions.map(({ row, points }) => {
      const timeline = emptyTimeline();
      for (const p of points) {
        const slot = timeline[Math.max(0, Math.min(buckets - 1, p.bucket))]!;
        slot.invocations += p.invocations;
        slot.errors += p.errors;
        slot.p50Ms = p.p50Ms;
      }
      return { ...row, errorRate: row.invocations ? (row.invocations - row.succeeded) / row.invocations : 0, timeline };
    }),
  };
}

type SlotPoint = { bucket: number; invocations: number; errors: number; p50Ms: number | null };

/** A short window: percentile_cont over the raw rows. */
async function exactStats(store: Store, filter: StatsFilter, until: Date, buckets: number): Promise<Array<{ row: FunctionStatsRow; points: SlotPoint[] }>> {
  const [rows, points] = await Promise.all([store.stats.perFunction(filter), store.stats.timeline(filter, until, buckets)]);
  return rows.map((row) => ({ row, points: points.filter((p) => p.name === row.name) }));
}

/** Per-slot figures of each function added up; percentiles from the merged histograms. */
function fromSlots(slots: SlotFigures[]): Array<{ row: FunctionStatsRow; points: SlotPoint[] }> {
  const names = [...new Set(slots.map((s) => s.name))];
  return names.map((name) => {
    const mine = slots.filter((s) => s.name === name);
    const sum = (pick: (s: SlotFigures) => number) => mine.reduce((total, s) => total + pick(s), 0);
    const perSlot = mine.map((s) => s.latencies.reduce<LatencyHistogram>((h, l) => mergeHistograms(h, l), {}));
    const latency = perSlot.reduce<LatencyHistogram>((h, l) => mergeHistograms(h, l), {});
    const cpuMsCount = sum((s) => s.cpuMsCount);
    const peaks = mine.map((s) => s.peakRssKb).filter((v): v is number => v != null);
    const row: FunctionStatsRow = {
      name,
      invocations: sum((s) => s.invocations),
      succeeded: sum((s) => s.succeeded),
      applicationErrors: sum((s) => s.applicationErrors),
      developerErrors: sum((s) => s.developerErrors),
      systemErrors: sum((s) => s.systemErrors),
      p50Ms: histogramPercentile(latency, 0.5),
      p95Ms: histogramPercentile(latency, 0.95),
      p99Ms: histogramPercentile(latency, 0.99),
      meanCpuMs: cpuMsCount ? sum((s) => s.cpuMsSum) / cpuMsCount : null,
      peakRssKb: peaks.length ? Math.max(...peaks) : null,
      cold: sum((s) => s.cold),
      warm: sum((s) => s.warm),
    };
    const points = mine.map((s, i) => ({ bucket: s.slot, invocations: s.invocations, errors: s.invocations - s.succeeded, p50Ms: histogramPercentile(perSlot[i]!, 0.5) }));
    return { row, points };
  });
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart: each value as one of eight bar heights, blank for nothing. */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v <= 0 || max === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1e-9)))])).join('');
}
