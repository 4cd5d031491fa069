import { hostname } from 'node:os';
import type { Command } from 'commander';
import { PlatformError } from '../../base/errors.js';
import type { Context } from '../context.js';
import { wholeNumber } from '../../base/numbers.js';
import { startDispatcherApi, type DispatcherApiOptions } from './dispatcher-api.js';

interface DispatcherOptions extends DispatcherApiOptions {
  parallel?: string;
}

const HELP = `
Runs queued requests (fn invoke --async, redriven dead letters) with their function's retry
policy and concurrency limits, until stopped. faasctl up runs it as a Swarm service; run it by
hand only to debug. A second dispatcher of the same installation waits as a standby and
takes over when the leader stops. The leader also fires the schedules' due slots (faasctl
schedule). Events go to stderr, one line each (NDJSON with --json).

Examples:
  faasctl up --dispatcher            # as a Swarm service (the usual way)
  faasctl dispatcher --parallel 4    # by hand, in the foreground`;

export function registerDispatcher(program: Command, ctx: Context): void {
  program
    .command('dispatcher')
    .description('run queued requests, with retries and concurrency limits (faasctl up runs it as a Swarm service)')
    .option('--parallel <n>', 'attempts running at once (default 8)')
    .option('--api-port <port>', 'also serve the HTTP API on this port (README "The HTTP API")')
    .option('--api-tls-cert <file>', "the API's TLS certificate (PEM); without it the API listens on 127.0.0.1 only")
    .option('--api-tls-key <file>', "the API's TLS private key (PEM)")
    .option('--api-rate <n>', 'calls per second per token (bursts of twice that; default 10)')
    .addHelpText('after', HELP)
    .action(async (opts: DispatcherOptions) => {
      const parallel = opts.parallel === undefined ? 8 : wholeNumber(opts.parallel, '--parallel', 1, 64);
      // One connection leads, one per running attempt may hold a concurrency slot, a few query.
      ctx.databaseConnections = 2 * parallel + 4;
      const { functionDeps, withInterrupt } = await import('../deps.js');
      const { runDispatcher } = await import('../../core/dispatch/dispatcher.js');
      const { fireDueSchedules } = await import('../../core/schedules/fire.js');
      const deps = await functionDeps(ctx);
      // A task of the service names itself (its Swarm task name); by hand, host and process.
      const holder = ctx.env.FAASCTL_HOLDER || `${hostname()}/${process.pid}`;
      const onEvent = (line: string) => {
        const time = ctx.clock.now().toISOString();
        if (ctx.io.options.json) ctx.io.err(JSON.stringify({ time, event: line }));
        else ctx.io.err(`${time} ${line}`);
      };
      try {
        // The leader decides the schedules' due slots about once a second (issue 21).
        const tick = { everyMs: 1000, run: async () => scheduleEvent(await fireDueSchedules(deps)) };
        await withInterrupt(async (signal) => {
          const api = await startDispatcherApi(ctx, deps, opts, signal, onEvent);
          try {
            await runDispatcher(deps, { holder, parallel, pollMs: 1000, signal, onEvent, tick });
          } finally {
            api?.closeAllConnections();
            api?.close();
          }
        });
      } catch (err) {
        throw new PlatformError(`dispatcher stopped: ${(err as Error).message}`, { hint: 'Swarm starts it again; see faasctl doctor' });
      }
      onEvent('stopped');
    });
}

function scheduleEvent(t: { fired: number; skipped: number }): string | undefined {
  if (!t.fired && !t.skipped) return undefined;
  return `schedules: ${t.fired} slot(s) queued${t.skipped ? `, ${t.skipped} skipped` : ''}`;
}
