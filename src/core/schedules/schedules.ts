import { ConflictError, NotFoundError, UsageError } from '../../base/errors.js';
import type { ScheduleFields, ScheduleRow, SlotRow } from '../../db/schedules-repo.js';
import type { Store } from '../../db/store.js';
import { dispatcherInstalled } from '../dispatch/queue-state.js';
import { requireFunction } from '../functions/lookup.js';
import { MAX_WARM_INPUT_BYTES, validateInput } from '../invocations/invoke.js';
import type { Actor } from '../users/accounts.js';
import { type CatchUp, checkCron, checkEvery, nextSlot, type Overlap, upcoming } from './slots.js';
import { timingOf } from './timing.js';
import { checkZone, parseInstant } from './zones.js';

/**
 * `schedule create|update|list|show|history|pause|resume|delete`: a user's schedules, each
 * naming one of their functions. The dispatcher's leader fires them (fire.ts); here they are
 * only written, with next_slot_at computed on PostgreSQL's clock.
 */

export interface ScheduleDeps {
  store: Store;
  newId: () => string;
}

/** What the command line gives; for update, only what changes. */
export interface ScheduleSpec {
  fn?: string;
  cron?: string;
  tz?: string;
  every?: string;
  at?: string;
  /** The input each run gets, JSON text. */
  data?: string;
  /** null: none (a functions file that leaves start or end out). */
  start?: string | null;
  end?: string | null;
  overlap?: Overlap;
  catchUp?: CatchUp;
}

const NAME = /^[a-z][a-z0-9_-]{0,47}$/;

export async function createSchedule(deps: ScheduleDeps, actor: Actor, name: string, spec: ScheduleSpec): Promise<ScheduleRow> {
  if (!NAME.test(name)) throw new UsageError(`invalid schedule name "${name}"`, { code: 'invalid_name', hint: '1-48 characters: lower-case letters, digits, "-" or "_", starting with a letter' });
  if (!spec.fn) throw new UsageError('give the function to run: --fn NAME');
  if (!(await dispatcherInstalled(deps.store)))
    throw new UsageError('schedules are fired by the dispatcher, and this installation has none', { code: 'no_dispatcher', hint: 'run faasctl up --dispatcher first' });
  if (await deps.store.schedules.byName(actor.id, name))
    throw new ConflictError(`schedule "${name}" exists`, { code: 'schedule_exists', hint: `change it with faasctl schedule update ${name}, or delete it first` });
  const fields = await resolveFields(deps, actor, spec, undefined);
  await deps.store.schedules.insert({ ...fields, id: deps.newId(), userId: actor.id, name });
  return requireSchedule(deps.store, actor, name);
}

export async function updateSchedule(deps: ScheduleDeps, actor: Actor, name: string, spec: ScheduleSpec): Promise<ScheduleRow> {
  const before = await requireSchedule(deps.store, actor, name);
  if (Object.values(spec).every((v) => v === undefined)) throw new UsageError('nothing to change', { hint: 'give --fn, --cron, --every, --at, --tz, --data, --start, --end, --overlap or --catch-up' });
  await deps.store.schedules.update(before.id, await resolveFields(deps, actor, spec, before));
  return requireSchedule(deps.store, actor, name);
}

/** The stored fields from a spec, over the schedule's own when updating; the next slot from now. */
async function resolveFields(deps: ScheduleDeps, actor: Actor, spec: ScheduleSpec, before: ScheduleRow | undefined): Promise<ScheduleFields> {
  const timings = [spec.cron, spec.every, spec.at].filter((v) => v !== undefined).length;
  if (timings > 1) throw new UsageError('give one of --cron, --every or --at');
  if (!timings && !before) throw new UsageError('say when: --cron EXPR [--tz ZONE], --every DURATION or --at TIME', { hint: 'faasctl schedule create --help has examples' });
  if (spec.tz !== undefined && (spec.every !== undefined || (!spec.cron && before?.kind === 'every'))) throw new UsageError('--tz goes with --cron or --at (--every counts real time)');
  const fn = spec.fn ? await requireFunction(deps.store, actor, spec.fn) : undefined;
  // A new timing keeps the schedule's zone unless --tz says another.
  const tz = checkZone(spec.tz ?? before?.tz ?? 'UTC');
  const kind = spec.cron !== undefined ? 'cron' : spec.every !== undefined ? 'every' : spec.at !== undefined ? 'at' : (before?.kind ?? 'cron');
  const now = await deps.store.schedules.now();
  const startAt = spec.start === null ? null : spec.start !== undefined ? parseInstant(spec.start, tz, '--start') : (before?.startAt ?? null);
  const endAt = spec.end === null ? null : spec.end !== undefined ? parseInstant(spec.end, tz, '--end') : (before?.endAt ?? null);
  if (startAt && endAt && endAt <= startAt) throw new UsageError('--end must come after --start');
  const expression =
    spec.cron !== undefined ? checkCron(spec.cron, tz) : spec.every !== undefined ? checkEvery(spec.every) : spec.at !== undefined ? atInstant(spec.at, tz, now) : (before?.expression as string);
  if (kind === 'cron') checkCron(expression, tz);
  const retimed = timings > 0 || spec.tz !== undefined || spec.start !== undefined || spec.end !== undefined;
  const anchorAt = spec.every !== undefined || spec.start !== undefined || !before ? (startAt ?? now) : before.anchorAt;
  const timing = { kind, expression, tz, anchorAt, startAt, endAt } as const;
  const nextSlotAt = retimed || !before ? nextSlot(timing, now) : before.nextSlotAt;
  if (!nextSlotAt && retimed) throw new UsageError('this schedule has no slot left after now', { code: 'no_slot', hint: 'check --at, --start and --end' });
  return {
    ...timing,
    functionId: fn?.id ?? (before?.functionId as string),
    data: spec.data !== undefined ? validateInput(spec.data, MAX_WARM_INPUT_BYTES) : (before?.data ?? 'null'),
    overlap: spec.overlap ?? before?.overlap ?? 'skip',
    catchUp: spec.catchUp ?? before?.catchUp ?? 'none',
    nextSlotAt,
  };
}

function atInstant(text: string, tz: string, now: Date): string {
  const at = parseInstant(text, tz, '--at');
  if (at <= now) throw new UsageError(`--at ${text} is in the past`, { code: 'no_slot' });
  return at.toISOString();
}

export async function requireSchedule(store: Store, actor: Actor, name: string): Promise<ScheduleRow> {
  const s = await store.schedules.byName(actor.id, name);
  if (!s) throw new NotFoundError(`schedule "${name}" not found`, { code: 'schedule_not_found', hint: 'faasctl schedule ls shows yours' });
  return s;
}

export async function listSchedules(deps: Pick<ScheduleDeps, 'store'>, actor: Actor): Promise<ScheduleRow[]> {
  return deps.store.schedules.list(actor.id);
}

/** A schedule and its next `n` slots from now. */
export async function showSchedule(deps: Pick<ScheduleDeps, 'store'>, actor: Actor, name: string, n = 5): Promise<{ schedule: ScheduleRow; upcoming: Date[] }> {
  const schedule = await requireSchedule(deps.store, actor, name);
  const from = schedule.nextSlotAt ? new Date(schedule.nextSlotAt.getTime() - 1) : null;
  return { schedule, upcoming: from && !schedule.paused ? upcoming(timingOf(schedule), from, n) : [] };
}

export async function scheduleHistory(deps: Pick<ScheduleDeps, 'store'>, actor: Actor, name: string, limit: number): Promise<SlotRow[]> {
  return deps.store.schedules.history((await requireSchedule(deps.store, actor, name)).id, limit);
}

/** Paused: no slot is decided. Resumed: from the next slot after now; the slots in between are neither run nor recorded. */
export async function setPaused(deps: Pick<ScheduleDeps, 'store'>, actor: Actor, name: string, paused: boolean): Promise<ScheduleRow> {
  const s = await requireSchedule(deps.store, actor, name);
  const next = paused ? s.nextSlotAt : nextSlot(timingOf(s), await deps.store.schedules.now());
  await deps.store.schedules.setPaused(s.id, paused, next);
  return requireSchedule(deps.store, actor, name);
}

/** The schedule and its history go; the requests it queued stay in the request log. */
export async function deleteSchedule(deps: Pick<ScheduleDeps, 'store'>, actor: Actor, name: string): Promise<void> {
  await deps.store.schedules.remove((await requireSchedule(deps.store, actor, name)).id);
}
