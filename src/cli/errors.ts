import type { CommanderError } from 'commander';
import { EXIT, FaasctlError, UsageError, type ExitCode, AlreadyReported } from '../base/errors.js';
import type { IO } from './io.js';
import { jsonForTerminal, terminalSafe } from './terminal-text.js';

/** Commander's own "exits" (help, version, parse errors) as faasctl outcomes. */
export function fromCommander(err: CommanderError, json = false): { exitCode: ExitCode; error?: FaasctlError } {
  // A command group run without its subcommand shows its help on stderr; a script asked for data.
  if (err.code === 'commander.help' && json) {
    return { exitCode: EXIT.usage, error: new UsageError('this command needs a subcommand', { code: 'usage', hint: 'faasctl COMMAND --help --json lists them' }) };
  }
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
    return { exitCode: EXIT.ok };
  }
  if (err.code === 'commander.executeSubCommandAsync') return { exitCode: EXIT.ok };
  const message = err.message.replace(/^error:\s*/i, '');
  return { exitCode: EXIT.usage, error: new UsageError(message, { code: 'usage', hint: 'see faasctl --help, or faasctl COMMAND --help' }) };
}

/** The only place an error becomes output. */
export function reportError(err: unknown, io: IO): ExitCode {
  if (err instanceof AlreadyReported) return err.exitCode;
  const known = err instanceof FaasctlError ? err : undefined;
  const exitCode = known?.exitCode ?? EXIT.bug;
  const code = known?.code ?? 'internal';
  const message = known ? known.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
  const hint = known ? known.hint : 'this is a bug in faasctl: please report it with the output of --debug';

  if (io.options.json) {
    io.rawStdout.write(`${jsonForTerminal(JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}), ...(known?.detail ? { detail: known.detail } : {}), exitCode } }))}\n`);
  } else {
    // A function's error message and traceback are its own text: spelled out like its prints.
    io.err(`${io.c.red('error:')} ${terminalSafe(message)}`);
    if (known?.detail) io.err(terminalSafe(known.detail));
    if (hint) io.err(`${io.c.dim('hint:')} ${hint}`);
  }
  if (io.options.debug && err instanceof Error) {
    io.err(io.c.dim(err.stack ?? String(err)));
    let cause = err.cause;
    while (cause instanceof Error) {
      io.err(io.c.dim(`caused by: ${cause.stack ?? cause.message}`));
      cause = cause.cause;
    }
  }
  return exitCode;
}
