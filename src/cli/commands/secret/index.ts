import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { SecretCreateOptions } from './options.js';

export function registerSecret(program: Command, ctx: Context): void {
  const secret = program.command('secret').description('your secrets: values functions read from /run/secrets/NAME');
  const run = () => import('./run.js');

  secret
    .command('create <name>')
    .description('store a secret (a Swarm secret); the value comes from stdin, --from-file or a hidden prompt, never an argument')
    .option('--from-file <file>', 'read the value from this file')
    .addHelpText(
      'after',
      "\nOne trailing newline is dropped (as `echo` adds). Secrets are immutable: rm, then create again.\nA function mounts one with fn deploy --secret NAME and reads it in Python with\n  import faasctl; faasctl.secret('NAME')\n\nExamples:\n  printf '%s' \"$API_KEY\" | faasctl secret create api-key\n  faasctl secret create tls-key --from-file key.pem",
    )
    .action(async (name: string, opts: SecretCreateOptions) => (await run()).runSecretCreate(ctx, name, opts));

  secret
    .command('list')
    .alias('ls')
    .description('your secrets (names and the functions that use them; never values)')
    .addHelpText('after', '\nExamples:\n  faasctl secret ls\n  faasctl secret ls --json')
    .action(async () => (await run()).runSecretList(ctx));

  secret
    .command('delete <name>')
    .alias('rm')
    .description('remove a secret; refused while a version of one of your functions mounts it')
    .addHelpText('after', '\nExample:\n  faasctl secret rm api-key')
    .action(async (name: string) => (await run()).runSecretRemove(ctx, name));
}
