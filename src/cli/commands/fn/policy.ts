import { parseDuration } from '../../../base/durations.js';
import { wholeNumber } from '../../../base/numbers.js';
import { type PolicyChange, setPolicy } from '../../../core/dispatch/policy-change.js';
import type { Context } from '../../context.js';
import { requireActor } from '../../session.js';
import type { PolicyOptions } from './options.js';

/** The policy flags given (deploy, update or fn policy), checked before anything changes; undefined when none. */
export function policyChange(opts: PolicyOptions): PolicyChange | undefined {
  const change: PolicyChange = {
    ...(opts.retries !== undefined ? { retries: wholeNumber(opts.retries, '--retries', 0, 10) } : {}),
    ...(opts.retryOnError !== undefined ? { retryOnError: opts.retryOnError } : {}),
    ...(opts.maxEventAge !== undefined ? { maxEventAgeMs: parseDuration(opts.maxEventAge, '--max-event-age') } : {}),
    ...(opts.maxConcurrency !== undefined ? { maxConcurrency: wholeNumber(opts.maxConcurrency, '--max-concurrency', 0, 10_000) } : {}),
  };
  return Object.keys(change).length ? change : undefined;
}

/** `fn policy NAME [flags]`: shows the dispatch policy, after changing what the flags name. */
export async function runPolicy(ctx: Context, name: string, opts: PolicyOptions): Promise<void> {
  const change = policyChange(opts) ?? {};
  const { actor } = await requireActor(ctx);
  const p = await setPolicy({ store: await ctx.store() }, actor, name, change);
  if (ctx.io.options.json) return ctx.io.json({ name, retries: p.retries, retryOnError: p.retryOnError, maxEventAgeMs: p.maxEventAgeMs, maxConcurrency: p.maxConcurrency ?? null });
  await ctx.io.table(
    ['setting', 'value'],
    [
      ['retries (async)', `${p.retries}${p.retryOnError ? ', also when the function raises' : ', for platform faults and timeouts'}`],
      ['max event age', `${Math.round(p.maxEventAgeMs / 1000)} s`],
      ['max concurrency', p.maxConcurrency ? String(p.maxConcurrency) : 'no limit'],
    ],
  );
}
