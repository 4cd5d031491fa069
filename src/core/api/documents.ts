import type { RequestRow } from '../../db/requests-repo.js';
import type { Outcome } from '../invocations/invocation.js';

/**
 * The JSON documents the CLI prints with --json and the HTTP API answers with: one builder for
 * both, so they cannot drift apart (README "Errors and JSON").
 */
export interface OutcomeAbout {
  mode?: string | null;
  version?: number | null;
  node?: string | null;
  attempt?: number;
}

/** `fn invoke --json`, `request wait --json`, `POST /v1/functions/NAME/invoke`. */
export function outcomeDocument(requestId: string | null, o: Outcome, about: OutcomeAbout = {}) {
  const c = o.completion;
  return {
    requestId,
    ...about,
    status: c.status,
    result: c.result ?? null,
    error: o.frame?.error ?? (o.message ? { type: 'PlatformError', message: o.message, traceback: null } : null),
    outputTruncated: c.outputTruncated,
    durationMs: c.durationMs,
    cpuMs: c.cpuMs,
    maxRssKb: c.maxRssKb,
  };
}

/** `fn invoke --async --json` and `POST …/invoke?async=1`. */
export function queuedDocument(i: { requestId: string; functionName: string; version: number; queued?: boolean }) {
  return { requestId: i.requestId, function: i.functionName, version: i.version, status: i.queued ? 'pending' : 'running', queued: Boolean(i.queued) };
}

/** `request show --json` and `GET /v1/requests/ID`: the row with ISO times. */
export function requestDocument(r: RequestRow) {
  return { ...r, createdAt: r.createdAt.toISOString(), startedAt: r.startedAt?.toISOString() ?? null, finishedAt: r.finishedAt?.toISOString() ?? null };
}

const DATES = ['createdAt', 'startedAt', 'finishedAt', 'deadlineAt', 'nextAttemptAt', 'deadAt'] as const;

/** A request document read back (the CLI as the API's client): its times as Dates again. */
export function requestFromDocument(doc: Record<string, unknown>): RequestRow {
  const row = { ...doc } as Record<string, unknown>;
  for (const k of DATES) row[k] = typeof doc[k] === 'string' ? new Date(doc[k] as string) : null;
  return row as unknown as RequestRow;
}
