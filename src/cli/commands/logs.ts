import type { Command } from 'commander';
import type { Context } from '../context.js';
import type { LogsOptions } from './logs-options.js';

export function registerLogs(program: Command, ctx: Context): void {
  program
    .command('logs <function>')
    .description("a function's invocations from the request log, oldest first: a header line each (id, time, status, duration) and the output it stored")
    .option('-f, --follow', "keep printing invocations as they end, and a cold job's output live while it runs, until Ctrl-C")
    .option('--since <when>', 'only invocations started since: a duration (1h, 2d) or an ISO time')
    .option('--tail <n>', 'the newest N invocations', '20')
    .option('--status <status>', 'only invocations that ended so (success, application_error, developer_error, system_error), or running')
    .addHelpText(
      'after',
      [
        '',
        "Output is the function's untrusted text: control characters are shown as escapes (--json keeps it exact).",
        "A warm call appears when it ends; a cold job's output streams from its own service's log while it runs.",
        'With --json: one array of requests; with --follow, NDJSON events {"event":"request"|"start"|"output",…}.',
        '',
        'Examples:',
        '  faasctl logs sum --tail 5',
        '  faasctl logs sum --follow --status application_error',
        "  faasctl logs sum --since 1h --json | jq '.[] | {id, status, output}'",
      ].join('\n'),
    )
    .action(async (name: string, opts: LogsOptions) => (await import('./logs-run.js')).runLogs(ctx, name, opts));
}
