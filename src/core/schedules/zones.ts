import { UsageError } from '../../base/errors.js';

/**
 * Wall clocks of IANA time zones through Intl (the zone data Node ships): what a schedule's
 * slots look like where it runs, and a wall-clock time read as an instant of a zone.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(tz, f);
  }
  return f;
}

/** A zone name Intl knows ("Europe/Berlin", "UTC"), or a usage error. */
export function checkZone(tz: string): string {
  try {
    formatOf(tz);
    return tz;
  } catch {
    throw new UsageError(`unknown time zone "${tz}"`, { code: 'invalid_zone', hint: 'use an IANA zone name such as Europe/Berlin, America/New_York or UTC' });
  }
}

/** The wall clock of `tz` at `date`: "2026-03-29T03:00:00". */
export function wallClock(date: Date, tz: string): string {
  const p = Object.fromEntries(
    formatOf(tz)
      .formatToParts(date)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/** Minutes the zone is ahead of UTC at `date` (Berlin in summer: 120). */
export function offsetMinutes(date: Date, tz: string): number {
  const whole = Math.floor(date.getTime() / 1000) * 1000;
  return Math.round((Date.parse(`${wallClock(date, tz)}Z`) - whole) / 60_000);
}

/** "+02:00" for 120. */
export function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const LOCAL = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `--at`, `--start`, `--end`: an ISO time with Z or an offset is that instant; one without
 * ("2026-12-24T18:00", "2026-12-24") is a wall-clock time of `tz`. A wall-clock time the zone
 * skips (a daylight-saving gap) is refused rather than moved.
 */
export function parseInstant(text: string, tz: string, flag: string): Date {
  const t = text.trim();
  const local = LOCAL.exec(t) ?? (DATE_ONLY.test(t) ? ([t, t, '00:00', undefined] as const) : null);
  if (local) {
    const wall = `${local[1]}T${local[2]}${local[3] ?? ':00'}`;
    const guess = Date.parse(`${wall}Z`);
    if (Number.isNaN(guess)) throw badInstant(text, flag);
    let at = guess - offsetMinutes(new Date(guess), tz) * 60_000;
    at = guess - offsetMinutes(new Date(at), tz) * 60_000;
    if (wallClock(new Date(at), tz) !== wall)
      throw new UsageError(`${flag} ${text} does not exist in ${tz} (the clocks skip it)`, { code: 'invalid_time', hint: 'give a time outside the daylight-saving gap, or one with an offset' });
    return new Date(at);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) throw badInstant(text, flag);
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw badInstant(text, flag);
  return d;
}

function badInstant(text: string, flag: string): UsageError {
  return new UsageError(`invalid ${flag} "${text}"`, { code: 'invalid_time', hint: 'use an ISO time: 2026-12-24T18:00:00Z, 2026-12-24T18:00+01:00, or 2026-12-24T18:00 (in --tz)' });
}
