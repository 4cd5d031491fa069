import type { Store } from '../../db/store.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import type { Actor } from '../users/accounts.js';

/**
 * A request id as a user types it: the whole UUID, or a unique prefix of it (the 12 characters
 * a terminal shows, or fewer), as docker takes id prefixes. Only the user's own requests count,
 * so another user's cannot make a prefix ambiguous (or reveal that it exists).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A UUID's beginning: hex digits with its dashes where a UUID has them. */
const PREFIX = /^[0-9a-f]{1,8}(-[0-9a-f]{0,4}(-[0-9a-f]{0,4}(-[0-9a-f]{0,4}(-[0-9a-f]{0,12})?)?)?)?$/;

export async function resolveRequestId(store: Store, actor: Actor, typed: string): Promise<string> {
  const id = typed.trim().toLowerCase();
  if (UUID.test(id)) return id;
  if (!PREFIX.test(id))
    throw new UsageError(`invalid request id "${typed}"`, { hint: 'request ids look like 3f2b8c1e-0d4a-…, or a unique beginning such as 3f2b8c1e-0d4; faasctl request list shows yours' });
  const hex = id.replaceAll('-', '');
  const bound = (fill: string) => toUuid(hex + fill.repeat(32 - hex.length));
  const matches = await store.logs.idsBetween(actor.id, bound('0'), bound('f'), 3);
  if (matches.length === 1) return matches[0]!;
  if (!matches.length) throw new NotFoundError(`no request of yours starts with "${typed}"`, { hint: 'faasctl request list shows your requests' });
  throw new UsageError(
    `request id "${typed}" is ambiguous: ${matches.length > 2 ? 'several' : 'two'} of your requests start with it (${matches.slice(0, 2).join(', ')}${matches.length > 2 ? ', …' : ''})`,
    {
      code: 'ambiguous_id',
      hint: 'give more of the id',
    },
  );
}

function toUuid(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;
}
