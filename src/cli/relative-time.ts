/**
 * Times as a terminal shows them: "3 min ago" reads at a glance and fits a column, where a
 * millisecond ISO stamp takes 24 characters. Pipes and --json keep ISO times (exact, sortable).
 */

const UNITS: Array<[number, string]> = [
  [86_400_000, 'day'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** Past times "3 min ago", "2 days ago"; beyond 30 days the date; a future time "in 2 min". */
export function relativeTime(date: Date, now: Date): string {
  const ms = now.getTime() - date.getTime();
  const abs = Math.abs(ms);
  if (abs < 5000) return 'just now';
  if (abs >= 30 * 86_400_000) return date.toISOString().slice(0, 10);
  const [size, unit] = UNITS.find(([s]) => abs >= s)!;
  const n = Math.floor(abs / size);
  const text = unit === 'day' ? `${n} day${n === 1 ? '' : 's'}` : `${n} ${unit}`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** A table cell for a time: relative on a terminal, ISO when piped. */
export function timeCell(io: { stdoutIsTTY: boolean }, date: Date | null | undefined, now: Date): string {
  if (!date) return '-';
  return io.stdoutIsTTY ? relativeTime(date, now) : date.toISOString();
}
