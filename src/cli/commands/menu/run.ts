import { CancelledError, NonInteractiveError } from '../../../base/errors.js';
import type { Context } from '../../context.js';
import { reportError } from '../../errors.js';
import { refuseJson } from '../../json-mode.js';
import type { Choice } from '../../prompter.js';
import { currentSession } from '../../session.js';
import { MENU, type MenuAction } from './actions.js';
import type { MenuSession } from './pickers.js';

const EXIT_CHOICE = 'exit';

/** The commands a script uses instead, named when there is no terminal. */
const INSTEAD = 'use the commands instead: faasctl login, user create|update|delete, fn deploy|update|delete|invoke|list, request list|show|wait (faasctl --help)';

/**
 * The interactive client: a select over MENU until Exit. A failed operation is reported
 * like a command's error and the menu comes back; Ctrl-C in a question cancels that
 * operation; Ctrl-C at the menu itself ends faasctl with 130.
 */
export async function runMenu(ctx: Context): Promise<void> {
  if (ctx.io.options.json) throw refuseJson('faasctl menu', INSTEAD);
  if (!ctx.io.stdinIsTTY || !ctx.io.stderrIsTTY) {
    throw new NonInteractiveError('faasctl menu needs a terminal (stdin and stderr)', { code: 'needs_tty', hint: INSTEAD });
  }
  const session: MenuSession = { started: ctx.clock.now() };
  const { choices, byIndex } = menuChoices();
  let last: number | undefined;
  for (;;) {
    ctx.io.err('');
    ctx.io.err(await statusLine(ctx));
    // Ctrl-C here is a CancelledError that leaves the loop: main() exits 130.
    const picked = await ctx.prompter.select<number | typeof EXIT_CHOICE>('faasctl', choices, { pageSize: choices.length, default: last });
    if (picked === EXIT_CHOICE) return;
    last = picked;
    await runAction(ctx, byIndex[picked]!, session);
  }
}

async function runAction(ctx: Context, action: MenuAction, session: MenuSession): Promise<void> {
  try {
    await action.run(ctx, session);
  } catch (err) {
    if (err instanceof CancelledError && err.message === 'cancelled') ctx.io.err(ctx.io.c.dim('cancelled: back to the menu'));
    else reportError(err, ctx.io);
  }
}

/** Numbered choices: typing the number (then Enter) picks it, as in the 2016 client. */
export function menuChoices(): { choices: Array<Choice<number | typeof EXIT_CHOICE>>; byIndex: MenuAction[] } {
  const byIndex: MenuAction[] = [];
  const choices: Array<Choice<number | typeof EXIT_CHOICE>> = [];
  for (const group of MENU) {
    choices.push(`── ${group.heading}`);
    for (const action of group.actions) {
      choices.push({ name: `${String(byIndex.length + 1).padStart(2)}. ${action.label}`, value: byIndex.length });
      byIndex.push(action);
    }
  }
  choices.push({ name: `${String(byIndex.length + 1).padStart(2)}. Exit`, value: EXIT_CHOICE });
  return { choices, byIndex };
}

async function statusLine(ctx: Context): Promise<string> {
  const cfg = await ctx.config();
  const session = await currentSession(ctx);
  const who = session && new Date(session.expiresAt) > ctx.clock.now() ? `logged in as ${ctx.io.c.bold(session.userName)}` : 'not logged in';
  return ctx.io.c.dim(`context ${cfg.contextName.value} · ${who}`);
}
