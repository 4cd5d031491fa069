/** `schedule create` and `schedule update`: what runs, when, and what happens to late or overlapping slots. */
export interface ScheduleOptions {
  fn?: string;
  cron?: string;
  tz?: string;
  every?: string;
  at?: string;
  data?: string;
  dataFile?: string;
  start?: string;
  end?: string;
  /** @default 'skip' */
  overlap?: 'skip' | 'queue' | 'allow';
  /** @default 'none' */
  catchUp?: 'none' | 'last' | 'all';
}

export interface ScheduleHistoryOptions {
  /** @default '50' */
  limit?: string;
}
