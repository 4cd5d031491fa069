/**
 * Which source answers which part of a statistics window (issue 24). Whole UTC days come from
 * the day rollups, whole hours left at either end from the hour rollups, and the partial hours
 * at the very ends from the raw rows: counts, sums and peaks stay exact for any window, and the
 * rows read are bounded by the window's length in days, not by the history. A window that holds
 * no whole hour is left to the raw rows entirely, where percentiles are exact too.
 */
export type Range = readonly [from: Date, to: Date];

export interface Coverage {
  raw: Range[];
  hour: Range[];
  day: Range[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
const ceilTo = (t: number, unit: number) => Math.ceil(t / unit) * unit;

export function statsCoverage(since: Date, until: Date): Coverage {
  const [s, u] = [since.getTime(), until.getTime()];
  const [h0, h1] = [ceilTo(s, HOUR), floorTo(u, HOUR)];
  if (h0 >= h1) return { raw: ranges([s, u]), hour: [], day: [] };
  const raw = ranges([s, h0], [h1, u]);
  const [d0, d1] = [ceilTo(h0, DAY), floorTo(h1, DAY)];
  if (d0 >= d1) return { raw, hour: ranges([h0, h1]), day: [] };
  return { raw, hour: ranges([h0, d0], [d1, h1]), day: ranges([d0, d1]) };
}

/** The non-empty ones, as dates. */
function ranges(...pairs: Array<[number, number]>): Range[] {
  return pairs.filter(([a, b]) => a < b).map(([a, b]) => [new Date(a), new Date(b)] as const);
}

/** True when no rollup takes part: the raw rows answer exactly, percentiles included. */
export const rawOnly = (c: Coverage): boolean => c.hour.length === 0 && c.day.length === 0;
