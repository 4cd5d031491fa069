import type { Command } from 'commander';
import type { Context } from '../../context.js';

export interface RequestListOptions {
  type?: string;
  status?: string;
  since?: string;
  limit: string;
}

export function registerRequest(program: Command, ctx: Context): void {
  const request = program.command('request').description('the request log: every operation you ran, with status and result');
  const run = () => import('./run.js');

  request
    .command('list')
    .alias('ls')
    .description('your requests, newest first')
    .option('--type <type>', 'e.g. user.create, fn.invoke, or a group such as user')
    .option('--status <status>', 'pending, running, success, application_error, developer_error or system_error')
    .option('--since <when>', 'a duration back from now (1h, 2d) or an ISO time')
    .option('--limit <n>', 'at most this many', '50')
    .addHelpText('after', '\nExample:\n  faasctl request list --type user --since 1h --json')
    .action(async (opts: RequestListOptions) => (await run()).runList(ctx, opts));

  request
    .command('show <id>')
    .description('one request in full')
    .action(async (id: string) => (await run()).runShow(ctx, id));
}
