import { randomUUID } from 'node:crypto';
import { UsageError } from '../../../base/errors.js';
import { wholeNumber } from '../../../base/numbers.js';
import type { ScheduleRow, SlotRow } from '../../../db/schedules-repo.js';
import { createSchedule, deleteSchedule, listSchedules, scheduleHistory, setPaused, showSchedule, type ScheduleSpec, updateSchedule } from '../../../core/schedules/schedules.js';
import { offsetMinutes, offsetText, wallClock } from '../../../core/schedules/zones.js';
import type { Context } from '../../context.js';
import { requireActor } from '../../session.js';
import { readInput } from '../fn/invoke.js';
import type { ScheduleHistoryOptions, ScheduleOptions } from './options.js';

async function deps(ctx: Context) {
  return { store: await ctx.store(), newId: randomUUID };
}

async function specOf(ctx: Context, opts: ScheduleOptions): Promise<ScheduleSpec> {
  if (opts.data !== undefined && opts.dataFile !== undefined) throw new UsageError('give --data or --data-file, not both');
  // Only an explicit --data-file reads input: a schedule never takes stdin by surprise.
  const data = opts.dataFile !== undefined ? await readInput(ctx, { dataFile: opts.dataFile }) : opts.data;
  const { dataFile: _, ...rest } = opts;
  return { ...rest, ...(data !== undefined ? { data } : {}) };
}

export async function runScheduleCreate(ctx: Context, name: string, opts: ScheduleOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const s = await createSchedule(await deps(ctx), actor, name, await specOf(ctx, opts));
  if (ctx.io.options.json) return ctx.io.json(scheduleJson(s));
  ctx.io.info(`created schedule ${s.name} (${when(s)}); next slot ${s.nextSlotAt?.toISOString() ?? 'none'}`);
}

export async function runScheduleUpdate(ctx: Context, name: string, opts: ScheduleOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const s = await updateSchedule(await deps(ctx), actor, name, await specOf(ctx, opts));
  if (ctx.io.options.json) return ctx.io.json(scheduleJson(s));
  ctx.io.info(`updated schedule ${s.name} (${when(s)}); next slot ${s.nextSlotAt?.toISOString() ?? 'none'}`);
}

export async function runScheduleList(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const rows = await listSchedules(await deps(ctx), actor);
  if (ctx.io.options.json) return ctx.io.json(rows.map(scheduleJson));
  if (!rows.length) return ctx.io.info('no schedules; faasctl schedule create --help shows how');
  await ctx.io.table(
    ['name', 'function', 'when', 'next slot', 'overlap', 'catch-up'],
    rows.map((s) => [s.name, s.functionName, when(s), s.paused ? 'paused' : (s.nextSlotAt?.toISOString() ?? 'done'), s.overlap, s.catchUp]),
  );
}

export async function runScheduleShow(ctx: Context, name: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  const { schedule: s, upcoming } = await showSchedule(await deps(ctx), actor, name);
  const slots = upcoming.map((at) => ({ zone: inZone(at, s.tz), utc: at.toISOString() }));
  if (ctx.io.options.json) return ctx.io.json({ ...scheduleJson(s), upcoming: slots });
  const lines: Array<[string, string]> = [
    ['name', s.name],
    ['function', s.functionName],
    ['when', when(s)],
    ['input', s.data],
    ['start', s.startAt?.toISOString() ?? '-'],
    ['end', s.endAt?.toISOString() ?? '-'],
    ['overlap', s.overlap],
    ['catch-up', s.catchUp],
    ['state', s.paused ? 'paused' : s.nextSlotAt ? 'active' : 'done (no slot left)'],
  ];
  for (const [k, v] of lines) ctx.io.out(`${k.padEnd(10)}${v}`);
  if (!slots.length) return;
  ctx.io.out(`next slots (${s.tz} | UTC):`);
  for (const slot of slots) ctx.io.out(`  ${slot.zone}  ${slot.utc}`);
}

export async function runScheduleHistory(ctx: Context, name: string, opts: ScheduleHistoryOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  const limit = opts.limit === undefined ? 50 : wholeNumber(opts.limit, '--limit', 1, 10_000);
  const rows = await scheduleHistory(await deps(ctx), actor, name, limit);
  if (ctx.io.options.json) return ctx.io.json(rows.map(slotJson));
  if (!rows.length) return ctx.io.info('no slot decided yet');
  await ctx.io.table(
    ['slot', 'outcome', 'request', 'status', 'why skipped'],
    rows.map((r) => [r.slotAt.toISOString(), r.outcome, r.requestId ?? '', r.requestStatus ?? '', r.reason ?? '']),
  );
}

export async function runSchedulePause(ctx: Context, name: string, paused: boolean): Promise<void> {
  const { actor } = await requireActor(ctx);
  const s = await setPaused(await deps(ctx), actor, name, paused);
  if (ctx.io.options.json) return ctx.io.json(scheduleJson(s));
  ctx.io.info(paused ? `paused schedule ${s.name}` : `resumed schedule ${s.name}; next slot ${s.nextSlotAt?.toISOString() ?? 'none'}`);
}

export async function runScheduleDelete(ctx: Context, name: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  await deleteSchedule(await deps(ctx), actor, name);
  if (ctx.io.options.json) return ctx.io.json({ deleted: name });
  ctx.io.info(`deleted schedule ${name}`);
}

function scheduleJson(s: ScheduleRow) {
  return {
    name: s.name,
    function: s.functionName,
    kind: s.kind,
    expression: s.kind === 'every' ? durationText(Number(s.expression)) : s.expression,
    tz: s.tz,
    data: JSON.parse(s.data) as unknown,
    startAt: s.startAt,
    endAt: s.endAt,
    overlap: s.overlap,
    catchUp: s.catchUp,
    paused: s.paused,
    nextSlotAt: s.nextSlotAt,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

function slotJson(r: SlotRow) {
  return { slot: r.slotAt, outcome: r.outcome, requestId: r.requestId, requestStatus: r.requestStatus, reason: r.reason, decidedAt: r.decidedAt };
}

function when(s: ScheduleRow): string {
  if (s.kind === 'every') return `every ${durationText(Number(s.expression))}`;
  if (s.kind === 'at') return `at ${s.expression}`;
  return `cron "${s.expression}" ${s.tz}`;
}

function inZone(at: Date, tz: string): string {
  return `${wallClock(at, tz)}${offsetText(offsetMinutes(at, tz))}`;
}

function durationText(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}
