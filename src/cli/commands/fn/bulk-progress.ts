import type { BulkProgress } from '../../../core/invocations/bulk-invoke.js';

const BAR_WIDTH = 20;

/**
 * A bulk run's progress line on a terminal: done/total (or done when the total is unknown, as
 * on stdin), the rate of the inputs run so far, errors, and the time left at that rate.
 */
export function progressText(p: BulkProgress, seconds: number): string {
  const ran = p.done - p.resumed;
  const rate = seconds > 0 ? ran / seconds : 0;
  const errors = `${p.errors} error${p.errors === 1 ? '' : 's'}`;
  if (p.total === undefined) return `${p.done}/? · ${Math.round(rate)}/s · ${errors}`;
  const filled = Math.round((p.done / Math.max(1, p.total)) * BAR_WIDTH);
  const left = p.total - p.done;
  const eta = rate > 0 ? duration(left / rate) : '?';
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${p.done}/${p.total} · ${Math.round(rate)}/s · ${errors} · ETA ${eta}`;
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
