import type { Command } from 'commander';
import type { Context } from '../context.js';

export function registerDoctor(program: Command, ctx: Context): void {
  program
    .command('doctor')
    .description('check the engine, Swarm, nodes, runtime image, database and schema')
    .addHelpText(
      'after',
      '\nExit code: 0 when every check passes, 5 when Docker or PostgreSQL is unreachable, 3 when something is not set up.\n\nExample:\n  faasctl doctor --json | jq \'.checks[] | select(.status=="fail")\'',
    )
    .action(async () => (await import('./doctor-run.js')).runDoctorCommand(ctx));
}
