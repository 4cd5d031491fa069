import type { Command } from 'commander';
import type { Context } from '../context.js';
import type { ApplyOptions, ExportOptions } from './apply-options.js';

/** `apply` and `export`: functions kept in a YAML file (in git), recreated anywhere. */
export function registerApply(program: Command, ctx: Context): void {
  program
    .command('apply')
    .description('make your functions what a YAML file says: shows the difference, then creates and updates only what differs')
    .requiredOption('-f, --file <file>', 'the functions file (faasctl export writes one)')
    .option('--dry-run', 'show the difference and change nothing')
    .option('--prune', 'also delete your functions the file does not name (asks first; without a terminal --yes is required)')
    .option('--yes', 'with --prune: delete without asking')
    .option('--force', "with --prune: stop a deleted function's running invocations instead of refusing")
    .addHelpText(
      'after',
      [
        '',
        'Lines: + create, ~ update (what differs), - delete (--prune), = unchanged. Paths in the file are',
        'relative to it; an error names file:line:col. Secret values are never in the file: only names.',
        '',
        'Examples:',
        '  faasctl apply -f functions/faasctl.yaml --dry-run',
        '  faasctl apply -f functions/faasctl.yaml --prune --yes',
      ].join('\n'),
    )
    .action(async (opts: ApplyOptions) => (await import('./apply-run.js')).runApply(ctx, opts));

  program
    .command('export [functions...]')
    .description('write your functions (all, or those named) as a functions file for faasctl apply')
    .option('--dir <dir>', "write DIR/faasctl.yaml with each function's code (and requirements) in files beside it; without it the YAML, code inline, goes to stdout")
    .addHelpText(
      'after',
      [
        '',
        'The same functions export to the same bytes: export, delete, apply, export again gives the same files.',
        'Env files are exported as the env they made; secrets by name only.',
        '',
        'Examples:',
        '  faasctl export --dir functions && git -C functions add -A',
        '  faasctl export sum > sum.yaml',
      ].join('\n'),
    )
    .action(async (names: string[], opts: ExportOptions) => (await import('./export-run.js')).runExport(ctx, names, opts));
}
