import type { Queryable } from './database.js';
import type { RequestStatus } from './requests-repo.js';

/**
 * Schedules and their decided slots (issue 21). The primary key (schedule_id, slot_at) of
 * schedule_slots is what makes a slot fire once: `recordSlot` answers false when the slot was
 * decided already, whoever did it.
 */

export interface ScheduleRow {
  id: string;
  userId: string;
  functionId: string;
  functionName: string;
  name: string;
  kind: 'cron' | 'every' | 'at';
  expression: string;
  tz: string;
  data: string;
  startAt: Date | null;
  endAt: Date | null;
  anchorAt: Date;
  overlap: 'skip' | 'queue' | 'allow';
  catchUp: 'none' | 'last' | 'all';
  paused: boolean;
  nextSlotAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type ScheduleFields = Omit<ScheduleRow, 'id' | 'userId' | 'name' | 'functionName' | 'paused' | 'createdAt' | 'updatedAt'>;

/** A due schedule locked for deciding its slots, with what firing needs. */
export interface DueSchedule extends ScheduleRow {
  currentVersion: number;
  /** PostgreSQL's clock: every dispatcher decides by the same one. */
  dbNow: Date;
}

export interface SlotRow {
  slotAt: Date;
  outcome: 'fired' | 'skipped';
  reason: string | null;
  requestId: string | null;
  requestStatus: RequestStatus | null;
  decidedAt: Date;
}

const COLS = `s.id, s.user_id AS "userId", s.function_id AS "functionId", f.name AS "functionName", s.name, s.kind, s.expression, s.tz, s.data,
  s.start_at AS "startAt", s.end_at AS "endAt", s.anchor_at AS "anchorAt", s.overlap, s.catch_up AS "catchUp", s.paused,
  s.next_slot_at AS "nextSlotAt", s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;

export function schedulesRepo(db: Queryable) {
  return {
    async insert(s: ScheduleFields & { id: string; userId: string; name: string }): Promise<void> {
      await db.query(
        `INSERT INTO schedules (id, user_id, function_id, name, kind, expression, tz, data, start_at, end_at, anchor_at, overlap, catch_up, next_slot_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [s.id, s.userId, s.functionId, s.name, s.kind, s.expression, s.tz, s.data, s.startAt, s.endAt, s.anchorAt, s.overlap, s.catchUp, s.nextSlotAt],
      );
    },
    async update(id: string, s: ScheduleFields): Promise<void> {
      await db.query(
        `UPDATE schedules SET function_id = $2, kind = $3, expression = $4, tz = $5, data = $6, start_at = $7, end_at = $8, anchor_at = $9,
                overlap = $10, catch_up = $11, next_slot_at = $12, updated_at = now() WHERE id = $1`,
        [id, s.functionId, s.kind, s.expression, s.tz, s.data, s.startAt, s.endAt, s.anchorAt, s.overlap, s.catchUp, s.nextSlotAt],
      );
    },
    async byName(userId: string, name: string): Promise<ScheduleRow | undefined> {
      const [row] = await db.query<ScheduleRow & Record<string, unknown>>(`SELECT ${COLS} FROM schedules s JOIN functions f ON f.id = s.function_id WHERE s.user_id = $1 AND s.name = $2`, [
        userId,
        name,
      ]);
      return row;
    },
    async list(userId: string): Promise<ScheduleRow[]> {
      return db.query<ScheduleRow & Record<string, unknown>>(`SELECT ${COLS} FROM schedules s JOIN functions f ON f.id = s.function_id WHERE s.user_id = $1 ORDER BY s.name`, [userId]);
    },
    async remove(id: string): Promise<void> {
      await db.query(`DELETE FROM schedules WHERE id = $1`, [id]);
    },
    async setPaused(id: string, paused: boolean, nextSlotAt: Date | null): Promise<void> {
      await db.query(`UPDATE schedules SET paused = $2, next_slot_at = $3, updated_at = now() WHERE id = $1`, [id, paused, nextSlotAt]);
    },
    /** PostgreSQL's clock, by which slots are due. */
    async now(): Promise<Date> {
      const [row] = await db.query<{ now: Date }>(`SELECT now() AS now`);
      return row!.now;
    },
    /** Schedules with a slot due now, soonest first. */
    async dueIds(limit: number): Promise<string[]> {
      const rows = await db.query<{ id: string }>(`SELECT id FROM schedules WHERE NOT paused AND next_slot_at <= now() ORDER BY next_slot_at LIMIT $1`, [limit]);
      return rows.map((r) => r.id);
    },
    /** Locks a schedule that is still due (another decider holding it makes this skip it). */
    async lockDue(id: string): Promise<DueSchedule | undefined> {
      const [row] = await db.query<DueSchedule & Record<string, unknown>>(
        `SELECT ${COLS}, f.current_version AS "currentVersion", now() AS "dbNow" FROM schedules s JOIN functions f ON f.id = s.function_id
          WHERE s.id = $1 AND NOT s.paused AND s.next_slot_at <= now() FOR UPDATE OF s SKIP LOCKED`,
        [id],
      );
      return row;
    },
    /** The latest fired slot whose request has not ended, if any. */
    async openRun(id: string): Promise<{ slot: Date; requestId: string } | null> {
      const [row] = await db.query<{ slot: Date; requestId: string }>(
        `SELECT sl.slot_at AS slot, sl.request_id AS "requestId" FROM schedule_slots sl JOIN requests r ON r.id = sl.request_id
          WHERE sl.schedule_id = $1 AND sl.outcome = 'fired' AND r.status IN ('pending', 'running') ORDER BY sl.slot_at DESC LIMIT 1`,
        [id],
      );
      return row ?? null;
    },
    /** Records a slot's decision; false when the slot was decided before (then nothing was written). */
    async recordSlot(id: string, slot: Date, d: { requestId: string } | { reason: string }): Promise<boolean> {
      const fired = 'requestId' in d;
      const rows = await db.query(
        `INSERT INTO schedule_slots (schedule_id, slot_at, request_id, outcome, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING slot_at`,
        [id, slot, fired ? d.requestId : null, fired ? 'fired' : 'skipped', fired ? null : d.reason],
      );
      return rows.length === 1;
    },
    async advance(id: string, next: Date | null): Promise<void> {
      await db.query(`UPDATE schedules SET next_slot_at = $2 WHERE id = $1`, [id, next]);
    },
    /** Decided slots, newest first. */
    async history(id: string, limit: number): Promise<SlotRow[]> {
      return db.query<SlotRow & Record<string, unknown>>(
        `SELECT sl.slot_at AS "slotAt", sl.outcome, sl.reason, sl.request_id AS "requestId", r.status AS "requestStatus", sl.decided_at AS "decidedAt"
           FROM schedule_slots sl LEFT JOIN requests r ON r.id = sl.request_id WHERE sl.schedule_id = $1 ORDER BY sl.slot_at DESC LIMIT $2`,
        [id, limit],
      );
    },
  };
}

export type SchedulesRepo = ReturnType<typeof schedulesRepo>;
