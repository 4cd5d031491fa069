import type { ScheduleRow } from '../../db/schedules-repo.js';
import type { Timing } from './slots.js';

/** The part of a stored schedule its slots are computed from. */
export function timingOf(s: Pick<ScheduleRow, 'kind' | 'expression' | 'tz' | 'anchorAt' | 'startAt' | 'endAt'>): Timing {
  return { kind: s.kind, expression: s.expression, tz: s.tz, anchorAt: s.anchorAt, startAt: s.startAt, endAt: s.endAt };
}
