import type { HeldSlots, Semaphore } from '../../db/locks.js';
import type { Store } from '../../db/store.js';
import { BusyError, CancelledError } from '../../base/errors.js';

/**
 * Concurrency limits, enforced through PostgreSQL for every path (a sync cold or warm call, the
 * dispatcher, a CLI on any machine): a function's `--max-concurrency` and the operator's cap per
 * user are advisory-lock semaphores (db/locks.ts). A slot is held from before an invocation
 * starts until after its end is recorded, so the engine never runs more than the limit.
 */

export const USER_CAP_KEY = 'user_max_concurrency';
/** How often a queued caller tries again; a little random so waiters do not march in step. */
const RETRY_MS = 250;

export interface Limits {
  functionId: string;
  maxConcurrency?: number;
  userId: string;
  userCap?: number;
}

export function semaphores(l: Limits): Semaphore[] {
  return [...(l.maxConcurrency ? [{ name: `faasctl:fn:${l.functionId}`, size: l.maxConcurrency }] : []), ...(l.userCap ? [{ name: `faasctl:user:${l.userId}`, size: l.userCap }] : [])];
}

/** The operator's cap per user (`faasctl up --user-concurrency N`), if set. */
export async function userCap(store: Store): Promise<number | undefined> {
  const set = await store.meta.get(USER_CAP_KEY);
  const n = set ? Number(set.value) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

const NOTHING_HELD: HeldSlots = { release: () => {}, onLost: () => {} };

/** One try: the slots, or undefined when a limit is reached (the dispatcher puts the request back). */
export async function trySlots(store: Store, l: Limits): Promise<HeldSlots | undefined> {
  const wanted = semaphores(l);
  if (!wanted.length) return NOTHING_HELD;
  return store.locks.trySlots(wanted);
}

export interface WaitOptions {
  /** Fail at once with BusyError instead of waiting (`--no-queue`). */
  noQueue?: boolean;
  signal?: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  /** Called while waiting, with a one-line reason (for a terminal's status line), and with undefined once the wait is over. */
  onWait?: (why: string | undefined) => void;
}

/** Waits for the slots in line with everyone else; the caller releases them after recording the end. */
export async function waitForSlots(store: Store, l: Limits, name: string, o: WaitOptions): Promise<HeldSlots> {
  for (let tries = 0; ; tries++) {
    const held = await trySlots(store, l);
    if (held) {
      if (tries > 0) o.onWait?.(undefined);
      return held;
    }
    const why = limitReached(l, name);
    if (o.noQueue) throw new BusyError(why, { hint: 'try again later, or leave out --no-queue to wait for a free slot' });
    if (o.signal?.aborted) throw new CancelledError(`stopped waiting: ${why}`);
    o.onWait?.(`${why}; ${tries === 0 ? 'waiting' : `waited ${tries} tries`} for a free slot`);
    await o.sleep(RETRY_MS + Math.floor(Math.random() * RETRY_MS));
  }
}

function limitReached(l: Limits, name: string): string {
  const parts = [l.maxConcurrency ? `${name} runs at most ${l.maxConcurrency} at once` : '', l.userCap ? `a user runs at most ${l.userCap} at once` : ''].filter(Boolean);
  return `concurrency limit reached (${parts.join('; ')})`;
}

/**
 * For a bulk run: one set of slots waited for in line, then as many more as are free now, up to
 * `most`; the run's concurrency becomes the number held. Undefined when no limit applies.
 */
export async function waitForSlotsUpTo(store: Store, l: Limits, name: string, most: number, o: WaitOptions): Promise<{ release(): void; count: number } | undefined> {
  if (!semaphores(l).length) return undefined;
  const cap = Math.min(most, l.maxConcurrency ?? most, l.userCap ?? most);
  const held = [await waitForSlots(store, l, name, o)];
  while (held.length < cap) {
    const more = await trySlots(store, l);
    if (!more) break;
    held.push(more);
  }
  return {
    count: held.length,
    release: () => {
      for (const h of held) h.release();
    },
  };
}
