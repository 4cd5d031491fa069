import { ForbiddenError } from '../../base/errors.js';

/** What a token allows: `invoke` (run, and read what it ran) or `read` (request status and logs only). */
export type TokenScope = 'invoke' | 'read';
export type Verb = 'invoke' | 'read';

export interface Grant {
  id: string;
  name: string;
  userId: string;
  userName: string;
  scope: TokenScope;
  functions: string[];
}

const ALLOWS: Record<TokenScope, readonly Verb[]> = { invoke: ['invoke', 'read'], read: ['read'] };

/** Refuses (exit 10, HTTP 403) a verb or a function the token was not given. */
export function checkScope(grant: Grant, verb: Verb, fn: string): void {
  if (!ALLOWS[grant.scope].includes(verb))
    throw new ForbiddenError(`token "${grant.name}" has scope ${grant.scope}: it may not ${verb} ${fn}`, {
      code: 'token_scope',
      hint: `faasctl token create --fn ${fn} --scope ${verb} gives a token that may`,
    });
  if (!grant.functions.includes(fn))
    throw new ForbiddenError(`token "${grant.name}" may not ${verb} function "${fn}" (it covers: ${grant.functions.join(', ')})`, {
      code: 'token_scope',
      hint: `faasctl token create --fn ${fn} gives a token for it`,
    });
}

/** Whether a request row of the token's owner may be shown to it: one of its functions, any verb it has. */
export function mayRead(grant: Grant, functionName: string | null): boolean {
  return functionName !== null && grant.functions.includes(functionName);
}
