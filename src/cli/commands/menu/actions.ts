import { isOpen, reconcileInvocation } from '../../../core/invocations/reconcile.js';
import { listRequests } from '../../../core/requests/requests.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';
import * as authRun from '../auth/run.js';
import * as fnBulk from '../fn/bulk.js';
import { invokeInputs } from '../fn/invoke-bulk.js';
import { runInvoke } from '../fn/invoke.js';
import * as fnRun from '../fn/run.js';
import * as requestRun from '../request/run.js';
import * as userBulk from '../user/bulk.js';
import * as userRun from '../user/run.js';
import { askCount, askFile, askInput, askName, pickFunction, pickRequest, type MenuSession } from './pickers.js';

/**
 * One entry of the menu. Each asks its questions, then calls the same command function
 * (and so the same use case in src/core) that `faasctl …` runs with flags.
 */
export interface MenuAction {
  label: string;
  /** Where the 2016 client had it: its option number, shown and typed. Entries it did not have are numbered from 16 (15 was its exit). */
  old?: number;
  run: (ctx: Context, session: MenuSession) => Promise<void>;
}

export interface MenuGroup {
  heading: string;
  actions: MenuAction[];
}

export const MENU: MenuGroup[] = [
  {
    heading: 'Account',
    actions: [
      { label: 'Log in', run: login },
      {
        label: 'Create a user',
        old: 0,
        run: async (ctx, s) => {
          s.lastUser = await askName(ctx, 'New user name');
          return userRun.runCreate(ctx, s.lastUser, { concurrency: '4' });
        },
      },
      { label: 'Update my user (name, password)', old: 1, run: updateUser },
      { label: 'Delete my user', old: 2, run: deleteMyUser },
    ],
  },
  {
    heading: 'Functions',
    actions: [
      { label: 'List my functions', run: (ctx) => fnRun.runList(ctx) },
      { label: 'Create a function from a file', old: 3, run: deploy },
      { label: 'Update a function from a file', old: 4, run: async (ctx, s) => fnRun.runUpdate(ctx, await pickFunction(ctx, 'Function to update'), await askFile(ctx, s, 'Python file', 'code'), {}) },
      { label: 'Delete a function', old: 5, run: deleteFunction },
      {
        label: 'Execute a function (answers a request id)',
        old: 6,
        run: async (ctx, s) => runInvoke(ctx, await pickFunction(ctx, 'Function to execute'), { data: await askInput(ctx, s), async: true }),
      },
      { label: 'Invoke a function with live output', run: async (ctx, s) => runInvoke(ctx, await pickFunction(ctx, 'Function to invoke'), { data: await askInput(ctx, s) }) },
      { label: 'Execute a function N times (bulk)', old: 13, run: bulkExecute },
    ],
  },
  {
    heading: 'Bulk',
    actions: [
      {
        label: 'Create users in bulk',
        old: 7,
        run: async (ctx) => userBulk.runBulkCreate(ctx, undefined, { prefix: await askName(ctx, 'Name prefix'), bulk: await askCount(ctx, 'How many users'), concurrency: '4' }),
      },
      { label: 'Update users in bulk', old: 8, run: bulkUpdateUsers },
      { label: 'Delete users in bulk (owning nothing)', old: 9, run: bulkDeleteUsers },
      {
        label: 'Create functions in bulk',
        old: 10,
        run: async (ctx, s) => fnBulk.runBulkDeploy(ctx, await askFile(ctx, s, 'Python file', 'code'), { prefix: await askName(ctx, 'Name prefix'), bulk: await askCount(ctx, 'How many functions') }),
      },
      {
        label: 'Update functions in bulk',
        old: 11,
        run: async (ctx, s) => fnBulk.runBulkUpdate(ctx, await askFile(ctx, s, 'Python file', 'code'), undefined, { prefix: await askName(ctx, 'Update functions whose names start with') }),
      },
      { label: 'Delete functions in bulk', old: 12, run: bulkDeleteFunctions },
    ],
  },
  {
    heading: 'Requests',
    actions: [
      { label: 'Show a request', run: async (ctx) => requestRun.runShow(ctx, await pickRequest(ctx, undefined, 'Request')) },
      { label: 'Poll one request of this session', run: async (ctx, s) => requestRun.runShow(ctx, await pickRequest(ctx, s, 'Request')) },
      { label: 'Poll all requests of this session', old: 14, run: pollAll },
      { label: 'Dead letters: list, redrive one', run: deadLetters },
      { label: 'Schedules: list, show, pause or resume', run: schedules },
    ],
  },
  {
    heading: 'Monitoring',
    actions: [
      { label: 'Stats of my functions', run: async (ctx) => (await import('../stats-run.js')).runStats(ctx, undefined, { since: await askSince(ctx) }) },
      { label: 'Top: live view (q goes back)', run: async (ctx) => (await import('../top-run.js')).runTop(ctx, { interval: '2' }) },
      { label: 'Report: an HTML file of the stats', run: report },
    ],
  },
];

async function askSince(ctx: Context): Promise<string> {
  return askName(ctx, 'Since (a duration such as 1h, 2d, or an ISO time)', '24h');
}

async function report(ctx: Context, s: MenuSession): Promise<void> {
  const out = (await ctx.prompter.input('Write the report to', { default: s.lastFile.report ?? 'faasctl-report.html', validate: (v) => (v.trim() ? true : 'a file path') })).trim();
  s.lastFile.report = out;
  await (await import('../report-run.js')).runReport(ctx, { out, since: await askSince(ctx) });
}

/** The main question first; what goes with the user second. */
async function deleteMyUser(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  if (!(await ctx.prompter.confirm(`Delete your user ${actor.name}?`, false))) return ctx.io.info('nothing deleted');
  const owns = await (await ctx.store()).users.functionCount(actor.id);
  const force = owns > 0 && (await ctx.prompter.confirm(`It owns ${owns} function${owns === 1 ? '' : 's'}: delete them with it (their requests too)?`, false));
  if (owns > 0 && !force) return ctx.io.info('nothing deleted: delete its functions first, or answer yes');
  await userRun.runDelete(ctx, { yes: true, force });
}

/**
 * Only users that own nothing, and not the one logged in ("Delete my user" is for that): no
 * one's functions or history go with a prefix typed in a menu. The count is typed to confirm.
 */
async function bulkDeleteUsers(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const prefix = await askName(ctx, 'Delete users whose names start with');
  const all = await (await ctx.store()).users.list({ prefix });
  const only = (u: { id: string; functions: number }) => u.id !== actor.id && u.functions === 0;
  const users = all.filter(only);
  const kept = all.length - users.length;
  const note = kept ? ` (${kept} kept: you, or owning functions)` : '';
  if (!users.length) return ctx.io.info(`no user to delete whose name starts with "${prefix}"${note}`);
  if (!(await typedCount(ctx, users.length, `users (${sample(users.map((u) => u.name))})${note}`))) return;
  await userBulk.runBulkDelete(ctx, { prefix, yes: true }, only);
}

async function bulkDeleteFunctions(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const prefix = await askName(ctx, 'Delete functions whose names start with');
  const { functionsWithPrefix } = await import('../../../core/functions/bulk-deploy.js');
  const fns = await functionsWithPrefix(await ctx.store(), actor, prefix);
  if (!fns.length) return ctx.io.info(`you have no function whose name starts with "${prefix}"`);
  if (!(await typedCount(ctx, fns.length, `functions with all their versions (${sample(fns.map((f) => f.name))})`))) return;
  await fnBulk.runBulkDelete(ctx, undefined, { prefix, yes: true });
}

/** A destructive bulk action goes ahead only when the number of what it deletes is typed. */
async function typedCount(ctx: Context, count: number, what: string): Promise<boolean> {
  ctx.io.err(`This deletes ${count} ${what}.`);
  const typed = (
    await ctx.prompter.input(`Type ${count} to delete them (empty: keep them)`, { validate: (v) => (v.trim() === '' || v.trim() === String(count) ? true : `type ${count}, or nothing to keep them`) })
  ).trim();
  if (typed !== String(count)) ctx.io.info('nothing deleted');
  return typed === String(count);
}

function sample(names: string[]): string {
  return names.length > 3 ? `${names.slice(0, 3).join(', ')}, …` : names.join(', ');
}

/** The schedules as `schedule ls` shows them; one picked is shown with its last slots, then paused, resumed or left. */
async function schedules(ctx: Context): Promise<void> {
  const run = await import('../schedule/run.js');
  await run.runScheduleList(ctx);
  const { actor } = await requireActor(ctx);
  const { listSchedules } = await import('../../../core/schedules/schedules.js');
  const rows = await listSchedules({ store: await ctx.store() }, actor);
  if (!rows.length) return;
  const none = '';
  const choices = [{ name: 'none: back to the menu', value: none }, ...rows.map((r) => ({ name: `${r.name}  ${r.functionName}${r.paused ? '  (paused)' : ''}`, value: r.name }))];
  const name = await ctx.prompter.select('Schedule to show', choices, { pageSize: 12 });
  if (name === none) return;
  await run.runScheduleShow(ctx, name);
  await run.runScheduleHistory(ctx, name, { limit: '10' });
  const paused = rows.find((r) => r.name === name)?.paused;
  const change = await ctx.prompter.select('Change it?', [
    { name: 'no', value: 'no' },
    { name: paused ? 'resume it' : 'pause it', value: paused ? 'resume' : 'pause' },
  ]);
  if (change !== 'no') await run.runSchedulePause(ctx, name, change === 'pause');
}

/** The dead letters as `dlq list` shows them, then one picked to queue again (or none). */
async function deadLetters(ctx: Context): Promise<void> {
  const dlq = await import('../dlq/run.js');
  await dlq.runDlqList(ctx, {});
  const { actor } = await requireActor(ctx);
  const { listDeadLetters } = await import('../../../core/dispatch/dead-letters.js');
  const rows = await listDeadLetters({ store: await ctx.store() }, actor, undefined, 30);
  if (!rows.length) return;
  const none = 'none';
  const choices = [{ name: 'none: back to the menu', value: none }, ...rows.map((r) => ({ name: `${r.id.slice(0, 8)}  ${r.functionName ?? ''}  ${r.status}`, value: r.id }))];
  const picked = await ctx.prompter.select('Redrive (queue again with its input)', choices, { pageSize: 12 });
  if (picked !== none) await dlq.runDlqRedrive(ctx, [picked]);
}

async function login(ctx: Context, s: MenuSession): Promise<void> {
  const name = await askName(ctx, 'User name', s.lastUser);
  await authRun.runLogin(ctx, name, { ttl: '12h' });
  s.lastUser = name;
}

async function updateUser(ctx: Context): Promise<void> {
  const name = (await ctx.prompter.input('New user name (empty: keep)')).trim();
  const password = await ctx.prompter.confirm('Set a new password?', false);
  if (!name && !password) return ctx.io.info('nothing changed');
  await userRun.runUpdate(ctx, { name: name || undefined, password });
}

async function deploy(ctx: Context, s: MenuSession): Promise<void> {
  const file = await askFile(ctx, s, 'Python file', 'code');
  const fallback = file
    .replace(/^.*\//, '')
    .replace(/\.py$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');
  await fnRun.runDeploy(ctx, file, { name: await askName(ctx, 'Function name', fallback) });
}

async function deleteFunction(ctx: Context): Promise<void> {
  const name = await pickFunction(ctx, 'Function to delete');
  if (await ctx.prompter.confirm(`Delete ${name} with all its versions?`, false)) await fnRun.runDelete(ctx, name);
  else ctx.io.info('nothing deleted');
}

async function bulkExecute(ctx: Context, s: MenuSession): Promise<void> {
  const name = await pickFunction(ctx, 'Function to execute');
  const input = await askInput(ctx, s);
  const count = Number(await askCount(ctx, 'How many times'));
  // A table of the answers and the summary: NDJSON is for scripts.
  await invokeInputs(
    ctx,
    name,
    Array.from({ length: count }, () => input ?? 'null'),
    { cold: false, table: true },
  );
}

async function bulkUpdateUsers(ctx: Context): Promise<void> {
  const prefix = await askName(ctx, 'Update users whose names start with');
  const newPrefix = (await ctx.prompter.input('Rename them to the prefix (empty: keep the names)')).trim();
  const password = await ctx.prompter.confirm('Give them a new password?', true);
  await userBulk.runBulkUpdate(ctx, { prefix, newPrefix: newPrefix || undefined, password });
}

/** The old client's "poll all": ended invocations are recorded first, as request show does. */
async function pollAll(ctx: Context, s: MenuSession): Promise<void> {
  const { actor } = await requireActor(ctx);
  const store = await ctx.store();
  const open = (await listRequests(store, actor, { since: s.started, limit: 10_000 })).filter(isOpen);
  if (open.some((r) => r.type === 'fn.invoke')) {
    const deps = await functionDeps(ctx);
    for (const row of open) await reconcileInvocation(deps, row, { wait: false }).catch((err: Error) => ctx.log.debug(`reconcile: ${err.message}`));
  }
  await requestRun.runList(ctx, { since: s.started.toISOString(), limit: '10000' });
}
