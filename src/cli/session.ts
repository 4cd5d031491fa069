import { randomUUID } from 'node:crypto';
import { updateContext } from '../config/contexts.js';
import type { Session } from '../config/types.js';
import { AuthError } from '../base/errors.js';
import { authenticate, type Actor, type UserDeps } from '../core/users/accounts.js';
import type { Context } from './context.js';

export async function userDeps(ctx: Context): Promise<UserDeps> {
  return { store: await ctx.store(), clock: ctx.clock, newId: randomUUID };
}

/** The session of the current context, if any. */
export async function currentSession(ctx: Context): Promise<Session | undefined> {
  return (await ctx.config()).context?.session;
}

/** The logged-in user, checked against the database (a deleted user or ended session fails). */
export async function requireActor(ctx: Context): Promise<{ actor: Actor; token: string }> {
  const session = await currentSession(ctx);
  const contextName = (await ctx.config()).contextName.value;
  await ctx.refuseTokenOnly('a logged-in user', !session);
  if (!session) throw new AuthError(`not logged in (context "${contextName}")`, { code: 'not_logged_in', hint: 'run faasctl login USER' });
  if (new Date(session.expiresAt) <= ctx.clock.now()) {
    throw new AuthError(`your session expired at ${session.expiresAt}`, { code: 'session_expired', hint: 'run faasctl login USER' });
  }
  const actor = await authenticate(await userDeps(ctx), session.token);
  return { actor, token: session.token };
}

export async function saveSession(ctx: Context, session: Session | undefined): Promise<void> {
  const { data } = await ctx.configFile();
  const name = (await ctx.config()).contextName.value;
  await ctx.saveConfig(updateContext(data, name, (entry) => ({ ...entry, session })));
}
