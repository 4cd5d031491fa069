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
  /** Where the 2016 client had it (its option number), for the help line. */
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
      { label: 'Delete my user', old: 2, run: async (ctx) => userRun.runDelete(ctx, { force: await ctx.prompter.confirm('Also delete everything it owns (functions, requests)?', false) }) },
    ],
  },
  {
    heading: 'Functions',
    actions: [
      { label: 'List my functions', run: (ctx) => fnRun.runList(ctx) },
      { label: 'Create a function from a file', old: 3, run: deploy },
      { label: 'Update a function from a file', old: 4, run: async (ctx, s) => fnRun.runUpdate(ctx, await pickFunction(ctx, 'Function to update'), await askFile(ctx, s, 'Python file'), {}) },
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
      { label: 'Delete users in bulk', old: 9, run: async (ctx) => userBulk.runBulkDelete(ctx, { prefix: await askName(ctx, 'Delete users whose names start with'), force: true }) },
      {
        label: 'Create functions in bulk',
        old: 10,
        run: async (ctx, s) => fnBulk.runBulkDeploy(ctx, await askFile(ctx, s, 'Python file'), { prefix: await askName(ctx, 'Name prefix'), bulk: await askCount(ctx, 'How many functions') }),
      },
      {
        label: 'Update functions in bulk',
        old: 11,
        run: async (ctx, s) => fnBulk.runBulkUpdate(ctx, await askFile(ctx, s, 'Python file'), undefined, { prefix: await askName(ctx, 'Update functions whose names start with') }),
      },
      { label: 'Delete functions in bulk', old: 12, run: async (ctx) => fnBulk.runBulkDelete(ctx, undefined, { prefix: await askName(ctx, 'Delete functions whose names start with') }) },
    ],
  },
  {
    heading: 'Requests',
    actions: [
      { label: 'Show a request', run: async (ctx) => requestRun.runShow(ctx, await pickRequest(ctx, undefined, 'Request')) },
      { label: 'Poll one request of this session', old: 14, run: async (ctx, s) => requestRun.runShow(ctx, await pickRequest(ctx, s, 'Request')) },
      { label: 'Poll all requests of this session', old: 14, run: pollAll },
      { label: 'Dead letters (failed async requests): list, redrive one', run: deadLetters },
      { label: 'Schedules: list, show one with its history, pause or resume it', run: schedules },
    ],
  },
];

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
  await userRun.runUpdate(ctx, { name: name || undefined, password });
}

async function deploy(ctx: Context, s: MenuSession): Promise<void> {
  const file = await askFile(ctx, s, 'Python file');
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
  await invokeInputs(
    ctx,
    name,
    Array.from({ length: count }, () => input ?? 'null'),
    { cold: false },
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
