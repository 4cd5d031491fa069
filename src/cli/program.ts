import { Command, Option } from 'commander';
import { registerCommands } from './commands/index.js';
import type { Context, GlobalOptions } from './context.js';
import { jsonAwareHelp, jsonAwareVersion } from './json-mode.js';
import { version } from './version.js';

export function buildProgram(ctx: Context): Command {
  const program = new Command('faasctl').description('Functions-as-a-Service for Python on your own Docker Swarm and PostgreSQL');
  jsonAwareVersion(program, version());
  program
    .addOption(new Option('--json', 'machine-readable output: one JSON document on stdout'))
    .addOption(new Option('--jq <expression>', "select from the --json output with a jq expression (implies --json; strings print raw): --jq '.[].name'"))
    .addOption(new Option('-q, --quiet', 'print only IDs or nothing; no progress'))
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .addOption(new Option('--debug', 'log every Docker and PostgreSQL call; stack traces on errors'))
    .addOption(new Option('--context <name>', 'use this named context (env FAASCTL_CONTEXT)'))
    .addOption(new Option('-H, --host <url>', 'Docker host: unix://, tcp:// or ssh:// (env FAASCTL_HOST, DOCKER_HOST)'))
    .addOption(new Option('--db <url>', 'PostgreSQL URL (env FAASCTL_DATABASE_URL, DATABASE_URL)'))
    .addOption(new Option('--ssh-key <file>', 'identity file for an ssh:// host (env FAASCTL_SSH_KEY; default ssh-agent, ~/.ssh/id_*)'))
    .addOption(new Option('--ssh-insecure-ignore-host-key', 'accept any host key of an ssh:// host (skips the known_hosts check)'))
    .addOption(new Option('--db-via-ssh', 'dial the --db host:port from the ssh:// manager, through the SSH connection (env FAASCTL_DB_VIA_SSH=1)'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.streams.stdout.write(s),
      writeErr: (s) => ctx.io.streams.stderr.write(s),
      // main() prints errors itself, once, in the chosen format.
      outputError: () => {},
    });

  program.hook('preAction', async (_root, action) => {
    const globals = action.optsWithGlobals<GlobalOptions>();
    ctx.setGlobals(globals);
    const path: string[] = [];
    for (let c: Command | null = action; c?.parent; c = c.parent) path.unshift(c.name());
    ctx.commandName = path.join(' ');
    if (globals.jq !== undefined) {
      const { checkJqExpression, JqOutput } = await import('./jq-output.js');
      await checkJqExpression(globals.jq);
      ctx.io.filterStdout(new JqOutput(globals.jq, ctx.io.rawStdout));
    }
  });

  registerCommands(program, ctx);
  for (const cmd of [program, ...allCommands(program)]) {
    cmd.exitOverride().configureOutput(program.configureOutput());
    jsonAwareHelp(cmd, program);
  }
  return program;
}

function* allCommands(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}
