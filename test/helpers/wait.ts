import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it answers truthy, and returns that answer: a wait on the condition itself,
 * never a fixed sleep (too short on a loaded machine, too long everywhere else). The bound is not
 * a timed assertion; it only keeps a broken run from hanging the suite, and the failure names
 * what did not happen. An error thrown by `check` fails at once (catch in `check` to poll on).
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer) return answer;
    if (Date.now() > until) throw new Error(`still waiting after ${timeoutMs} ms for: ${what}`);
    await sleep(intervalMs);
  }
}
