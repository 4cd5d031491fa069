import { CancelledError, FaasctlError, NonInteractiveError } from '../../../base/errors.js';
import type { Context } from '../../context.js';
import { reportError } from '../../errors.js';
import { refuseJson } from '../../json-mode.js';
import type { MenuLine } from '../../menu-prompt.js';
import { currentSession } from '../../session.js';
import { MENU, type MenuAction } from './actions.js';
import { menuHint, menuWords } from './hints.js';
import type { MenuSession } from './pickers.js';

const EXIT_CHOICE = 'exit';
/** The 2016 client's exit; entries it did not have come after it. */
const EXIT_NUMBER = 15;

/** The commands a script uses instead, named when there is no terminal. */
const INSTEAD = 'use the commands instead: faasctl login, user create|update|delete, fn deploy|update|delete|invoke|list, request list|show|wait (faasctl --help)';

/**
 * The interactive client: the menu until Exit. Each action's result stays on screen until a
 * key is pressed; a failed operation is reported like a command's error (its hint naming menu
 * entries) and the menu comes back; Ctrl-C or Esc in a question goes back to the menu; Ctrl-C
 * at the menu itself ends faasctl with 130, after dropping what was typed ahead.
 */
export async function runMenu(ctx: Context): Promise<void> {
  if (ctx.io.options.json) throw refuseJson('faasctl menu', INSTEAD);
  if (!ctx.io.stdinIsTTY || !ctx.io.stderrIsTTY) {
    throw new NonInteractiveError('faasctl menu needs a terminal (stdin and stderr)', { code: 'needs_tty', hint: INSTEAD });
  }
  const session: MenuSession = { started: ctx.clock.now(), lastFile: {} };
  const entries = numbered();
  ctx.hintFor = (hint) => menuWords(hint, entries);
  const { lines, byValue } = menuLines();
  let last: number | undefined;
  for (;;) {
    let picked: number | typeof EXIT_CHOICE;
    try {
      picked = await ctx.prompter.menu<number | typeof EXIT_CHOICE>('faasctl', await statusLine(ctx), lines, { default: last });
    } catch (err) {
      // Ctrl-C here leaves the loop (main() exits 130); a password typed ahead stays out of the shell.
      if (err instanceof CancelledError) await ctx.prompter.drainInput({ untilExit: true });
      throw err;
    }
    if (picked === EXIT_CHOICE) return;
    last = picked;
    await runAction(ctx, byValue[picked]!, session);
    ctx.io.err('');
    // Keys typed while the action ran do not dismiss its result unseen.
    await ctx.prompter.drainInput();
    await ctx.prompter.pause('press any key to go back to the menu');
  }
}

async function runAction(ctx: Context, action: MenuAction, session: MenuSession): Promise<void> {
  try {
    await action.run(ctx, session);
  } catch (err) {
    if (err instanceof CancelledError && err.message === 'cancelled') ctx.io.err(ctx.io.c.dim('cancelled: back to the menu'));
    else reportError(err instanceof FaasctlError ? menuHint(err, numbered()) : err, ctx.io);
  }
}

/** Each action with the number it is shown and typed with: its 2016 number, else 16, 17, … */
export function numbered(): Array<{ number: number; action: MenuAction }> {
  let next = EXIT_NUMBER + 1;
  return MENU.flatMap((g) => g.actions).map((action) => ({ number: action.old ?? next++, action }));
}

/** The menu's lines: a heading per group, its entries with their numbers, then Exit. */
export function menuLines(): { lines: Array<MenuLine<number | typeof EXIT_CHOICE>>; byValue: MenuAction[] } {
  const numbers = new Map(numbered().map((n) => [n.action, n.number]));
  const byValue: MenuAction[] = [];
  const lines: Array<MenuLine<number | typeof EXIT_CHOICE>> = [];
  for (const group of MENU) {
    lines.push({ heading: group.heading });
    for (const action of group.actions) {
      lines.push({ number: numbers.get(action)!, label: action.label, value: byValue.length });
      byValue.push(action);
    }
  }
  lines.push({ number: EXIT_NUMBER, label: 'Exit', value: EXIT_CHOICE });
  return { lines, byValue };
}

async function statusLine(ctx: Context): Promise<string> {
  const cfg = await ctx.config();
  const session = await currentSession(ctx);
  const who = session && new Date(session.expiresAt) > ctx.clock.now() ? `logged in as ${ctx.io.c.bold(session.userName)}` : 'not logged in';
  return ctx.io.c.dim(`faasctl menu · context ${cfg.contextName.value} · ${who}`);
}
