import { bulkExitCode, bulkNames, runBulk, type BulkItem } from '../../../base/bulk.js';
import { UsageError, AlreadyReported, EXIT } from '../../../base/errors.js';
import { validatePrefix } from '../../../base/names.js';
import { createUser, updateUser } from '../../../core/users/accounts.js';
import { deleteUser } from '../../../core/deletes/user-delete.js';
import { functionDeps } from '../../deps.js';
import type { Context } from '../../context.js';
import { readNewPassword } from '../../password-input.js';
import { progressReporter } from '../../progress.js';
import { userDeps } from '../../session.js';
import type { UserCreateOptions, UserDeleteOptions, UserUpdateOptions } from './options.js';

export async function runBulkCreate(ctx: Context, name: string | undefined, opts: UserCreateOptions): Promise<void> {
  if (name) throw new UsageError('give either a NAME or --bulk N --prefix P, not both');
  const count = Number(opts.bulk);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new UsageError(`invalid --bulk ${opts.bulk}`, { hint: 'a whole number from 1 to 10000' });
  const prefix = validatePrefix(opts.prefix);
  const concurrency = positive(opts.concurrency, '--concurrency');
  const password = await readNewPassword(ctx, opts);
  const deps = await userDeps(ctx);
  const progress = await progressReporter(ctx, `creating ${count} users`);
  const items = await runBulk(
    bulkNames(prefix, count),
    (n) => n,
    (n) => createUser(deps, { name: n, password }),
    { concurrency, onProgress: progress.update },
  );
  progress.done();
  report(ctx, 'created', items);
}

/** `only`: the users among them that may go (the menu's: owning nothing, not the one logged in). */
export async function runBulkDelete(ctx: Context, opts: UserDeleteOptions, only: (u: { id: string; functions: number }) => boolean = () => true): Promise<void> {
  const prefix = validatePrefix(opts.prefix);
  const deps = await functionDeps(ctx);
  const users = (await deps.store.users.list({ prefix })).filter(only);
  if (users.length && !opts.yes && !(await ctx.prompter.confirm(`Delete ${users.length} users whose names start with "${prefix}"${opts.force ? ' and everything they own' : ''}?`))) {
    ctx.io.info('nothing deleted');
    return;
  }
  const progress = await progressReporter(ctx, `deleting ${users.length} users`);
  const items = await runBulk(
    users,
    (u) => u.name,
    (u) => deleteUser(deps, u, { force: Boolean(opts.force) }),
    { concurrency: 4, onProgress: progress.update },
  );
  progress.done();
  report(ctx, 'deleted', items);
}

/** The old client's bulk update: a new password and/or a new name prefix for every user named P…. */
export async function runBulkUpdate(ctx: Context, opts: UserUpdateOptions): Promise<void> {
  const prefix = validatePrefix(opts.prefix);
  const newPrefix = opts.newPrefix === undefined ? undefined : validatePrefix(opts.newPrefix);
  if (opts.name !== undefined) throw new UsageError('with --prefix, rename with --new-prefix Q (P1 becomes Q1), not --name');
  if (newPrefix === undefined && !opts.password && !opts.passwordStdin) throw new UsageError('nothing to change', { hint: 'pass --password (or --password-stdin) and/or --new-prefix Q' });
  const deps = await userDeps(ctx);
  const users = await deps.store.users.list({ prefix });
  const password = opts.password || opts.passwordStdin ? await readNewPassword(ctx, opts) : undefined;
  const progress = await progressReporter(ctx, `updating ${users.length} users`);
  // No session of theirs is kept: the empty token matches none, so a new password ends them all.
  const change = (u: { id: string; name: string }) => updateUser(deps, u, '', { name: newPrefix === undefined ? undefined : newPrefix + u.name.slice(prefix.length), password });
  const items = await runBulk(users, (u) => u.name, change, { concurrency: 4, onProgress: progress.update });
  progress.done();
  report(ctx, 'updated', items);
}

function report(ctx: Context, verb: string, items: Array<BulkItem<{ id: string }>>): void {
  printReport(ctx, verb, items);
  const code = bulkExitCode(items);
  if (code !== EXIT.ok) throw new AlreadyReported(code);
}

function printReport(ctx: Context, verb: string, items: Array<BulkItem<{ id: string }>>): void {
  const failed = items.filter((i) => !i.ok);
  if (ctx.io.options.json) {
    ctx.io.json({ succeeded: items.length - failed.length, failed: failed.length, items: items.map((i) => ({ index: i.index, name: i.name, ok: i.ok, id: i.value?.id, error: i.error })) });
    return;
  }
  for (const i of items) {
    if (i.ok && ctx.io.options.quiet) ctx.io.out(i.name);
    else if (!i.ok) ctx.io.err(`${ctx.io.c.red('failed:')} ${i.name}: ${i.error?.message}`);
  }
  ctx.io.info(`${items.length - failed.length} ${verb}, ${failed.length} failed`);
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`invalid ${flag} ${value}`, { hint: 'a whole number from 1 to 64' });
  return n;
}
