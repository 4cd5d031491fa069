import { REQUEST_STATUSES, type RequestRow, type RequestStatus } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { validateFunctionName } from '../../base/names.js';
import type { Actor } from '../users/accounts.js';
import { resolveRequestId } from './request-ids.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RequestQuery {
  type?: string;
  status?: string;
  since?: Date;
  /** A function's name: its rows, also those from before it was deleted or re-created. */
  function?: string;
  /** The user.delete records, which outlive their user (user_id NULL): the operator's audit view. */
  deletedUsers?: boolean;
  /** Rows listed after this request id (the last one of the previous page), or older than this time. */
  before?: { id: string } | { time: Date };
  limit?: number;
}

/** A page holds at most this many rows; `before` reaches the older ones. */
export const LIST_LIMIT_MAX = 10_000;

export async function listRequests(store: Store, actor: Actor, q: RequestQuery): Promise<RequestRow[]> {
  if (q.status !== undefined && !REQUEST_STATUSES.includes(q.status as RequestStatus)) {
    throw new UsageError(`invalid status "${q.status}"`, { hint: `use one of: ${REQUEST_STATUSES.join(', ')}` });
  }
  const limit = q.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
    throw new UsageError(`invalid --limit ${q.limit}`, { hint: `use a whole number from 1 to ${LIST_LIMIT_MAX}; --before ID (the last one listed) shows the next page` });
  }
  if (q.before && 'id' in q.before) await cursorRow(store, actor, q.before.id, Boolean(q.deletedUsers));
  const functionName = q.function === undefined ? undefined : validateFunctionName(q.function);
  const before = q.before && 'id' in q.before ? { id: q.before.id.toLowerCase() } : q.before;
  return store.requests.list({ userId: actor.id, unowned: q.deletedUsers, type: q.type, status: q.status as RequestStatus | undefined, since: q.since, functionName, before, limit });
}

/** The cursor must be a row of the listing's own kind: the caller's, or one of no user's. */
async function cursorRow(store: Store, actor: Actor, id: string, unowned: boolean): Promise<void> {
  if (!unowned) return void (await showRequest(store, actor, id));
  const row = UUID.test(id) ? await store.requests.byIdAnyUser(id.toLowerCase()) : undefined;
  if (!row || row.userId !== null) throw new NotFoundError(`request ${id} is not a record of a deleted user`, { hint: 'faasctl request list --deleted-users shows them' });
}

/** Another user's request is "not found": its existence is not theirs to learn. */
export async function showRequest(store: Store, actor: Actor, id: string): Promise<RequestRow> {
  const row = await store.requests.byId(await resolveRequestId(store, actor, id), actor.id);
  if (!row) throw new NotFoundError(`request ${id} not found`, { hint: 'faasctl request list shows your requests' });
  return row;
}
