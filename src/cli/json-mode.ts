import type { EventEmitter } from 'node:events';
import { CommanderError, Help, type Command } from 'commander';
import { UsageError } from '../base/errors.js';

/**
 * `--json` for what commander answers itself (version, help, a missing subcommand): those
 * exits happen during parsing, before the globals are known, so the raw arguments decide.
 * Anything after `--` belongs to the command (a function's data), not to faasctl.
 */
export function jsonRequested(program: Command): boolean {
  const raw = (program as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const end = raw.indexOf('--');
  return (end === -1 ? raw : raw.slice(0, end)).includes('--json');
}

/** `-v, --version`: the plain version, or `{"version": "…"}` with --json. */
export function jsonAwareVersion(program: Command, version: string): void {
  program.version(version, '-v, --version', 'print the faasctl version');
  // Replaces commander's own listener, which would print the bare version first.
  (program as unknown as EventEmitter).removeAllListeners('option:version');
  program.on('option:version', () => {
    const out = program.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
    out(jsonRequested(program) ? `${JSON.stringify({ version })}\n` : `${version}\n`);
    throw new CommanderError(0, 'commander.version', version);
  });
}

const HELP_TEXT_EVENTS = new Set(['beforeAllHelp', 'beforeHelp', 'afterHelp', 'afterAllHelp']);

/**
 * A command's help as data with --json: what a script needs to discover flags and subcommands.
 * The text of addHelpText (examples, exit codes) goes into `notes` instead of after the document.
 */
export function jsonAwareHelp(cmd: Command, root: Command): void {
  cmd.configureHelp({
    // The global flags (--json, -q, --context, …) are listed in every subcommand's help too.
    showGlobalOptions: true,
    formatHelp: (command, helper) => (jsonRequested(root) ? `${JSON.stringify(describeCommand(command, helper))}\n` : Help.prototype.formatHelp.call(helper, command, helper)),
  });
  const events = cmd as unknown as EventEmitter;
  const emit = events.emit.bind(events);
  events.emit = (event: string | symbol, ...args: unknown[]) => (typeof event === 'string' && HELP_TEXT_EVENTS.has(event) && jsonRequested(root) ? false : emit(event, ...args));
}

/** What addHelpText would have written around the generated help. */
function helpNotes(cmd: Command): string {
  let notes = '';
  const context = { error: false, command: cmd, write: (text: string) => (notes += text) };
  for (const event of ['beforeHelp', 'afterHelp']) {
    for (const listener of (cmd as unknown as EventEmitter).listeners(event)) (listener as (c: typeof context) => void)(context);
  }
  return notes.trim();
}

export interface CommandDescription {
  command: string;
  usage: string;
  description: string;
  notes: string;
  aliases: string[];
  arguments: { name: string; required: boolean; description: string }[];
  options: { flags: string; description: string; default?: unknown }[];
  /** faasctl's own flags, accepted by every command (empty for faasctl itself: they are its options). */
  globalOptions: { flags: string; description: string }[];
  commands: { name: string; description: string }[];
}

function describeCommand(cmd: Command, helper: Help): CommandDescription {
  const path: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) path.unshift(c.name());
  return {
    command: path.join(' '),
    usage: helper.commandUsage(cmd),
    description: cmd.description(),
    notes: helpNotes(cmd),
    aliases: cmd.aliases(),
    arguments: cmd.registeredArguments.map((a) => ({ name: a.name(), required: a.required, description: a.description })),
    options: helper.visibleOptions(cmd).map((o) => ({
      flags: o.flags,
      description: o.description,
      ...(o.defaultValue === undefined ? {} : { default: o.defaultValue }),
    })),
    globalOptions: helper.visibleGlobalOptions(cmd).map((o) => ({ flags: o.flags, description: o.description })),
    commands: helper.visibleCommands(cmd).map((c) => ({ name: c.name(), description: c.description() })),
  };
}

/**
 * A command whose output is not data (a shell script, an interactive screen) refuses --json
 * rather than printing something a script would then fail to parse.
 */
export function refuseJson(what: string, instead: string): UsageError {
  return new UsageError(`${what} has no --json form`, { code: 'json_unsupported', hint: instead });
}
