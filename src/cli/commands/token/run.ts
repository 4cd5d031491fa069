import { randomBytes, randomUUID } from 'node:crypto';
import { parseDuration } from '../../../base/durations.js';
import { UsageError } from '../../../base/errors.js';
import { createToken, listTokens, revokeToken, type TokenView } from '../../../core/api/tokens.js';
import type { Context } from '../../context.js';
import { requireActor } from '../../session.js';
import type { TokenCreateOptions } from './options.js';

export async function runTokenCreate(ctx: Context, opts: TokenCreateOptions): Promise<void> {
  if (opts.scope !== undefined && opts.scope !== 'invoke' && opts.scope !== 'read') throw new UsageError(`invalid --scope "${opts.scope}"`, { hint: 'use invoke or read' });
  const ttlMs = parseDuration(opts.expires ?? '30d', '--expires');
  const { actor } = await requireActor(ctx);
  const deps = { store: await ctx.store(), clock: ctx.clock, newId: randomUUID, random: randomBytes };
  const created = await createToken(deps, actor, { functions: opts.fn, scope: (opts.scope ?? 'invoke') as 'invoke' | 'read', ttlMs, name: opts.name });
  if (ctx.io.options.json) return ctx.io.json(created);
  // -q: the token alone, for a pipe into `context add --token-stdin`.
  ctx.io.out(created.token);
  if (!ctx.io.options.quiet) ctx.io.info(`token "${created.name}" (${created.scope}: ${created.functions.join(', ')}) until ${created.expiresAt}; shown once, faasctl keeps only its hash`);
}

export async function runTokenList(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const tokens = await listTokens({ store: await ctx.store(), clock: ctx.clock }, actor);
  if (ctx.io.options.json) return ctx.io.json(tokens);
  if (ctx.io.options.quiet) {
    for (const t of tokens) ctx.io.out(t.name);
    return;
  }
  await ctx.io.table(
    ['name', 'prefix', 'scope', 'functions', 'expires', 'state', 'last used'],
    tokens.map((t) => [t.name, t.prefix, t.scope, t.functions.join(', '), t.expiresAt, state(ctx, t), t.lastUsedAt ?? '-']),
    { dropFirst: ['last used', 'prefix'] },
  );
}

export async function runTokenRevoke(ctx: Context, idOrName: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  const revoked = await revokeToken({ store: await ctx.store(), clock: ctx.clock }, actor, idOrName);
  if (ctx.io.options.json) return ctx.io.json(revoked);
  if (ctx.io.options.quiet) return ctx.io.out(revoked.name);
  ctx.io.info(`revoked token "${revoked.name}" (${revoked.prefix}) at ${revoked.revokedAt}`);
}

function state(ctx: Context, t: TokenView): string {
  return t.state === 'active' ? ctx.io.c.green(t.state) : ctx.io.c.red(t.state);
}
