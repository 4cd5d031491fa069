import type { Command } from 'commander';
import type { Context } from '../context.js';

export function registerReport(program: Command, ctx: Context): void {
  program
    .command('report')
    .description('write one self-contained HTML file of charts: invocations over time, latency percentiles, error rate, resource use')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--since <when>', 'a duration (24h, 7d) or an ISO time', '24h')
    .option('--user <name>', "another user's functions (operator view)")
    .addHelpText(
      'after',
      '\nThe file has no scripts and fetches nothing (its Content-Security-Policy forbids it): open it\nanywhere, offline, or attach it to a ticket.\n\nExamples:\n  faasctl report --out report.html\n  faasctl report --out week.html --since 7d',
    )
    .action(async (opts: { out: string; since: string; user?: string }) => (await import('./report-run.js')).runReport(ctx, opts));
}
