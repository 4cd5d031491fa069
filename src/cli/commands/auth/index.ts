import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { LoginOptions } from './options.js';

export function registerAuth(program: Command, ctx: Context): void {
  program
    .command('login <user>')
    .description('log in as a faasctl user; the session is kept in the current context')
    .option('--password-stdin', 'read the password from stdin (else $FAASCTL_PASSWORD, else a prompt)')
    .option('--ttl <duration>', 'how long the session lasts', '12h')
    .addHelpText('after', '\nExamples:\n  faasctl login alice\n  printf \'%s\' "$PW" | faasctl login alice --password-stdin')
    .action(async (user: string, opts: LoginOptions) => (await import('./run.js')).runLogin(ctx, user, opts));

  program
    .command('logout')
    .description('end the session of the current context')
    .addHelpText('after', '\nExample:\n  faasctl logout')
    .action(async () => (await import('./run.js')).runLogout(ctx));

  program
    .command('whoami')
    .description('the logged-in user of the current context')
    .addHelpText('after', '\nExamples:\n  faasctl whoami\n  faasctl whoami --json')
    .action(async () => (await import('./run.js')).runWhoami(ctx));
}
