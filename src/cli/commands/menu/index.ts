import type { Command } from 'commander';
import type { Context } from '../../context.js';

export function registerMenu(program: Command, ctx: Context): void {
  program
    .command('menu')
    .description('interactive mode: every operation of the 2016 client, picked from a menu (needs a terminal)')
    .addHelpText(
      'after',
      "\nEntries carry the 2016 client's numbers (15 exits; newer entries from 16): type one, then Enter.\nFunctions and requests are picked from lists read from the database. Esc or Ctrl-C in a\nquestion returns to the menu; Ctrl-C at the menu itself exits (130). Without a terminal it\nexits 4: use the commands it runs (faasctl login, user …, fn …, request …) instead.\n\nExample:\n  faasctl menu",
    )
    .action(async () => (await import('./run.js')).runMenu(ctx));
}
