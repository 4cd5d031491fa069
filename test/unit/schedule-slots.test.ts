import { describe, expect, it } from 'vitest';
import { checkCron, checkEvery, LATE_MS, nextSlot, planSlots, type Timing, upcoming } from '../../src/core/schedules/slots.js';
import { parseInstant, wallClock } from '../../src/core/schedules/zones.js';

const cron = (expression: string, tz = 'Europe/Berlin', bounds: Partial<Timing> = {}): Timing => ({ kind: 'cron', expression, tz, anchorAt: new Date(0), startAt: null, endAt: null, ...bounds });
const every = (text: string, anchor: string, bounds: Partial<Timing> = {}): Timing => ({
  kind: 'every',
  expression: checkEvery(text),
  tz: 'UTC',
  anchorAt: new Date(anchor),
  startAt: null,
  endAt: null,
  ...bounds,
});
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const at = (s: string) => new Date(s);

describe('slots across daylight-saving changes (Europe/Berlin)', () => {
  it('skips a daily slot whose wall-clock time the spring gap removes (29 March 2026, 02:00 → 03:00)', () => {
    const slots = upcoming(cron('30 2 * * *'), at('2026-03-27T00:00:00Z'), 3);
    // 02:30 CET on the 27th and 28th, nothing on the 29th, then 02:30 CEST.
    expect(iso(slots)).toEqual(['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(slots.map((d) => wallClock(d, 'Europe/Berlin').slice(11))).toEqual(['02:30:00', '02:30:00', '02:30:00']);
  });

  it('skips the slots of an interval pattern inside the gap, and keeps those around it', () => {
    expect(iso(upcoming(cron('*/30 * * * *'), at('2026-03-29T00:00:00Z'), 3))).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:00 and 02:30 do not exist
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('fires a daily slot in the repeated autumn hour once, on its first pass (25 October 2026, 03:00 → 02:00)', () => {
    expect(iso(upcoming(cron('30 2 * * *'), at('2026-10-24T00:00:00Z'), 3))).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('gives an interval pattern one slot per wall-clock time through the repeated hour', () => {
    const slots = upcoming(cron('*/30 * * * *'), at('2026-10-24T23:50:00Z'), 4);
    // 02:00 and 02:30 CEST, then (02:00 and 02:30 CET are repeats) 03:00 and 03:30 CET.
    expect(iso(slots)).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T02:30:00.000Z']);
    expect(new Set(slots.map((d) => wallClock(d, 'Europe/Berlin'))).size).toBe(4);
  });

  it('is unaffected by DST in a zone without it', () => {
    expect(iso(upcoming(cron('30 2 * * *', 'UTC'), at('2026-03-28T12:00:00Z'), 2))).toEqual(['2026-03-29T02:30:00.000Z', '2026-03-30T02:30:00.000Z']);
  });
});

describe('slots at month ends', () => {
  it('runs a day-31 pattern only in months that have one', () => {
    expect(iso(upcoming(cron('0 0 31 * *', 'UTC'), at('2026-01-01T00:00:00Z'), 4))).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
      '2026-07-31T00:00:00.000Z',
    ]);
  });

  it('runs on the last day of each month with L, leap year included', () => {
    expect(iso(upcoming(cron('0 12 L * *', 'UTC'), at('2028-01-15T00:00:00Z'), 3))).toEqual(['2028-01-31T12:00:00.000Z', '2028-02-29T12:00:00.000Z', '2028-03-31T12:00:00.000Z']);
  });
});

describe('--every and bounds', () => {
  it('counts slots from the anchor, whatever time is asked from', () => {
    const t = every('2s', '2026-12-04T10:00:01Z');
    expect(iso(upcoming(t, at('2026-12-04T10:00:04.500Z'), 3))).toEqual(['2026-12-04T10:00:05.000Z', '2026-12-04T10:00:07.000Z', '2026-12-04T10:00:09.000Z']);
    expect(nextSlot(t, at('2026-12-04T09:00:00Z'))?.toISOString()).toBe('2026-12-04T10:00:01.000Z');
  });

  it('refuses periods under a second or not in whole seconds', () => {
    expect(checkEvery('90m')).toBe('5400000');
    expect(() => checkEvery('500ms')).toThrow(/at most once a second/);
    expect(() => checkEvery('1.5s')).toThrow(/whole seconds/);
    expect(() => checkEvery('often')).toThrow(/invalid --every/);
  });

  it('keeps slots within --start and --end (both inclusive)', () => {
    const t = cron('0 * * * *', 'UTC', { startAt: at('2026-12-04T10:00:00Z'), endAt: at('2026-12-04T12:00:00Z') });
    expect(iso(upcoming(t, at('2026-12-04T00:00:00Z'), 5))).toEqual(['2026-12-04T10:00:00.000Z', '2026-12-04T11:00:00.000Z', '2026-12-04T12:00:00.000Z']);
    expect(nextSlot(t, at('2026-12-04T12:00:00Z'))).toBeNull();
  });

  it('gives an --at schedule its one slot, then none', () => {
    const t: Timing = { kind: 'at', expression: '2026-12-24T17:00:00.000Z', tz: 'UTC', anchorAt: new Date(0), startAt: null, endAt: null };
    expect(nextSlot(t, at('2026-12-01T00:00:00Z'))?.toISOString()).toBe('2026-12-24T17:00:00.000Z');
    expect(nextSlot(t, at('2026-12-24T17:00:00Z'))).toBeNull();
  });
});

describe('times and patterns given on the command line', () => {
  it('reads a time without an offset in the schedule zone, and refuses one inside a gap', () => {
    expect(parseInstant('2026-07-01T09:00', 'Europe/Berlin', '--at').toISOString()).toBe('2026-07-01T07:00:00.000Z');
    expect(parseInstant('2026-01-01', 'Europe/Berlin', '--start').toISOString()).toBe('2025-12-31T23:00:00.000Z');
    expect(parseInstant('2026-07-01T09:00:00Z', 'Europe/Berlin', '--at').toISOString()).toBe('2026-07-01T09:00:00.000Z');
    expect(() => parseInstant('2026-03-29T02:30', 'Europe/Berlin', '--at')).toThrow(/does not exist in Europe\/Berlin/);
    expect(() => parseInstant('tomorrow', 'UTC', '--at')).toThrow(/invalid --at/);
  });

  it('refuses a bad pattern or zone with what to write instead', () => {
    expect(() => checkCron('61 * * * *', 'UTC')).toThrow(/invalid --cron "61 \* \* \* \*"/);
    expect(() => checkCron('0 3 * * *', 'Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});

describe('catch-up and overlap (a fake clock: now is passed in)', () => {
  const t = every('1m', '2026-12-04T10:00:00Z');
  const from = at('2026-12-04T10:00:00Z');
  // The dispatcher was away from 10:00 to 10:03:05: four slots are due.
  const now = at('2026-12-04T10:03:05Z');
  const plan = (catchUp: 'none' | 'last' | 'all', overlap: 'skip' | 'queue' | 'allow' = 'allow', open: { slot: Date; requestId: string } | null = null) =>
    planSlots(t, { from, now, catchUp, overlap, open });
  const fired = (p: ReturnType<typeof plan>) => p.decisions.filter((d) => d.fire).map((d) => d.slot.toISOString().slice(11, 16));

  it('all: fires every missed slot, in order', () => {
    const p = plan('all');
    expect(fired(p)).toEqual(['10:00', '10:01', '10:02', '10:03']);
    expect(p.next?.toISOString()).toBe('2026-12-04T10:04:00.000Z');
  });

  it('last: fires only the latest, records the others skipped with why', () => {
    const p = plan('last');
    expect(fired(p)).toEqual(['10:03']);
    expect(p.decisions.filter((d) => !d.fire).map((d) => d.reason)).toEqual(Array(3).fill('missed: a later slot runs instead (catch-up last)'));
  });

  it('none: skips the missed slots and fires the one that is on time', () => {
    const p = plan('none');
    expect(fired(p)).toEqual(['10:03']);
    expect(p.decisions.slice(0, 3).every((d) => d.reason === 'missed: a later slot was already due (catch-up none)')).toBe(true);
  });

  it('none: skips even the latest slot once it is more than LATE_MS old', () => {
    const p = planSlots(t, { from, now: new Date(from.getTime() + LATE_MS + 1_000), catchUp: 'none', overlap: 'allow', open: null });
    expect(p.decisions).toEqual([{ slot: from, fire: false, reason: 'missed: decided 16 s late (catch-up none)' }]);
    expect(p.next?.toISOString()).toBe('2026-12-04T10:01:00.000Z');
  });

  it('nothing due: decides nothing and keeps next_slot_at', () => {
    const p = planSlots(t, { from: at('2026-12-04T10:04:00Z'), now, catchUp: 'all', overlap: 'skip', open: null });
    expect(p).toEqual({ decisions: [], next: at('2026-12-04T10:04:00Z') });
  });

  it('overlap skip: a slot due while an earlier run is open is skipped, naming that run', () => {
    const open = { slot: at('2026-12-04T09:59:00Z'), requestId: 'r-1' };
    const p = planSlots(t, { from, now: at('2026-12-04T10:00:01Z'), catchUp: 'all', overlap: 'skip', open });
    expect(p.decisions).toEqual([{ slot: from, fire: false, reason: 'overlap: the run of the slot at 2026-12-04T09:59:00.000Z (request r-1) had not ended' }]);
  });

  it('overlap skip with catch-up all: the first missed slot runs, the rest overlap it', () => {
    const p = plan('all', 'skip');
    expect(fired(p)).toEqual(['10:00']);
    expect(p.decisions.slice(1).every((d) => d.reason?.startsWith('overlap: the run of the slot at 2026-12-04T10:00:00.000Z'))).toBe(true);
  });

  it('overlap queue: waits at the first slot it cannot fire, deciding nothing past it', () => {
    expect(plan('all', 'queue', { slot: at('2026-12-04T09:59:00Z'), requestId: 'r-1' })).toEqual({ decisions: [], next: from });
    const p = plan('all', 'queue');
    expect(fired(p)).toEqual(['10:00']);
    expect(p.next).toEqual(at('2026-12-04T10:01:00Z'));
  });

  it('overlap allow: fires every slot due whatever runs', () => {
    expect(fired(plan('all', 'allow', { slot: at('2026-12-04T09:59:00Z'), requestId: 'r-1' }))).toEqual(['10:00', '10:01', '10:02', '10:03']);
  });

  it('decides at most cap slots at once, the rest on the next call, none lost', () => {
    const first = planSlots(t, { from, now, catchUp: 'all', overlap: 'allow', open: null, cap: 3 });
    expect(fired(first)).toEqual(['10:00', '10:01', '10:02']);
    const second = planSlots(t, { from: first.next as Date, now, catchUp: 'all', overlap: 'allow', open: null, cap: 3 });
    expect(fired(second)).toEqual(['10:03']);
  });
});
