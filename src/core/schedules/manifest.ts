import { formatDuration } from '../../base/durations.js';
import type { ScheduleRow } from '../../db/schedules-repo.js';
import type { ScheduleSpec } from './schedules.js';
import type { CatchUp, Overlap, ScheduleKind } from './slots.js';

/**
 * The schedules of a functions file (`apply`, `export`) as desired state, compared with what is
 * stored field by field. Declarative like the functions: a key the file leaves out is the
 * default (UTC, overlap skip, catch-up none, no start or end, input null, not paused).
 */

export interface ScheduleFileSpec {
  name: string;
  fn: string;
  kind: ScheduleKind;
  /** As stored: the cron pattern, the period in milliseconds, or the instant (ISO, UTC). */
  expression: string;
  tz: string;
  /** The input each run gets, as canonical JSON text. */
  data: string;
  startAt: Date | null;
  endAt: Date | null;
  overlap: Overlap;
  catchUp: CatchUp;
  paused: boolean;
}

export interface ScheduleChange {
  name: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  /** Each difference in a few words. */
  fields: string[];
  /** For create and update: only what differs, as `schedule update` takes it (a timing change re-anchors the schedule; an input change does not). */
  spec: ScheduleSpec;
  /** For update: whether pause or resume is due (undefined: the same). */
  paused?: boolean;
}

export function diffSchedule(want: ScheduleFileSpec, cur: ScheduleRow | undefined): ScheduleChange {
  if (!cur) return { name: want.name, action: 'create', fields: [`${want.fn}, ${when(want)}`], spec: fullSpec(want), ...(want.paused ? { paused: true } : {}) };
  const fields: string[] = [];
  const spec: ScheduleSpec = {};
  if (want.fn !== cur.functionName) {
    fields.push(`function ${cur.functionName} → ${want.fn}`);
    spec.fn = want.fn;
  }
  if (want.kind !== cur.kind || want.expression !== cur.expression) {
    fields.push(`${when(cur)} → ${when(want)}`);
    Object.assign(spec, timingSpec(want));
  }
  if (want.tz !== cur.tz) {
    fields.push(`tz ${cur.tz} → ${want.tz}`);
    if (want.kind !== 'every') spec.tz = want.tz;
  }
  if (want.data !== canonicalJson(cur.data)) {
    fields.push('data');
    spec.data = want.data;
  }
  if (instant(want.startAt) !== instant(cur.startAt)) {
    fields.push(`start ${instant(cur.startAt) ?? 'none'} → ${instant(want.startAt) ?? 'none'}`);
    spec.start = instant(want.startAt);
  }
  if (instant(want.endAt) !== instant(cur.endAt)) {
    fields.push(`end ${instant(cur.endAt) ?? 'none'} → ${instant(want.endAt) ?? 'none'}`);
    spec.end = instant(want.endAt);
  }
  if (want.overlap !== cur.overlap) {
    fields.push(`overlap ${cur.overlap} → ${want.overlap}`);
    spec.overlap = want.overlap;
  }
  if (want.catchUp !== cur.catchUp) {
    fields.push(`catchUp ${cur.catchUp} → ${want.catchUp}`);
    spec.catchUp = want.catchUp;
  }
  const paused = want.paused !== cur.paused ? want.paused : undefined;
  if (paused !== undefined) fields.push(paused ? 'pause' : 'resume');
  return { name: want.name, action: fields.length ? 'update' : 'unchanged', fields, spec, ...(paused !== undefined ? { paused } : {}) };
}

/** What `schedule create` takes for the whole spec. */
function fullSpec(s: ScheduleFileSpec): ScheduleSpec {
  return {
    fn: s.fn,
    ...timingSpec(s),
    ...(s.kind !== 'every' ? { tz: s.tz } : {}),
    data: s.data,
    ...(s.startAt ? { start: s.startAt.toISOString() } : {}),
    ...(s.endAt ? { end: s.endAt.toISOString() } : {}),
    overlap: s.overlap,
    catchUp: s.catchUp,
  };
}

function timingSpec(s: Pick<ScheduleFileSpec, 'kind' | 'expression'>): ScheduleSpec {
  if (s.kind === 'cron') return { cron: s.expression };
  if (s.kind === 'every') return { every: formatDuration(Number(s.expression)) };
  return { at: s.expression };
}

export function when(s: Pick<ScheduleFileSpec, 'kind' | 'expression'>): string {
  if (s.kind === 'cron') return `cron "${s.expression}"`;
  if (s.kind === 'every') return `every ${formatDuration(Number(s.expression))}`;
  return `at ${s.expression}`;
}

/** JSON text in one spelling, so `{"a": 1}` and `{"a":1}` compare equal. */
export function canonicalJson(text: string): string {
  return JSON.stringify(JSON.parse(text));
}

function instant(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
