import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { DlqListOptions, DlqPurgeOptions } from './options.js';

export function registerDlq(program: Command, ctx: Context): void {
  const dlq = program.command('dlq').description('dead letters: async requests that failed after their retries (needs faasctl up --dispatcher)');
  const run = () => import('./run.js');

  dlq
    .command('list')
    .alias('ls')
    .description('your dead letters, newest first')
    .option('--fn <name>', 'only this function')
    .option('--limit <n>', 'at most this many (default 50)')
    .addHelpText('after', '\nfaasctl request show ID has each attempt of one.\n\nExamples:\n  faasctl dlq ls --fn nightly\n  faasctl dlq ls --json')
    .action(async (opts: DlqListOptions) => (await run()).runDlqList(ctx, opts));

  dlq
    .command('redrive <id...>')
    .description('queue each dead letter again with its original input, on the current version')
    .addHelpText('after', '\nExample:\n  faasctl dlq redrive 3f2a…')
    .action(async (ids: string[]) => (await run()).runDlqRedrive(ctx, ids));

  dlq
    .command('purge [id...]')
    .description('forget dead letters (their rows stay in the request log, without their input)')
    .option('--all', 'every dead letter (of --fn, if given)')
    .option('--fn <name>', 'with --all: only this function')
    .addHelpText('after', '\nExamples:\n  faasctl dlq purge 3f2a…\n  faasctl dlq purge --all --fn nightly')
    .action(async (ids: string[], opts: DlqPurgeOptions) => (await run()).runDlqPurge(ctx, ids, opts));
}
