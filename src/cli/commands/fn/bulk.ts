import { placementFlags, type BulkDeployOptions, type BulkUpdateOptions, type FnDeleteOptions, type PolicyOptions } from './options.js';
import { policyChange } from './policy.js';
import type { PlacementFlags } from '../../../core/functions/placement.js';
import { bulkExitCode, bulkNames, runBulk, type BulkItem } from '../../../base/bulk.js';
import { UsageError, AlreadyReported, EXIT } from '../../../base/errors.js';
import { deleteFunction } from '../../../core/deletes/function-delete.js';
import type { Deployed } from '../../../core/functions/functions.js';
import { deployFunctions, functionsWithPrefix, updateFunctions, type BulkPublished } from '../../../core/functions/bulk-deploy.js';
import { validatePrefix } from '../../../base/names.js';
import { rollWarm } from '../../../core/functions/warm-replicas.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { progressReporter } from '../../progress.js';
import { requireActor } from '../../session.js';
import { terminalSafe } from '../../terminal-text.js';
import type { LimitOptions } from './options.js';
import { readFunctionSource } from './source.js';
import { parseIsolation } from './invoke.js';
import { ISOLATIONS, type Isolation } from '../../../core/pool/classes.js';
import { setIsolation } from '../../../core/pool/isolation.js';

/** Parallel writes: the pool holds 4 connections. */
const CONCURRENCY = 4;
const DEPLOY_EXAMPLE = 'faasctl fn deploy FILE --bulk 3 --prefix load creates load1..load3';

export async function runBulkDeploy(ctx: Context, file: string, opts: BulkDeployOptions): Promise<void> {
  if (opts.bulk === undefined) throw new UsageError('--prefix needs --bulk N', { hint: DEPLOY_EXAMPLE });
  if (opts.prefix === undefined) throw new UsageError('--bulk needs --prefix P', { hint: DEPLOY_EXAMPLE });
  refusePolicyFlags(opts);
  if (opts.name !== undefined) throw new UsageError('give either --name or --bulk N --prefix P, not both', { hint: DEPLOY_EXAMPLE });
  if (opts.warm !== undefined || opts.workers !== undefined)
    throw new UsageError('--warm and --workers do not go with --bulk', { hint: 'deploy them cold, then faasctl fn scale NAME N the ones that should be warm' });
  const count = Number(opts.bulk);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new UsageError(`invalid --bulk ${opts.bulk}`, { hint: 'a whole number from 1 to 10000' });
  const names = bulkNames(validatePrefix(opts.prefix), count);
  const isolation = opts.isolation === undefined ? undefined : parseIsolation(opts.isolation, ISOLATIONS);
  const source = await readFunctionSource(file, { ...opts, name: undefined });
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx);
  const progress = await progressReporter(ctx, `deploying ${count} functions`);
  const input = { ...limits(opts), names, code: source.code, archive: source.archive, filename: source.filename, dependencies: source.dependencies };
  const result = await deployFunctions(deps, actor, input, { concurrency: CONCURRENCY, onProgress: progress.update }).finally(progress.done);
  await isolateEach(deps, actor, result, isolation);
  reportPublished(ctx, 'deployed', result);
}

export async function runBulkUpdate(ctx: Context, file: string, extra: string | undefined, opts: BulkUpdateOptions): Promise<void> {
  if (extra !== undefined) throw new UsageError('with --prefix, give only the FILE', { hint: 'faasctl fn update FILE --prefix P updates every function whose name starts with P' });
  refusePolicyFlags(opts);
  const prefix = validatePrefix(opts.prefix);
  const isolation = opts.isolation === undefined ? undefined : parseIsolation(opts.isolation, ISOLATIONS);
  const source = await readFunctionSource(file, opts);
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx);
  const progress = await progressReporter(ctx, `updating the functions named ${prefix}*`);
  const input = { ...limits(opts), prefix, code: source.code, archive: source.archive, filename: source.filename, dependencies: source.dependencies };
  // As for a single update: a warm function's replicas roll to the new version.
  const afterEach = (d: Deployed) => (d.changed ? rollWarm(deps, actor, d.name) : Promise.resolve(false));
  const result = await updateFunctions(deps, actor, input, { concurrency: CONCURRENCY, onProgress: progress.update, afterEach }).finally(progress.done);
  await isolateEach(deps, actor, result, isolation);
  reportPublished(ctx, 'updated', result);
}

export async function runBulkDelete(ctx: Context, name: string | undefined, opts: FnDeleteOptions): Promise<void> {
  if (opts.prefix === undefined) throw new UsageError('fn delete needs a NAME (or --prefix P)', { hint: 'faasctl fn delete NAME' });
  if (name !== undefined) throw new UsageError('give either a NAME or --prefix P, not both', { hint: 'faasctl fn delete --prefix P deletes every function whose name starts with P' });
  const prefix = validatePrefix(opts.prefix);
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx);
  const fns = await functionsWithPrefix(deps.store, actor, prefix);
  if (fns.length && !opts.yes && !(await ctx.prompter.confirm(`Delete ${fns.length} functions whose names start with "${prefix}", with all their versions?`))) {
    ctx.io.info('nothing deleted');
    return;
  }
  const progress = await progressReporter(ctx, `deleting ${fns.length} functions`);
  const items = await runBulk(
    fns,
    (f) => f.name,
    async (f) => ({ id: f.id, ...(await deleteFunction(deps, actor, f.name, { force: Boolean(opts.force) })) }),
    { concurrency: CONCURRENCY, onProgress: progress.update },
  );
  progress.done();
  report(ctx, 'deleted', items, (d) => ({
    outcome: 'deleted',
    json: { id: d.id, versions: d.versions, configsRemoved: d.configsRemoved, stopped: d.stopped },
    line: `deleted ${d.name} (${plural(d.versions, 'code version')}, ${plural(d.configsRemoved, 'Swarm config')} removed)`,
    quiet: d.name,
  }));
}

function limits(opts: LimitOptions): Omit<LimitOptions, 'secret' | 'placement'> & { secrets?: string[]; placement: PlacementFlags } {
  return {
    entry: opts.entry,
    flavor: opts.flavor,
    memory: opts.memory,
    cpus: opts.cpus,
    timeout: opts.timeout,
    env: opts.env,
    importCheck: opts.importCheck,
    secrets: opts.secret,
    placement: placementFlags(opts),
  };
}

/** `--isolation` for each function the bulk deploy or update published (as a single deploy does). */
async function isolateEach(deps: Parameters<typeof setIsolation>[0], actor: Parameters<typeof setIsolation>[1], published: BulkPublished, isolation: Isolation | undefined): Promise<void> {
  if (!isolation) return;
  for (const item of published.items) if (item.ok) await setIsolation(deps, actor, item.name, isolation);
}

function reportPublished(ctx: Context, verb: string, { warnings, items }: BulkPublished): void {
  // With --json they are in the document, as for a single deploy.
  if (!ctx.io.options.json) for (const w of warnings) ctx.io.err(`${ctx.io.c.yellow('warning:')} ${w.line ? `line ${w.line}: ` : ''}${w.message}`);
  report(
    ctx,
    verb,
    items,
    (d: Deployed) => {
      const outcome = d.changed ? verb : 'unchanged';
      return { outcome, json: { id: d.id, version: d.version, sha256: d.sha256, outcome }, line: `${outcome} ${d.name} v${d.version}`, quiet: `${d.name}@v${d.version}` };
    },
    warnings.length ? { warnings } : {},
  );
}

interface Row {
  outcome: string;
  json: Record<string, unknown>;
  line: string;
  /** What -q prints on stdout. */
  quiet: string;
}

/** Like user bulk: one line per item on stderr, a summary, the exit code of the first failure. */
function report<T>(ctx: Context, verb: string, items: Array<BulkItem<T>>, row: (value: T) => Row, extra: Record<string, unknown> = {}): void {
  printReport(ctx, verb, items, row, extra);
  const code = bulkExitCode(items);
  if (code !== EXIT.ok) throw new AlreadyReported(code);
}

function printReport<T>(ctx: Context, verb: string, items: Array<BulkItem<T>>, row: (value: T) => Row, extra: Record<string, unknown> = {}): void {
  const rows = items.map((i) => (i.ok ? row(i.value as T) : undefined));
  const failed = items.filter((i) => !i.ok).length;
  if (ctx.io.options.json) {
    const json = items.map((i, n) => ({ index: i.index, name: i.name, ok: i.ok, ...rows[n]?.json, error: i.error }));
    ctx.io.json({ succeeded: items.length - failed, failed, ...extra, items: json });
    return;
  }
  items.forEach((i, n) => {
    if (!i.ok) ctx.io.err(`${ctx.io.c.red('failed:')} ${i.name}: ${terminalSafe(i.error?.message ?? '')}`);
    else if (ctx.io.options.quiet) ctx.io.out(rows[n]!.quiet);
    else ctx.io.info(rows[n]!.line);
  });
  const count = (outcome: string) => rows.filter((r) => r?.outcome === outcome).length;
  const unchanged = count('unchanged');
  ctx.io.info(`${count(verb)} ${verb}${unchanged ? `, ${unchanged} unchanged` : ''}, ${failed} failed`);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A policy belongs to one function: many at once would hide which limit applies where. */
function refusePolicyFlags(opts: PolicyOptions): void {
  if (policyChange(opts)) throw new UsageError('--retries, --retry-on-error, --max-event-age and --max-concurrency go with one function', { hint: 'faasctl fn policy NAME --retries 3' });
}
