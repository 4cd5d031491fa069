import type { Repos, Store } from '../../db/store.js';
import type { DueSchedule } from '../../db/schedules-repo.js';
import { QUEUE_CHANNEL } from '../dispatch/queue-state.js';
import { effectivePolicy } from '../functions/dispatch-policy.js';
import { invokeRow } from '../invocations/invoke.js';
import { deadlineBudgetMs } from '../requests/deadlines.js';
import { planSlots } from './slots.js';
import { timingOf } from './timing.js';

/**
 * The dispatcher leader's tick (about once a second): each due schedule's slots become queued
 * requests. One transaction per schedule locks its row, records every slot it decides (its
 * primary key refuses a slot decided before, by this leader or an earlier one), queues a
 * request per fired slot and moves next_slot_at past them, so a crash anywhere leaves either
 * all of it or none, and a slot is never fired twice nor lost.
 */

/** Schedules decided per tick; more wait for the next one (soonest first). */
const SCHEDULES_PER_TICK = 50;

export interface FireDeps {
  store: Store;
  newId: () => string;
}

export interface FireTally {
  fired: number;
  skipped: number;
}

export async function fireDueSchedules(deps: FireDeps): Promise<FireTally> {
  const tally: FireTally = { fired: 0, skipped: 0 };
  for (const id of await deps.store.schedules.dueIds(SCHEDULES_PER_TICK)) {
    const one = await deps.store.transaction((tx) => fireOne(deps, tx, id));
    tally.fired += one.fired;
    tally.skipped += one.skipped;
  }
  if (tally.fired) await deps.store.queue.notify(QUEUE_CHANNEL);
  return tally;
}

async function fireOne(deps: FireDeps, tx: Repos, id: string): Promise<FireTally> {
  const tally: FireTally = { fired: 0, skipped: 0 };
  const s = await tx.schedules.lockDue(id);
  if (!s?.nextSlotAt) return tally;
  const plan = planSlots(timingOf(s), { from: s.nextSlotAt, now: s.dbNow, catchUp: s.catchUp, overlap: s.overlap, open: await tx.schedules.openRun(s.id) });
  for (const d of plan.decisions) {
    if (!d.fire) {
      if (await tx.schedules.recordSlot(s.id, d.slot, { reason: d.reason ?? 'skipped' })) tally.skipped++;
      continue;
    }
    const requestId = deps.newId();
    // The slot's row first: when it exists already, this slot ran and no request is queued.
    if (!(await tx.schedules.recordSlot(s.id, d.slot, { requestId }))) continue;
    await queueRun(tx, s, requestId, d.slot);
    tally.fired++;
  }
  await tx.schedules.advance(s.id, plan.next);
  return tally;
}

/** The same queued request as `fn invoke --async` makes (dispatch/submit.ts), its params naming the schedule and slot. */
async function queueRun(tx: Repos, s: DueSchedule, requestId: string, slot: Date): Promise<void> {
  const fn = await tx.functions.atVersion(s.functionId, s.currentVersion);
  if (!fn) throw new Error(`schedule ${s.name}: function ${s.functionName} v${s.currentVersion} is gone`);
  const policy = effectivePolicy(await tx.functions.dispatchPolicy(fn.id));
  const row = invokeRow({ id: s.userId, name: '' }, fn, s.data);
  await tx.requests.insert({
    ...row,
    params: { ...row.params, schedule: s.name, scheduleId: s.id, slot: slot.toISOString() },
    id: requestId,
    status: 'pending',
    queuedInput: s.data,
    deadlineMs: policy.maxEventAgeMs + deadlineBudgetMs({ kind: 'cold', timeoutMs: fn.current.timeoutMs }),
  });
}
