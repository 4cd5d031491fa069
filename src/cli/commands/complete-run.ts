import type { Command } from 'commander';
import { listContexts } from '../../config/contexts.js';
import { listFunctions } from '../../core/functions/queries.js';
import { listRequests } from '../../core/requests/requests.js';
import type { Context } from '../context.js';
import { requireActor } from '../session.js';
import { completionFor } from './complete-words.js';

/** A completion must not keep a shell waiting: an unreachable database gives no names, quickly. */
const CONNECT_TIMEOUT_MS = 1500;
/** Request ids offered: the newest of the user's. */
const RECENT_REQUESTS = 50;

/**
 * `faasctl __complete -- WORDS…`: the candidates for the last word, one a line. Names come from
 * the current context (or the `--context` among the words); any failure (offline, not logged
 * in) prints nothing and exits 0, so the shell falls back to files.
 */
export async function runComplete(ctx: Context, program: Command, words: string[]): Promise<void> {
  const { completion, flags } = completionFor(program, words.length ? words : ['']);
  const current = words.at(-1) ?? '';
  if (Object.keys(flags).length) ctx.setGlobals({ ...ctx.globals, ...flags });
  ctx.databaseConnectTimeoutMs = CONNECT_TIMEOUT_MS;
  const names = await candidates(ctx, completion).catch((err: Error) => {
    ctx.log.debug(`completion: ${err.message}`);
    return [];
  });
  const matching = names.filter((n) => n.startsWith(current));
  if (ctx.io.options.json) return ctx.io.json(matching);
  if (matching.length) ctx.io.out(matching.join('\n'));
}

async function candidates(ctx: Context, completion: ReturnType<typeof completionFor>['completion']): Promise<string[]> {
  switch (completion.kind) {
    case 'words':
      return completion.words;
    case 'files':
      return [];
    case 'contexts':
      return listContexts((await ctx.configFile()).data).map((c) => c.name);
    case 'functions': {
      const { actor } = await requireActor(ctx);
      return (await listFunctions(await ctx.store(), actor)).map((f) => f.name);
    }
    case 'requests': {
      const { actor } = await requireActor(ctx);
      return (await listRequests(await ctx.store(), actor, { limit: RECENT_REQUESTS })).map((r) => r.id);
    }
  }
}
