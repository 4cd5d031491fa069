import { Cron } from 'croner';
import { UsageError } from '../../base/errors.js';
import { parseDuration } from '../../base/durations.js';
import { checkZone, offsetMinutes, wallClock } from './zones.js';

/**
 * A schedule's slots, as pure arithmetic over instants (no clock of its own: callers pass
 * `now`). Cron patterns and zones come from croner; on top of it two daylight-saving rules
 * croner (like Vixie cron) answers otherwise: a wall-clock time the zone skips is no slot
 * (croner would move a fixed time past the gap), and a wall-clock time the zone repeats is one
 * slot, its first pass (croner runs interval patterns on both).
 */

export type ScheduleKind = 'cron' | 'every' | 'at';
export type CatchUp = 'none' | 'last' | 'all';
export type Overlap = 'skip' | 'queue' | 'allow';

export interface Timing {
  kind: ScheduleKind;
  /** cron: the pattern; every: the period in milliseconds; at: the ISO instant. */
  expression: string;
  tz: string;
  /** --every: slots are anchorAt + k * period. */
  anchorAt: Date;
  startAt: Date | null;
  endAt: Date | null;
}

/** The shortest --every (the leader looks for due slots about once a second). */
export const MIN_PERIOD_MS = 1_000;
/** A slot decided later than this after its time counts as missed (the catch-up policy applies). */
export const LATE_MS = 15_000;
/** At most this many slots are decided in one transaction; the rest on the next tick, in order. */
export const MAX_SLOTS_PER_TICK = 200;

/** Validates a cron pattern in its zone; answers the pattern as stored. */
export function checkCron(pattern: string, tz: string): string {
  checkZone(tz);
  try {
    new Cron(pattern, { timezone: tz, paused: true });
  } catch (err) {
    throw new UsageError(`invalid --cron "${pattern}": ${(err as Error).message.replace(/^CronPattern: /, '')}`, {
      code: 'invalid_cron',
      hint: 'five fields (minute hour day-of-month month day-of-week), or six with seconds first: "0 3 * * *", "*/15 * * * *"',
    });
  }
  return pattern;
}

/** --every: a duration of at least a second, stored in milliseconds. */
export function checkEvery(text: string): string {
  const ms = parseDuration(text, '--every');
  if (ms < MIN_PERIOD_MS || ms % 1000 !== 0)
    throw new UsageError(`invalid --every "${text}": a schedule runs at most once a second, on whole seconds`, { code: 'invalid_every', hint: 'use 1s or more: 30s, 5m, 1h, 1d' });
  return String(ms);
}

const crons = new Map<string, { inZone: Cron; naive: Cron }>();

function cronsOf(pattern: string, tz: string): { inZone: Cron; naive: Cron } {
  const key = `${tz}\n${pattern}`;
  let c = crons.get(key);
  if (!c) {
    c = { inZone: new Cron(pattern, { timezone: tz, paused: true }), naive: new Cron(pattern, { timezone: 'UTC', paused: true }) };
    crons.set(key, c);
  }
  return c;
}

/** Whether `slot`'s wall clock in `tz` is itself a time the pattern names (not one moved past a gap). */
function namedByPattern(naive: Cron, slot: Date, tz: string): boolean {
  const wall = Date.parse(`${wallClock(slot, tz)}Z`);
  return naive.nextRun(new Date(wall - 1000))?.getTime() === wall;
}

/** Whether `slot`'s wall clock in `tz` already passed once (the repeated hour after clocks go back). */
function secondPass(slot: Date, tz: string): boolean {
  const now = offsetMinutes(slot, tz);
  const before = offsetMinutes(new Date(slot.getTime() - 3 * 3_600_000), tz);
  if (before <= now) return false;
  const earlier = new Date(slot.getTime() - (before - now) * 60_000);
  return wallClock(earlier, tz) === wallClock(slot, tz);
}

function nextCron(pattern: string, tz: string, after: Date): Date | null {
  const { inZone, naive } = cronsOf(pattern, tz);
  let from = after;
  // A gap or a repeat costs a few candidates at most; the bound only stops a pattern with no slot at all.
  for (let i = 0; i < 1_000; i++) {
    const next = inZone.nextRun(from);
    if (!next) return null;
    if (namedByPattern(naive, next, tz) && !secondPass(next, tz)) return next;
    from = next;
  }
  return null;
}

function nextUnbounded(t: Timing, after: Date): Date | null {
  if (t.kind === 'cron') return nextCron(t.expression, t.tz, after);
  if (t.kind === 'at') {
    const at = new Date(t.expression);
    return at > after ? at : null;
  }
  const period = Number(t.expression);
  const anchor = t.anchorAt.getTime();
  if (after.getTime() < anchor) return new Date(anchor);
  return new Date(anchor + (Math.floor((after.getTime() - anchor) / period) + 1) * period);
}

/** The first slot strictly after `after`, within the schedule's start and end; null when none is left. */
export function nextSlot(t: Timing, after: Date): Date | null {
  const from = t.startAt && t.startAt > after ? new Date(t.startAt.getTime() - 1) : after;
  const next = nextUnbounded(t, from);
  if (!next || (t.endAt && next > t.endAt)) return null;
  return next;
}

/** The next `n` slots after `after`. */
export function upcoming(t: Timing, after: Date, n: number): Date[] {
  const out: Date[] = [];
  for (let at = nextSlot(t, after); at && out.length < n; at = nextSlot(t, at)) out.push(at);
  return out;
}

/** The slots from `first` (itself a slot) up to `now`, at most `cap`; `more` when others follow before `now`. */
export function dueSlots(t: Timing, first: Date, now: Date, cap = MAX_SLOTS_PER_TICK): { slots: Date[]; more: boolean } {
  const slots: Date[] = [];
  let at: Date | null = first;
  while (at && at <= now) {
    if (slots.length === cap) return { slots, more: true };
    slots.push(at);
    at = nextSlot(t, at);
  }
  return { slots, more: false };
}

export interface SlotDecision {
  slot: Date;
  fire: boolean;
  /** Why a slot was skipped. */
  reason?: string;
}

export interface SlotPlan {
  decisions: SlotDecision[];
  /** The first slot left undecided (null: none is left). */
  next: Date | null;
}

export interface PlanInput {
  /** The schedule's next_slot_at: the first slot not yet decided. */
  from: Date;
  now: Date;
  catchUp: CatchUp;
  overlap: Overlap;
  /** The run of an earlier slot that has not ended yet, if any. */
  open: { slot: Date; requestId: string } | null;
  cap?: number;
}

/**
 * What to do with each slot due by `now`. A slot is missed when a later one is also due, or
 * when it is more than LATE_MS old: catch-up `all` fires each missed slot, `last` only the
 * latest, `none` none. A slot to fire while an earlier run is still open follows the overlap
 * policy: `skip` records it skipped, `queue` stops there (it is decided again on the next tick),
 * `allow` fires it anyway.
 */
export function planSlots(t: Timing, p: PlanInput): SlotPlan {
  const { slots, more } = dueSlots(t, p.from, p.now, p.cap);
  const decisions: SlotDecision[] = [];
  let open = p.open;
  for (const [i, slot] of slots.entries()) {
    const latest = i === slots.length - 1 && !more;
    const missed = !latest || p.now.getTime() - slot.getTime() > LATE_MS;
    if (missed && p.catchUp === 'none') {
      decisions.push({ slot, fire: false, reason: latest ? `missed: decided ${late(slot, p.now)} late (catch-up none)` : 'missed: a later slot was already due (catch-up none)' });
      continue;
    }
    if (missed && p.catchUp === 'last' && !latest) {
      decisions.push({ slot, fire: false, reason: 'missed: a later slot runs instead (catch-up last)' });
      continue;
    }
    if (open && p.overlap === 'queue') return { decisions, next: slot };
    if (open && p.overlap === 'skip') {
      decisions.push({ slot, fire: false, reason: `overlap: the run of the slot at ${open.slot.toISOString()} (request ${open.requestId || 'of this tick'}) had not ended` });
      continue;
    }
    decisions.push({ slot, fire: true });
    open = { slot, requestId: '' };
  }
  const last = slots.at(-1);
  return { decisions, next: last ? nextSlot(t, last) : p.from };
}

function late(slot: Date, now: Date): string {
  const s = Math.round((now.getTime() - slot.getTime()) / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}
