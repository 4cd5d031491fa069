import { REQUEST_STATUSES, type RequestRow, type RequestStatus } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import type { Actor } from '../users/accounts.js';
import { resolveRequestId } from './request-ids.js';

export interface RequestQuery {
  type?: string;
  status?: string;
  since?: Date;
  limit?: number;
}

export async function listRequests(store: Store, actor: Actor, q: RequestQuery): Promise<RequestRow[]> {
  if (q.status !== undefined && !REQUEST_STATUSES.includes(q.status as RequestStatus)) {
    throw new UsageError(`invalid status "${q.status}"`, { hint: `use one of: ${REQUEST_STATUSES.join(', ')}` });
  }
  const limit = q.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`invalid --limit ${q.limit}`, { hint: 'use a whole number from 1 to 10000' });
  return store.requests.list({ userId: actor.id, type: q.type, status: q.status as RequestStatus | undefined, since: q.since, limit });
}

/** Another user's request is "not found": its existence is not theirs to learn. */
export async function showRequest(store: Store, actor: Actor, id: string): Promise<RequestRow> {
  const row = await store.requests.byId(await resolveRequestId(store, actor, id), actor.id);
  if (!row) throw new NotFoundError(`request ${id} not found`, { hint: 'faasctl request list shows your requests' });
  return row;
}
