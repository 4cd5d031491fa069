import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { RequestListOptions } from './options.js';

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
    .option('--deleted-users', "instead of yours: the records of deleted users (user.delete), which outlive them; the operator's audit view")
    .option('--function <name>', "one function's requests (also from before it was deleted)")
    .option('--before <id|when>', 'older than this request (the last one listed: the next page), a duration back from now (2d) or an ISO time')
    .option('--limit <n>', 'at most this many (up to 10000; --before pages further)', '50')
    .addHelpText('after', '\nExamples:\n  faasctl request list --type user --since 1h --json\n  faasctl request list --function sum --limit 100 --before 3f2b8c1e-0d4a-4e6b-9a51-2c7d8e9f0a1b')
    .action(async (opts: RequestListOptions) => (await run()).runList(ctx, opts));

  request
    .command('show <id>')
    .description('one request in full (an invocation that has ended is recorded first)')
    .option('--items', "for a bulk invocation: every input's answer as NDJSON on stdout, in input order")
    .addHelpText('after', '\nExamples:\n  faasctl request show 3f2b8c1e-0d4a-4e6b-9a51-2c7d8e9f0a1b\n  faasctl request show ID --items > answers.ndjson')
    .action(async (id: string, opts: { items?: boolean }) => (await run()).runShow(ctx, id, opts));

  request
    .command('wait <id>')
    .description('wait for an invocation to end, then print its result like fn invoke')
    .option('--timeout <duration>', 'stop waiting after this long (the invocation keeps running); e.g. 30s, 10m', '10m')
    .addHelpText(
      'after',
      '\nExits like fn invoke: 0 success, 6 the function failed, 124 still running at --timeout.\n\nExample:\n  id=$(faasctl fn invoke sum --data-file in.json --async) && faasctl request wait "$id" --timeout 2m',
    )
    .action(async (id: string, opts: { timeout: string }) => (await run()).runWait(ctx, id, opts));

  request
    .command('cancel <id>')
    .description('stop one of your running invocations and record it as cancelled (system_error, "cancelled by NAME")')
    .addHelpText(
      'after',
      "\nA cold job's service goes at once; a bulk run's replicas too; a warm call's row is closed and the replica finishes it.\nExits 3 when the request already ended or is not yours.\n\nExample:\n  faasctl request cancel 3f2b8c1e-0d4a-4e6b-9a51-2c7d8e9f0a1b",
    )
    .action(async (id: string) => (await import('./cancel.js')).runCancel(ctx, id));
}
