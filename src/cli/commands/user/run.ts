import { UsageError } from '../../../base/errors.js';
import { createUser, findUser, updateUser } from '../../../core/users/accounts.js';
import type { Context } from '../../context.js';
import { readNewPassword } from '../../password-input.js';
import { requireActor, saveSession, currentSession, userDeps } from '../../session.js';
import type { UserCreateOptions, UserDeleteOptions, UserUpdateOptions } from './options.js';

export async function runCreate(ctx: Context, name: string | undefined, opts: UserCreateOptions): Promise<void> {
  if (!name) throw new UsageError('user create needs a NAME (or --bulk N --prefix P)', { hint: 'faasctl user create alice' });
  const password = await readNewPassword(ctx, opts);
  const user = await createUser(await userDeps(ctx), { name, password });
  if (ctx.io.options.json) return ctx.io.json(user);
  if (ctx.io.options.quiet) return ctx.io.out(user.id);
  ctx.io.info(`user ${user.name} created; your user id is ${user.id}`);
  ctx.io.info(ctx.io.c.dim(`next: ${ctx.hintFor(`faasctl login ${user.name}`)}`));
}

export async function runUpdate(ctx: Context, opts: UserUpdateOptions): Promise<void> {
  if (opts.name === undefined && !opts.password && !opts.passwordStdin) {
    throw new UsageError('nothing to change', { hint: 'pass --name NEW and/or --password (or --password-stdin)' });
  }
  const { actor, token } = await requireActor(ctx);
  const password = opts.password || opts.passwordStdin ? await readNewPassword(ctx, opts) : undefined;
  const updated = await updateUser(await userDeps(ctx), actor, token, { name: opts.name, password });
  const session = await currentSession(ctx);
  if (session && updated.name !== session.userName) await saveSession(ctx, { ...session, userName: updated.name });
  if (ctx.io.options.json) return ctx.io.json(updated);
  ctx.io.info(`user ${updated.name} updated${password ? '; other sessions were logged out' : ''}`);
}

export async function runDelete(ctx: Context, opts: UserDeleteOptions): Promise<void> {
  const { actor } = await requireActor(ctx);
  if (!opts.yes && !(await ctx.prompter.confirm(`Delete user ${actor.name}${opts.force ? ' and everything they own' : ''}?`))) {
    ctx.io.info('nothing deleted');
    return;
  }
  const { deleteUser } = await import('../../../core/deletes/user-delete.js');
  const { functionDeps } = await import('../../deps.js');
  const deleted = await deleteUser(await functionDeps(ctx), actor, { force: Boolean(opts.force) }).catch(async (err: { code?: string }) => {
    // The user is gone even when the engine's clean-up was cut short: so is the session.
    if (err.code === 'cleanup_incomplete') await saveSession(ctx, undefined);
    throw err;
  });
  await saveSession(ctx, undefined);
  if (ctx.io.options.json) return ctx.io.json(deleted);
  const stopped = deleted.stopped ? `; ${deleted.stopped} running invocation${deleted.stopped === 1 ? '' : 's'} stopped` : '';
  ctx.io.info(`user ${deleted.name} deleted${deleted.functions ? ` with ${deleted.functions} functions` : ''}${stopped}`);
}

export async function runList(ctx: Context, opts: { prefix?: string }): Promise<void> {
  const users = await (await ctx.store()).users.list({ prefix: opts.prefix });
  const view = users.map((u) => ({ id: u.id, name: u.name, createdAt: u.createdAt.toISOString(), functions: u.functions }));
  if (ctx.io.options.json) return ctx.io.json(view);
  if (ctx.io.options.quiet) {
    for (const u of view) ctx.io.out(u.name);
    return;
  }
  await ctx.io.table(
    ['name', 'id', 'functions', 'created'],
    view.map((u) => [u.name, u.id, u.functions, u.createdAt]),
  );
}

export async function runShow(ctx: Context, name: string | undefined): Promise<void> {
  const target = name ?? (await requireActor(ctx)).actor.name;
  const user = await findUser(await userDeps(ctx), target);
  if (ctx.io.options.json) return ctx.io.json(user);
  await ctx.io.table(
    ['field', 'value'],
    [
      ['name', user.name],
      ['id', user.id],
      ['created', user.createdAt],
      ['functions', user.functions],
    ],
  );
}
