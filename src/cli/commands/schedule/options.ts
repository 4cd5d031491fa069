import type { ScheduleSpec } from '../../../core/schedules/schedules.js';

/**
 * `schedule create` and `schedule update`: what runs, when, and what happens to late or
 * overlapping slots; the use case's spec as flags give it (no null start or end: that is the
 * functions file's), plus `--data-file`.
 */
export interface ScheduleOptions extends Omit<ScheduleSpec, 'start' | 'end'> {
  dataFile?: string;
  start?: string;
  end?: string;
}

export interface ScheduleHistoryOptions {
  /** @default '50' */
  limit?: string;
}
