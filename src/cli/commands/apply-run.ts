import { replacePolicy } from '../../core/dispatch/policy-change.js';
import { dispatcherInstalled } from '../../core/dispatch/queue-state.js';
import { deleteFunction } from '../../core/deletes/function-delete.js';
import { deployFunction, updateFunction } from '../../core/functions/functions.js';
import { type Change, DEFAULT_STORED_POLICY, diffFunction, type FunctionSpec, limitFlags, placementFlags, updateInput } from '../../core/functions/manifest.js';
import { listFunctions } from '../../core/functions/queries.js';
import { rollWarm, scaleFunction } from '../../core/functions/warm-replicas.js';
import { diffSchedule, type ScheduleChange } from '../../core/schedules/manifest.js';
import { createSchedule, deleteSchedule, listSchedules, setPaused, updateSchedule } from '../../core/schedules/schedules.js';
import { UsageError } from '../../base/errors.js';
import type { CurrentFunction, StoredDispatchPolicy } from '../../db/functions-repo.js';
import type { Context } from '../context.js';
import { functionDeps } from '../deps.js';
import { readManifest } from '../manifest/read.js';
import { requireActor } from '../session.js';
import type { ApplyOptions } from './apply-options.js';

/**
 * `apply -f FILE`: the file read and checked whole first (nothing changes on an error), then
 * the difference shown, then only what differs changed, through the same use cases as fn
 * deploy / update / scale / policy / delete and schedule create / update / pause / delete.
 * Order: schedules leaving go first, then functions, then schedules (they name functions), and
 * functions leaving last.
 */
export async function runApply(ctx: Context, opts: ApplyOptions): Promise<void> {
  const manifest = await readManifest(opts.file);
  const specs = manifest.functions;
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx, () => {});
  const current = new Map<string, CurrentFunction>();
  const policies = new Map<string, StoredDispatchPolicy>();
  for (const spec of specs) {
    const fn = await deps.store.functions.current(actor.id, spec.name);
    if (!fn) continue;
    current.set(spec.name, fn);
    policies.set(spec.name, await deps.store.functions.dispatchPolicy(fn.id));
  }
  const named = new Set(specs.map((s) => s.name));
  const changes: Change[] = specs.map((s) => diffFunction(s, current.get(s.name), policies.get(s.name) ?? DEFAULT_STORED_POLICY));
  const deployed = await listFunctions(deps.store, actor);
  if (opts.prune) for (const f of deployed) if (!named.has(f.name)) changes.push({ name: f.name, action: 'delete', fields: [], newVersion: false });

  const stored = new Map((await listSchedules(deps, actor)).map((s) => [s.name, s]));
  const scheduleChanges: ScheduleChange[] = manifest.schedules.map((s) => diffSchedule(s, stored.get(s.name)));
  if (opts.prune) {
    const inFile = new Set(manifest.schedules.map((s) => s.name));
    for (const name of stored.keys()) if (!inFile.has(name)) scheduleChanges.push({ name, action: 'delete', fields: [], spec: {} });
  }
  // Refusals that would otherwise stop the run half-way: checked before anything changes.
  const kept = new Set([...named, ...(opts.prune ? [] : deployed.map((f) => f.name))]);
  for (const s of manifest.schedules) {
    if (!kept.has(s.fn))
      throw new UsageError(`schedule "${s.name}" runs function "${s.fn}", which the file does not define${opts.prune ? '' : ' and you have not deployed'}`, {
        code: 'bad_manifest',
        hint: `add ${s.fn} to the file's functions, or point the schedule at one of yours`,
      });
  }
  if (scheduleChanges.some((c) => c.action === 'create') && !(await dispatcherInstalled(deps.store)))
    throw new UsageError('the file has schedules, which the dispatcher fires, and this installation has none', { code: 'no_dispatcher', hint: 'run faasctl up --dispatcher first' });

  if (!ctx.io.options.json) showDiff(ctx, changes, scheduleChanges);
  const deletes = changes.filter((c) => c.action === 'delete');
  const todo = changes.filter((c) => c.action !== 'unchanged');
  const scheduleTodo = scheduleChanges.filter((c) => c.action !== 'unchanged');
  if (opts.dryRun || (!todo.length && !scheduleTodo.length)) return done(ctx, changes, scheduleChanges, [], Boolean(opts.dryRun));
  const scheduleDeletes = scheduleChanges.filter((c) => c.action === 'delete');
  if ((deletes.length || scheduleDeletes.length) && !opts.yes && !(await ctx.prompter.confirm(deletePrompt(deletes, scheduleDeletes)))) {
    ctx.io.info('nothing changed');
    return done(ctx, changes, scheduleChanges, [], true);
  }
  const applied: Applied[] = [];
  const note = (kind: Applied['kind'], name: string, action: Change['action'], version?: number) => {
    applied.push({ kind, name, action, ...(version !== undefined ? { version } : {}) });
    ctx.io.info(`${action === 'create' ? 'created' : action === 'delete' ? 'deleted' : 'updated'} ${kind === 'schedule' ? 'schedule ' : ''}${name}`);
  };
  for (const change of scheduleDeletes) {
    await deleteSchedule(deps, actor, change.name);
    note('schedule', change.name, 'delete');
  }
  for (const change of todo.filter((c) => c.action !== 'delete')) {
    const spec = specs.find((s) => s.name === change.name)!;
    note('function', spec.name, change.action, await applyOne(deps, actor, spec, change, current.get(spec.name)));
  }
  for (const change of scheduleTodo.filter((c) => c.action !== 'delete')) {
    if (change.action === 'create') await createSchedule(deps, actor, change.name, change.spec);
    else if (Object.keys(change.spec).length) await updateSchedule(deps, actor, change.name, change.spec);
    if (change.paused !== undefined) await setPaused(deps, actor, change.name, change.paused);
    note('schedule', change.name, change.action);
  }
  for (const change of deletes) {
    await deleteFunction(deps, actor, change.name, { force: Boolean(opts.force) });
    note('function', change.name, 'delete');
  }
  done(ctx, changes, scheduleChanges, applied, false);
}

type Deps = Awaited<ReturnType<typeof functionDeps>>;
type Actor = Awaited<ReturnType<typeof requireActor>>['actor'];
interface Applied {
  kind: 'function' | 'schedule';
  name: string;
  action: Change['action'];
  version?: number;
}

/** Creates or updates one function, then its warm replicas and its policy; answers its current version. */
async function applyOne(deps: Deps, actor: Actor, spec: FunctionSpec, change: Change, fn: CurrentFunction | undefined): Promise<number> {
  let version = fn?.current.version ?? 0;
  if (!fn) {
    const d = await deployFunction(deps, actor, {
      name: spec.name,
      code: spec.code,
      ...(spec.archive ? { archive: spec.archive } : {}),
      filename: spec.filename,
      entry: spec.entry,
      flavor: spec.flavor,
      ...limitFlags(spec.limits),
      env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      secrets: spec.secrets,
      placement: placementFlags(spec.placement),
      dependencies: spec.dependencies ?? undefined,
    });
    version = d.version;
  } else if (change.newVersion) {
    const u = await updateFunction(deps, actor, updateInput(spec, fn));
    version = u.version;
    if (u.changed && spec.warm.replicas === fn.warmReplicas && spec.warm.workers === fn.warmWorkers) await rollWarm(deps, actor, spec.name);
  }
  const warmNow = fn ? { replicas: fn.warmReplicas, workers: fn.warmWorkers } : { replicas: 0, workers: spec.warm.workers };
  if (spec.warm.replicas !== warmNow.replicas || (spec.warm.replicas > 0 && spec.warm.workers !== warmNow.workers)) {
    await scaleFunction(deps, actor, spec.name, spec.warm.replicas, spec.warm.workers);
  }
  await replacePolicy(deps, actor, spec.name, spec.policy);
  return version;
}

function deletePrompt(fns: Change[], schedules: ScheduleChange[]): string {
  const parts = [
    ...(fns.length ? [`${fns.length} function${fns.length === 1 ? '' : 's'} (${fns.map((d) => d.name).join(', ')}), with all their versions`] : []),
    ...(schedules.length ? [`${schedules.length} schedule${schedules.length === 1 ? '' : 's'} (${schedules.map((d) => d.name).join(', ')}), with their history`] : []),
  ];
  return `Delete what the file does not name: ${parts.join(' and ')}?`;
}

const SIGN: Record<Change['action'], string> = { create: '+', update: '~', delete: '-', unchanged: '=' };

function showDiff(ctx: Context, changes: Change[], schedules: ScheduleChange[]): void {
  const { c } = ctx.io;
  const colour = { create: c.green, update: c.yellow, delete: c.red, unchanged: c.dim };
  const lines = [...changes.map((ch) => ({ ...ch, label: ch.name })), ...schedules.map((ch) => ({ ...ch, label: `schedule ${ch.name}` }))];
  for (const ch of lines) {
    if (ctx.io.options.quiet) {
      if (ch.action !== 'unchanged') ctx.io.out(ch.label);
      continue;
    }
    ctx.io.out(colour[ch.action](`${SIGN[ch.action]} ${ch.label}${ch.fields.length ? `: ${ch.fields.join(', ')}` : ch.action === 'unchanged' ? ' (unchanged)' : ''}`));
  }
}

function done(ctx: Context, changes: Change[], schedules: ScheduleChange[], applied: Applied[], dryRun: boolean): void {
  if (ctx.io.options.json) {
    ctx.io.json({
      dryRun,
      changes: changes.map(({ name, action, fields }) => ({ name, action, fields })),
      schedules: schedules.map(({ name, action, fields }) => ({ name, action, fields })),
      applied,
    });
    return;
  }
  const all = [...changes, ...schedules];
  const count = (a: Change['action']) => all.filter((ch) => ch.action === a).length;
  const summary = `${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('unchanged')} unchanged`;
  ctx.io.info(dryRun ? `dry run: ${summary}; nothing changed` : applied.length ? `applied: ${summary.replaceAll('to ', '')}` : 'nothing to change');
}
