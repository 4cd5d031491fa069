import type { Context } from './context.js';

export interface Progress {
  update: (done: number, total: number) => void;
  done: () => void;
}

/** A progress bar in the spinner line on a terminal; silent elsewhere. */
export async function progressReporter(ctx: Context, label: string): Promise<Progress> {
  const spinner = await ctx.io.spinner(label);
  return {
    update: (done, total) => spinner.update(`${label} ${bar(done, total)} ${done}/${total}`),
    done: () => spinner.stop(),
  };
}

export function bar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
