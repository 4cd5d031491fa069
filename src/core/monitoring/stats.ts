import type { Store } from '../../db/store.js';
import type { FunctionStatsRow } from '../../db/stats-repo.js';
import { NotFoundError } from '../../base/errors.js';
import { validateFunctionName, validateUserName } from '../../base/names.js';
import type { Actor } from '../users/accounts.js';

export const TIMELINE_BUCKETS = 24;

export interface TimelinePoint {
  start: Date;
  invocations: number;
  errors: number;
  p50Ms: number | null;
}

export interface FunctionStats extends FunctionStatsRow {
  /** Failed invocations (any status but success) over all of them. */
  errorRate: number;
  timeline: TimelinePoint[];
}

export interface StatsQuery {
  name?: string;
  since: Date;
  until: Date;
  /** Another user's functions (operator view); default: the caller's. */
  user?: string;
  buckets?: number;
}

export interface StatsReport {
  since: Date;
  until: Date;
  bucketMs: number;
  user: string;
  functions: FunctionStats[];
}

/** Per-function invocation statistics with a timeline, all computed by PostgreSQL. */
export async function invocationStats(store: Store, actor: Actor, q: StatsQuery): Promise<StatsReport> {
  let user = { id: actor.id, name: actor.name };
  if (q.user !== undefined && q.user !== actor.name) {
    const found = await store.users.byName(validateUserName(q.user));
    if (!found) throw new NotFoundError(`user "${q.user}" not found`, { hint: 'faasctl user list shows the users' });
    user = { id: found.id, name: found.name };
  }
  const buckets = q.buckets ?? TIMELINE_BUCKETS;
  const filter = { userId: user.id, functionName: q.name === undefined ? null : validateFunctionName(q.name), since: q.since };
  const [rows, points] = await Promise.all([store.stats.perFunction(filter), store.stats.timeline(filter, q.until, buckets)]);
  const bucketMs = Math.max(1, (q.until.getTime() - q.since.getTime()) / buckets);
  const functions = rows.map((row) => {
    const timeline: TimelinePoint[] = Array.from({ length: buckets }, (_, i) => ({ start: new Date(q.since.getTime() + i * bucketMs), invocations: 0, errors: 0, p50Ms: null }));
    for (const p of points.filter((p) => p.name === row.name)) {
      const slot = timeline[Math.max(0, Math.min(buckets - 1, p.bucket))]!;
      slot.invocations += p.invocations;
      slot.errors += p.errors;
      slot.p50Ms = p.p50Ms;
    }
    return { ...row, errorRate: row.invocations ? (row.invocations - row.succeeded) / row.invocations : 0, timeline };
  });
  return { since: q.since, until: q.until, bucketMs, user: user.name, functions };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart: each value as one of eight bar heights, blank for nothing. */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v <= 0 || max === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1e-9)))])).join('');
}
