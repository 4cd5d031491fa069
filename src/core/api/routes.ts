import type { ServedAnswer as ApiAnswer, ServedCall as ApiCall } from '../../http/server.js';
import { type ExitCode, FaasctlError, NotFoundError, UsageError, BusyError } from '../../base/errors.js';
import { parseDuration, parseSince } from '../../base/durations.js';
import type { RequestRow } from '../../db/requests-repo.js';
import { submitInvocation } from '../dispatch/submit.js';
import { recordedOutcome } from '../dispatch/recorded-outcome.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import { isOpen } from '../invocations/reconcile.js';
import { listRequests, showRequest } from '../requests/requests.js';
import { functionLogs, MAX_TAIL } from '../invocations/function-logs.js';
import type { Actor } from '../users/accounts.js';
import { outcomeDocument, queuedDocument, requestDocument } from './documents.js';
import { httpStatus } from './http-status.js';
import { followRequest, lookAtRequest } from './request-follow.js';
import type { RateLimiter } from './rate-limit.js';
import { checkScope, type Grant, mayRead } from './scope.js';
import { authenticateToken } from './tokens.js';
import { callWebhook } from './webhooks.js';

/**
 * The HTTP API the dispatcher serves (README "The HTTP API"), as a function from a parsed call
 * to an answer: the adapter (src/http/server.ts) owns sockets, TLS and the body limit. Every
 * route but health and hooks takes a bearer token; the caller acts as the token's owner, within
 * the token's functions and scope, and every request row it writes names the token.
 */
/** A parsed call and its answer: the shapes the HTTP adapter serves (one definition, there). */
export type { ServedAnswer as ApiAnswer, ServedCall as ApiCall } from '../../http/server.js';

export interface ApiDeps extends InvokeDeps {
  limiter: RateLimiter;
  /** The dispatcher's private key (PEM) that opens webhook secrets; absent: webhooks are refused. */
  webhookKey?: string;
  /** One line per call for the service's log: method, route, token name, status. Never a token. */
  access?: (line: string) => void;
}

/** `request wait` over HTTP: at most this long per call (a client asks again). */
export const MAX_WAIT_MS = 10 * 60_000;

export async function handleApiCall(deps: ApiDeps, call: ApiCall): Promise<ApiAnswer> {
  let who = '-';
  let answer: ApiAnswer;
  try {
    answer = await route(deps, call, (name) => (who = name));
  } catch (err) {
    answer = errorAnswer(err, deps);
  }
  deps.access?.(`api: ${call.method} ${routeName(call.path)} ${who} → ${answer.status}`);
  return answer;
}

async function route(deps: ApiDeps, call: ApiCall, identify: (who: string) => void): Promise<ApiAnswer> {
  const parts = call.path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'v1') throw new NotFoundError(`no such API path ${routeName(call.path)}`, { code: 'no_route', hint: 'the API lives under /v1 (README "The HTTP API")' });
  const [, a, b, c] = parts;
  if (call.method === 'GET' && a === 'health' && parts.length === 2) return { status: 200, body: { ok: true } };
  if (call.method === 'POST' && a === 'hooks' && b && c && parts.length === 4) {
    identify(`webhook:${b}/${c}`);
    const signed = { user: b, fn: c, body: call.body, signature: call.signature, async: wantsAsync(call), signal: call.signal };
    return invocationAnswer(await callWebhook(deps, signed, () => admit(deps, `webhook:${b}/${c}`)));
  }
  const grant = await authenticateToken(deps, call.bearer);
  identify(`token:${grant.name}`);
  admit(deps, `token:${grant.id}`);
  await deps.store.tokens.touch(grant.id);
  const actor: Actor = { id: grant.userId, name: grant.userName, via: { kind: 'api', tokenId: grant.id, tokenName: grant.name } };
  if (call.method === 'POST' && a === 'functions' && b && c === 'invoke' && parts.length === 4) return invoke(deps, grant, actor, b, call);
  if (call.method === 'GET' && a === 'functions' && b && c === 'logs' && parts.length === 4) return logs(deps, grant, actor, b, call.query);
  if (call.method === 'GET' && a === 'requests' && parts.length === 2) return list(deps, grant, actor, call.query);
  if (call.method === 'GET' && a === 'requests' && b && parts.length === 3) return { status: 200, body: await shown(deps, grant, actor, b) };
  if (call.method === 'GET' && a === 'requests' && b && c === 'wait' && parts.length === 4) return wait(deps, grant, actor, b, call);
  throw new NotFoundError(`no such API route: ${call.method} ${routeName(call.path)}`, {
    code: 'no_route',
    hint: 'a token can invoke, and read requests and logs; anything else needs the CLI with the cluster credentials',
  });
}

function admit(deps: ApiDeps, key: string): void {
  const admission = deps.limiter.take(key);
  if (!admission.ok) throw new RateLimited(admission.retryAfterMs);
}

class RateLimited extends BusyError {
  constructor(readonly retryAfterMs: number) {
    super(`too many calls with this credential: try again in ${Math.ceil(retryAfterMs / 1000)} s`, { code: 'rate_limited', hint: 'slow down; the limit is per token (README "The HTTP API")' });
  }
}

function wantsAsync(call: ApiCall): boolean {
  return ['1', 'true'].includes(call.query.get('async') ?? '') || /\brespond-async\b/.test(call.prefer ?? '');
}

async function invoke(deps: ApiDeps, grant: Grant, actor: Actor, name: string, call: ApiCall): Promise<ApiAnswer> {
  checkScope(grant, 'invoke', name);
  const input = call.body.length ? call.body.toString('utf8') : undefined;
  const refuseWait = async (): Promise<never> => {
    throw new UsageError('idempotency keys are not taken over HTTP');
  };
  return invocationAnswer(await submitInvocation(deps, actor, { name, input, async: wantsAsync(call), signal: call.signal }, refuseWait));
}

export function invocationAnswer(i: Awaited<ReturnType<typeof submitInvocation>>): ApiAnswer {
  if (!i.outcome) return { status: 202, body: queuedDocument(i), headers: exitHeader(0) };
  const about = { mode: i.mode, version: i.version, node: i.outcome.completion.node, attempt: i.attempt ?? 1 };
  return { status: httpStatus(i.outcome.exitCode), body: outcomeDocument(i.requestId, i.outcome, about), headers: exitHeader(i.outcome.exitCode) };
}

/** A row of the owner's that the token may see, else "not found" (its existence is not the token's to learn). */
async function readable(deps: ApiDeps, grant: Grant, actor: Actor, id: string): Promise<RequestRow> {
  const row = await showRequest(deps.store, actor, id);
  if (!mayRead(grant, row.functionName) || row.type !== 'fn.invoke')
    throw new NotFoundError(`request ${id} not found`, { hint: `token "${grant.name}" sees the requests of: ${grant.functions.join(', ')}` });
  return row;
}

async function shown(deps: ApiDeps, grant: Grant, actor: Actor, id: string) {
  const row = await lookAtRequest(deps, actor, (await readable(deps, grant, actor, id)).id);
  const attempts = row.queued && row.attempt > 1 ? await deps.store.queue.attempts(row.id) : undefined;
  return { ...requestDocument(row), ...(attempts ? { attempts } : {}) };
}

async function wait(deps: ApiDeps, grant: Grant, actor: Actor, id: string, call: ApiCall): Promise<ApiAnswer> {
  const row = await readable(deps, grant, actor, id);
  const timeout = Math.min(MAX_WAIT_MS, parseDuration(call.query.get('timeout') ?? '10m', 'timeout'));
  const { row: final, outcome } = await followRequest(deps, actor, row.id, { deadline: deps.clock.now().getTime() + timeout, signal: call.signal });
  if (isOpen(final))
    return { status: 504, body: { ...requestDocument(final), error: { code: 'timeout', message: `request ${final.id} is still ${final.status}`, exitCode: 124 } }, headers: exitHeader(124) };
  const o = outcome ?? recordedOutcome(final);
  const about = { mode: final.mode, version: final.functionVersion, node: final.node, attempt: final.attempt };
  return { status: httpStatus(o.exitCode), body: outcomeDocument(final.id, o, about), headers: exitHeader(o.exitCode) };
}

/** The owner's invocations of the token's functions (or the one named), newest first, as `request list --json`. */
async function list(deps: ApiDeps, grant: Grant, actor: Actor, q: URLSearchParams): Promise<ApiAnswer> {
  const asked = q.get('function');
  if (asked) checkScope(grant, 'read', asked);
  const names = asked ? [asked] : grant.functions;
  const limit = Number(q.get('limit') ?? 50);
  const query = { type: 'fn.invoke', status: q.get('status') ?? undefined, since: q.get('since') ? parseSince(q.get('since') as string, deps.clock.now()) : undefined, limit };
  const pages = await Promise.all(names.map((f) => listRequests(deps.store, actor, { ...query, function: f })));
  const rows = pages.flat().sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (y.id < x.id ? -1 : 1));
  return { status: 200, body: rows.slice(0, limit).map(requestDocument) };
}

async function logs(deps: ApiDeps, grant: Grant, actor: Actor, name: string, q: URLSearchParams): Promise<ApiAnswer> {
  checkScope(grant, 'read', name);
  const tail = Number(q.get('tail') ?? 20);
  if (!Number.isInteger(tail) || tail < 1 || tail > MAX_TAIL) throw new UsageError(`invalid tail ${q.get('tail')}`, { hint: `a whole number from 1 to ${MAX_TAIL}` });
  const since = q.get('since') ? parseSince(q.get('since') as string, deps.clock.now()) : undefined;
  const rows = await functionLogs(deps.store, actor, { functionName: name, status: q.get('status') ?? undefined, since, tail });
  return { status: 200, body: rows.map(requestDocument) };
}

function errorAnswer(err: unknown, deps: ApiDeps): ApiAnswer {
  if (!(err instanceof FaasctlError)) {
    deps.log.debug(`api: ${(err as Error).stack ?? String(err)}`);
    return { status: 500, body: { error: { code: 'internal', message: 'internal error in the faasctl API (see the dispatcher service log with --debug)', exitCode: 1 } }, headers: exitHeader(1) };
  }
  const headers: Record<string, string> = exitHeader(err.exitCode);
  if (err instanceof RateLimited) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  const body = { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode } };
  return { status: httpStatus(err.exitCode, err.code), body, headers };
}

function exitHeader(exitCode: ExitCode | number): Record<string, string> {
  return { 'x-faasctl-exit-code': String(exitCode) };
}

/** The path with ids kept but nothing else (query strings are never logged). */
function routeName(path: string): string {
  return path.split('?')[0]?.slice(0, 200) ?? '';
}
