import { parseDuration } from '../../../base/durations.js';
import { UsageError } from '../../../base/errors.js';
import { login, logout } from '../../../core/users/accounts.js';
import type { Context } from '../../context.js';
import { readPassword } from '../../password-input.js';
import { currentSession, requireActor, saveSession, userDeps } from '../../session.js';
import type { LoginOptions } from './options.js';

export async function runLogin(ctx: Context, user: string, opts: LoginOptions): Promise<void> {
  const ttlHours = parseDuration(opts.ttl, '--ttl') / 3_600_000;
  if (ttlHours <= 0 || ttlHours > 24 * 90) throw new UsageError(`invalid --ttl ${opts.ttl}`, { hint: 'between 1m and 90d' });
  const password = await readPassword(ctx, opts, `Password for ${user}:`);
  const result = await login(await userDeps(ctx), { name: user, password, ttlHours });
  await saveSession(ctx, { userId: result.userId, userName: result.userName, token: result.token, expiresAt: result.expiresAt });
  const context = (await ctx.config()).contextName.value;
  if (ctx.io.options.json) return ctx.io.json({ user: { id: result.userId, name: result.userName }, context, expiresAt: result.expiresAt });
  ctx.io.info(`logged in as ${result.userName} (context "${context}", until ${result.expiresAt})`);
}

export async function runLogout(ctx: Context): Promise<void> {
  const session = await currentSession(ctx);
  if (session) {
    // Ending the server side is best effort: the local token is removed either way.
    await logout(await userDeps(ctx), session.token).catch((err) => ctx.log.debug(`logout: ${(err as Error).message}`));
    await saveSession(ctx, undefined);
  }
  if (ctx.io.options.json) return ctx.io.json({ loggedOut: Boolean(session) });
  ctx.io.info(session ? `logged out ${session.userName}` : 'not logged in');
}

export async function runWhoami(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const session = await currentSession(ctx);
  const context = (await ctx.config()).contextName.value;
  if (ctx.io.options.json) return ctx.io.json({ id: actor.id, name: actor.name, context, expiresAt: session?.expiresAt });
  ctx.io.out(actor.name);
}
