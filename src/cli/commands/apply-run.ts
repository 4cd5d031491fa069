import { deleteFunction } from '../../core/deletes/function-delete.js';
import { deployFunction, updateFunction } from '../../core/functions/functions.js';
import { type Change, diffFunction, type FunctionSpec, limitFlags, placementFlags, updateInput } from '../../core/functions/manifest.js';
import { listFunctions } from '../../core/functions/queries.js';
import { rollWarm, scaleFunction } from '../../core/functions/warm-replicas.js';
import type { CurrentFunction } from '../../db/functions-repo.js';
import type { Context } from '../context.js';
import { functionDeps } from '../deps.js';
import { readManifest } from '../manifest/read.js';
import { requireActor } from '../session.js';
import type { ApplyOptions } from './apply-options.js';

/**
 * `apply -f FILE`: the file read and checked whole first (nothing changes on an error), then
 * the difference shown, then only what differs changed, one function at a time through the
 * same use cases as fn deploy / fn update / fn scale / fn delete.
 */
export async function runApply(ctx: Context, opts: ApplyOptions): Promise<void> {
  const specs = await readManifest(opts.file);
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx, () => {});
  const current = new Map<string, CurrentFunction>();
  for (const spec of specs) {
    const fn = await deps.store.functions.current(actor.id, spec.name);
    if (fn) current.set(spec.name, fn);
  }
  const named = new Set(specs.map((s) => s.name));
  const changes: Change[] = specs.map((s) => diffFunction(s, current.get(s.name)));
  if (opts.prune) {
    for (const f of await listFunctions(deps.store, actor)) if (!named.has(f.name)) changes.push({ name: f.name, action: 'delete', fields: [], newVersion: false });
  }
  if (!ctx.io.options.json) showDiff(ctx, changes);
  const deletes = changes.filter((c) => c.action === 'delete');
  const todo = changes.filter((c) => c.action !== 'unchanged');
  if (opts.dryRun || !todo.length) return done(ctx, changes, [], Boolean(opts.dryRun));
  if (
    deletes.length &&
    !opts.yes &&
    !(await ctx.prompter.confirm(`Delete ${deletes.length} function${deletes.length === 1 ? '' : 's'} the file does not name (${deletes.map((d) => d.name).join(', ')}), with all their versions?`))
  ) {
    ctx.io.info('nothing changed');
    return done(ctx, changes, [], true);
  }
  const applied: Array<{ name: string; action: Change['action']; version?: number }> = [];
  for (const change of todo) {
    const spec = specs.find((s) => s.name === change.name);
    if (change.action === 'delete') {
      await deleteFunction(deps, actor, change.name, { force: Boolean(opts.force) });
      applied.push({ name: change.name, action: 'delete' });
    } else if (spec) {
      applied.push({ name: spec.name, action: change.action, version: await applyOne(ctx, deps, actor, spec, change, current.get(spec.name)) });
    }
    ctx.io.info(`${change.action === 'create' ? 'created' : change.action === 'delete' ? 'deleted' : 'updated'} ${change.name}`);
  }
  done(ctx, changes, applied, false);
}

type Deps = Awaited<ReturnType<typeof functionDeps>>;
type Actor = Awaited<ReturnType<typeof requireActor>>['actor'];

/** Creates or updates one function, then its warm replicas; answers its current version. */
async function applyOne(_ctx: Context, deps: Deps, actor: Actor, spec: FunctionSpec, change: Change, fn: CurrentFunction | undefined): Promise<number> {
  let version = fn?.current.version ?? 0;
  if (!fn) {
    const d = await deployFunction(deps, actor, {
      name: spec.name,
      code: spec.code,
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
  return version;
}

const SIGN: Record<Change['action'], string> = { create: '+', update: '~', delete: '-', unchanged: '=' };

function showDiff(ctx: Context, changes: Change[]): void {
  const { c } = ctx.io;
  const colour = { create: c.green, update: c.yellow, delete: c.red, unchanged: c.dim };
  for (const ch of changes) {
    if (ctx.io.options.quiet) {
      if (ch.action !== 'unchanged') ctx.io.out(ch.name);
      continue;
    }
    ctx.io.out(colour[ch.action](`${SIGN[ch.action]} ${ch.name}${ch.fields.length ? `: ${ch.fields.join(', ')}` : ch.action === 'unchanged' ? ' (unchanged)' : ''}`));
  }
}

function done(ctx: Context, changes: Change[], applied: Array<{ name: string; action: string; version?: number }>, dryRun: boolean): void {
  if (ctx.io.options.json) {
    ctx.io.json({ dryRun, changes: changes.map(({ name, action, fields }) => ({ name, action, fields })), applied });
    return;
  }
  const count = (a: Change['action']) => changes.filter((ch) => ch.action === a).length;
  const summary = `${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('unchanged')} unchanged`;
  ctx.io.info(dryRun ? `dry run: ${summary}; nothing changed` : applied.length ? `applied: ${summary.replaceAll('to ', '')}` : 'nothing to change');
}
