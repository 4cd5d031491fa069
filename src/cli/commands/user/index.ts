import { type Command, Option } from 'commander';
import type { Context } from '../../context.js';
import type { UserCreateOptions, UserDeleteOptions, UserUpdateOptions } from './options.js';

export function registerUser(program: Command, ctx: Context): void {
  const user = program.command('user').description('faasctl user accounts');
  const run = () => import('./run.js');
  const bulk = () => import('./bulk.js');

  user
    .command('create [name]')
    .description('create a user (or many with --bulk N --prefix P)')
    .option('--password-stdin', 'read the password from stdin (else $FAASCTL_PASSWORD, else a prompt)')
    .option('--bulk <n>', 'create N users named PREFIX1..PREFIXN, all with the given password')
    .option('--prefix <prefix>', 'name prefix for --bulk')
    .addOption(new Option('--concurrency <n>', 'parallel creations for --bulk').default('4'))
    .addHelpText('after', '\nExamples:\n  faasctl user create alice\n  printf \'%s\' "$PW" | faasctl user create --bulk 20 --prefix load --password-stdin')
    .action(async (name: string | undefined, opts: UserCreateOptions) => (opts.bulk || opts.prefix ? (await bulk()).runBulkCreate(ctx, name, opts) : (await run()).runCreate(ctx, name, opts)));

  user
    .command('update')
    .description('change the name and/or password of the logged-in user (or of every user whose name starts with --prefix)')
    .option('--name <new-name>', 'the new user name')
    .option('--password', 'set a new password (prompted twice, or $FAASCTL_PASSWORD)')
    .option('--password-stdin', 'read the new password from stdin')
    .option('--prefix <prefix>', 'bulk: update the users whose names start with this (their sessions end)')
    .option('--new-prefix <prefix>', 'bulk: rename them, replacing the prefix (load1 → test1)')
    .addHelpText('after', '\nExamples:\n  faasctl user update --name alice2 --password\n  printf \'%s\' "$PW" | faasctl user update --prefix load --new-prefix test --password-stdin')
    .action(async (opts: UserUpdateOptions) => (opts.prefix !== undefined ? (await bulk()).runBulkUpdate(ctx, opts) : (await run()).runUpdate(ctx, opts)));

  user
    .command('delete')
    .alias('rm')
    .description('delete the logged-in user (or every user whose name starts with --prefix)')
    .option('--force', 'also delete everything the user owns, at once: functions, versions, requests, secrets, and their objects on the engine (running invocations are stopped)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--prefix <prefix>', 'bulk: delete the users whose names start with this')
    .addHelpText(
      'after',
      '\nNothing of the user is left for a later gc: their services, secrets, input configs, the code\nconfigs and dependency images no one else uses go with them. Should the engine fail half-way\nafter the user is gone, the error says so and faasctl gc finishes it.\n\nExamples:\n  faasctl user delete --yes\n  faasctl user delete --prefix load --yes --force',
    )
    .action(async (opts: UserDeleteOptions) => (opts.prefix !== undefined ? (await bulk()).runBulkDelete(ctx, opts) : (await run()).runDelete(ctx, opts)));

  user
    .command('list')
    .alias('ls')
    .description('list users')
    .option('--prefix <prefix>', 'only names starting with this')
    .addHelpText('after', '\nExamples:\n  faasctl user list\n  faasctl user list --prefix load -q')
    .action(async (opts: { prefix?: string }) => (await run()).runList(ctx, opts));

  user
    .command('show [name]')
    .description('show a user (default: the logged-in one)')
    .addHelpText('after', '\nExamples:\n  faasctl user show\n  faasctl user show alice --json')
    .action(async (name: string | undefined) => (await run()).runShow(ctx, name));
}
