import { readFile, stat } from 'node:fs/promises';
import { listFunctions } from '../../../core/functions/queries.js';
import { NotFoundError, UsageError } from '../../../base/errors.js';
import { listRequests } from '../../../core/requests/requests.js';
import type { Context } from '../../context.js';
import { requireActor } from '../../session.js';
import { textOf } from '../../text-input.js';

/** What the menu remembers between operations. */
export interface MenuSession {
  /** Requests created from here on are "this session's" (the old client kept their ids). */
  started: Date;
  /** The last path given to each file prompt (code, input, report): each has its own default. */
  lastFile: Record<string, string | undefined>;
  lastUser?: string;
}

/** A function of the logged-in user, picked from the database. */
export async function pickFunction(ctx: Context, message: string): Promise<string> {
  const { actor } = await requireActor(ctx);
  const fns = await listFunctions(await ctx.store(), actor);
  if (!fns.length) throw new NotFoundError('you have no functions yet', { hint: 'create one first: 3. Create a function from a file' });
  const choices = fns.map((f) => ({ name: f.name, value: f.name, description: `v${f.currentVersion} of ${f.versions}, ${f.format}${f.warmReplicas ? `, ${f.warmReplicas} warm` : ''}` }));
  return ctx.prompter.select(message, choices, { pageSize: 12 });
}

/** One of the user's requests, newest first: this session's, or the last 30. */
export async function pickRequest(ctx: Context, session: MenuSession | undefined, message: string): Promise<string> {
  const { actor } = await requireActor(ctx);
  const rows = await listRequests(await ctx.store(), actor, { since: session?.started, limit: 30 });
  if (!rows.length) throw new NotFoundError(session ? 'no requests in this session yet' : 'you have no requests yet');
  const choices = rows.map((r) => ({ name: `${r.id.slice(0, 8)}  ${r.type.padEnd(15)} ${r.status.padEnd(17)} ${r.functionName ?? (r.params as { name?: string }).name ?? ''}`, value: r.id }));
  return ctx.prompter.select(message, choices, { pageSize: 12 });
}

/** A path to an existing file (re-asked until it is one). */
export async function askFile(ctx: Context, session: MenuSession, message: string, kind: 'code' | 'input'): Promise<string> {
  const path = (await ctx.prompter.input(message, { default: session.lastFile[kind], validate: (v) => (v.trim() ? true : 'a file path') })).trim();
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw new UsageError(`${path} is not a file`);
  session.lastFile[kind] = path;
  return path;
}

/** The input document: typed JSON, a JSON file (the old client's way) or none. */
export async function askInput(ctx: Context, session: MenuSession): Promise<string | undefined> {
  const source = await ctx.prompter.select('Input', [
    { name: 'type JSON', value: 'typed' },
    { name: 'from a JSON file', value: 'file' },
    { name: 'no input', value: 'none' },
  ]);
  if (source === 'none') return undefined;
  if (source === 'typed') return ctx.prompter.input('Input JSON', { validate: isJson });
  const path = await askFile(ctx, session, 'JSON file', 'input');
  const text = textOf(await readFile(path), path, 'the input is one JSON document');
  const valid = isJson(text);
  if (valid !== true) throw new UsageError(`${path}: ${valid}`);
  return text;
}

export async function askCount(ctx: Context, message: string, fallback = '5'): Promise<string> {
  const n = await ctx.prompter.input(message, { default: fallback, validate: (v) => (/^[1-9]\d{0,4}$/.test(v.trim()) ? true : 'a whole number from 1 to 99999') });
  return n.trim();
}

export async function askName(ctx: Context, message: string, fallback?: string): Promise<string> {
  return (await ctx.prompter.input(message, { default: fallback, validate: (v) => (v.trim() ? true : 'required') })).trim();
}

function isJson(text: string): true | string {
  try {
    JSON.parse(text);
    return true;
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
}
