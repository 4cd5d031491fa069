import type { FailPoint } from '../core/invocations/invoke.js';
import type { Env } from '../config/resolve.js';
import type { IO } from './io.js';

/**
 * TEST-ONLY. `FAASCTL_FAILPOINT=NAME` stops the CLI at that point of an invocation: it prints
 * `failpoint NAME reached` on stderr and waits (at most 10 minutes) so a fault test can
 * SIGKILL it exactly there, e.g. after the request row exists but before the service does
 * (`invoke:row-written`), or after a job's answer was read but before it is written
 * (`invoke:answer-read`), or after a user delete's rows are gone but before its engine
 * clean-up (`user-delete:committed`), or inside a user or function delete's open transaction
 * (`user-delete:in-transaction`, `fn-delete:in-transaction`: what it locks, the test sees). Read here, in the CLI layer, and
 * passed down as a hook; core never reads the environment. Unset (always, outside tests) it
 * costs nothing.
 */
const POINTS: readonly FailPoint[] = ['invoke:row-written', 'pool:claimed', 'invoke:answer-read', 'user-delete:committed', 'user-delete:in-transaction', 'fn-delete:in-transaction'];
const HOLD_MS = 10 * 60_000;

export function failpointFromEnv(env: Env, io: IO): ((point: FailPoint) => Promise<void>) | undefined {
  const wanted = env.FAASCTL_FAILPOINT;
  if (!wanted || !POINTS.includes(wanted as FailPoint)) return undefined;
  return async (point) => {
    if (point !== wanted) return;
    io.err(`failpoint ${point} reached`);
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  };
}
