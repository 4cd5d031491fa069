import type { StoredDispatchPolicy } from '../../db/functions-repo.js';
import { EXIT } from '../../base/errors.js';

/**
 * What the dispatcher does with a failed attempt: pure rules, so they are tested without a
 * cluster. Defaults follow Lambda's asynchronous invocation: 2 retries, a 6-hour maximum age.
 */
export const DEFAULT_ASYNC_RETRIES = 2;
export const DEFAULT_MAX_EVENT_AGE_MS = 6 * 3_600_000;
export const MAX_RETRIES = 10;
/** The first retry waits about this long; each later one twice the previous, up to the cap. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 5 * 60_000;

export interface DispatchPolicy {
  retries: number;
  /** Also retry when the function itself raised (application_error); off by default, as a raise usually repeats. */
  retryOnError: boolean;
  maxEventAgeMs: number;
  /** Invocations of the function at once, on every path; undefined: no limit. */
  maxConcurrency?: number;
}

export function effectivePolicy(stored: StoredDispatchPolicy): DispatchPolicy {
  return {
    retries: stored.retries ?? DEFAULT_ASYNC_RETRIES,
    retryOnError: stored.retryOnError,
    maxEventAgeMs: stored.maxEventAgeMs ?? DEFAULT_MAX_EVENT_AGE_MS,
    ...(stored.maxConcurrency ? { maxConcurrency: stored.maxConcurrency } : {}),
  };
}

/**
 * Whether another attempt could end differently: a platform fault (a lost node, a failed
 * start, an engine restart) or a timeout may; bad code, bad input or a memory limit will not;
 * the function's own raise only when the policy says so.
 */
/** An attempt's end as these rules read it (an invocation's Outcome has this shape). */
export interface AttemptEnd {
  exitCode: number;
  completion: { status: string };
}

export function curable(o: AttemptEnd, policy: Pick<DispatchPolicy, 'retryOnError'>): boolean {
  if (o.completion.status === 'success') return false;
  if (o.exitCode === EXIT.platform || o.exitCode === EXIT.connection || o.completion.status === 'system_error') return true;
  if (o.exitCode === EXIT.timeout) return true;
  return o.completion.status === 'application_error' && policy.retryOnError;
}

export type Next = { kind: 'retry'; delayMs: number } | { kind: 'end'; dead: boolean; why?: string };

/**
 * After attempt `attempt` (1-based) of a request created `ageMs` ago ended with `o`: retry
 * after a delay, or end (a failure that ends an async request makes it a dead letter).
 */
export function nextStep(o: AttemptEnd, attempt: number, ageMs: number, policy: DispatchPolicy, random: () => number = Math.random): Next {
  if (o.completion.status === 'success') return { kind: 'end', dead: false };
  if (!curable(o, policy)) return { kind: 'end', dead: true };
  if (attempt > policy.retries) return { kind: 'end', dead: true, why: `failed after ${attempt} attempts` };
  const delayMs = backoffMs(attempt, random);
  if (ageMs + delayMs > policy.maxEventAgeMs) return { kind: 'end', dead: true, why: 'its maximum event age would pass before the next attempt' };
  return { kind: 'retry', delayMs };
}

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so retries of
 * many requests that failed together spread out, yet none comes back at once.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}
