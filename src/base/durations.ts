import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "1h", "2d" → milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid ${what} "${text}"`, { hint: 'use a number and a unit: 500ms, 30s, 15m, 1h, 2d' });
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** `--since`: a duration back from now ("1h") or an ISO date/time. */
export function parseSince(text: string, now: Date, flag = '--since'): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(text.trim())) return new Date(now.getTime() - parseDuration(text, flag));
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`invalid ${flag} "${text}"`, { hint: 'use a duration such as 1h or 2d, or an ISO time such as 2026-11-24T10:00:00Z' });
  return date;
}

/** A duration in the largest unit that divides it (30d, 12h, 90s), as parseDuration reads it back. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', 7 * 86_400_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
