import { CommanderError } from 'commander';
import { EXIT } from '../base/errors.js';
import { Context } from './context.js';
import { fromCommander, reportError } from './errors.js';
import { jsonRequested } from './json-mode.js';
import { buildProgram } from './program.js';

/**
 * Runs one faasctl command and returns its exit code. The only place that catches,
 * formats and decides the exit code; nothing else calls process.exit.
 */
export async function main(argv: string[], ctx: Context = new Context()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    await ctx.io.settleOutput();
    return EXIT.ok;
  } catch (err) {
    // What the command wrote before it failed still comes out (through --jq) before the error.
    await ctx.io.settleOutput().catch(() => {});
    if (err instanceof CommanderError) {
      // Parse errors come before preAction: take --json/--debug from what was parsed.
      ctx.setGlobals({ ...program.opts(), ...ctx.globals });
      const { exitCode, error } = fromCommander(err, jsonRequested(program));
      return error ? reportError(error, ctx.io) : exitCode;
    }
    return reportError(err, ctx.io);
  } finally {
    await ctx.close();
  }
}
