import type { Store } from '../../db/store.js';
import type { TokenRow } from '../../db/tokens-repo.js';
import { AuthError, NotFoundError, UsageError } from '../../base/errors.js';
import { validateFunctionName } from '../../base/names.js';
import type { Clock } from '../../base/ports.js';
import type { Actor } from '../users/accounts.js';
import type { Grant, TokenScope } from './scope.js';
import { newTokenValue, sameDigest, tokenPrefix, tokenSha256 } from './token-value.js';

/**
 * `faasctl token create|list|revoke` and the API's check of a presented token (issue 25).
 * A token belongs to a user, covers named functions of theirs and one scope, expires, and can
 * be revoked; the secret is returned once by create and never stored.
 */
export interface TokenDeps {
  store: Store;
  clock: Clock;
  newId: () => string;
  random: (bytes: number) => Buffer;
}

export const MAX_TOKEN_TTL_MS = 366 * 86_400_000;
const LABEL = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  scope: TokenScope;
  functions: string[];
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  state: 'active' | 'expired' | 'revoked';
}

export async function createToken(deps: TokenDeps, actor: Actor, o: { functions: string[]; scope: TokenScope; ttlMs: number; name?: string }): Promise<TokenView & { token: string }> {
  if (!o.functions.length) throw new UsageError('a token needs at least one function: --fn NAME', { code: 'usage' });
  if (o.ttlMs <= 0 || o.ttlMs > MAX_TOKEN_TTL_MS) throw new UsageError('--expires must be between 1s and 366d', { code: 'usage' });
  const functions = [...new Set(o.functions.map((f) => validateFunctionName(f)))];
  // Only the user's own functions: a token can never reach further than its owner.
  for (const name of functions) if (!(await deps.store.functions.current(actor.id, name))) throw new NotFoundError(`you have no function "${name}"`, { hint: 'faasctl fn list shows yours' });
  const { value, prefix } = newTokenValue(deps.random);
  const name = o.name ?? `token-${prefix}`;
  if (!LABEL.test(name)) throw new UsageError(`token name "${name}" is not 1-63 lower-case letters, digits, ".", "_" or "-"`, { code: 'invalid_name' });
  const id = deps.newId();
  const expiresAt = new Date(deps.clock.now().getTime() + o.ttlMs);
  await deps.store.tokens.insert({ id, userId: actor.id, name, prefix, sha256: tokenSha256(value), scope: o.scope, functions, expiresAt });
  const row = await deps.store.tokens.find(actor.id, id);
  return { ...view(row as TokenRow, deps.clock.now()), token: value };
}

export async function listTokens(deps: Pick<TokenDeps, 'store' | 'clock'>, actor: Actor): Promise<TokenView[]> {
  return (await deps.store.tokens.list(actor.id)).map((t) => view(t, deps.clock.now()));
}

export async function revokeToken(deps: Pick<TokenDeps, 'store' | 'clock'>, actor: Actor, idOrName: string): Promise<TokenView> {
  const row = await deps.store.tokens.find(actor.id, idOrName);
  if (!row) throw new NotFoundError(`you have no token "${idOrName}"`, { hint: 'faasctl token list shows yours' });
  const revokedAt = await deps.store.tokens.revoke(row.id);
  return view({ ...row, revokedAt: revokedAt ?? row.revokedAt }, deps.clock.now());
}

/**
 * The grant of a presented bearer value, or an AuthError (exit 7, HTTP 401) saying which: not a
 * token, revoked, expired. The owner's name comes with it: the API acts as that user.
 */
export async function authenticateToken(deps: Pick<TokenDeps, 'store' | 'clock'>, value: string | undefined): Promise<Grant> {
  if (!value) throw new AuthError('no token: send Authorization: Bearer TOKEN', { code: 'token_missing', hint: 'faasctl token create --fn NAME makes one' });
  const prefix = tokenPrefix(value);
  const row = prefix ? await deps.store.tokens.byPrefix(prefix) : undefined;
  if (!row || !sameDigest(row.sha256, tokenSha256(value)))
    throw new AuthError('the token is not valid', { code: 'token_invalid', hint: 'check for a copy mistake, or create a new one: faasctl token create' });
  if (row.revokedAt) throw new AuthError(`token "${row.name}" was revoked at ${row.revokedAt.toISOString()}`, { code: 'token_revoked', hint: 'ask its owner for a new one (faasctl token create)' });
  if (row.expiresAt <= deps.clock.now())
    throw new AuthError(`token "${row.name}" expired at ${row.expiresAt.toISOString()}`, { code: 'token_expired', hint: 'ask its owner for a new one (faasctl token create --expires 30d)' });
  return { id: row.id, name: row.name, userId: row.userId, userName: row.userName, scope: row.scope, functions: row.functions };
}

function view(t: TokenRow, now: Date): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: `fct_${t.prefix}`,
    scope: t.scope,
    functions: t.functions,
    expiresAt: t.expiresAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
    state: t.revokedAt ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active',
  };
}
