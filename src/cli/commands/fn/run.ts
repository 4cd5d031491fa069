import { readFile } from 'node:fs/promises';
import { deployFunction, rollbackFunction, updateFunction, type Deployed } from '../../../core/functions/functions.js';
import { functionVersions, listFunctions, showFunction } from '../../../core/functions/queries.js';
import { UsageError } from '../../../base/errors.js';
import { describePlacement } from '../../../core/functions/placement.js';
import { describeEntry } from '../../../core/functions/flavors.js';
import { formatBytes, formatLimits } from '../../../core/functions/limits.js';
import { parseReplicas, parseWorkers, rollWarm, scaleFunction } from '../../../core/functions/warm-replicas.js';
import type { Context } from '../../context.js';
import { functionDeps } from '../../deps.js';
import { requireActor } from '../../session.js';
import { placementFlags, type DeployOptions, type LimitOptions, type PolicyOptions } from './options.js';
import { policyChange } from './policy.js';
import { parseIsolation } from './invoke.js';
import { ISOLATIONS } from '../../../core/pool/classes.js';
import { setIsolation } from '../../../core/pool/isolation.js';
import { setPolicy } from '../../../core/dispatch/policy-change.js';
import { readFunctionSource } from './source.js';
import { terminalSafe } from '../../terminal-text.js';
import { textOf } from '../../text-input.js';
import { idCell } from '../../short-ids.js';
import { timeCell } from '../../relative-time.js';

export async function runDeploy(ctx: Context, path: string, opts: DeployOptions): Promise<void> {
  const source = await readFunctionSource(path, opts);
  const name = opts.name ?? source.defaultName;
  const warm = opts.warm === undefined ? 0 : parseReplicas(opts.warm, '--warm');
  const workers = parseWorkers(opts.workers);
  if (workers !== undefined && !warm) throw new UsageError('--workers goes with --warm N', { hint: 'faasctl fn deploy FILE --warm 2 --workers 4' });
  const policy = policyChange(opts);
  const isolation = opts.isolation === undefined ? undefined : parseIsolation(opts.isolation, ISOLATIONS);
  const deployed = await withSpinner(ctx, `deploying ${name}…`, async (progress) => {
    const { actor } = await requireActor(ctx);
    const deps = await functionDeps(ctx, progress);
    const d = await deployFunction(deps, actor, {
      ...opts,
      name,
      code: source.code,
      archive: source.archive,
      filename: source.filename,
      secrets: opts.secret,
      dependencies: source.dependencies,
      placement: placementFlags(opts),
    });
    if (warm) await scaleFunction(deps, actor, d.name, warm, workers);
    if (policy) await setPolicy(deps, actor, d.name, policy);
    if (isolation) await setIsolation(deps, actor, d.name, isolation);
    return d;
  });
  report(ctx, deployed, 'deployed');
  if (warm && !ctx.io.options.json) ctx.io.info(`${deployed.name}: ${warm} warm replica${warm === 1 ? '' : 's'} running`);
}

export async function runUpdate(ctx: Context, name: string, path: string | undefined, opts: LimitOptions & PolicyOptions): Promise<void> {
  const policy = policyChange(opts);
  const isolation = opts.isolation === undefined ? undefined : parseIsolation(opts.isolation, ISOLATIONS);
  if (path === undefined && (opts.requirements !== undefined || opts.pipIndexUrl !== undefined || opts.apt !== undefined))
    throw new UsageError('--requirements, --pip-index-url and --apt go with new code', { code: 'bad_flags', hint: `faasctl fn update ${name} FILE --requirements requirements.txt` });
  const source = path === undefined ? undefined : await readFunctionSource(path, { ...opts, name });
  const updated = await withSpinner(ctx, `updating ${name}…`, async (progress) => {
    const { actor } = await requireActor(ctx);
    const deps = await functionDeps(ctx, progress);
    const u = await updateFunction(deps, actor, {
      ...opts,
      name,
      code: source?.code,
      archive: source?.archive,
      filename: source?.filename,
      secrets: opts.secret,
      dependencies: source?.dependencies,
      placement: placementFlags(opts),
    });
    if (u.changed) await rollWarm(deps, actor, u.name);
    if (policy) await setPolicy(deps, actor, u.name, policy);
    if (isolation) await setIsolation(deps, actor, u.name, isolation);
    return u;
  });
  report(ctx, updated, updated.changed ? 'updated' : 'unchanged');
}

export async function runList(ctx: Context): Promise<void> {
  const { actor } = await requireActor(ctx);
  const rows = await listFunctions(await ctx.store(), actor);
  if (ctx.io.options.json) {
    return ctx.io.json(
      rows.map((f) => ({
        name: f.name,
        version: f.currentVersion,
        versions: f.versions,
        format: f.format,
        sha256: f.sha256,
        warm: { replicas: f.warmReplicas, workers: f.warmWorkers },
        createdAt: f.createdAt.toISOString(),
        updatedAt: f.updatedAt.toISOString(),
        lastInvokedAt: f.lastInvokedAt?.toISOString() ?? null,
      })),
    );
  }
  if (ctx.io.options.quiet) {
    for (const f of rows) ctx.io.out(f.name);
    return;
  }
  const now = ctx.clock.now();
  await ctx.io.table(
    ['name', 'version', 'format', 'warm', 'sha256', 'updated', 'last invoked'],
    rows.map((f) => [f.name, `v${f.currentVersion} of ${f.versions}`, f.format, warmText(f), idCell(ctx.io, f.sha256), timeCell(ctx.io, f.updatedAt, now), timeCell(ctx.io, f.lastInvokedAt, now)]),
    { dropFirst: ['format', 'sha256', 'version'] },
  );
}

export async function runShow(ctx: Context, name: string, opts: { code: boolean }): Promise<void> {
  const { actor } = await requireActor(ctx);
  const { fn, versions, recent, policy } = await showFunction(await ctx.store(), actor, name);
  const v = fn.current;
  if (ctx.io.options.json) {
    return ctx.io.json({
      name: fn.name,
      version: v.version,
      versions,
      sha256: v.sha256,
      entry: v.entry,
      flavor: v.format,
      // The column's older name, kept for scripts that read it.
      format: v.format,
      limits: { memoryBytes: v.memoryBytes, nanoCpus: v.nanoCpus, timeoutMs: v.timeoutMs },
      env: v.env,
      secrets: v.secrets,
      image: v.image ?? null,
      requirements: v.requirements ?? null,
      apt: v.apt ? v.apt.split('\n') : [],
      // Code shipped as a directory or zip: its entry module (`code` is that module's text).
      module: v.module ?? null,
      placement: v.placement,
      warm: { replicas: fn.warmReplicas, workers: fn.warmWorkers },
      isolation: fn.isolation ?? 'auto',
      policy: { retries: policy.retries, retryOnError: policy.retryOnError, maxEventAgeMs: policy.maxEventAgeMs, maxConcurrency: policy.maxConcurrency ?? null },
      createdAt: fn.createdAt.toISOString(),
      updatedAt: fn.updatedAt.toISOString(),
      recent: recent.map((r) => ({ id: r.id, status: r.status, mode: r.mode, version: r.functionVersion, durationMs: r.durationMs, createdAt: r.createdAt.toISOString() })),
      ...(opts.code ? { code: v.code } : {}),
    });
  }
  await ctx.io.table(
    ['field', 'value'],
    [
      ['name', fn.name],
      ['version', `v${v.version} (of ${versions})`],
      ['sha256', v.sha256],
      ['entry', describeEntry(v.entry, v.format)],
      ['code', v.module ? `a directory or zip, run from its directory; entry module ${v.module}` : 'one file'],
      ['limits', formatLimits(v)],
      ['env', Object.keys(v.env).join(', ') || '-'],
      ['secrets', v.secrets.map((s) => `/run/secrets/${s}`).join(', ') || '-'],
      ['image', v.image ?? 'the runtime image (no requirements)'],
      ['placement', describePlacement(v.placement)],
      ['requirements', v.requirements == null ? '-' : firstLines(v.requirements, 8)],
      ['apt', v.apt ? v.apt.split('\n').join(' ') : '-'],
      ['warm', fn.warmReplicas ? `${warmText(fn)} (replicas × workers)` : 'no: each invocation runs as a job'],
      ['async retries', `${policy.retries}${policy.retryOnError ? ' (also when it raises)' : ''}; max event age ${Math.round(policy.maxEventAgeMs / 1000)} s`],
      ['concurrency', policy.maxConcurrency ? `at most ${policy.maxConcurrency} at once` : 'no limit'],
      ['isolation', fn.isolation ?? 'auto'],
      ['created', fn.createdAt.toISOString()],
      ['last invocations', recent.map((r) => `${r.createdAt.toISOString()} ${r.status} ${r.mode ?? ''}${r.durationMs == null ? '' : ` ${Math.round(r.durationMs)} ms`}`).join('\n') || '-'],
    ],
  );
  if (opts.code) ctx.io.err(`--- ${fn.name} v${v.version}${v.module ? ` ${v.module}` : ''} ---\n${terminalSafe(v.code)}`);
}

export async function runVersions(ctx: Context, name: string): Promise<void> {
  const { actor } = await requireActor(ctx);
  const { fn, versions } = await functionVersions(await ctx.store(), actor, name);
  if (ctx.io.options.json) {
    return ctx.io.json(
      versions.map((v) => ({
        version: v.version,
        current: v.version === fn.currentVersion,
        sha256: v.sha256,
        entry: v.entry,
        flavor: v.format,
        format: v.format,
        memoryBytes: v.memoryBytes,
        nanoCpus: v.nanoCpus,
        timeoutMs: v.timeoutMs,
        createdAt: v.createdAt.toISOString(),
      })),
    );
  }
  if (ctx.io.options.quiet) {
    for (const v of versions) ctx.io.out(String(v.version));
    return;
  }
  const now = ctx.clock.now();
  await ctx.io.table(
    ['version', 'current', 'sha256', 'entry', 'memory', 'cpus', 'timeout', 'created'],
    versions.map((v) => [
      `v${v.version}`,
      v.version === fn.currentVersion ? '*' : '',
      idCell(ctx.io, v.sha256),
      v.entry,
      formatBytes(v.memoryBytes),
      v.nanoCpus / 1e9,
      `${v.timeoutMs / 1000} s`,
      timeCell(ctx.io, v.createdAt, now),
    ]),
    { dropFirst: ['cpus', 'entry', 'sha256'] },
  );
}

export async function runRollback(ctx: Context, name: string, opts: { to?: string }): Promise<void> {
  const to = opts.to === undefined ? undefined : Number(opts.to.replace(/^v/, ''));
  if (to !== undefined && !Number.isInteger(to)) throw new UsageError(`invalid --to "${opts.to}"`, { hint: 'use a version number, e.g. --to 2' });
  const { actor } = await requireActor(ctx);
  const deps = await functionDeps(ctx);
  const r = await rollbackFunction(deps, actor, name, to);
  await rollWarm(deps, actor, r.name);
  if (ctx.io.options.json) return ctx.io.json(r);
  ctx.io.info(`${r.name}: v${r.to} is current again (was v${r.from})`);
}

export async function runDelete(ctx: Context, name: string, opts: { force?: boolean } = {}): Promise<void> {
  const { actor } = await requireActor(ctx);
  const { deleteFunction } = await import('../../../core/deletes/function-delete.js');
  const r = await deleteFunction(await functionDeps(ctx), actor, name, { force: Boolean(opts.force) });
  if (ctx.io.options.json) return ctx.io.json(r);
  const stopped = r.stopped ? `, ${r.stopped} running invocation${r.stopped === 1 ? '' : 's'} stopped` : '';
  ctx.io.info(`deleted ${r.name} (${r.versions} code version${r.versions === 1 ? '' : 's'}, ${r.configsRemoved} Swarm config${r.configsRemoved === 1 ? '' : 's'} removed${stopped})`);
}

export async function readCode(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`, {
      code: 'bad_file',
      hint: 'give the path of a Python file',
    });
  }
  return textOf(bytes, file, 'a function is Python source (a .py file)', 'give the path of a Python file');
}

/** Requirements without comments or blank lines, at most `max` of them. */
function firstLines(text: string, max: number): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return lines.length <= max ? lines.join('\n') || '(none)' : [...lines.slice(0, max), `… ${lines.length - max} more`].join('\n');
}

async function withSpinner<T>(ctx: Context, text: string, fn: (progress: (t: string) => void) => Promise<T>): Promise<T> {
  const spinner = await ctx.io.spinner(text);
  try {
    const result = await fn((t) => spinner.update(t));
    spinner.stop();
    return result;
  } catch (err) {
    spinner.stop();
    throw err;
  }
}

function warmText(f: { warmReplicas: number; warmWorkers: number }): string {
  return f.warmReplicas ? `${f.warmReplicas}×${f.warmWorkers}` : '-';
}

function report(ctx: Context, d: Deployed, verb: string): void {
  if (ctx.io.options.json) {
    ctx.io.json({ ...d, flavor: d.format, changed: undefined, outcome: verb });
    return;
  }
  for (const w of d.warnings) ctx.io.err(`${ctx.io.c.yellow('warning:')} ${w.line ? `line ${w.line}: ` : ''}${w.message}`);
  if (ctx.io.options.quiet) {
    ctx.io.out(`${d.name}@v${d.version}`);
    return;
  }
  ctx.io.info(`${verb} ${d.name} v${d.version} (entry ${describeEntry(d.entry, d.format)}; ${formatLimits(d.limits)}; sha256 ${d.sha256.slice(0, 12)})`);
  if (d.module) ctx.io.info(`${d.name}: code shipped whole (a directory or zip), run from its directory; entry module ${d.module}`);
  if (d.image) ctx.io.info(`${d.name}: requirements in ${d.image}${d.reused === null ? '' : d.reused ? ' (reused, no build)' : ' (built)'}`);
}
