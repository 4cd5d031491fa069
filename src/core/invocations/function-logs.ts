import { REQUEST_STATUSES, type RequestRow, type RequestStatus } from '../../db/requests-repo.js';
import type { Store } from '../../db/store.js';
import type { LogStream } from '../../swarm/log-demux.js';
import { LABELS } from '../../swarm/labels.js';
import { UsageError } from '../../base/errors.js';
import { validateFunctionName } from '../../base/names.js';
import { functionNotFound } from '../functions/lookup.js';
import type { Actor } from '../users/accounts.js';
import { InvocationOutput } from './invocation-output.js';
import { nonceOf, ROW_OUTPUT_LIMIT, type InvocationDeps } from './invocation.js';

/**
 * `faasctl logs FN`: a function's invocations read from the request log, oldest first, each
 * with the output it stored; with --follow, each new one as it ends and, for a cold job while
 * it runs, its live output from its own service's log (the stream `fn invoke` relays). A warm
 * call is shown when it ends: its output travels in the replica's answer, and the replica's
 * engine log (one per replica, shared by every call it serves) cannot be told apart per call.
 */

export interface LogsQuery {
  functionName: string;
  status?: string;
  since?: Date;
  /** The newest this many. */
  tail: number;
}

/** What --follow reports, in order per request: start, output…, then request once it ended. */
export type LogEvent = { kind: 'request'; row: RequestRow; streamed: boolean } | { kind: 'start'; row: RequestRow } | { kind: 'output'; requestId: string; stream: LogStream; text: string };

export const MAX_TAIL = 10_000;
/** How late a row may be written after the time it says it ended and still be followed. */
const LATE_MS = 5_000;
const PAGE = 1000;
const OPEN_LIMIT = 100;
const POLL_MS = 500;
/** Once its row ended, how long a live stream may still take to deliver its last lines. */
const DRAIN_MS = 2_000;
const ZERO_ID = '00000000-0000-0000-0000-000000000000';

interface Checked {
  functionName: string;
  status?: RequestStatus;
  since?: Date;
  limit: number;
}

function check(q: LogsQuery): Checked {
  if (q.status !== undefined && !REQUEST_STATUSES.includes(q.status as RequestStatus)) {
    throw new UsageError(`invalid status "${q.status}"`, { hint: `use one of: ${REQUEST_STATUSES.join(', ')}` });
  }
  if (!Number.isInteger(q.tail) || q.tail < 1 || q.tail > MAX_TAIL) throw new UsageError(`invalid --tail ${q.tail}`, { hint: `use a whole number from 1 to ${MAX_TAIL}` });
  return { functionName: validateFunctionName(q.functionName), status: q.status as RequestStatus | undefined, since: q.since, limit: q.tail };
}

/** The newest invocations, oldest first. A name with neither a function nor a logged run is "not found". */
export async function functionLogs(store: Store, actor: Actor, q: LogsQuery): Promise<RequestRow[]> {
  const c = check(q);
  const rows = await store.logs.tail({ userId: actor.id, ...c });
  if (!rows.length && !(await store.functions.current(actor.id, c.functionName))) throw functionNotFound(c.functionName);
  return rows;
}

export interface FollowOptions {
  signal: AbortSignal;
  onEvent: (event: LogEvent) => void;
}

interface Live {
  done: Promise<void>;
  stop: AbortController;
  relayed: boolean;
}

/**
 * The tail (ended rows only: an open one is followed like a new one), then every invocation
 * that ends, until the signal. Rows end out of order (each writer stamps its own end), so ended
 * rows are read again LATE_MS back and those already told are skipped.
 */
export async function followLogs(deps: InvocationDeps, actor: Actor, q: LogsQuery, o: FollowOptions): Promise<void> {
  const c = check(q);
  if (!(await deps.store.functions.current(actor.id, c.functionName))) throw functionNotFound(c.functionName);
  const scope = { userId: actor.id, functionName: c.functionName };
  const told = new Map<string, number>();
  let newest = deps.clock.now().getTime();
  const readEnded = async (each: (row: RequestRow) => Promise<void>) => {
    for (let key = { at: new Date(newest - LATE_MS), id: ZERO_ID }; ; ) {
      const page = await deps.store.logs.endedAfter({ ...scope, ...key, limit: PAGE });
      for (const row of page) {
        const at = row.finishedAt!.getTime();
        key = { at: row.finishedAt!, id: row.id };
        if (told.has(row.id)) continue;
        told.set(row.id, at);
        newest = Math.max(newest, at);
        await each(row);
      }
      if (page.length < PAGE) return;
    }
  };
  // What had ended before the tail was read is the tail's to show, or too old to.
  await readEnded(async () => {});
  for (const row of await deps.store.logs.tail({ userId: actor.id, ...c })) {
    if (row.finishedAt === null) continue;
    told.set(row.id, row.finishedAt.getTime());
    o.onEvent({ kind: 'request', row, streamed: false });
  }
  const wantsLive = c.status === undefined || c.status === 'running';
  const live = new Map<string, Live>();
  try {
    while (!o.signal.aborted) {
      if (wantsLive) {
        for (const row of await deps.store.logs.open({ ...scope, limit: OPEN_LIMIT })) {
          if (!live.has(row.id) && row.mode === 'cold' && row.status === 'running') await attach(deps, row, live, o);
        }
      }
      await readEnded(async (row) => {
        const streamed = await detach(deps, live, row.id);
        if (c.status === undefined || row.status === c.status) o.onEvent({ kind: 'request', row, streamed });
      });
      for (const [id, at] of told) if (at < newest - 2 * LATE_MS) told.delete(id);
      await sleepUnlessAborted(deps, POLL_MS, o.signal);
    }
  } finally {
    for (const l of live.values()) l.stop.abort();
    await Promise.all([...live.values()].map((l) => l.done));
  }
}

/** Starts relaying a running cold job's own log (from its start); nothing when its service is not there. */
async function attach(deps: InvocationDeps, row: RequestRow, live: Map<string, Live>, o: FollowOptions): Promise<void> {
  const [service] = await deps.swarm.listServices([`${LABELS.request}=${row.id}`]);
  const nonce = service && nonceOf(service.env);
  if (!service || !nonce) return;
  const entry: Live = { stop: new AbortController(), relayed: false, done: Promise.resolve() };
  o.onEvent({ kind: 'start', row });
  const out = new InvocationOutput(nonce, ROW_OUTPUT_LIMIT, (stream, text) => {
    if (!text) return;
    entry.relayed = true;
    o.onEvent({ kind: 'output', requestId: row.id, stream, text });
  });
  entry.done = (async () => {
    for await (const chunk of deps.swarm.serviceLogs(service.id, { follow: true, signal: entry.stop.signal })) {
      out.push(chunk);
      if (out.complete) break;
    }
  })()
    .catch((err: Error) => deps.log.debug(`logs of ${service.id}: ${err.message}`))
    .finally(() => out.end());
  live.set(row.id, entry);
}

/** The row ended: its live stream gets a moment for its last lines, then stops. Answers whether it relayed anything. */
async function detach(deps: InvocationDeps, live: Map<string, Live>, id: string): Promise<boolean> {
  const entry = live.get(id);
  if (!entry) return false;
  await Promise.race([entry.done, deps.sleep(DRAIN_MS)]);
  entry.stop.abort();
  await entry.done;
  live.delete(id);
  return entry.relayed;
}

function sleepUnlessAborted(deps: InvocationDeps, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void deps.sleep(ms).then(done);
  });
}
