import type { IO, Spinner } from './io.js';

/**
 * A wait the user did not ask for (an engine that went away, a database still starting):
 * a spinner line on a terminal while it lasts, and the cause under --debug (core logs it).
 * Called with a message to start or update it, with undefined when the wait is over.
 */
export function waitLine(ctx: { io: IO }): (message: string | undefined) => void {
  let spinner: Promise<Spinner> | undefined;
  return (message) => {
    if (message === undefined) {
      void spinner?.then((s) => s.stop());
      spinner = undefined;
      return;
    }
    if (spinner) void spinner.then((s) => s.update(message));
    else spinner = ctx.io.spinner(message);
  };
}
