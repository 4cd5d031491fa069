import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { TokenCreateOptions } from './options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerToken(program: Command, ctx: Context): void {
  const token = program.command('token').description('invoke tokens: scoped, expiring credentials for the HTTP API (CI, teammates)');
  const run = () => import('./run.js');

  token
    .command('create')
    .description('a token that may invoke (or only read) some of your functions over the HTTP API; printed once')
    .requiredOption('--fn <name>', 'a function it covers (repeat for more)', collect)
    .option('--scope <scope>', 'invoke (run, and read what ran) or read (request status and logs only)', 'invoke')
    .option('--expires <duration>', 'how long it lives, up to 366d', '30d')
    .option('--name <label>', 'its label in token list and the request log (default: token-PREFIX)')
    .addHelpText(
      'after',
      '\nThe token is printed once on stdout; faasctl keeps only its SHA-256. Give it to a context:\n  faasctl token create --fn sum --name ci -q | faasctl context add ci --api https://HOST:PORT --token-stdin --ca ca.pem\n\nExamples:\n  faasctl token create --fn sum --name ci --expires 7d\n  faasctl token create --fn sum --fn fib --scope read --json',
    )
    .action(async (opts: TokenCreateOptions) => (await run()).runTokenCreate(ctx, opts));

  token
    .command('list')
    .alias('ls')
    .description('your tokens: label, prefix, scope, functions, expiry, state, last use (never the token)')
    .addHelpText('after', '\nExamples:\n  faasctl token ls\n  faasctl token ls --json')
    .action(async () => (await run()).runTokenList(ctx));

  token
    .command('revoke <token>')
    .description('refuse a token from now on (by id or label); its requests stay in the log')
    .addHelpText('after', '\nExample:\n  faasctl token revoke ci')
    .action(async (idOrName: string) => (await run()).runTokenRevoke(ctx, idOrName));
}
